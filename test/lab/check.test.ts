/** `tsformer lab --check`'s comparison: every changed number is listed by its path; timings are not. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareResults } from "../../src/lab/check.ts";
import { EXPLAIN_LINKS } from "../../src/lab/explain-links.ts";
import { numericGuess } from "../../src/lab/guess.ts";
import type { Claim, LabResult } from "../../src/lab/types.ts";
import { byDefinition, byMeasurement, cond } from "../../src/lab/verdicts.ts";

const text = { claim_zh: "论断", claim_en: "A claim.", evidence: "took 12 ms", evidence_zh: "耗时 12 ms" };
const accuracyRule = { cases: [{ when: [cond("gain", ">", 0.05)], verdict: "supported" as const }], otherwise: "refuted" as const };
const timingRule = { cases: [{ when: [cond("timings.ratio", ">", 2)], verdict: "supported" as const }], otherwise: "nuanced" as const };

/** A result with the given accuracy gain, time ratio and accuracy list. */
function result(gain: number, ratio: number, accuracies: number[], seconds = 1): LabResult {
  const claims: Claim[] = [
    { ...text, ...byMeasurement(accuracyRule, { gain }) },
    { ...text, ...byMeasurement(timingRule, { "timings.ratio": ratio }) },
    { ...text, ...byDefinition("refuted", "by the shapes", "由形状决定") },
  ];
  return {
    id: "q01", title: "t", question_zh: "问", question_en: "Q?", claims, seed: 1, quick: false, runtime_s: seconds, code: null, charts: [], explain: EXPLAIN_LINKS.q01,
    metrics: { accuracies, nested: { flops: 100 }, timings: { forward_s: seconds } },
  };
}

test("check: a rerun with the same numbers and other timings has no changes", () => {
  const c = compareResults(result(0.1, 3, [0.5, 0.9]), result(0.1, 3, [0.5, 0.9], 7));
  assert.deepEqual(c, { changes: [], timingVerdicts: [] });
});

test("check: each changed metric, measured number and verdict is listed by path", () => {
  const before = result(0.1, 3, [0.5, 0.9]);
  const after = result(0.01, 3, [0.5, 0.8, 0.7]);
  (after.metrics.nested as { flops: number }).flops = 101;
  const c = compareResults(before, after);
  assert.deepEqual(c.changes.map((x) => [x.path, x.before, x.after]), [
    ["metrics.accuracies[1]", 0.9, 0.8],
    ["metrics.accuracies[2]", undefined, 0.7],
    ["metrics.nested.flops", 100, 101],
    ["claims[0].measured.gain", 0.1, 0.01],
    ["claims[0].verdict", "supported", "refuted"],
  ]);
  assert.ok(c.changes.every((x) => x.id === "q01"));
  assert.deepEqual(c.timingVerdicts, []);
});

test("check: a verdict read from timings that flips is reported apart, not as a change", () => {
  const c = compareResults(result(0.1, 3, [0.5]), result(0.1, 1.5, [0.5]));
  assert.deepEqual(c.changes, []);
  assert.deepEqual(c.timingVerdicts.map((x) => [x.path, x.before, x.after]), [["claims[1].verdict", "supported", "nuanced"]]);
});

test("check: a claim decided another way, or a claim more or fewer, is a change", () => {
  const before = result(0.1, 3, [0.5]);
  const after = result(0.1, 3, [0.5]);
  after.claims[2] = { ...text, ...byMeasurement(accuracyRule, { gain: 0.1 }) };
  after.claims.pop();
  const c = compareResults(before, after);
  assert.deepEqual(c.changes.map((x) => x.path), ["claims.length"]);
  after.claims.push({ ...text, ...byMeasurement(accuracyRule, { gain: 0.1 }) });
  assert.deepEqual(compareResults(before, after).changes.map((x) => [x.path, x.before, x.after]), [
    ["claims[2].decided_by", "definition", "measurement"],
    ["claims[2].verdict", "refuted", "supported"],
  ]);
});

test("check: a changed quiz answer is a change unless it comes from timings", () => {
  const withGuesses = (accuracy: number, seconds: number): LabResult => {
    const r = result(0.1, 3, [0.5]);
    r.claims[0] = { ...r.claims[0], guess: numericGuess({ en: "Accuracy?", zh: "准确率？", answer: accuracy, unit: "%", tolerance: 5 }) };
    r.claims[1] = { ...r.claims[1], guess: numericGuess({ en: "Time ratio?", zh: "时间比？", answer: seconds, closeness: "ratio", tolerance: 2, fromTimings: true }) };
    return r;
  };
  assert.deepEqual(compareResults(withGuesses(90, 3), withGuesses(90, 7)).changes, []);
  assert.deepEqual(compareResults(withGuesses(90, 3), withGuesses(85, 3)).changes.map((x) => [x.path, x.before, x.after]), [["claims[0].guess.answer", 90, 85]]);
  const dropped = withGuesses(90, 3);
  delete dropped.claims[0].guess;
  assert.deepEqual(compareResults(withGuesses(90, 3), dropped).changes.map((x) => x.path), ["claims[0].guess.answer"]);
});
