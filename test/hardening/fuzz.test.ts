/**
 * Property-based fuzzing of everything that reads untrusted input: safetensors bytes, config JSON, vocabularies,
 * tokenizer text, data files. Each must either succeed or throw a typed, one-line TsformerError — no other
 * exception, no hang, and no allocation beyond what the input justifies.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { TsformerError } from "../../src/errors.ts";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.ts";
import { parseBertConfig } from "../../src/models/bert-config.ts";
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

test("safetensors: random bytes and mutated files give data or a typed error, never more data than the file holds", () => {
  const check = (bytes: Uint8Array): void => {
    const parsed = typedOrOk("parseSafetensors", () => parseSafetensors(bytes, "fuzz.safetensors"));
    if (!parsed) return;
    let total = 0;
    for (const t of parsed.tensors.values()) total += t.data.byteLength / (t.data instanceof Float32Array && t.dtype !== "F32" ? 2 : 1);
    assert.ok(total <= bytes.length * 2, `tensors hold ${total} bytes from a ${bytes.length}-byte file`);
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => check(bytes)), RUNS);
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
    fc.nat(valid.length), (flips, cut) => {
      const bytes = valid.slice(0, Math.max(cut, 1));
      for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
      check(bytes);
    }), RUNS);
  // a well-formed header with hostile values
  const entry = fc.record({
    dtype: fc.oneof(fc.constantFrom("F32", "F16", "BF16", "I64", "I32", "U8", "BOOL", "F64", "X9"), fc.jsonValue()),
    shape: fc.oneof(fc.array(fc.oneof(fc.nat(10), fc.integer(), fc.double(), fc.constant(2 ** 53)), { maxLength: 4 }), fc.jsonValue()),
    data_offsets: fc.oneof(fc.tuple(fc.nat(200), fc.nat(200)), fc.array(fc.integer(), { maxLength: 3 }), fc.jsonValue()),
  });
  fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 6 }), entry, { maxKeys: 4 }), fc.nat(200), (header, dataLength) => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const bytes = new Uint8Array(8 + json.length + dataLength);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    check(bytes);
  }), RUNS);
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
