/** A small synthetic task for fine-tuning the fixture BERT folders: the label is the sentiment word's class. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../../src/tensor/index.ts";
import { type TrainConfig, resolveTrainConfig } from "../../src/train/config.ts";

/** Words of the fixtures' vocabularies (test/fixtures/bert_model/*\/vocab.txt). */
const POSITIVE = ["good", "great", "fun", "wonderful", "love", "best"];
const NEGATIVE = ["bad", "worst", "sad", "dark", "hate", "dull"];
const FILLER = ["the", "movie", "film", "story", "was", "very", "really", "and", "it", "is", "this", "plot"];

/** A fixture folder with a BertModel checkpoint (no head) and one with a 3-label BertForSequenceClassification head. */
export const BERT_PLAIN = "test/fixtures/bert_model/bert_model_l2_h32";
export const BERT_SEQCLS = "test/fixtures/bert_model/bert_seqcls_prefixed_l2_h40";

/** Writes train.tsv and dev.tsv (label<TAB>text) with the given label names into `dir`. */
export function writeSentimentData(dir: string, labels: readonly [string, string] = ["negative", "positive"], nTrain = 48, nDev = 24, seed = 11): { train: string; dev: string } {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const row = (): string => {
    const y = rng.int(2);
    const words = Array.from({ length: 2 + rng.int(5) }, () => FILLER[rng.int(FILLER.length)]);
    words.splice(rng.int(words.length + 1), 0, (y ? POSITIVE : NEGATIVE)[rng.int(POSITIVE.length)]);
    return `${labels[y]}\t${words.join(" ")}`;
  };
  const train = join(dir, "train.tsv");
  const dev = join(dir, "dev.tsv");
  writeFileSync(train, `label\ttext\n${Array.from({ length: nTrain }, row).join("\n")}\n`);
  writeFileSync(dev, `label\ttext\n${Array.from({ length: nDev }, row).join("\n")}\n`);
  return { train, dev };
}

/** A fine-tuning config for a fixture folder: a rate high enough for random fixture weights to learn in a few epochs. */
export function fineTuneConfig(dir: string, initFrom: string, overrides: Record<string, unknown> = {}): TrainConfig {
  const { train, dev } = writeSentimentData(join(dir, "data"));
  return resolveTrainConfig({
    initFrom, data: { train, dev }, optimizer: { name: "adamw", lr: 3e-3 }, batchSize: 8, epochs: 6, seed: 3, patience: 0,
    out: join(dir, "run"),
  }, overrides);
}
