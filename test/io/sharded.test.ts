import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CheckpointError } from "../../src/errors.ts";
import { readShardedSafetensors } from "../../src/io/sharded.ts";
import { writeSafetensorsFile } from "../../src/io/safetensors.ts";

const scratch = await mkdtemp(join(tmpdir(), "tsformer-sharded-"));
after(() => rm(scratch, { recursive: true, force: true }));
let counter = 0;

/** A folder with two shards (a, b | c, plus an unlisted extra) and an index using `weightMap`. */
async function checkpoint(weightMap: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(scratch, `ckpt${counter++}-`));
  await writeSafetensorsFile(join(dir, "model-00001-of-00002.safetensors"), [
    { name: "a", shape: [2], data: new Float32Array([1, 2]) }, { name: "b", shape: [1], data: new BigInt64Array([7n]) },
  ], { format: "pt" });
  await writeSafetensorsFile(join(dir, "model-00002-of-00002.safetensors"), [
    { name: "c", shape: [2, 1], data: new Int32Array([3, 4]) }, { name: "extra", shape: [1], data: new Uint8Array([1]) },
  ]);
  await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: 28 }, weight_map: weightMap }));
  return dir;
}
const twoShards = { c: "model-00002-of-00002.safetensors", a: "model-00001-of-00002.safetensors", b: "model-00001-of-00002.safetensors" };
const rejectsWith = (dir: string, message: string) =>
  assert.rejects(readShardedSafetensors(dir), (e) => e instanceof CheckpointError && e.message === message.replaceAll("DIR", dir));

test("reads every shard and merges the tensors in index order", async () => {
  const tensors = await readShardedSafetensors(await checkpoint(twoShards));
  assert.deepEqual([...tensors.keys()], ["c", "a", "b"]);
  assert.deepEqual([...tensors.get("a")!.data], [1, 2]);
  assert.deepEqual([...tensors.get("b")!.data], [7n]);
  assert.deepEqual(tensors.get("c")!.shape, [2, 1]);
});

test("a tensor missing from the shard the index names is an error naming both", async () => {
  const dir = await checkpoint({ ...twoShards, c: "model-00001-of-00002.safetensors" });
  await rejectsWith(dir, "DIR/model.safetensors.index.json: tensor 'c' is mapped to shard 'model-00001-of-00002.safetensors', which does not contain it");
});

test("shard names that leave the folder are refused before anything is read", async () => {
  for (const shard of ["../x.safetensors", "/etc/passwd", "sub/x.safetensors", "sub\\x.safetensors", "..", "C:x.safetensors"]) {
    const dir = await checkpoint({ a: shard });
    await rejectsWith(dir, `DIR/model.safetensors.index.json: tensor 'a' names shard '${shard}', which is not a plain file name inside the folder`);
  }
});

test("a missing shard file, a missing index and a malformed index are CheckpointErrors", async () => {
  await rejectsWith(await checkpoint({ a: "model-00003-of-00002.safetensors" }), "DIR/model-00003-of-00002.safetensors: cannot read the file (ENOENT)");
  const empty = await mkdtemp(join(scratch, "empty-"));
  await rejectsWith(empty, "DIR/model.safetensors.index.json: cannot read the shard index (ENOENT)");
  await writeFile(join(empty, "model.safetensors.index.json"), "{\"weight_map\": [1]}");
  await rejectsWith(empty, "DIR/model.safetensors.index.json: \"weight_map\" is missing or not an object");
  await writeFile(join(empty, "model.safetensors.index.json"), "{\"weight_map\": {\"a\": 3}}");
  await rejectsWith(empty, "DIR/model.safetensors.index.json: tensor 'a' maps to a number, not a file name");
  await writeFile(join(empty, "model.safetensors.index.json"), "{\"weight_map\": ");
  await rejectsWith(empty, "DIR/model.safetensors.index.json: not valid JSON (Unexpected end of JSON input)");
});
