/** `tsformer train`, `eval` and `classify` as a user runs them, on the tiny task. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BERT_PLAIN, writeSentimentData } from "../train/fine-tune-task.ts";
import { writeTinyData } from "../train/tiny.ts";
import { cli } from "./run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "tsformer-cli-train-"));
const { train, dev } = writeTinyData(join(dir, "data"));
const configPath = join(dir, "tiny.json");
writeFileSync(configPath, JSON.stringify({
  data: { train, dev, labelNames: { 0: "negative", 1: "positive" } },
  vocab: { base: "models/bert-tiny-sst2-encoder/vocab.txt" },
  tokenizer: { doLowerCase: true, maxLength: 16 },
  model: { dModel: 16, heads: 2, dFF: 32, numLayers: 1, dropout: 0.1, pooling: "mean", maxPositions: 16 },
  optimizer: { name: "adamw", lr: 0.01 }, schedule: { name: "linear", warmup: 5 },
  batchSize: 8, epochs: 4, seed: 5, patience: 0, out: join(dir, "run"),
}));
const otherLabelsPath = join(dir, "other-labels.json");
writeFileSync(otherLabelsPath, JSON.stringify({
  data: { train, dev, labelNames: { 0: "bad", 1: "good" } }, vocab: { base: "models/bert-tiny-sst2-encoder/vocab.txt" }, tokenizer: { maxLength: 16 },
}));

test("train from a config file with flag overrides, then eval and classify with the best checkpoint", () => {
  const r = cli(["train", "--config", configPath, "--epochs", "5"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^training [\d,]+ parameters, vocabulary \d+, 96 examples, labels negative, positive, 60 steps$/m);
  assert.match(r.stdout, /^epoch 5: step 60, train loss \d\.\d{4}, dev loss \d\.\d{4}, dev accuracy \d+\.\d\d%/m);
  assert.match(r.stdout, /^done: 60 steps, .* tokens\/s, best dev accuracy/m);
  const model = join(dir, "run", "best");
  const e = cli(["eval", "--model", model, "--data", dev, "--json"]);
  assert.equal(e.code, 0, e.stderr);
  const result = JSON.parse(e.stdout) as { accuracy: number; loss: number; n: number };
  assert.equal(result.n, 48);
  assert.ok(result.accuracy >= 0.9, `accuracy ${result.accuracy}`);
  const c = cli(["classify", "--model", model, "a great happy film", "an awful dull movie"]);
  assert.equal(c.code, 0, c.stderr);
  const lines = c.stdout.trim().split("\n").map((l) => l.split("\t"));
  assert.deepEqual(lines.map((l) => [l[0], l[2]]), [["positive", "a great happy film"], ["negative", "an awful dull movie"]]);
  assert.ok(lines.every((l) => Number(l[1]) > 0.5 && Number(l[1]) <= 1));
});

test("train --teacher distils the first run's best folder into a new student; a teacher with other labels is one line", () => {
  const teacher = join(dir, "run", "best");
  const out = join(dir, "student");
  const r = cli(["train", "--config", configPath, "--seed", "8", "--out", out, "--teacher", teacher, teacher, "--distill-alpha", "0.3", "--distill-temperature", "1.5"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^distilling from 2 teachers at T = 1\.5, α = 0\.3: their ensemble agrees with \d+\.\d\d % of the training labels$/m);
  assert.match(r.stdout, /^done: 48 steps, .* best dev accuracy/m);
  const wrong = cli(["train", "--config", otherLabelsPath, "--out", join(dir, "s2"), "--teacher", teacher]);
  assert.equal(wrong.code, 1);
  assert.equal(wrong.stderr.trim(), `tsformer: teacher ${teacher}: its labels (negative, positive) are not the run's (bad, good)`);
});

test("bad data and bad options are one error line with file and line", () => {
  const bad = join(dir, "bad.txt");
  writeFileSync(bad, "1 fine\n7 strange\n");
  const r = cli(["eval", "--model", join(dir, "run", "best"), "--data", bad]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), `tsformer: ${bad}:2: unknown label "7" (the model knows: negative (0), positive (1))`);
  const t = cli(["train", "--config", configPath, "--batch-size", "0"]);
  assert.equal(t.code, 1);
  assert.equal(t.stderr.trim(), "tsformer: train config: batchSize must be a positive integer, got 0");
  const none = cli(["train"]);
  assert.match(none.stderr.trim(), /^tsformer: train config: no training data: give --train FILE/);
  const missing = cli(["classify", "--model", join(dir, "nope"), "hi"]);
  assert.match(missing.stderr.trim(), new RegExp(`^tsformer: ${join(dir, "nope")}: no such folder; a BERT model folder holds config.json`));
});

test("fine-tune a Hugging Face folder with --init-from, then classify, eval and export-onnx its best folder", () => {
  const out = join(dir, "ft");
  const data = writeSentimentData(join(dir, "ft-data"));
  const r = cli(["train", "--init-from", BERT_PLAIN, "--train", data.train, "--dev", data.dev, "--out", out, "--lr", "5e-3", "--epochs", "3", "--freeze-layers", "1", "--layer-decay", "0.9"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^head: new classifier for 2 labels \(negative, positive\): the folder has none$/m);
  assert.match(r.stdout, /^training [\d,]+ parameters \([\d,]+ trainable\), vocabulary 293, 48 examples, labels negative, positive, 6 steps$/m); // batch 32 (the default): 2 steps an epoch
  const model = join(out, "best");
  const c = cli(["classify", "--model", model, "--json", "the movie was wonderful"]);
  assert.equal(c.code, 0, c.stderr);
  const row = JSON.parse(c.stdout) as { label: string; probabilities: Record<string, number> };
  assert.deepEqual(Object.keys(row.probabilities), ["negative", "positive"]);
  const e = cli(["eval", "--model", model, "--data", data.dev, "--json"]);
  assert.equal(e.code, 0, e.stderr);
  assert.equal((JSON.parse(e.stdout) as { n: number }).n, 24);
  const onnx = cli(["export-onnx", "--model", model, "--out", join(dir, "ft.onnx"), "--json"]);
  assert.equal(onnx.code, 0, onnx.stderr);
  assert.deepEqual((JSON.parse(onnx.stdout) as { outputs: string[] }).outputs, ["last_hidden_state", "pooler_output", "logits"]);
  const contradicts = cli(["train", "--init-from", BERT_PLAIN, "--train", data.train, "--out", join(dir, "ft2"), "--d-model", "64"]);
  assert.equal(contradicts.code, 1);
  assert.match(contradicts.stderr.trim(), /^tsformer: --d-model 64 contradicts .*config\.json hidden_size 32: with --init-from the architecture comes from the folder/);
  const notBert = cli(["train", "--init-from", "test/fixtures/malformed/bert/no-config", "--train", data.train, "--out", join(dir, "ft3")]);
  assert.equal(notBert.code, 1);
  assert.equal(notBert.stderr.trim().split("\n").length, 1);
  assert.ok(!existsSync(join(dir, "ft2")) && !existsSync(join(dir, "ft3")), "refused runs leave no output folder");
});
