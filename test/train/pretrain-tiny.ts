/** A tiny plain-text corpus and a tiny pretraining config, so pretraining tests run in seconds. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../src/tensor/index.ts";
import { type PretrainConfig, resolvePretrainConfig } from "../../src/train/pretrain-config.ts";

const SUBJECTS = ["the cat", "a dog", "the old man", "my sister", "the teacher", "a small bird"];
const VERBS = ["saw", "liked", "followed", "found", "helped", "watched"];
const OBJECTS = ["the ball", "a red car", "the river", "her friend", "the quiet house", "a green tree"];
const ENDINGS = ["yesterday", "in the morning", "again", "at home", "by the road", "with joy"];

/** Writes `corpus.txt` into `dir`: documents of 2–6 templated sentences, separated by blank lines. */
export function writeTinyCorpus(dir: string, seed = 7, documents = 60): string {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const pick = (words: readonly string[]): string => words[rng.int(words.length)];
  const docs = Array.from({ length: documents }, () =>
    Array.from({ length: 2 + rng.int(5) }, () => `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(ENDINGS)} .`).join("\n"));
  const path = join(dir, "corpus.txt");
  writeFileSync(path, `${docs.join("\n\n")}\n`);
  return path;
}

/** A small but real pretraining config over the tiny corpus. */
export function tinyPretrainConfig(dir: string, overrides: Record<string, unknown> = {}): PretrainConfig {
  const text = writeTinyCorpus(join(dir, "data"));
  return resolvePretrainConfig({
    data: { text: [text], heldOutFraction: 0.1 },
    vocab: { base: "models/bert-tiny-sst2-encoder/vocab.txt" },
    tokenizer: { doLowerCase: true, maxLength: 24 },
    model: { dModel: 16, heads: 2, dFF: 32, numLayers: 1, dropout: 0.1 },
    optimizer: { name: "adamw", lr: 0.01, weightDecay: 0.01 },
    schedule: { name: "linear", warmup: 5 },
    batchSize: 8, epochs: 4, seed: 5, saveEvery: 0, out: join(dir, "run"),
  }, overrides);
}
