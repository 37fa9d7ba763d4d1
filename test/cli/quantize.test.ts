/** `--quantize int8` on the model commands, as a user runs them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cosineSimilarity } from "../../src/models/pooling.ts";
import { cli } from "./run-cli.ts";

test("eval --quantize int8: the shipped model's SST-2 test accuracy stays within 0.5 points of float32 (81.44 %, 1483)", () => {
  const r = cli(["eval", "--data", "data/sst2/stsa.binary.test", "--json", "--quantize", "int8"]);
  assert.equal(r.code, 0, r.stderr);
  const { accuracy, n } = JSON.parse(r.stdout) as { accuracy: number; n: number };
  assert.equal(n, 1821);
  assert.ok(Math.abs(accuracy * n - 1483) <= 0.005 * n, `int8: ${Math.round(accuracy * n)}/1821 correct, float32: 1483`);
});

test("classify and embed --quantize int8 give float32's labels and nearly its vectors; a wrong kind is one line", () => {
  const c = cli(["classify", "--json", "--quantize", "int8", "a gorgeous, witty, seductive movie", "the plot is nothing but boilerplate clichés"]);
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(c.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { label: string }).label), ["positive", "negative"]);
  const model = "test/fixtures/bert_model/bert_model_l2_h32";
  const vector = (extra: string[]): number[] => {
    const r = cli(["embed", "--model", model, ...extra, "the quick brown fox"]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { embeddings: { embedding: number[] }[] }).embeddings[0].embedding;
  };
  const fp32 = vector([]);
  const int8 = vector(["--quantize", "int8"]);
  assert.notDeepEqual(int8, fp32);
  assert.ok(cosineSimilarity(int8, fp32) > 0.99, `cosine ${cosineSimilarity(int8, fp32)}`);
  const bad = cli(["similarity", "--model", model, "--quantize", "int4", "a", "b"]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim(), 'tsformer: --quantize "int4" must be int8 (leave it out for float32)');
});
