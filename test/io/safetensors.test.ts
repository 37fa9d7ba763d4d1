import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  type SafetensorsDType, type StoredTensorInput, f32BitsToBF16, f32BitsToF16, parseSafetensors, readSafetensorsFile, serializeSafetensors,
} from "../../src/io/safetensors.ts";
import { CheckpointError } from "../../src/errors.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const enc = (text: string): number[] => [...new TextEncoder().encode(text)];
const f32Bits = (v: number): number => new Uint32Array(new Float32Array([v]).buffer)[0];
const fromF32Bits = (b: number): number => new Float32Array(new Uint32Array([b]).buffer)[0];

/** A file whose data is `raw` bytes of one tensor of `dtype`, to test the reader's widening directly. */
function rawFile(dtype: string, shape: number[], raw: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ t: { dtype, shape, data_offsets: [0, raw.length] } }));
  const out = new Uint8Array(8 + json.length + raw.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(raw, 8 + json.length);
  return out;
}
const roundTrip = (tensors: StoredTensorInput[], metadata?: Record<string, string>) => parseSafetensors(serializeSafetensors(tensors, metadata));

test("every dtype round-trips with exact values and shapes", () => {
  const floats = new Float32Array([1.5, -0, Infinity, -Infinity, NaN, 3.4028234663852886e38, 1e-45]);
  const halfs = new Float32Array([1, -2, 0.5, 65504, 2 ** -24, 2 ** -14, -0, Infinity, -Infinity, NaN, 0.333251953125, 1023 * 2 ** -24]);
  const bfs = new Float32Array([1, -2, 0.5, 3.3895313892515355e38, fromF32Bits(0x00010000), -0, Infinity, NaN, 1.0078125]);
  const cases: [SafetensorsDType, StoredTensorInput["data"], number[]][] = [
    ["F32", floats, [7]], ["F64", floats, [7, 1]], ["F16", halfs, [3, 4]], ["BF16", bfs, [9]],
    ["I64", new BigInt64Array([0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]), [2, 2]],
    ["I32", new Int32Array([0, -1, 2 ** 31 - 1, -(2 ** 31)]), [4]],
    ["I16", new Int32Array([-32768, 32767, 0, -1]), [1, 4]], ["U16", new Int32Array([0, 65535, 7]), [3]],
    ["I8", new Int32Array([-128, 127, 0]), [3]], ["U8", new Uint8Array([0, 255, 9]), [3]], ["BOOL", new Uint8Array([0, 1, 1]), [3, 1]],
  ];
  const { tensors, metadata } = roundTrip(cases.map(([dtype, data, shape]) => ({ name: `t.${dtype}`, dtype, data, shape })), { k: "v" });
  assert.deepEqual(metadata, { k: "v" });
  for (const [dtype, data, shape] of cases) {
    const t = tensors.get(`t.${dtype}`)!;
    assert.equal(t.dtype, dtype);
    assert.deepEqual(t.shape, shape);
    assert.deepEqual([...t.data], [...data], dtype); // deepStrictEqual: NaN equals NaN, -0 differs from 0
  }
  assert.ok(tensors.get("t.F16")!.data instanceof Float32Array);
  assert.ok(tensors.get("t.I8")!.data instanceof Int32Array);
  assert.ok(tensors.get("t.I64")!.data instanceof BigInt64Array);
  assert.ok(tensors.get("t.BOOL")!.data instanceof Uint8Array);
});

test("scalars, empty tensors and default dtypes", () => {
  const { tensors } = roundTrip([
    { name: "s", shape: [], data: new Float32Array([2.5]) }, { name: "e", shape: [0, 3], data: new Float32Array(0) },
    { name: "i", shape: [1], data: new Int32Array([5]) }, { name: "l", shape: [1], data: new BigInt64Array([5n]) },
    { name: "u", shape: [1], data: new Uint8Array([5]) },
  ]);
  assert.deepEqual([...tensors.values()].map((t) => [t.name, t.dtype, t.shape, [...t.data]]).sort(), [
    ["e", "F32", [0, 3], []], ["i", "I32", [1], [5]], ["l", "I64", [1], [5n]], ["s", "F32", [], [2.5]], ["u", "U8", [1], [5]],
  ]);
});

test("F16 reading widens exactly: normals, subnormals, inf, NaN, signed zero", () => {
  const bits = [0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3555];
  const want = [1, -2, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity, NaN, -0, 0.333251953125];
  const raw = new Uint8Array(bits.length * 2);
  bits.forEach((b, i) => new DataView(raw.buffer).setUint16(2 * i, b, true));
  assert.deepEqual([...parseSafetensors(rawFile("F16", [bits.length], raw)).tensors.get("t")!.data], want);
});

