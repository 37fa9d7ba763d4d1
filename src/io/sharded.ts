/**
 * Sharded checkpoints as Hugging Face saves them: `model.safetensors.index.json` maps every tensor
 * name to the shard file that holds it (`{ "metadata": {...}, "weight_map": { name: shard } }`).
 * The index is untrusted too: shard names must be plain file names inside the folder.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError } from "../errors.ts";
import { type SafetensorsView, type StoredTensor, type TensorInfo, oneLine, openSafetensorsFileSync, readAllTensors, readError } from "./safetensors.ts";

/** The index file's name, as `save_pretrained` writes it. */
export const SHARD_INDEX_FILE = "model.safetensors.index.json";

/** True for a shard name that stays inside the folder: not empty, not absolute, no `..`, no separators. */
function isPlainFileName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !/[/\\\0]/.test(name) && !/^[A-Za-z]:/.test(name);
}

/** Checks the index text: a JSON object whose `weight_map` maps names to plain shard file names. */
function parseIndex(path: string, text: string): Map<string, string> {
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${oneLine(path, 300)}: not valid JSON (${oneLine(e instanceof Error ? e.message.split(', "')[0] : String(e))})`);
  }
  const weightMap = typeof index === "object" && index !== null ? (index as Record<string, unknown>).weight_map : undefined;
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap)) {
    throw new CheckpointError(`${oneLine(path, 300)}: "weight_map" is missing or not an object`);
  }
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== "string") throw new CheckpointError(`${oneLine(path, 300)}: tensor '${oneLine(name)}' maps to a ${typeof shard}, not a file name`);
    if (!isPlainFileName(shard)) {
      throw new CheckpointError(`${oneLine(path, 300)}: tensor '${oneLine(name)}' names shard '${oneLine(shard)}', which is not a plain file name inside the folder`);
    }
    map.set(name, shard);
  }
  if (map.size === 0) throw new CheckpointError(`${oneLine(path, 300)}: "weight_map" lists no tensors`);
  return map;
}

/** The shard files of an index, each once, in name order (the order they are read). */
function shardNames(weightMap: ReadonlyMap<string, string>): string[] {
  return [...new Set(weightMap.values())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * One view over the shards: exactly the tensors of `weight_map`, in the index's order, each checked to be in the
 * shard the index names (a shard's unlisted extras are ignored, as `transformers` does).
 */
function mergeShards(indexPath: string, weightMap: ReadonlyMap<string, string>, shards: ReadonlyMap<string, SafetensorsView>): SafetensorsView {
  const infos = new Map<string, TensorInfo>();
  for (const [name, shard] of weightMap) {
    const info = shards.get(shard)?.infos.get(name);
    if (!info) throw new CheckpointError(`${oneLine(indexPath, 300)}: tensor '${oneLine(name)}' is mapped to shard '${oneLine(shard)}', which does not contain it`);
    infos.set(name, info);
  }
  const shardOf = (name: string): SafetensorsView => {
    const shard = weightMap.get(name);
    if (shard === undefined) throw new CheckpointError(`${oneLine(indexPath, 300)}: no tensor '${oneLine(name)}' in "weight_map"`);
    return shards.get(shard) as SafetensorsView;
  };
  return {
    metadata: {},
    infos,
    read: (name: string): StoredTensor => shardOf(name).read(name),
    readInto: (name: string, out: Float32Array): void => shardOf(name).readInto(name, out),
    // every shard held open for the whole of f: each file is opened once however its tensors interleave
    withOpenFile: <T>(f: () => T): T => [...shards.values()].reduce((inner: () => T, shard) => () => shard.withOpenFile(inner), f)(),
  };
}

/**
 * Reads a sharded checkpoint folder's index and every shard's header; tensors are decoded on demand. Throws
 * CheckpointError. Synchronous: an index is tens of kilobytes and a header a few, so reading them does not block for long.
 */
export function openShardedSafetensorsSync(dir: string): SafetensorsView {
  const indexPath = join(dir, SHARD_INDEX_FILE);
  let text: string;
  try {
    text = readFileSync(indexPath, "utf8");
  } catch (e) {
    throw readError(indexPath, e, "the shard index");
  }
  const weightMap = parseIndex(indexPath, text);
  const shards = new Map(shardNames(weightMap).map((shard) => [shard, openSafetensorsFileSync(join(dir, shard))]));
  return mergeShards(indexPath, weightMap, shards);
}

/** `openShardedSafetensorsSync` for async callers (as `openSafetensorsFile` is for one file). */
export async function openShardedSafetensors(dir: string): Promise<SafetensorsView> {
  return openShardedSafetensorsSync(dir);
}

/**
 * Reads a sharded checkpoint folder: every shard named in the index once, checking that each tensor
 * is in the shard the index names. Returns exactly the tensors of `weight_map` in the index's order (a shard's
 * unlisted extras are ignored, as `transformers` does). Throws CheckpointError naming the tensor and shard.
 */
export async function readShardedSafetensors(dir: string): Promise<Map<string, StoredTensor>> {
  return readAllTensors(await openShardedSafetensors(dir));
}
