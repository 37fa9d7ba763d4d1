/** The `bert_model` fixture family: text → ids → every stored tensor of real HF BERT folders, at the stored tolerances. */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runBertModelFixtures } from "../../src/parity/bert.ts";

const DIR = "test/fixtures/bert_model";

test("every bert_model case passes, comparing ids exactly and every stored tensor, fused and step by step", () => {
  const results = runBertModelFixtures(DIR);
  const index = JSON.parse(readFileSync(join(DIR, "index.json"), "utf8")) as { cases: { name: string; dir: string }[] };
  assert.equal(results.length, index.cases.length);
  for (const r of results) {
    assert.equal(r.error, undefined, `${r.case}: ${r.error}`);
    const failed = r.compared.filter((c) => !(c.worst <= 1));
    assert.deepEqual(failed, [], `${r.case}: failed comparisons`);
    assert.equal(r.passed, true);
    const meta = JSON.parse(readFileSync(join(DIR, index.cases.find((c) => c.name === r.case)!.dir, "case.json"), "utf8")) as { tensors: Record<string, { role: string }> };
    const names = new Set(r.compared.map((c) => c.name));
    for (const [name, t] of Object.entries(meta.tensors)) assert.ok(names.has(name) || names.has(`${name} [step-by-step]`), `${r.case}: '${name}' (${t.role}) was compared`);
    for (const name of ["tokens", "input_ids", "token_type_ids", "last_hidden_state", "last_hidden_state [step-by-step]", "attentions.1", "intermediate.layer.1.attention_output [step-by-step]"]) {
      assert.ok(names.has(name), `${r.case}: ${name}`);
    }
  }
  assert.ok(results.some((r) => r.compared.some((c) => c.name === "logits")), "the classification case compares logits");
});

test("a stored tensor the runner does not compute fails the case; a wrong expected id fails the token check", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsformer-bertparity-"));
  cpSync(DIR, dir, { recursive: true });
  const casePath = join(dir, "bert_model_l2_h32", "case.json");
  const meta = JSON.parse(readFileSync(casePath, "utf8")) as { tensors: Record<string, Record<string, unknown>> };
  meta.tensors["hidden_states.9"] = { ...meta.tensors.pooler_output, file: "pooler_output.f64" };
  writeFileSync(casePath, JSON.stringify(meta));
  const ids = join(dir, "bert_seqcls_prefixed_l2_h40", "input_ids.i32");
  const bytes = readFileSync(ids);
  bytes.writeInt32LE(bytes.readInt32LE(4) + 1, 4);
  writeFileSync(ids, bytes);
  const [a, b] = runBertModelFixtures(dir);
  assert.equal(a.passed, false);
  assert.match(a.error ?? "", /not computed: hidden_states\.9/);
  assert.equal(b.passed, false);
  assert.ok(b.compared.some((c) => c.name === "input_ids" && c.worst === Infinity));
});

test("a case whose folder cannot be loaded is a failed result with a one-line error, not a crash", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsformer-bertparity-"));
  cpSync(DIR, dir, { recursive: true });
  const config = join(dir, "bert_model_l2_h32", "config.json");
  writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, "utf8")), hidden_act: "swish" }));
  const [a, b] = runBertModelFixtures(dir);
  assert.equal(a.passed, false);
  assert.match(a.error ?? "", /field "hidden_act" is "swish"/);
  assert.equal(b.passed, true);
});

test("a row built from ids (\"text\": null) is checked by its ids and run like any other row; a wrong id still fails", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsformer-bertparity-"));
  cpSync(join(DIR, "bert_seqcls_prefixed_l2_h40"), join(dir, "c"), { recursive: true });
  writeFileSync(join(dir, "index.json"), JSON.stringify({ family: "bert_model", cases: [{ name: "c", op: "bert_model", dir: "c" }] }));
  const casePath = join(dir, "c", "case.json");
  const meta = JSON.parse(readFileSync(casePath, "utf8")) as { inputs: Record<string, unknown>[] };
  const row = meta.inputs.length - 1; // a sentence pair: its token types must come out of the tokens alone
  meta.inputs[row] = { ...meta.inputs[row], text: null, text_pair: null, note: "built from ids" };
  writeFileSync(casePath, JSON.stringify(meta));
  const [ok] = runBertModelFixtures(dir);
  assert.equal(ok.error, undefined, ok.error);
  assert.deepEqual(ok.compared.filter((c) => !(c.worst <= 1)), []);
  assert.ok(["tokens", "input_ids", "token_type_ids", "attention_mask", "lengths", "last_hidden_state", "logits"].every((n) => ok.compared.some((c) => c.name === n)));

  const stored = meta.inputs[row].tokens as string[];
  meta.inputs[row] = { ...meta.inputs[row], tokens: [stored[0], "movie", ...stored.slice(2)] }; // no longer the stored ids
  writeFileSync(casePath, JSON.stringify(meta));
  const [bad] = runBertModelFixtures(dir);
  assert.equal(bad.passed, false);
  assert.equal(bad.compared.find((c) => c.name === "input_ids")?.worst, Infinity);
});
