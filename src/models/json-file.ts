/** Reading the JSON files of a model folder (config.json, tokenizer_config.json): one-line errors naming the file. */
import { readFileSync } from "node:fs";
import { CheckpointError } from "../errors.ts";
import { errorCode, oneLine, readError } from "../io/safetensors.ts";

/** Reads a JSON object file; `missing` says what to do when it does not exist. */
export function readJsonObject(path: string, missing: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw errorCode(e) === "ENOENT" ? new CheckpointError(`${path}: not found; ${missing}`) : readError(path, e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${oneLine((e as Error).message.split(', "')[0])}); save the file again`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new CheckpointError(`${path}: expected a JSON object`);
  return json as Record<string, unknown>;
}