test("F16 and BF16 writing: every representable value is exact, others round to nearest even", () => {
  const table = parseSafetensors(rawFile("F16", [65536], new Uint8Array(new Uint16Array(65536).map((_, i) => i).buffer))).tensors.get("t")!.data;
  for (let h = 0; h < 65536; h++) if (!Number.isNaN(table[h])) assert.equal(f32BitsToF16(f32Bits(table[h] as number)), h);
  for (let h = 0; h < 65536; h++) if ((h & 0x7fff) <= 0x7f80) assert.equal(f32BitsToBF16(h << 16 >>> 0), h);
  const f16 = (v: number) => f32BitsToF16(f32Bits(v));
  assert.equal(f16(1 + 2 ** -11), 0x3c00); // tie → even mantissa
  assert.equal(f16(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(f16(65519), 0x7bff);
  assert.equal(f16(65520), 0x7c00); // overflow rounds to inf
  assert.equal(f16(2 ** -25), 0x0000); // tie between 0 and the smallest subnormal → 0
  assert.equal(f16(3 * 2 ** -25), 0x0002);
  assert.equal(f16(-(2 ** -26)), 0x8000);
  assert.equal(f16(NaN) & 0x7e00, 0x7e00);
  // Against a reference that searches the sorted positive f16 values (65536 stands in for the step past 65504).
  const positives = Array.from({ length: 0x7c01 }, (_, h) => (h === 0x7c00 ? 65536 : (table[h] as number)));
  let seed = 12345;
  for (let k = 0; k < 20000; k++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const v = fromF32Bits(0x33000000 + (seed % (0x47800000 - 0x33000000))); // 2^-25 ≤ v < 65536
    let [lo, hi] = [0, 0x7c00];
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (positives[mid] <= v) lo = mid;
      else hi = mid;
    }
    const [a, b] = [positives[lo], positives[lo + 1]];
    const want = v - a < b - v || (v - a === b - v && lo % 2 === 0) ? lo : lo + 1;
    assert.equal(f16(v), want, `f16(${v})`);
    assert.equal(f16(-v), want | 0x8000);
  }
  const bf = (v: number) => f32BitsToBF16(f32Bits(v));
  assert.equal(bf(1 + 2 ** -8), 0x3f80);
  assert.equal(bf(1 + 3 * 2 ** -8), 0x3f82);
  assert.equal(bf(-1.5), 0xbfc0);
});

test("F64 is narrowed with Math.fround", () => {
  const raw = new Uint8Array(new Float64Array([0.1, 1e300, -1e-300]).buffer);
  assert.deepEqual([...parseSafetensors(rawFile("F64", [3], raw)).tensors.get("t")!.data], [Math.fround(0.1), Infinity, -0]);
});

test("header is padded with spaces to a multiple of 8 and every tensor's data is aligned", () => {
  const bytes = serializeSafetensors([
    { name: "b8", dtype: "I8", shape: [3], data: new Int32Array(3) }, { name: "f16", dtype: "F16", shape: [5], data: new Float32Array(5) },
    { name: "a64", dtype: "F64", shape: [1], data: new Float32Array(1) }, { name: "z64", dtype: "I64", shape: [1], data: new BigInt64Array(1) },
    { name: "f32", shape: [3], data: new Float32Array(3) }, { name: "u8", dtype: "U8", shape: [1], data: new Uint8Array(1) },
  ]);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(text, /^\{.*\} *$/);
  const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  assert.deepEqual(Object.keys(header), ["z64", "a64", "f32", "f16", "b8", "u8"]); // the reference dtype order (I64 before F64), then by name
  const size: Record<string, number> = { I64: 8, F64: 8, F32: 4, F16: 2, I8: 1, U8: 1 };
  for (const { dtype, data_offsets: [begin] } of Object.values(header)) assert.equal((8 + n + begin) % size[dtype], 0);
  assert.equal(bytes.length, 8 + n + 8 + 8 + 12 + 10 + 3 + 1);
});

test("the reference writer's own test vectors: an empty file, with and without metadata", () => {
  const spaces = (k: number) => Array<number>(k).fill(0x20);
  assert.deepEqual([...serializeSafetensors([])], [8, 0, 0, 0, 0, 0, 0, 0, ...enc("{}"), ...spaces(6)]);
  assert.deepEqual([...serializeSafetensors([], { framework: "pt" })], [40, 0, 0, 0, 0, 0, 0, 0, ...enc('{"__metadata__":{"framework":"pt"}}'), ...spaces(5)]);
  const data = new Float32Array([0, 1, 2, 3, 4, 5]);
  const bytes = serializeSafetensors([{ name: "attn0", shape: [1, 1, 2, 3], data }]);
  assert.deepEqual([...bytes.subarray(0, 80)],
    [72, 0, 0, 0, 0, 0, 0, 0, ...enc('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}'), ...spaces(7)]);
  assert.deepEqual(bytes.subarray(80), new Uint8Array(data.buffer));
});

test("serialize rejects bad input, naming the tensor", () => {
  const cases: [StoredTensorInput[], string][] = [
    [[{ name: "w", shape: [2, 3], data: new Float32Array(5) }], "tensor 'w': shape [2, 3] needs 6 values but the data holds 5"],
    [[{ name: "w", shape: [-1], data: new Float32Array(0) }], "tensor 'w': shape [-1] is not a list of non-negative integers"],
    [[{ name: "w", shape: [1], data: new Int32Array([300]), dtype: "I8" }], "tensor 'w': value 300 at index 0 does not fit I8"],
    [[{ name: "w", shape: [1], data: new Float32Array(1), dtype: "I32" }], "tensor 'w': cannot write a Float32Array as I32"],
    [[{ name: "w", shape: [1], data: new Uint8Array([2]), dtype: "BOOL" }], "tensor 'w': value 2 at index 0 is not a BOOL (0 or 1)"],
    [[{ name: "w", shape: [1], data: new Uint8Array(1) }, { name: "w", shape: [1], data: new Uint8Array(1) }], "tensor 'w': written twice"],
    [[{ name: "", shape: [1], data: new Uint8Array(1) }], "tensor '': not a valid tensor name"],
  ];
  for (const [tensors, message] of cases) assert.throws(() => serializeSafetensors(tensors), (e) => e instanceof CheckpointError && e.message === message);
});

test("the bert_layer fixture matches its raw .f32 files", async () => {
  const dir = `${root}test/fixtures/pytorch/bert_layer/`;
  const caseJson = JSON.parse(await readFile(`${dir}case.json`, "utf8")) as { tensors: Record<string, { file: string; shape: number[]; hf_name?: string }> };
  const bytes = await readFile(`${dir}weights.safetensors`);
  const { tensors, metadata } = parseSafetensors(bytes, "weights.safetensors");
  assert.equal(metadata.format, "pt");
  const params = Object.values(caseJson.tensors).filter((t) => t.hf_name);
  assert.equal(params.length, 16);
  assert.equal(tensors.size, 16);
  for (const p of params) {
    const t = tensors.get(p.hf_name!)!;
    assert.equal(t.dtype, "F32");
    assert.deepEqual(t.shape, p.shape);
    const raw = await readFile(dir + p.file);
    assert.deepEqual(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), p.hf_name);
  }
  const again = parseSafetensors(serializeSafetensors(tensors.values(), metadata));
  assert.deepEqual(again.metadata, metadata);
  assert.deepEqual([...again.tensors.keys()].sort(), [...tensors.keys()].sort());
  for (const [name, t] of tensors) assert.deepEqual(again.tensors.get(name), t);
});

