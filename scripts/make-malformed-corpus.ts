/**
 * Writes test/fixtures/malformed/: a corpus of hostile or broken inputs (safetensors files, BERT folders,
 * vocabularies, data files, configs) and manifest.json saying which loader reads each and what error it must give.
 * Deterministic: rerun it to regenerate the corpus exactly. Run: node --import tsx scripts/make-malformed-corpus.ts
 */
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serializeSafetensors } from "../src/io/safetensors.ts";

const OUT = "test/fixtures/malformed";
const GOOD_BERT = "test/fixtures/bert_model/bert_model_l2_h32";

interface Entry { path: string; loader: string; expect: string; labels?: string[]; note: string }
const manifest: Entry[] = [];

function file(path: string, content: Uint8Array | string, loader: string, expect: string, note: string, labels?: string[]): void {
  writeFileSync(join(OUT, path), content);
  manifest.push({ path, loader, expect, note, ...(labels ? { labels } : {}) });
}

/** A safetensors file with a given header object (raw JSON text) and data bytes. */
function withHeader(json: string, dataBytes: number): Uint8Array {
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(OUT, "safetensors"), { recursive: true });
const valid = serializeSafetensors([{ name: "w", shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }]);
const st = (name: string, bytes: Uint8Array, expect: string, note: string): void => file(`safetensors/${name}.safetensors`, bytes, "safetensors", expect, note);
st("empty", new Uint8Array(0), "file is 0 bytes, too short", "no header length at all");
st("seven-bytes", valid.subarray(0, 7), "file is 7 bytes, too short", "a header length cut short");
st("truncated-data", valid.subarray(0, valid.length - 4), "runs past the end of the file", "the last tensor's data cut off");
const pastEnd = valid.slice();
new DataView(pastEnd.buffer).setBigUint64(0, 1n << 20n, true);
st("header-past-end", pastEnd, "header length 1048576 at byte 0 runs past the end", "header length larger than the file");
const huge = valid.slice();
new DataView(huge.buffer).setBigUint64(0, 1n << 62n, true);
st("header-over-cap", huge, "exceeds the 100000000-byte limit", "an 8-byte length meant to make a reader allocate exabytes");
st("bad-json", withHeader('{"w": {"dtype": "F32",', 0), "is not valid JSON", "truncated JSON");
st("header-array", withHeader("[1, 2, 3]", 0), "is a JSON array, not a JSON object", "header of the wrong JSON type");
st("not-utf8", (() => { const b = withHeader('{"w": 1}', 0); b[10] = 0xff; return b; })(), "is not valid UTF-8", "invalid bytes in the header");
st("unknown-dtype", withHeader('{"w": {"dtype": "F33", "shape": [2], "data_offsets": [0, 8]}}', 8), "unknown dtype", "a dtype no reader knows");
st("negative-shape", withHeader('{"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}', 8), "is not a list of non-negative integers", "negative dimension");
st("size-mismatch", withHeader('{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}', 8), "needs 12 bytes but data_offsets [0, 8] span 8", "shape and byte span disagree");
st("huge-shape", withHeader('{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}', 8), "needs 73786976294838206464 bytes", "a shape that would need 64 EiB: refused before any allocation");
st("out-of-range", withHeader('{"w": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]}}', 8), "runs past the end of the file", "offsets beyond the data");
st("overlap", withHeader('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}', 12), "overlaps tensor 'a'", "two tensors sharing bytes");
st("duplicate-key", withHeader('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', 8), "key 'a' appears twice", "JSON.parse would silently keep the last");

