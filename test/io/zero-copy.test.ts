/** Reading safetensors as the format intends: the header alone for inspect, views where aligned, one copy into a model. */
import assert from "node:assert/strict";
import fs, { cpSync, mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CheckpointError, ShapeError } from "../../src/errors.ts";
import { openSafetensors, openSafetensorsFileSync, parseSafetensors, readSafetensorsFileSync, serializeSafetensors } from "../../src/io/safetensors.ts";
import { SHARD_INDEX_FILE, readShardedSafetensors } from "../../src/io/sharded.ts";
import { loadBert, loadBertSync } from "../../src/models/load-bert.ts";
import { cli } from "../cli/run-cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "tsformer-zero-copy-"));
const values = new Float32Array([1.5, -2, 0.25, 3e-8, -0, 7]);
const file = serializeSafetensors([{ name: "w", shape: [2, 3], data: values }, { name: "ids", shape: [3], data: new Int32Array([4, 5, 6]) }]);

test("opening a file reads its header alone: a 3 GiB sparse file opens and inspects", () => {
  const gib3 = 3 * 2 ** 30; // bigger than any buffer readFileSync may return: reading the data would fail
  const header = new TextEncoder().encode(JSON.stringify({ big: { dtype: "F32", shape: [gib3 / 4], data_offsets: [0, gib3] } }).padEnd(64, " "));
  const head = new Uint8Array(8 + header.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(header.length), true);
  head.set(header, 8);
  const path = join(tmp, "sparse.safetensors");
  writeFileSync(path, head);
  truncateSync(path, head.length + gib3); // the data section is a hole: no disk, no reads
  const view = openSafetensorsFileSync(path);
  assert.deepEqual(view.infos.get("big"), { name: "big", dtype: "F32", shape: [gib3 / 4] });
  const r = cli(["inspect", path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1 tensors, 805,306,368 parameters in sparse\.safetensors$/m);
});

test("aligned tensors of a file in memory are views of its bytes; unaligned ones are copies with the same values", () => {
  const aligned = parseSafetensors(file).tensors;
  assert.equal(aligned.get("w")!.data.buffer, file.buffer, "F32 at an aligned offset is a view");
  assert.equal(aligned.get("ids")!.data.buffer, file.buffer, "I32 at an aligned offset is a view");
  const shifted = new Uint8Array(file.length + 1).subarray(1); // every offset is now odd
  shifted.set(file);
  const unaligned = parseSafetensors(shifted).tensors;
  assert.notEqual(unaligned.get("w")!.data.buffer, shifted.buffer, "an unaligned F32 tensor is copied");
  assert.equal(unaligned.get("w")!.data.byteOffset, 0);
  assert.deepEqual(unaligned.get("w")!.data, aligned.get("w")!.data);
  assert.deepEqual([...unaligned.get("ids")!.data], [4, 5, 6]);
});

test("readInto fills a destination straight from a file or from memory, and refuses another length or an integer tensor", () => {
  const path = join(tmp, "small.safetensors");
  writeFileSync(path, file);
  for (const view of [openSafetensorsFileSync(path), openSafetensors(file, path)]) {
    const out = new Float32Array(6);
    view.readInto("w", out);
    assert.deepEqual(out, values);
    assert.deepEqual(view.read("w").data, values);
    assert.throws(() => view.readInto("w", new Float32Array(5)), (e: unknown) => e instanceof CheckpointError
      && e.message === `${path}: tensor 'w': data at bytes 128–152: shape [2, 3] holds 6 values, the destination 5`);
    assert.throws(() => view.readInto("ids", new Float32Array(3)), /tensor 'ids': data at bytes .*: dtype I32 is not floating point/);
  }
});

test("a tensor of several read chunks (1 MiB each) comes back whole from a file, and a cut inside it names the byte", () => {
  const n = 600_001; // 2.4 MB: two full chunks and a ragged tail
  const big = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * (i % 7));
  const bytes = serializeSafetensors([{ name: "big", shape: [n], data: big }]);
  const path = join(tmp, "chunks.safetensors");
  writeFileSync(path, bytes);
  const view = openSafetensorsFileSync(path);
  const out = new Float32Array(n);
  view.readInto("big", out);
  assert.deepEqual(out, big);
  const cut = bytes.length - 4 * 1000; // inside the third chunk
  truncateSync(path, cut);
  assert.throws(() => view.readInto("big", new Float32Array(n)), (e: unknown) => e instanceof CheckpointError
    && e.message.includes(`the file ends at byte ${cut}, before byte ${bytes.length}`));
});

test("a file that shrinks after its header was read is an error naming the byte", () => {
  const path = join(tmp, "shrinks.safetensors");
  writeFileSync(path, file);
  const view = openSafetensorsFileSync(path);
  truncateSync(path, file.length - 8);
  assert.throws(() => view.read("ids"), /the file ends at byte \d+, before byte \d+; it changed after its header was read/);
});

