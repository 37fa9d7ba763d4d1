/** The shipped default model: what its model card promises, as a user would check it. */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { test } from "node:test";
import { cli } from "./run-cli.ts";

test("tsformer eval on the SST-2 test split prints the model card's figure (79.24 %, 1443/1821)", () => {
  const r = cli(["eval", "--data", "data/sst2/stsa.binary.test", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const { accuracy, n } = JSON.parse(r.stdout) as { accuracy: number; n: number };
  assert.equal(n, 1821);
  assert.equal(Math.round(accuracy * n), 1443);
  assert.match(r.stderr, /^tsformer: note: 6 of 1821 input\(s\) are longer than 64 tokens and were cut to 64 \(the model's maximum length, from tokenizer_config.json model_max_length or its position table\)$/m);
});

test("classify and demo use the shipped model without retraining", () => {
  const c = cli(["classify", "--json", "a gorgeous, witty, seductive movie", "the plot is nothing but boilerplate clichés"]);
  assert.equal(c.code, 0, c.stderr);
  const rows = c.stdout.trim().split("\n").map((l) => JSON.parse(l) as { label: string; probability: number });
  assert.deepEqual(rows.map((r) => r.label), ["positive", "negative"]);
  assert.ok(rows.every((r) => r.probability > 0.9));
  const d = cli(["demo"]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^tokens \(16\): \[CLS\] the animal did ##n ' t cross the street because it was too tired \[SEP\]$/m);
  assert.match(d.stdout, /^L1 7 {2}\+ residual, LayerNorm\s+\[1, 16, 64\]/m);
  assert.match(d.stdout, /^prediction: (positive|negative) \(p = 0\.\d{3}\)$/m);
  assert.ok(statSync("models/default/model.safetensors").size <= 8 * 1024 * 1024);
});
