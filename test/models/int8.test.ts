/**
 * int8 models against their float32 selves (issue 13 item 4): every `bert_model` fixture's last_hidden_state keeps a
 * cosine ≥ 0.99, reported per case, and the shipped model's SST-2 predictions agree on ≥ 95 % of a test slice.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadBertSync } from "../../src/models/load-bert.ts";
import { cosineSimilarity } from "../../src/models/pooling.ts";
import { dequantize, quantizeDynamic } from "../../src/nn/quantize.ts";
import { modelInputs } from "../../src/parity/bert.ts";
import { loadCase } from "../../src/parity/fixture.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { readDatasetForClasses } from "../../src/train/data.ts";
import { predict } from "../../src/train/evaluate.ts";

const FIXTURES = "test/fixtures/bert_model";
const cases = (JSON.parse(readFileSync(join(FIXTURES, "index.json"), "utf8")) as { cases: { name: string; dir: string }[] }).cases;

test("bert_model fixtures: int8 last_hidden_state has cosine ≥ 0.99 to float32 on every case", (t) => {
  assert.ok(cases.length >= 2, `only ${cases.length} cases`);
  for (const { name, dir } of cases) {
    const path = join(FIXTURES, dir);
    const loaded = loadBertSync(path);
    const { ids, tokenTypeIds, attentionMask } = modelInputs(loadCase(path));
    const run = (): Float32Array => noGrad(() => loaded.model.forward(ids, { attentionMask, tokenTypeIds })).lastHiddenState.data;
    const fp32 = run();
    const summary = quantizeDynamic(loaded.model);
    const int8 = run();
    const cosine = cosineSimilarity(int8, fp32);
    t.diagnostic(`${name}: cosine ${cosine.toFixed(5)} over ${fp32.length} values, ${summary.linears} Linear layers in int8`);
    assert.ok(cosine >= 0.99, `${name}: cosine ${cosine}`);
    assert.ok(cosine < 1, `${name}: int8 gave the float32 values exactly (was the int8 path used?)`);
  }
});

test("the shipped model: int8 and float32 agree on ≥ 95 % of 300 SST-2 test predictions", (t) => {
  const loaded = loadBertSync("models/default");
  assert.ok(loaded.config.labels, "the shipped model has labels");
  const data = readDatasetForClasses("data/sst2/stsa.binary.test", loaded.config.labels);
  const texts = data.examples.slice(0, 300).map((e) => e.text);
  const labels = data.examples.slice(0, 300).map((e) => e.label);
  const argmax = (p: number[]): number => p.indexOf(Math.max(...p));
  const fp32 = predict(loaded.model, loaded.tokenizer, texts, loaded.maxLength).map(argmax);
  quantizeDynamic(loaded.model);
  const int8 = predict(loaded.model, loaded.tokenizer, texts, loaded.maxLength).map(argmax);
  dequantize(loaded.model);
  const agree = fp32.filter((p, i) => p === int8[i]).length / texts.length;
  const accuracy = (pred: number[]): number => pred.filter((p, i) => p === labels[i]).length / texts.length;
  t.diagnostic(`agreement ${(100 * agree).toFixed(1)} %; accuracy float32 ${(100 * accuracy(fp32)).toFixed(1)} %, int8 ${(100 * accuracy(int8)).toFixed(1)} %`);
  assert.ok(agree >= 0.95, `int8 and float32 agree on ${(100 * agree).toFixed(1)} % of predictions`);
  assert.ok(Math.abs(accuracy(int8) - accuracy(fp32)) <= 0.02, `accuracy ${accuracy(int8)} vs ${accuracy(fp32)}`);
});
