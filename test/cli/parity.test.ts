/** `tsformer parity` as a user runs it: one line per case, a summary line, exit codes, --json. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cli } from "./run-cli.ts";

test("parity prints one line per case and a summary, exit 0 when all pass", () => {
  const r = cli(["parity", "test/fixtures/pytorch"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.at(-1), "30 passed, 0 failed");
  assert.equal(lines.filter((l) => l.startsWith("PASS ")).length, 30);
});

test("parity --json prints one object per case with worst ratios", () => {
  const r = cli(["parity", "test/fixtures/pytorch", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const objects = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { case: string; op: string; passed: boolean; compared: { name: string; worst: number }[] });
  assert.equal(objects.length, 30);
  for (const o of objects) {
    assert.equal(o.passed, true);
    assert.ok(o.compared.every((c) => typeof c.name === "string" && c.worst <= 1));
  }
});

test("a missing folder is one error line and exit 1, without a stack trace", () => {
  const r = cli(["parity", "no/such/folder"]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^tsformer: no\/such\/folder\/index\.json: cannot read the fixture index/);
});

test("parity on bert_train: every tensor, attributions included, is compared; --json gives each one's worst ratio", () => {
  const text = cli(["parity", "test/fixtures/bert_train"]);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trim().split("\n");
  assert.equal(lines.at(-1), "2 passed, 0 failed");
  assert.match(lines.find((l) => l.includes("bert_train_seqcls_l2_h32"))!, /^PASS .* \d+ compared$/);
  const json = cli(["parity", "test/fixtures/bert_train", "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const objects = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as { case: string; passed: boolean; compared: { name: string; worst: number | null; status?: string }[] });
  assert.equal(objects.length, 2);
  for (const o of objects) {
    assert.equal(o.passed, true, o.case);
    for (const c of o.compared) assert.ok(c.worst !== null && c.worst <= 1 && c.status === undefined, `${o.case}: ${c.name}`);
  }
  const seqcls = objects.find((o) => o.case === "bert_train_seqcls_l2_h32")!;
  const attributions = seqcls.compared.filter((c) => /^(attribution\.|grad\.attentions\.)/.test(c.name)).map((c) => c.name).sort();
  assert.equal(attributions.length, 14);
  assert.ok(attributions.includes("attribution.rollout") && attributions.includes("grad.attentions.1"));
  assert.ok(seqcls.compared.some((c) => c.name === "grad.bert.embeddings.word_embeddings.weight [step-by-step]"));
});