test("a NaN in the weights is still refused with the tensor's name and position, and allowNonFinite lets it through", async () => {
  const dir = join(tmp, "nan-model");
  cpSync("test/fixtures/bert_model/bert_model_l2_h32", dir, { recursive: true });
  const path = join(dir, "model.safetensors");
  const tensors = [...parseSafetensors(readFileSync(path)).tensors.values()].map((t) => {
    if (t.name !== "encoder.layer.1.output.dense.weight") return t;
    const data = Float32Array.from(t.data as Float32Array);
    data[3 * t.shape[1] + 5] = Number.NaN;
    return { ...t, data };
  });
  writeFileSync(path, serializeSafetensors(tensors));
  await assert.rejects(loadBert(dir), (e: unknown) => e instanceof ShapeError
    && e.message === `${path}: tensor 'encoder.layers.1.ffn.linear2.weight' contains NaN at [3, 5] (load with allowNonFinite to accept it)`);
  const loaded = await loadBert(dir, { allowNonFinite: true });
  const weight = loaded.model.stateDict().get("encoder.layers.1.ffn.linear2.weight")!;
  assert.ok(Number.isNaN(weight.data[3 * weight.shape[1] + 5]));
});

/** Runs `f` counting the files fs.openSync opens (by path) and the descriptors fs.closeSync closes. */
async function countingOpens<T>(f: () => T | Promise<T>): Promise<{ result: T; opened: string[]; closed: number }> {
  const { openSync, closeSync } = fs;
  const opened: string[] = [];
  let closed = 0;
  fs.openSync = (...args: Parameters<typeof openSync>) => {
    opened.push(String(args[0]));
    return openSync(...args);
  };
  fs.closeSync = (fd: number) => {
    closed++;
    closeSync(fd);
  };
  syncBuiltinESMExports(); // the named imports of node:fs in src/ now see the counting versions
  try {
    return { result: await f(), opened, closed };
  } finally {
    fs.openSync = openSync;
    fs.closeSync = closeSync;
    syncBuiltinESMExports();
  }
}

test("reading a file's tensors opens it once for the header and once for all its tensors, and closes every descriptor", async () => {
  const path = join(tmp, "counted.safetensors");
  writeFileSync(path, file);
  const all = await countingOpens(() => readSafetensorsFileSync(path));
  assert.deepEqual([...all.result.tensors.keys()], ["w", "ids"]);
  assert.deepEqual(all.opened, [path, path]);
  assert.equal(all.closed, 2);
  // A read outside withOpenFile opens the file for itself, and closes it.
  const view = openSafetensorsFileSync(path);
  const single = await countingOpens(() => [view.read("w"), view.read("ids")]);
  assert.deepEqual(single.opened, [path, path]);
  assert.equal(single.closed, 2);
  // A failing read inside withOpenFile still closes the descriptor.
  const failing = await countingOpens(() => assert.throws(() => view.withOpenFile(() => view.read("nope")), /no tensor 'nope'/));
  assert.equal(failing.closed, failing.opened.length);

  const model = "test/fixtures/bert_model/bert_model_l2_h32";
  const loaded = await countingOpens(() => loadBertSync(model));
  const weights = join(model, "model.safetensors");
  assert.ok(loaded.result.model.stateDict().size > 20);
  assert.equal(loaded.opened.filter((p) => p === weights).length, 2, loaded.opened.join("\n"));
  assert.equal(loaded.closed, loaded.opened.length);
});

test("a sharded checkpoint opens each shard once for its header and once for its tensors", async () => {
  const dir = join(tmp, "counted-shards");
  mkdirSync(dir);
  const shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
  writeFileSync(join(dir, shards[0]), serializeSafetensors([{ name: "a", shape: [2], data: new Float32Array([1, 2]) }, { name: "c", shape: [1], data: new Float32Array([5]) }]));
  writeFileSync(join(dir, shards[1]), serializeSafetensors([{ name: "b", shape: [1], data: new Float32Array([3]) }]));
  // tensors of the two shards interleave in the index's order
  writeFileSync(join(dir, SHARD_INDEX_FILE), JSON.stringify({ weight_map: { a: shards[0], b: shards[1], c: shards[0] } }));
  const r = await countingOpens(() => readShardedSafetensors(dir));
  assert.deepEqual([...r.result].map(([name, t]) => [name, [...t.data]]), [["a", [1, 2]], ["b", [3]], ["c", [5]]]);
  const counts = shards.map((s) => r.opened.filter((p) => p === join(dir, s)).length);
  assert.deepEqual(counts, [2, 2]);
  assert.equal(r.closed, r.opened.filter((p) => shards.some((s) => p === join(dir, s))).length);
});
