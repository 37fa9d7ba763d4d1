/**
 * The `bert_train` fixture family: logits, loss and every parameter's gradient of BertForSequenceClassification
 * and BertForMaskedLM (tied decoder, stored or not), and the attribution references of the classification case
 * (src/explain), on the reference and the wasm backend; a stored tensor that is not computed fails its case.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getBackend, registerBackend, setBackend } from "../../src/backend/registry.ts";
import { parseSafetensors, serializeSafetensors } from "../../src/io/safetensors.ts";
import { runBertTrainFixtures } from "../../src/parity/bert-train.ts";
import { runParity } from "../../src/parity/runner.ts";
import type { CaseResult } from "../../src/parity/types.ts";
import { wasmWithThreads } from "../backend/wasm-helpers.ts";

const DIR = "test/fixtures/bert_train";
const MLM = "bert_train_mlm_l2_h32";
const SEQCLS = "bert_train_seqcls_l2_h32";

interface CaseJson { config: { architecture: string }; tensors: Record<string, { role: string; of?: string; file: string }> }
const caseJson = (dir: string): CaseJson => JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as CaseJson;
const index = JSON.parse(readFileSync(join(DIR, "index.json"), "utf8")) as { family: string; cases: { name: string; dir: string }[] };

/** Asserts every case passed and compared every stored tensor (gradients in both modes, attributions once). */
function assertAllPass(results: CaseResult[], dir = DIR): void {
  assert.equal(results.length, readIndexCases(dir).length);
  for (const r of results) {
    assert.equal(r.error, undefined, `${r.case}: ${r.error}`);
    const failed = r.compared.filter((c) => !(c.worst <= 1));
    assert.deepEqual(failed, [], `${r.case}: failed comparisons`);
    assert.equal(r.passed, true);
    const entry = readIndexCases(dir).find((c) => c.name === r.case)!;
    const meta = caseJson(join(dir, entry.dir));
    const byName = new Map(r.compared.map((c) => [c.name, c]));
    for (const [name, t] of Object.entries(meta.tensors)) {
      if (/^(attribution\.|grad\.attentions\.)/.test(name)) {
        assert.ok((byName.get(name)?.worst ?? Infinity) <= 1, `${r.case}: ${name}`);
      } else if (t.role === "grad" || t.role === "output") {
        for (const label of [name, `${name} [step-by-step]`]) assert.ok((byName.get(label)?.worst ?? Infinity) <= 1, `${r.case}: ${label}`);
      } else {
        assert.ok(byName.has(name), `${r.case}: input '${name}' checked`);
      }
    }
    const grads = Object.values(meta.tensors).filter((t) => t.role === "grad" && !t.of?.startsWith("attentions.")).length;
    assert.ok(grads >= 16 * 2 + 5, `${r.case}: every parameter has a gradient (${grads})`);
    for (const name of ["tokens", "architecture", "labels"]) assert.equal(byName.get(name)?.worst, 0, `${r.case}: ${name}`);
  }
}

function readIndexCases(dir: string): { name: string; dir: string }[] {
  return (JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as typeof index).cases;
}

/** A copy of the fixture folder to change. */
function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsformer-berttrain-"));
  cpSync(DIR, dir, { recursive: true });
  return dir;
}

test("every bert_train case passes on the reference backend: logits, loss, every gradient, fused and step by step", () => {
  assert.equal(index.family, "bert_train");
  const previous = getBackend().name;
  setBackend("reference");
  try {
    const results = runParity(DIR);
    assertAllPass(results);
    const architectures = results.map((r) => caseJson(join(DIR, index.cases.find((c) => c.name === r.case)!.dir)).config.architecture).sort();
    assert.deepEqual(architectures, ["BertForMaskedLM", "BertForSequenceClassification"]);
  } finally {
    setBackend(previous);
  }
});

