/**
 * Sharded checkpoints as Hugging Face saves them: `model.safetensors.index.json` maps every tensor
 * name to the shard file that holds it (`{ "metadata": {...}, "weight_map": { name: shard } }`).
 * The index is untrusted too: shard names must be plain file names inside the folder.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError } from "../errors.ts";
import { type StoredTensor, oneLine, readSafetensorsFile } from "./safetensors.ts";

/** The index file's name, as `save_pretrained` writes it. */
export const SHARD_INDEX_FILE = "model.safetensors.index.json";

/** True for a shard name that stays inside the folder: not empty, not absolute, no `..`, no separators. */
function isPlainFileName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !/[/\\\0]/.test(name) && !/^[A-Za-z]:/.test(name);
}

/** Reads and checks the index: a JSON object whose `weight_map` maps names to plain shard file names. */
async function readIndex(path: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : String(e);
    throw new CheckpointError(`${oneLine(path, 300)}: cannot read the shard index (${oneLine(code)})`, { cause: e });
  }
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

/**
 * Reads a sharded checkpoint folder: every shard named in the index once, checking that each tensor
 * is in the shard the index names. Returns exactly the tensors of `weight_map` (a shard's unlisted
 * extras are ignored, as `transformers` does). Throws CheckpointError naming the tensor and shard.
 */
export async function readShardedSafetensors(dir: string): Promise<Map<string, StoredTensor>> {
  const indexPath = join(dir, SHARD_INDEX_FILE);
  const weightMap = await readIndex(indexPath);
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of weightMap) {
    const names = byShard.get(shard);
    if (names) names.push(name);
    else byShard.set(shard, [name]);
  }
  const merged = new Map<string, StoredTensor>();
  for (const [shard, names] of [...byShard].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const { tensors } = await readSafetensorsFile(join(dir, shard));
    for (const name of names) {
      const tensor = tensors.get(name);
      if (!tensor) throw new CheckpointError(`${oneLine(indexPath, 300)}: tensor '${oneLine(name)}' is mapped to shard '${oneLine(shard)}', which does not contain it`);
      merged.set(name, tensor);
    }
  }
  // Keep the index's order, not the shard reading order.
  return new Map([...weightMap.keys()].map((name) => [name, merged.get(name) as StoredTensor]));
}
