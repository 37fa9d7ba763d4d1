/** The lab quiz's numeric guesses: what a question may ask, and when a guess counts as close. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isClose, numericGuess } from "../../src/lab/guess.ts";

test("numericGuess rounds the measured answer to 3 significant digits and fills the defaults", () => {
  const g = numericGuess({ en: "Accuracy?", zh: "准确率？", answer: 90.71234, unit: "%", tolerance: 5 });
  assert.deepEqual(g, { question_en: "Accuracy?", question_zh: "准确率？", answer: 90.7, unit: "%", closeness: "absolute", tolerance: 5, from_timings: false });
  assert.equal(numericGuess({ en: "Tiny?", zh: "很小？", answer: 5.960464e-7, tolerance: 0.01 }).answer, 5.96e-7);
  assert.equal(numericGuess({ en: "Zero?", zh: "零？", answer: 0, tolerance: 0 }).answer, 0);
});

test("numericGuess refuses an answer that was not measured and tolerances that cannot work", () => {
  assert.throws(() => numericGuess({ en: "Ratio?", zh: "比？", answer: Number.NaN, tolerance: 1 }), /"Ratio\?": the measured answer is NaN/);
  assert.throws(() => numericGuess({ en: "Ratio?", zh: "比？", answer: 2, closeness: "ratio", tolerance: 1 }), /tolerance above 1/);
  assert.throws(() => numericGuess({ en: "Ratio?", zh: "比？", answer: -2, closeness: "ratio", tolerance: 2 }), /positive answer/);
  assert.throws(() => numericGuess({ en: "Diff?", zh: "差？", answer: 2, tolerance: -1 }), /negative/);
});

test("isClose: within ±tolerance (absolute), within a factor (ratio); edges included, NaN never close", () => {
  const abs = { answer: 90.7, closeness: "absolute" as const, tolerance: 5 };
  assert.ok(isClose(abs, 95.7) && isClose(abs, 85.7) && isClose(abs, 90.7));
  assert.ok(!isClose(abs, 95.8) && !isClose(abs, 85.6) && !isClose(abs, Number.NaN));
  const exact = { answer: 100, closeness: "absolute" as const, tolerance: 0 };
  assert.ok(isClose(exact, 100) && !isClose(exact, 101));
  const ratio = { answer: 1.22e-6, closeness: "ratio" as const, tolerance: 10 };
  assert.ok(isClose(ratio, 1.22e-5) && isClose(ratio, 1.22e-7) && isClose(ratio, 1e-6));
  assert.ok(!isClose(ratio, 1.3e-5) && !isClose(ratio, 1e-7) && !isClose(ratio, 0) && !isClose(ratio, -1.22e-6));
});