/** A copy of the good BERT folder, changed by `edit`. */
function bertFolder(name: string, expect: string, note: string, edit: (dir: string) => void): void {
  const dir = join(OUT, "bert", name);
  cpSync(GOOD_BERT, dir, { recursive: true });
  // only the model folder's own files: the fixture's reference tensors are not part of a checkpoint
  for (const f of readdirSync(dir)) if (f === "case.json" || /\.(f64|i32|u8)$/.test(f)) rmSync(join(dir, f));
  edit(dir);
  manifest.push({ path: `bert/${name}`, loader: "bert-folder", expect, note });
}
const config = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
const writeConfig = (dir: string, c: Record<string, unknown>): void => writeFileSync(join(dir, "config.json"), JSON.stringify(c, null, 2));
bertFolder("no-config", "config.json: not found", "weights without a config", (d) => rmSync(join(d, "config.json")));
bertFolder("no-weights", "model.safetensors", "a config without weights", (d) => rmSync(join(d, "model.safetensors")));
bertFolder("pickle-only", "unpickling", "only pytorch_model.bin: refused, never unpickled", (d) => {
  rmSync(join(d, "model.safetensors"));
  writeFileSync(join(d, "pytorch_model.bin"), Buffer.from([0x80, 0x02, 0x63, 0x6f, 0x73, 0x0a, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x0a])); // pickle opcodes for os.system
});
bertFolder("truncated-weights", "runs past the end of the file", "model.safetensors cut in half", (d) => {
  const b = readFileSync(join(d, "model.safetensors"));
  writeFileSync(join(d, "model.safetensors"), b.subarray(0, b.length >> 1));
});
bertFolder("vocab-size-disagrees", "vocab_size", "config.json says a different vocabulary size than the weights", (d) => writeConfig(d, { ...config(d), vocab_size: 300 }));
bertFolder("relative-positions", "position_embedding_type", "a position-embedding type tsformer does not run", (d) => writeConfig(d, { ...config(d), position_embedding_type: "relative_key" }));
bertFolder("unknown-activation", "hidden_act", "an activation tsformer does not know", (d) => writeConfig(d, { ...config(d), hidden_act: "swish2" }));
bertFolder("nan-weight", "contains NaN", "a NaN inside the weights", (d) => {
  const path = join(d, "model.safetensors");
  const b = Buffer.from(readFileSync(path));
  const n = Number(b.readBigUInt64LE(0));
  b.writeFloatLE(Number.NaN, 8 + n + 4 * 7);
  writeFileSync(path, b);
});
bertFolder("shard-escape", "../", "a shard index pointing outside the folder", (d) => {
  rmSync(join(d, "model.safetensors"));
  writeFileSync(join(d, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: { "embeddings.word_embeddings.weight": "../../secret.safetensors" } }));
});

mkdirSync(join(OUT, "vocab"), { recursive: true });
file("vocab/duplicate.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\nhello\n", "vocab", "duplicate token \"hello\"", "a token listed twice (ids would be ambiguous)");
file("vocab/no-unk.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n", "vocab", "[UNK]", "no [UNK] token");

mkdirSync(join(OUT, "data"), { recursive: true });
file("data/missing-label.txt", "1 a fine film\n1\n", "data", "missing-label.txt:2:", "a line with a label and no text");
file("data/unknown-label.txt", "1 fine\n7 strange\n", "data", "unknown-label.txt:2: unknown label \"7\"", "a label the model does not know", ["0", "1"]);
file("data/empty-text.txt", "1 fine\n0    \n", "data", "empty-text.txt:2: empty text", "whitespace where the text should be");
file("data/latin1.txt", Buffer.concat([Buffer.from("1 fine\n0 caf"), Buffer.from([0xe9]), Buffer.from(" bad\n")]), "data", "latin1.txt:2: not valid UTF-8", "Latin-1 bytes instead of UTF-8");
file("data/bad.jsonl", '{"text": "ok", "label": 1}\n{"text": "no label"}\n', "data", "bad.jsonl:2: missing \"label\"", "a JSONL object without its label");

mkdirSync(join(OUT, "config"), { recursive: true });
file("config/unknown-field.json", JSON.stringify({ epoch: 3 }), "train-config", "unknown field \"epoch\"", "a typo in a training config");
file("config/not-json.json", "{ epochs: 3 }", "train-config", "not valid JSON", "JavaScript, not JSON");

writeFileSync(join(OUT, "manifest.json"), `${JSON.stringify(manifest, null, 1)}\n`);
process.stdout.write(`${manifest.length} corpus entries in ${OUT}\n`);
