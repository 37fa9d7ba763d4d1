/** What the model commands (embed, similarity, attention) share: the `--model DIR` option, its loading, `--max-length`, integer options. */
import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import { type LoadedBert, loadBert } from "../models/load-bert.ts";
import type { Pooling } from "../models/pooling.ts";
import { noteTruncation } from "./truncation.ts";

/** The options `addModelOptions` adds, as commander parses them. */
export interface ModelOptions {
  model?: string;
  maxLength?: string;
}

/** Adds `--model <dir>` and `--max-length <n>` to a command. */
export function addModelOptions(command: Command): Command {
  return command
    .option("--model <dir>", "a Hugging Face BERT folder: config.json, model.safetensors (or shards), vocab.txt or tokenizer.json")
    .option("--max-length <n>", "longest input in tokens, [CLS]/[SEP] included (default: the model's limit)");
}

/** Loads `--model`; missing, it is a one-line error saying what to pass. */
export async function loadModelOption(options: ModelOptions): Promise<LoadedBert> {
  // Checked here rather than with requiredOption, so the error has the one-line `tsformer: …` form.
  if (!options.model) throw new ConfigError("--model DIR is required: a Hugging Face BERT folder with config.json, model.safetensors and vocab.txt");
  return loadBert(options.model);
}

/** An integer option (`--layer 1`), checked to lie in [min, max]; the error names the option and the range. */
export function intOption(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER, why = ""): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw new ConfigError(`${name} ${JSON.stringify(value)} must be ${range}${why}`);
  }
  return n;
}

/**
 * `--max-length`, checked against config.json's max_position_embeddings (undefined when not given: the model's
 * own limit applies); notes on stderr how many `inputs` that limit cuts.
 */
export function maxLengthOption(loaded: LoadedBert, options: ModelOptions, inputs: readonly (string | readonly [string, string])[]): number | undefined {
  const maxLength = intOption("--max-length", options.maxLength, 2, loaded.config.maxPositionEmbeddings, " (config.json max_position_embeddings)");
  noteTruncation(loaded.tokenizer, inputs, maxLength ?? loaded.maxLength, maxLength ? "--max-length" : "the model's maximum, config.json max_position_embeddings; --max-length sets it");
  return maxLength;
}

/** `--pooling`, checked. */
export function poolingOption(value: string | undefined): Pooling {
  const p = value ?? "mean";
  if (p !== "mean" && p !== "cls" && p !== "max") throw new ConfigError(`--pooling ${JSON.stringify(p)} must be mean, cls or max`);
  return p;
}
