/** `tsformer explain`, `tsformer heads` and `--mask-heads` as a user runs them: output, --json, the SVG chart and one-line errors. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cli } from "./run-cli.ts";

const MODEL = "test/fixtures/bert_train/bert_train_seqcls_l2_h32";
const MLM = "test/fixtures/bert_train/bert_train_mlm_l2_h32";

/** A small labelled file in the fixture model's label names. */
function dataFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), "tsformer-heads-")), "data.tsv");
  const rows = ["a charming and often affecting journey .\tpositive", "the plot is thin .\tnegative", "is it any good ?\tneutral", "the acting is wonderful .\tpositive", "not really .\tnegative", "maybe .\tneutral"];
  writeFileSync(path, `sentence\tlabel\n${rows.join("\n")}\n`);
  return path;
}

test("explain prints the prediction and a token × method heat map; --json has every method's scores", () => {
  const r = cli(["explain", "--model", MODEL, "the acting is wonderful ."]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^prediction: (negative|positive|neutral) \(negative 0\.\d{3}, neutral 0\.\d{3}, positive 0\.\d{3}\); explaining the logit of "\w+"/);
  const header = r.stdout.split("\n").find((l) => l.startsWith("token"))!;
  assert.deepEqual(header.split(/\s{2,}/).map((s) => s.trim()).filter(Boolean), ["token", "rollout", "‖αf(x)‖", "grad×attn", "input×grad", "integ.grad"]);
  for (const token of ["[CLS]", "acting", "wonderful", "[SEP]"]) assert.match(r.stdout, new RegExp(`^${token.replace(/[[\]]/g, "\\$&")}\\s`, "m"));
  assert.match(r.stdout, /integrated gradients: 32 steps; .* completeness gap \d+\.\d\d %/);
  const j = cli(["explain", "--model", MODEL, "--json", "--target", "neutral", "--method", "rollout,integrated-gradients", "--steps", "8", "the acting is wonderful ."]);
  assert.equal(j.code, 0, j.stderr);
  const e = JSON.parse(j.stdout) as { tokens: string[]; target: string; methods: { method: string; scores: number[] }[]; integratedGradients: { steps: number }; headImportance: number[] };
  assert.equal(e.target, "neutral");
  assert.deepEqual(e.methods.map((m) => m.method), ["rollout", "integrated-gradients"]);
  assert.equal(e.methods[1].scores.length, e.tokens.length);
  assert.equal(e.integratedGradients.steps, 8);
  assert.equal(e.headImportance.length, 2 * 4);
});

test("explain: bad input is one line that says what exists", () => {
  const label = cli(["explain", "--model", MODEL, "--target", "great", "text"]);
  assert.equal(label.code, 1);
  assert.equal(label.stderr.trim(), 'tsformer: unknown label "great": the model\'s labels are negative (0), neutral (1), positive (2)');
  const method = cli(["explain", "--model", MODEL, "--method", "lime", "text"]);
  assert.equal(method.stderr.trim(), "tsformer: --method lime: choose from rollout, norm, grad-attention, input-x-gradient, integrated-gradients");
  const head = cli(["explain", "--model", MODEL, "--mask-heads", "0:4", "text"]);
  assert.equal(head.stderr.trim(), "tsformer: head 0:4 does not exist: the model has layers 0–1 and heads 0–3 in each");
  const mlm = cli(["explain", "--model", MLM, "text"]);
  assert.equal(mlm.code, 1);
  assert.match(mlm.stderr.trim(), /^tsformer: .*no classification head .*; fine-tune it first: tsformer train --init-from /);
  assert.equal(mlm.stderr.trim().split("\n").length, 1);
});

test("heads --data --prune prints the importance grid and the pruning curve, and writes the SVG chart", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsformer-prune-"));
  const svg = join(dir, "prune.svg");
  const r = cli(["heads", "--model", MODEL, "--data", dataFile(), "--prune", "--prune-step", "3", "--svg", svg]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^head importance \|∂L\/∂ξ\| over 6 example\(s\)/);
  const steps = r.stdout.split("\n").filter((l) => /^\d+\/8 /.test(l)).map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(steps, ["0/8", "3/8", "6/8", "7/8"]);
  const chart = readFileSync(svg, "utf8");
  assert.match(chart, /^<svg/);
  assert.match(chart, /heads removed \(%\)/);
  const j = cli(["heads", "--model", MODEL, "--data", dataFile(), "--prune", "--json"]);
  const out = JSON.parse(j.stdout) as { importance: number[][]; examples: number; curve: { masked: string[]; accuracy: number }[] };
  assert.equal(out.importance.length, 2);
  assert.equal(out.importance[0].length, 4);
  assert.equal(out.curve.length, 8);
  assert.deepEqual(out.curve[7].masked.length, 7);
  // The heads removed first are the least important ones.
  const flat = out.importance.flat();
  const first = out.curve[1].masked[0].split(":").map(Number);
  assert.equal(flat[first[0] * 4 + first[1]], Math.min(...flat));
});

test("heads on one text; argument errors are one line", () => {
  const r = cli(["heads", "--model", MODEL, "not good ."]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /over 1 example\(s\)/);
  assert.equal(cli(["heads", "--model", MODEL]).stderr.trim(), "tsformer: give either a text or --data FILE (a labelled file), not both");
  assert.equal(cli(["heads", "--model", MODEL, "--prune", "text"]).stderr.trim(), "tsformer: --prune needs --data FILE: accuracy is measured on labelled data");
});

test("classify and eval --mask-heads: removing heads changes the output; every head but one still runs", () => {
  const plain = cli(["classify", "--model", MODEL, "--json", "the plot is thin ."]);
  const masked = cli(["classify", "--model", MODEL, "--json", "--mask-heads", "0:0,0:1,0:2,1:0,1:1,1:2,1:3", "the plot is thin ."]);
  assert.equal(masked.code, 0, masked.stderr);
  const p = (s: string): Record<string, number> => (JSON.parse(s) as { probabilities: Record<string, number> }).probabilities;
  assert.notDeepEqual(p(masked.stdout), p(plain.stdout));
  const ev = cli(["eval", "--model", MODEL, "--data", dataFile(), "--json", "--mask-heads", "1:3"]);
  assert.equal(ev.code, 0, ev.stderr);
  assert.equal((JSON.parse(ev.stdout) as { n: number }).n, 6);
  assert.equal(cli(["eval", "--model", MODEL, "--data", dataFile(), "--mask-heads", "5:0"]).stderr.trim(), "tsformer: head 5:0 does not exist: the model has layers 0–1 and heads 0–3 in each");
});
