/** `tsformer convert`: float tensors stored as f16 / bf16 / f32, a folder's other files copied, bad input refused. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { convertFloatTensors } from "../../src/io/convert.ts";
import { f32BitsToF16, readSafetensorsFileSync, serializeSafetensors } from "../../src/io/safetensors.ts";
import { halfTable } from "../../src/io/half-float.ts";
import { cli } from "./run-cli.ts";

const MODEL = "models/default";
const dir = mkdtempSync(join(tmpdir(), "convert-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every element of `x` rounded to f16 and widened back, as PyTorch's `x.half().float()` gives it. */
const viaF16 = (x: Float32Array): Float32Array => {
  const table = halfTable();
  return Float32Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length), (b) => table[f32BitsToF16(b)]);
};

test("a model folder to f16: half the bytes, every value rounded to nearest f16, other files copied byte for byte", () => {
  const out = join(dir, "f16");
  const r = cli(["convert", MODEL, out, "--dtype", "f16", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { bytesBefore: number; bytesAfter: number; parameters: number; maxAbsError: number };
  const original = readSafetensorsFileSync(join(MODEL, "model.safetensors"));
  const converted = readSafetensorsFileSync(join(out, "model.safetensors"));
  assert.equal(summary.bytesAfter, readFileSync(join(out, "model.safetensors")).length);
  assert.ok(summary.bytesAfter < 0.51 * summary.bytesBefore, `${summary.bytesAfter} of ${summary.bytesBefore} bytes`);
  let worst = 0;
  for (const [name, t] of original.tensors) {
    const c = converted.tensors.get(name);
    assert.ok(c, name);
    assert.equal(c.dtype, "F16", name);
    assert.deepEqual(c.shape, t.shape);
    const expected = viaF16(t.data as Float32Array);
    assert.deepEqual(c.data, expected, name);
    (t.data as Float32Array).forEach((x, i) => { worst = Math.max(worst, Math.abs(expected[i] - x)); });
  }
  assert.equal(summary.maxAbsError, worst);
  assert.ok(worst > 0 && worst < 1e-3, `${worst}`);
  for (const name of readdirSync(MODEL).filter((n) => n !== "model.safetensors")) {
    assert.deepEqual(readFileSync(join(out, name)), readFileSync(join(MODEL, name)), name);
  }
  // The f16 folder still classifies; back to f32 gives the f16 values exactly, stored as F32.
  const sentence = "a gorgeous , witty film that does n't quite work .";
  const [half, full] = [out, MODEL].map((m) => cli(["classify", "--model", m, sentence, "--json"]));
  assert.equal(half.code, 0, half.stderr);
  const [h, f] = [half, full].map((r) => JSON.parse(r.stdout) as { label: string; probabilities: Record<string, number> });
  assert.equal(h.label, f.label);
  for (const [label, p] of Object.entries(f.probabilities)) assert.ok(Math.abs(h.probabilities[label] - p) < 2e-3, `${label}: ${h.probabilities[label]} vs ${p}`);
  const back = join(dir, "back.safetensors");
  assert.equal(cli(["convert", join(out, "model.safetensors"), back, "--dtype", "f32"]).code, 0);
  const widened = readSafetensorsFileSync(back);
  for (const [name, t] of converted.tensors) assert.deepEqual([widened.tensors.get(name)?.dtype, widened.tensors.get(name)?.data], ["F32", t.data], name);
});

test("integer buffers and metadata are kept; f16 refuses values beyond ±65504 by name, bf16 takes them", () => {
  const file = join(dir, "wide.safetensors");
  writeFileSync(file, serializeSafetensors([
    { name: "w", shape: [3], data: Float32Array.of(1, -70000, 0.1) },
    { name: "position_ids", shape: [1, 4], data: Int32Array.of(0, 1, 2, 3), dtype: "I64" },
  ], { format: "pt" }));
  const contents = readSafetensorsFileSync(file);
  assert.throws(() => convertFloatTensors(contents, "F16", file), /wide\.safetensors: tensor 'w' \[3\] holds -70000 at index 1, beyond F16's range \(±65504\): convert it to BF16 instead$/);
  const r = cli(["convert", file, join(dir, "w16.safetensors"), "--dtype", "f16"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^tsformer: .*tensor 'w' \[3\] holds -70000 at index 1/);
  assert.equal(cli(["convert", file, join(dir, "wbf.safetensors"), "--dtype", "bf16"]).code, 0);
  const bf = readSafetensorsFileSync(join(dir, "wbf.safetensors"));
  assert.deepEqual(bf.metadata, { format: "pt" });
  assert.deepEqual([bf.tensors.get("w")?.dtype, bf.tensors.get("position_ids")?.dtype], ["BF16", "I64"]);
  assert.deepEqual(bf.tensors.get("w")?.data, Float32Array.of(1, -70144, 0.10009765625)); // round to nearest even, 8 bits of mantissa
  assert.deepEqual(bf.tensors.get("position_ids")?.data, contents.tensors.get("position_ids")?.data);
});

test("bad input: one line that says what is wrong", () => {
  for (const [args, pattern] of [
    [["convert", MODEL, join(dir, "x"), "--dtype", "f8"], /--dtype f8: expected one of f32, f16, bf16$/],
    [["convert", "docs", join(dir, "x"), "--dtype", "f16"], /docs: no model\.safetensors in the folder/],
    [["convert", join(dir, "missing.safetensors"), join(dir, "x"), "--dtype", "f16"], /missing\.safetensors: cannot read the file \(ENOENT\)$/],
  ] as const) {
    const r = cli([...args]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr.trimEnd(), pattern);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
});
