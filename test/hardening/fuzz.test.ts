/**
 * Property-based fuzzing of everything that reads untrusted input: safetensors bytes, config JSON, vocabularies,
 * tokenizer text, data files. Each must either succeed or throw a typed, one-line TsformerError — no other
 * exception, no hang, and no allocation beyond what the input justifies.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import { CheckpointError, ConfigError, ResourceError, ShapeError, TsformerError } from "../../src/errors.ts";
import { type SafetensorsDType, parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.ts";
import { parseBertConfig } from "../../src/models/bert-config.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import { BertTokenizer } from "../../src/text/wordpiece.ts";
import { Vocabulary } from "../../src/text/vocab.ts";
import { parseDataset } from "../../src/train/data.ts";

/** Runs `f`; a thrown error must be a one-line TsformerError. Returns f's result or undefined. */
function typedOrOk<T>(what: string, f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof TsformerError)) throw new Error(`${what}: untyped ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
    assert.ok(!e.message.includes("\n"), `${what}: multi-line message ${JSON.stringify(e.message)}`);
    return undefined;
  }
}

const RUNS = { numRuns: 300, seed: 20261129 };

const valid = serializeSafetensors([
  { name: "a", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
  { name: "b", shape: [4], data: Int32Array.from([1, 2, 3, 4]) },
  { name: "pos", shape: [1, 3], data: BigInt64Array.from([0n, 1n, 2n]) },
]);

/** Bytes of one stored element, by dtype. */
const STORED: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };
/** Bytes of one element once decoded: 16-bit floats widen to Float32, small integers to Int32, F64 narrows to Float32. */
const DECODED: Record<SafetensorsDType, number> = { F64: 4, F32: 4, F16: 4, BF16: 4, I64: 8, I32: 4, I16: 4, U16: 4, I8: 4, U8: 1, BOOL: 1 };

test("safetensors: random bytes and mutated files give data or a typed error, never more data than the file holds", () => {
  let withData = 0;
  const check = (bytes: Uint8Array): void => {
    const parsed = typedOrOk("parseSafetensors", () => parseSafetensors(bytes, "fuzz.safetensors"));
    if (!parsed) return;
    const dataBytes = bytes.length - 8 - Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    let stored = 0;
    for (const [name, t] of parsed.tensors) {
      const numel = t.shape.reduce((a, d) => a * d, 1);
      // each tensor holds exactly its declared elements, at its dtype's decoded width: no allocation beyond its bytes
      assert.equal(t.data.byteLength, numel * DECODED[t.dtype], `${name}: ${t.data.byteLength} bytes for ${numel} × ${t.dtype}`);
      stored += numel * STORED[t.dtype];
    }
    // tensors are disjoint slices of the data section (the parser refuses overlaps), so together at most all of it
    assert.ok(stored <= dataBytes, `tensors take ${stored} bytes of a ${dataBytes}-byte data section`);
    if (stored > 0) withData++;
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => check(bytes)), RUNS);
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
    fc.option(fc.nat(valid.length)), (flips, cut) => {
      const bytes = valid.slice(0, Math.max(cut ?? valid.length, 1));
      for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
      check(bytes);
    }), RUNS);
  // a well-formed header with hostile values, or with entries that are consistent (so that data gets decoded)
  const dtypes = Object.keys(STORED) as SafetensorsDType[];
  const hostile = fc.record({
    dtype: fc.oneof(fc.constantFrom(...dtypes, "X9"), fc.jsonValue()),
    shape: fc.oneof(fc.array(fc.oneof(fc.nat(10), fc.integer(), fc.double(), fc.constant(2 ** 53)), { maxLength: 4 }), fc.jsonValue()),
    data_offsets: fc.oneof(fc.tuple(fc.nat(200), fc.nat(200)), fc.array(fc.integer(), { maxLength: 3 }), fc.jsonValue()),
  });
  const consistent = fc.record({ dtype: fc.constantFrom(...dtypes), shape: fc.array(fc.nat(4), { maxLength: 3 }), begin: fc.nat(100) })
    .map(({ dtype, shape, begin }) => ({ dtype, shape, data_offsets: [begin, begin + shape.reduce((a, d) => a * d, 1) * STORED[dtype]] }));
  const file = (header: Record<string, unknown>, dataLength: number): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const bytes = new Uint8Array(8 + json.length + dataLength).fill(1); // 1: a valid BOOL, so BOOL tensors decode too
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    return bytes;
  };
  fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(hostile, consistent), { maxKeys: 4 }), fc.nat(200),
    (header, dataLength) => check(file(header, dataLength))), RUNS);
  // well-formed files of every dtype, tensors laid end to end, with spare bytes after them: these decode
  const tensor = fc.record({ dtype: fc.constantFrom(...dtypes), shape: fc.array(fc.nat(4), { maxLength: 3 }) });
  fc.assert(fc.property(fc.array(tensor, { minLength: 1, maxLength: 5 }), fc.nat(16), (tensors, spare) => {
    let at = 0;
    const header = Object.fromEntries(tensors.map(({ dtype, shape }, i) => {
      const begin = at;
      at += shape.reduce((a, d) => a * d, 1) * STORED[dtype];
      return [`t${i}`, { dtype, shape, data_offsets: [begin, at] }];
    }));
    check(file(header, at + spare));
  }), RUNS);
  assert.ok(withData >= RUNS.numRuns / 2, `only ${withData} fuzzed files held tensor data: the memory bound went untested`);
});

test("BertConfig: arbitrary JSON gives a config or a typed error naming a field", () => {
  const field = fc.oneof(fc.integer({ min: -5, max: 600 }), fc.double(), fc.string({ maxLength: 8 }), fc.constant(null), fc.boolean());
  const config = fc.record({
    vocab_size: field, hidden_size: field, num_hidden_layers: field, num_attention_heads: field, intermediate_size: field,
    hidden_act: fc.oneof(fc.constantFrom("gelu", "relu", "gelu_new", "swish"), field), max_position_embeddings: field,
    type_vocab_size: field, layer_norm_eps: field, pad_token_id: field, position_embedding_type: fc.oneof(fc.constant("absolute"), field),
    model_type: fc.oneof(fc.constant("bert"), field), id2label: fc.oneof(fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 4 })), field),
  }, { requiredKeys: [] });
  fc.assert(fc.property(fc.oneof(config, fc.jsonValue()), (json) => {
    const parsed = typedOrOk("parseBertConfig", () => parseBertConfig(json, "config.json"));
    if (parsed) {
      assert.ok(parsed.hiddenSize % parsed.numAttentionHeads === 0);
      assert.ok(Number.isInteger(parsed.vocabSize) && parsed.vocabSize > 0);
    }
  }), RUNS);
});

test("vocabularies: arbitrary vocab.txt text and tokenizer.json give a vocabulary or a typed error", () => {
  const line = fc.oneof(fc.constantFrom("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "##a", "a", ""), fc.string({ maxLength: 6 }));
  fc.assert(fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
    const v = typedOrOk("Vocabulary.fromText", () => Vocabulary.fromText(lines.join("\n")));
    if (v) assert.equal(v.tokenOf(v.unkId), "[UNK]");
  }), RUNS);
  fc.assert(fc.property(fc.jsonValue(), (json) => {
    typedOrOk("Vocabulary.fromTokenizerJson", () => Vocabulary.fromTokenizerJson(json as object));
  }), RUNS);
});

const tokenizer = BertTokenizer.fromVocabFile("models/bert-tiny-sst2-encoder/vocab.txt");

test("the tokenizer takes arbitrary Unicode, control characters and huge words: ids in range, never a throw", () => {
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), fc.option(fc.string({ unit: "grapheme", maxLength: 60 })), (text, pair) => {
    const e = tokenizer.encode(text, pair ?? null, { maxLength: 64, truncation: "longest_first" });
    assert.ok(e.inputIds.length <= 64);
    assert.ok(e.inputIds.every((id) => Number.isInteger(id) && id >= 0 && id < tokenizer.vocabSize));
    assert.equal(e.inputIds[0], tokenizer.vocab.clsId);
  }), RUNS);
  // one million characters in one word: the 100-character rule makes it a single [UNK] (no quadratic search)
  assert.deepEqual(tokenizer.encode("a".repeat(1_000_000)).tokens, ["[CLS]", "[UNK]", "[SEP]"]);
  // a long text of many words is linear in its length
  const long = tokenizer.encode("the movie was good . ".repeat(50_000));
  assert.equal(long.tokens.length, 250_000 + 2);
});

test("data files: arbitrary content gives examples or an error with the file and line", () => {
  const line = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("1 good", "0 bad", "", "\t", "{\"text\": \"x\", \"label\": 1}", "label\ttext"));
  fc.assert(fc.property(fc.array(line, { maxLength: 20 }), fc.constantFrom("d.txt", "d.tsv", "d.jsonl"), (lines, file) => {
    try {
      const d = parseDataset(lines.join("\n"), file);
      for (const e of d.examples) {
        assert.ok(e.text.trim().length > 0 && e.label >= 0 && e.label < d.labels.length);
      }
    } catch (e) {
      assert.ok(e instanceof TsformerError, `untyped ${(e as Error).message}`);
      assert.ok(e.message.startsWith(`${file}`), e.message);
      assert.ok(!e.message.includes("\n"));
    }
  }), RUNS);
});

const BERT_FIXTURE = "test/fixtures/bert_model/bert_model_l2_h32";
const bertDir = mkdtempSync(join(tmpdir(), "tsformer-fuzz-bert-"));
for (const f of ["model.safetensors", "vocab.txt", "tokenizer_config.json"]) copyFileSync(join(BERT_FIXTURE, f), join(bertDir, f));
after(() => rmSync(bertDir, { recursive: true, force: true }));

test("BERT loader: a fuzzed config.json next to real weights gives the model or a one-line typed error, never a crash", async () => {
  const base = JSON.parse(readFileSync(join(BERT_FIXTURE, "config.json"), "utf8")) as Record<string, unknown>;
  // mostly the right value, so that runs get past the first field to the weights; else a hostile one
  const mostly = (right: unknown, wrong: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
    fc.oneof({ arbitrary: fc.constant(right), weight: 6 }, { arbitrary: wrong, weight: 1 });
  // around each size the weights fix: its neighbours, and what no allocation can honour
  const size = (v: number): fc.Arbitrary<unknown> => mostly(v, fc.constantFrom(v - 1, v + 1, 2 * v, 0, -1, 1.5, 1e5, 2 ** 31 - 1,
    1e12, 2 ** 53, Number.MAX_VALUE, String(v), null, true, [v], {}));
  const anything = fc.oneof(fc.jsonValue(), fc.string({ maxLength: 8 }));
  const overrides = fc.record({
    vocab_size: size(293), hidden_size: size(32), num_hidden_layers: size(2), num_attention_heads: size(4),
    intermediate_size: size(64), max_position_embeddings: size(40), type_vocab_size: size(2), num_labels: size(2),
    pad_token_id: size(0),
    hidden_act: mostly("gelu", fc.oneof(fc.constantFrom("relu", "gelu_new", "swish", "tanh"), anything)),
    layer_norm_eps: mostly(1e-12, fc.oneof(fc.constantFrom(0, -1, Infinity), anything)),
    position_embedding_type: mostly("absolute", fc.oneof(fc.constant("relative_key"), anything)),
    architectures: mostly(["BertModel"], fc.oneof(fc.constantFrom(["BertForSequenceClassification"], ["GPT2Model"]), anything)),
    id2label: mostly({ 0: "neg", 1: "pos" }, fc.oneof(fc.dictionary(fc.constantFrom("0", "1", "2", "x"), fc.string({ maxLength: 4 })), anything)),
    model_type: mostly("bert", fc.oneof(fc.constant("roberta"), anything)),
    format: fc.oneof(fc.constant("tsformer"), anything),
  }, { requiredKeys: [] });
  const removals = fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, { arbitrary: fc.subarray(Object.keys(base), { maxLength: 3 }), weight: 1 });
  let loaded = 0;
  await fc.assert(fc.asyncProperty(overrides, removals, async (changes, removed) => {
    const config: Record<string, unknown> = { ...base, ...changes };
    for (const key of removed) if (!(key in changes)) delete config[key];
    writeFileSync(join(bertDir, "config.json"), JSON.stringify(config));
    try {
      const bert = await loadBert(bertDir);
      // the weights fix every size: a config that disagrees with them never loads
      const c = bert.config;
      assert.deepEqual([c.vocabSize, c.hiddenSize, c.numHiddenLayers, c.intermediateSize, c.maxPositionEmbeddings, c.typeVocabSize],
        [293, 32, 2, 64, 40, 2], JSON.stringify(changes));
      loaded++;
    } catch (e) {
      const typed = e instanceof CheckpointError || e instanceof ConfigError || e instanceof ShapeError || e instanceof ResourceError;
      if (!typed) throw new Error(`untyped ${(e as Error).name} for ${JSON.stringify(changes)}: ${(e as Error).message}`, { cause: e });
      assert.ok(!e.message.includes("\n"), `multi-line message ${JSON.stringify(e.message)}`);
    }
  }), { ...RUNS, numRuns: 200 });
  assert.ok(loaded > 0, "no fuzzed config loaded: the property never reached a model");
});
