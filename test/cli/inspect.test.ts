/** `tsformer inspect` and weight loading from the CLI: listings, and one-line errors for bad files. */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.ts";
import { cli } from "./run-cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "tsformer-cli-"));
const TINY = "models/bert-tiny-sst2-encoder/model.safetensors";

test("inspect lists every tensor with dtype, shape and parameter count, and the total", () => {
  const r = cli(["inspect", TINY]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^name +dtype +shape +parameters$/m);
  assert.match(r.stdout, /^bert\.encoder\.layer\.0\.attention\.self\.query\.weight +F32 +\[128, 128\] +16,384$/m);
  assert.match(r.stdout, /36 tensors, 413,314 parameters in model\.safetensors$/m);
  const json = JSON.parse(cli(["inspect", TINY, "--json"]).stdout) as { total: number; tensors: unknown[] };
  assert.equal(json.total, 413314);
  assert.equal(json.tensors.length, 36);
});

test("inspect sorts names with their numbers as numbers (layer.2 before layer.10), and still checks --threads", () => {
  const path = join(tmp, "numbered.safetensors");
  const tensor = (name: string) => ({ name, shape: [1], data: new Float32Array([1]) });
  writeFileSync(path, serializeSafetensors(["layer.10.w", "layer.2.w", "layer.1.w"].map(tensor)));
  const json = JSON.parse(cli(["inspect", path, "--json"]).stdout) as { tensors: { name: string }[] };
  assert.deepEqual(json.tensors.map((t) => t.name), ["layer.1.w", "layer.2.w", "layer.10.w"]);
  const r = cli(["--threads", "0", "inspect", path]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'tsformer: --threads must be a positive integer, got "0"\n');
});

/** Writes a malformed variant of a small valid file and returns the CLI's stderr. */
function inspectBytes(name: string, bytes: Uint8Array): { code: number; stderr: string } {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return cli(["inspect", path]);
}

test("malformed safetensors files each give one error line naming the problem, no stack trace", () => {
  const valid = serializeSafetensors([{ name: "w", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]);
  const header = (json: string): Uint8Array => {
    const h = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + h.length + 16);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ["truncated.safetensors", valid.subarray(0, valid.length - 4), /runs past the end of the file/],
    ["header-past-end.safetensors", (() => { const b = valid.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 20n, true); return b; })(), /header length 1048576 at byte 0 runs past the end/],
    ["bad-json.safetensors", header('{"w": {"dtype": "F32",'), /not valid JSON/],
    ["unknown-dtype.safetensors", header('{"w": {"dtype": "F33", "shape": [2], "data_offsets": [0, 8]}}'), /tensor 'w': unknown dtype "F33"/],
    ["out-of-range.safetensors", header('{"w": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}}'), /data at bytes .* runs past the end of the file/],
    ["overlap.safetensors", header('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}'), /overlaps tensor 'a'/],
  ];
  for (const [name, bytes, pattern] of cases) {
    const r = inspectBytes(name, bytes);
    assert.equal(r.code, 1, name);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `${name}: ${r.stderr}`);
    assert.match(lines[0], /^tsformer: /, name);
    assert.match(lines[0], pattern, name);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${name} printed a stack trace`);
  }
});

test("a wrongly shaped weight is one line naming the tensor and both shapes", () => {
  const dir = join(tmp, "bad-shape-model");
  cpSync("test/fixtures/bert_model/bert_model_l2_h32", dir, { recursive: true });
  const file = join(dir, "model.safetensors");
  const contents = parseSafetensors(readFileSync(file), file);
  const tensors = [...contents.tensors.values()].map((t) => t.name === "encoder.layer.1.intermediate.dense.weight"
    ? { ...t, shape: [32, 64] } : t);
  writeFileSync(file, serializeSafetensors(tensors));
  const r = cli(["similarity", "--model", dir, "a", "b"]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^tsformer: .*model\.safetensors: tensor 'encoder\.layer\.1\.intermediate\.dense\.weight' has shape \[32, 64\]/);
  assert.match(lines[0], /\[64, 32\]/);
});

test("--debug adds the stack trace", () => {
  const r = cli(["--debug", "inspect", join(tmp, "missing.safetensors")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^tsformer: .*cannot read the file \(ENOENT\)/);
  assert.match(r.stderr, /\n\s+at /);
});