for (const threads of [1, 2]) {
  test(`every bert_train case passes on the wasm backend with ${threads} thread(s)`, async () => {
    registerBackend(await wasmWithThreads(threads));
    const previous = getBackend().name;
    setBackend("wasm");
    try {
      assertAllPass(runParity(DIR));
    } finally {
      setBackend(previous);
    }
  });
}

test("hidden-case form: the MLM checkpoint with the tied decoder keys stored gives the same results", () => {
  const dir = copy();
  const path = join(dir, MLM, "model.safetensors");
  const tensors = parseSafetensors(readFileSync(path)).tensors;
  const inputs = [...tensors.values()].map((t) => ({ name: t.name, shape: t.shape, data: t.data, dtype: t.dtype }));
  inputs.push({ ...inputs.find((t) => t.name === "bert.embeddings.word_embeddings.weight")!, name: "cls.predictions.decoder.weight" });
  inputs.push({ ...inputs.find((t) => t.name === "cls.predictions.bias")!, name: "cls.predictions.decoder.bias" });
  writeFileSync(path, serializeSafetensors(inputs));
  const stored = runBertTrainFixtures(dir);
  assertAllPass(stored, dir);
  const reference = runBertTrainFixtures(DIR);
  const worst = (rs: CaseResult[]) => rs.map((r) => r.compared.map((c) => [c.name, c.worst]));
  assert.deepEqual(worst(stored), worst(reference), "identical worst ratios, tensor by tensor");
});

test("a stored tensor that is not computed fails the case; a wrong gradient or attribution fails it", () => {
  const dir = copy();
  const casePath = join(dir, SEQCLS, "case.json");
  const meta = JSON.parse(readFileSync(casePath, "utf8")) as { tensors: Record<string, Record<string, unknown>> };
  meta.tensors["grad.bert.pooler.dense.extra"] = { ...meta.tensors["grad.bert.pooler.dense.bias"], of: "bert.pooler.dense.extra" };
  writeFileSync(casePath, JSON.stringify(meta));
  const gradFile = join(dir, MLM, "grad.bert.encoder.layer.1.attention.self.key.weight.f64");
  const bytes = readFileSync(gradFile);
  bytes.writeDoubleLE(bytes.readDoubleLE(8) + 1e-2, 8);
  writeFileSync(gradFile, bytes);
  const rolloutFile = join(dir, SEQCLS, "attribution.rollout.f64");
  const rollout = readFileSync(rolloutFile);
  rollout.writeDoubleLE(rollout.readDoubleLE(0) + 1e-3, 0);
  writeFileSync(rolloutFile, rollout);
  const results = runBertTrainFixtures(dir);
  const seqcls = results.find((r) => r.case === SEQCLS)!;
  assert.equal(seqcls.passed, false);
  assert.equal(seqcls.error, "not computed: grad.bert.pooler.dense.extra");
  assert.ok(seqcls.compared.some((c) => c.name === "attribution.rollout" && c.worst > 1));
  assert.ok(seqcls.compared.filter((c) => c.name.startsWith("attribution.") && c.name !== "attribution.rollout").every((c) => c.worst <= 1));
  const mlm = results.find((r) => r.case === MLM)!;
  assert.equal(mlm.passed, false);
  assert.ok(mlm.compared.some((c) => c.name === "grad.bert.encoder.layer.1.attention.self.key.weight" && c.worst > 1));
});

test("masked-LM labels are checked against the case's replacements: a label at another position fails 'labels'", () => {
  const dir = copy();
  const labelsFile = join(dir, MLM, "labels.i32");
  const bytes = readFileSync(labelsFile);
  bytes.writeInt32LE(bytes.readInt32LE(2 * 4), 3 * 4); // position 3 gets position 2's target
  writeFileSync(labelsFile, bytes);
  const mlm = runBertTrainFixtures(dir).find((r) => r.case === MLM)!;
  assert.equal(mlm.passed, false);
  assert.equal(mlm.compared.find((c) => c.name === "labels")?.worst, Infinity);
});
