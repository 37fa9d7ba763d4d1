/** A tiny sentiment task and a tiny model config, so training tests run in seconds. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../src/tensor/index.ts";
import { type TrainConfig, resolveTrainConfig } from "../../src/train/config.ts";

const POSITIVE = ["good", "great", "fine", "happy", "nice", "love"];
const NEGATIVE = ["bad", "awful", "sad", "poor", "dull", "hate"];
const FILLER = ["the", "film", "was", "a", "movie", "story", "and", "it", "very", "so"];

/** Writes train.txt and dev.txt (`<label> <text>`) into `dir`: the label is the sentiment word's class. */
export function writeTinyData(dir: string, seed = 3, nTrain = 96, nDev = 48): { train: string; dev: string } {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const sentence = (): string => {
    const label = rng.int(2);
    const words = Array.from({ length: 2 + rng.int(6) }, () => FILLER[rng.int(FILLER.length)]);
    words.splice(rng.int(words.length + 1), 0, (label ? POSITIVE : NEGATIVE)[rng.int(6)]);
    return `${label} ${words.join(" ")}`;
  };
  const train = join(dir, "train.txt");
  const dev = join(dir, "dev.txt");
  writeFileSync(train, `${Array.from({ length: nTrain }, sentence).join("\n")}\n`);
  writeFileSync(dev, `${Array.from({ length: nDev }, sentence).join("\n")}\n`);
  return { train, dev };
}

/** A small but real config over the tiny data. */
export function tinyConfig(dir: string, overrides: Record<string, unknown> = {}): TrainConfig {
  const { train, dev } = writeTinyData(join(dir, "data"));
  return resolveTrainConfig({
    data: { train, dev },
    vocab: { base: "models/bert-tiny-sst2-encoder/vocab.txt" },
    tokenizer: { doLowerCase: true, maxLength: 16 },
    model: { dModel: 16, heads: 2, dFF: 32, numLayers: 1, dropout: 0.1, pooling: "mean", maxPositions: 16 },
    optimizer: { name: "adamw", lr: 0.01 },
    schedule: { name: "linear", warmup: 5 },
    batchSize: 8, epochs: 4, seed: 5, patience: 0, out: join(dir, "run"),
  }, overrides);
}

/** The loss of every logged step of a run (its metrics.jsonl). */
export function lossesOf(out: string): number[] {
  return readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n")
    .map((l) => JSON.parse(l) as { type: string; loss?: number }).filter((m) => m.type === "step").map((m) => m.loss!);
}