test("bert_model checkpoints, including the I64 position_ids buffer, and the shipped model", async () => {
  const { tensors } = await readSafetensorsFile(`${root}test/fixtures/bert_model/bert_seqcls_prefixed_l2_h40/model.safetensors`);
  const ids = tensors.get("bert.embeddings.position_ids")!;
  assert.equal(ids.dtype, "I64");
  assert.deepEqual(ids.shape, [1, 32]);
  assert.deepEqual([...ids.data], Array.from({ length: 32 }, (_, i) => BigInt(i)));
  assert.deepEqual(tensors.get("bert.embeddings.position_embeddings.weight")!.shape, [32, 40]);
  for (const path of ["test/fixtures/bert_model/bert_model_l2_h32/model.safetensors", "models/bert-tiny-sst2-encoder/model.safetensors"]) {
    const file = await readSafetensorsFile(root + path);
    assert.ok(file.tensors.size > 0);
    for (const t of file.tensors.values()) assert.equal(t.data.length, t.shape.reduce((a, d) => a * d, 1));
  }
});

test("re-serializing a checkpoint the Python library wrote reproduces it byte for byte", async () => {
  for (const name of ["bert_model_l2_h32", "bert_seqcls_prefixed_l2_h40"]) {
    const bytes = new Uint8Array(await readFile(`${root}test/fixtures/bert_model/${name}/model.safetensors`));
    const { tensors, metadata } = parseSafetensors(bytes);
    assert.deepEqual(serializeSafetensors(tensors.values(), metadata), bytes, name);
  }
});

test("a missing file is a CheckpointError naming the path", async () => {
  await assert.rejects(readSafetensorsFile("/nonexistent/model.safetensors"),
    (e) => e instanceof CheckpointError && e.message === "/nonexistent/model.safetensors: cannot read the file (ENOENT)");
});
