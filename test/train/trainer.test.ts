/** The trainer: it learns, it is deterministic, and a resumed run continues exactly. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CheckpointError } from "../../src/errors.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import { loadCheckpoint } from "../../src/models/tsformer-checkpoint.ts";
import { readDataset } from "../../src/train/data.ts";
import { encodeText, evaluate } from "../../src/train/evaluate.ts";
import { train } from "../../src/train/trainer.ts";
import { tinyConfig } from "./tiny.ts";

interface Line { type: string; step: number; loss?: number; dev_accuracy?: number }
const metrics = (out: string): Line[] => readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Line);
const stepLosses = (out: string): number[] => metrics(out).filter((m) => m.type === "step").map((m) => m.loss!);

test("a tiny model learns the tiny task, keeps its best checkpoint, and the same seed gives the same run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsformer-train-"));
  const config = tinyConfig(dir);
  const summary = await train(config);
  assert.equal(summary.steps, 4 * 12);
  assert.ok(summary.best !== null && summary.best.accuracy >= 0.9, `best dev accuracy ${summary.best?.accuracy}`);
  const losses = stepLosses(config.out);
  assert.ok(losses.slice(-12).reduce((a, b) => a + b) < losses.slice(0, 12).reduce((a, b) => a + b) / 2, "loss falls");
  // the best model folder loads and scores what the run recorded
  const best = await loadBert(join(config.out, "best"));
  const dev = readDataset(config.data.dev!, { labels: ["0", "1"] });
  const r = evaluate(best.model, dev.examples.map((e) => ({ ids: encodeText(best.tokenizer, e.text, 16), label: e.label })));
  assert.equal(r.accuracy, summary.best!.accuracy);
  const again = tinyConfig(mkdtempSync(join(tmpdir(), "tsformer-train-")));
  await train(again);
  assert.deepEqual(stepLosses(again.out), losses);
});

test("resuming from a mid-epoch checkpoint gives exactly the uninterrupted loss curve", async () => {
  const whole = tinyConfig(mkdtempSync(join(tmpdir(), "tsformer-train-")), { epochs: 3 });
  await train(whole);
  const reference = stepLosses(whole.out);
  const partDir = mkdtempSync(join(tmpdir(), "tsformer-train-"));
  const first = tinyConfig(partDir, { epochs: 3, maxSteps: 17, saveEvery: 17 });
  const s1 = await train(first);
  assert.equal(s1.steps, 17);
  const s2 = await train(tinyConfig(partDir, { epochs: 3 }), { resume: true });
  assert.equal(s2.steps, reference.length);
  assert.deepEqual(stepLosses(first.out), reference);
  const evals = metrics(first.out).filter((m) => m.type === "epoch").map((m) => m.dev_accuracy);
  assert.deepEqual(evals, metrics(whole.out).filter((m) => m.type === "epoch").map((m) => m.dev_accuracy));
});

test("resume refuses a changed configuration and a folder with nothing saved", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsformer-train-"));
  await train(tinyConfig(dir, { epochs: 1, maxSteps: 3, saveEvery: 3 }));
  await assert.rejects(train(tinyConfig(dir, { epochs: 1, batchSize: 4 }), { resume: true }), /configuration differs from the run saved/);
  const empty = mkdtempSync(join(tmpdir(), "tsformer-train-"));
  await assert.rejects(train(tinyConfig(empty), { resume: true }), /nothing to resume/);
  assert.ok(existsSync(join(dir, "run", "last", "optimizer.safetensors")));
});

test("a checkpoint whose config.json is not a JSON object is a typed error naming the file", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsformer-train-"));
  for (const text of ["null", "[]", "5"]) {
    writeFileSync(join(dir, "config.json"), text);
    assert.throws(() => loadCheckpoint(dir), (e: Error) => e instanceof CheckpointError && e.message === `${join(dir, "config.json")}: expected a JSON object`, text);
  }
});
