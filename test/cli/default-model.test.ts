/** The shipped default model: what its model card promises, as a user would check it. */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { test } from "node:test";
import { cli } from "./run-cli.ts";

const evalJson = (args: string[]): { accuracy: number; n: number; stderr: string } => {
  const r = cli(["eval", "--json", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return { ...(JSON.parse(r.stdout) as { accuracy: number; n: number }), stderr: r.stderr };
};

test("tsformer eval prints the model card's figures: SST-2 dev 717/872 (82.22 %, issue 14's ≥ 82.0 %), test 1482/1821 (81.38 %)", () => {
  const dev = evalJson(["--data", "data/sst2/stsa.binary.dev"]);
  assert.equal(dev.n, 872);
  assert.equal(Math.round(dev.accuracy * dev.n), 717);
  assert.ok(dev.accuracy >= 0.82, `dev accuracy ${dev.accuracy}`);
  const test = evalJson(["--data", "data/sst2/stsa.binary.test"]);
  assert.equal(test.n, 1821);
  assert.equal(Math.round(test.accuracy * test.n), 1482);
  assert.match(test.stderr, /^tsformer: note: 8 of 1821 input\(s\) are longer than 64 tokens and were cut to 64 \(the model's maximum length, from tokenizer_config.json model_max_length or its position table\)$/m);
});

test("the notes' encoder trained from scratch still ships: models/notes-encoder's card figure (test 79.24 %, 1443/1821)", () => {
  const test = evalJson(["--model", "models/notes-encoder", "--data", "data/sst2/stsa.binary.test"]);
  assert.equal(Math.round(test.accuracy * test.n), 1443);
});

test("classify and demo use the shipped model without retraining", () => {
  const c = cli(["classify", "--json", "a gorgeous, witty, seductive movie", "the plot is nothing but boilerplate clichés"]);
  assert.equal(c.code, 0, c.stderr);
  const rows = c.stdout.trim().split("\n").map((l) => JSON.parse(l) as { label: string; probability: number });
  assert.deepEqual(rows.map((r) => r.label), ["positive", "negative"]);
  assert.ok(rows.every((r) => r.probability > 0.9));
  const d = cli(["demo"]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^tokens \(15\): \[CLS\] the animal didn ' t cross the street because it was too tired \[SEP\]$/m);
  assert.match(d.stdout, /^2 {2}\+ positions, \+ token types\s+\[1, 15, 128\]/m);
  assert.match(d.stdout, /^L1 7 {2}\+ residual, LayerNorm\s+\[1, 15, 128\]/m);
  assert.match(d.stdout, /^prediction: (positive|negative) \(p = 0\.\d{3}\)$/m);
  assert.ok(statSync("models/default/model.safetensors").size <= 8 * 1024 * 1024);
  const notes = cli(["demo", "--model", "models/notes-encoder"]);
  assert.equal(notes.code, 0, notes.stderr);
  assert.match(notes.stdout, /^ {3}× √d_model \(Q08\)\s+\[1, 16, 64\]/m);
  assert.match(notes.stdout, /^2 {2}\+ sinusoidal positions\s+\[1, 16, 64\]/m);
});
