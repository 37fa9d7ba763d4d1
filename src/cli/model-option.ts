/** What the model commands (embed, similarity, attention) share: the `--model DIR` option, its loading, `--max-length`, `--quantize`, integer options. */
import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import type { LoadedBert } from "../models/load-bert.ts";
import type { Pooling } from "../models/pooling.ts";
import type { Module } from "../nn/module.ts";
import { noteTruncation } from "./truncation.ts";

/** The options `addModelOptions` adds, as commander parses them. */
export interface ModelOptions {
  model?: string;
  maxLength?: string;
  quantize?: string;
}

/** Adds `--model <dir>`, `--max-length <n>` and `--quantize int8` to a command. */
export function addModelOptions(command: Command): Command {
  return addQuantizeOption(command
    .option("--model <dir>", "a Hugging Face BERT folder: config.json, model.safetensors (or shards), vocab.txt or tokenizer.json")
    .option("--max-length <n>", "longest input in tokens, [CLS]/[SEP] included (default: the model's limit)"));
}

/** Loads `--model` and applies `--quantize`; a missing `--model` is a one-line error saying what to pass. */
export async function loadModelOption(options: ModelOptions): Promise<LoadedBert> {
  // Checked here rather than with requiredOption, so the error has the one-line `tsformer: …` form.
  if (!options.model) throw new ConfigError("--model DIR is required: a Hugging Face BERT folder with config.json, model.safetensors and vocab.txt");
  const { loadBert } = await import("../models/load-bert.ts"); // on use: the CLI starts without the engine
  const loaded = await loadBert(options.model);
  await applyQuantizeOption(loaded.model, options.quantize);
  return loaded;
}

/** What `--quantize` says. */
export const QUANTIZE_HELP = "int8: every Linear layer in int8 (weights per output channel, activations per row); embeddings, LayerNorm and attention stay float32";

/** Adds `--quantize <kind>` to a command. */
export function addQuantizeOption(command: Command): Command {
  return command.option("--quantize <kind>", QUANTIZE_HELP);
}

/** `--quantize`, checked: "int8" or undefined (float32). */
export function quantizeOption(value: string | undefined): "int8" | undefined {
  if (value === undefined || value === "int8") return value;
  throw new ConfigError(`--quantize ${JSON.stringify(value)} must be int8 (leave it out for float32)`);
}

/** Applies `--quantize` to a loaded model (src/nn/quantize.ts, loaded only when asked for). */
export async function applyQuantizeOption(model: Module, value: string | undefined): Promise<void> {
  if (quantizeOption(value) !== "int8") return;
  const { quantizeDynamic } = await import("../nn/quantize.ts");
  quantizeDynamic(model);
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
