/**
 * The lab's verdict rules: how one rule turns numbers into a verdict, and every rule of every question fed
 * numbers on both sides of each of its thresholds (each case reachable, each threshold decisive).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ruleText } from "../../src/lab/report.ts";
import { QUESTIONS } from "../../src/lab/runner.ts";
import { QUESTION_IDS } from "../../src/lab/types.ts";
import { type Condition, type VerdictRule, byMeasurement, cond, decide, holds, readsTimings, ruleMetrics } from "../../src/lab/verdicts.ts";

/** Every rule of every question, named "q04.extremeSoftmax". */
const ALL_RULES: [string, VerdictRule][] = QUESTION_IDS.flatMap((id) => Object.entries(QUESTIONS[id].rules).map(([name, rule]) => [`${id}.${name}`, rule] as [string, VerdictRule]));

/** Values just below, at and just above every threshold the rule compares `metric` with. */
function candidates(rule: VerdictRule, metric: string): number[] {
  const thresholds = rule.cases.flatMap((c) => c.when.filter((w) => w.metric === metric).map((w) => w.threshold));
  return [...new Set(thresholds.flatMap((t) => {
    const step = Math.max(Math.abs(t) * 1e-3, 1e-9);
    return [t - step, t, t + step];
  }))];
}

/** Every assignment of candidate values to the rule's metrics. */
function assignments(rule: VerdictRule): Record<string, number>[] {
  return ruleMetrics(rule).reduce<Record<string, number>[]>(
    (acc, m) => acc.flatMap((a) => candidates(rule, m).map((v) => ({ ...a, [m]: v }))), [{}]);
}

const allHold = (when: Condition[], values: Record<string, number>): boolean => when.every((w) => holds(w, values[w.metric]));

test("a condition compares with its threshold strictly or not, as written; NaN satisfies none", () => {
  assert.deepEqual([0.9, 1, 1.1].map((v) => holds(cond("x", ">", 1), v)), [false, false, true]);
  assert.deepEqual([0.9, 1, 1.1].map((v) => holds(cond("x", ">=", 1), v)), [false, true, true]);
  assert.deepEqual([0.9, 1, 1.1].map((v) => holds(cond("x", "<", 1), v)), [true, false, false]);
  assert.deepEqual([0.9, 1, 1.1].map((v) => holds(cond("x", "<=", 1), v)), [true, true, false]);
  for (const c of [">", ">=", "<", "<="] as const) assert.equal(holds(cond("x", c, 1), Number.NaN), false);
});

test("the first case whose conditions all hold decides; otherwise the fallback", () => {
  const rule: VerdictRule = {
    cases: [
      { when: [cond("gain", ">", 0.1)], verdict: "supported" },
      { when: [cond("gain", ">", 0.02)], verdict: "nuanced" },
      { when: [cond("slowdown", ">=", 1.5)], verdict: "nuanced" },
    ],
    otherwise: "refuted",
  };
  assert.equal(decide(rule, { gain: 0.2, slowdown: 9 }), "supported");
  assert.equal(decide(rule, { gain: 0.05, slowdown: 1 }), "nuanced");
  assert.equal(decide(rule, { gain: 0, slowdown: 1.5 }), "nuanced");
  assert.equal(decide(rule, { gain: 0, slowdown: 1.49 }), "refuted");
  assert.throws(() => decide(rule, { gain: 0.2 }), /reads "slowdown", which was not measured/);
  assert.equal(ruleText(rule, "en"), "**supported** if gain > 0.1; **nuanced** if gain > 0.02; **nuanced** if slowdown >= 1.5; otherwise **refuted**");
});

test("byMeasurement records exactly the numbers the rule reads, rounded, and decides on them", () => {
  const rule: VerdictRule = { cases: [{ when: [cond("gap", "<=", 0.02)], verdict: "refuted" }], otherwise: "nuanced" };
  // 1 − 0.98 is 0.020000000000000018 in floating point: two points of accuracy, which the rule means to include.
  const v = byMeasurement(rule, { gap: 1 - 0.98, unused: 5 });
  assert.deepEqual(v, { verdict: "refuted", decided_by: "measurement", rule, measured: { gap: 0.02 } });
  assert.equal(decide(v.rule, v.measured), v.verdict);
  assert.throws(() => byMeasurement(rule, {}), /reads "gap"/);
});

test("the lab has 21 measured rules; the ones reading wall-clock times are named timings.*", () => {
  assert.equal(ALL_RULES.length, 21);
  const timed = ALL_RULES.filter(([, r]) => readsTimings(r)).map(([name]) => name);
  assert.deepEqual(timed, ["q01.parallel", "q03.complexity", "q03.efficiency"]);
});

for (const [name, rule] of ALL_RULES) {
  test(`rule ${name}: every case is reachable and every threshold decides, fed numbers on both sides`, () => {
    const all = assignments(rule);
    rule.cases.forEach((c, k) => {
      // Numbers for which this case is the first that holds.
      const witnesses = all.filter((a) => allHold(c.when, a) && rule.cases.slice(0, k).every((e) => !allHold(e.when, a)));
      assert.ok(witnesses.length > 0, `${name}: case ${k + 1} (${c.verdict}) can never decide`);
      for (const w of witnesses) assert.equal(decide(rule, w), c.verdict, `${name}: case ${k + 1} with ${JSON.stringify(w)}`);
      for (const condition of c.when) {
        // The same numbers with this one moved across its threshold give another verdict.
        const decisive = witnesses.some((w) => candidates(rule, condition.metric)
          .filter((v) => !holds(condition, v))
          .some((v) => decide(rule, { ...w, [condition.metric]: v }) !== c.verdict));
        assert.ok(decisive, `${name}: ${condition.metric} ${condition.comparison} ${condition.threshold} never changes the verdict of case ${k + 1}`);
      }
    });
    assert.ok(all.some((a) => rule.cases.every((c) => !allHold(c.when, a)) && decide(rule, a) === rule.otherwise), `${name}: "otherwise" is unreachable`);
  });
}

test("a few rules at their thresholds, by hand", () => {
  const rule = (name: string): VerdictRule => ALL_RULES.find(([n]) => n === name)![1];
  const q04 = rule("q04.extremeSoftmax");
  assert.equal(decide(q04, { variance_exponent_minus_1_abs: 0.01, top_probability_unscaled: 0.95, top_probability_scaled: 0.3 }), "supported");
  assert.equal(decide(q04, { variance_exponent_minus_1_abs: 0.15, top_probability_unscaled: 0.95, top_probability_scaled: 0.3 }), "nuanced");
  assert.equal(decide(q04, { variance_exponent_minus_1_abs: 0.01, top_probability_unscaled: 0.8, top_probability_scaled: 0.3 }), "nuanced");
  assert.equal(decide(q04, { variance_exponent_minus_1_abs: 0.01, top_probability_unscaled: 0.95, top_probability_scaled: 0.5 }), "nuanced");
  const q02 = rule("q02.complexRelations");
  assert.equal(decide(q02, { accuracy_separate_minus_shared: 0.11, steps_to_90_shared_over_separate: 1 }), "supported");
  assert.equal(decide(q02, { accuracy_separate_minus_shared: 0.1, steps_to_90_shared_over_separate: 1 }), "nuanced");
  assert.equal(decide(q02, { accuracy_separate_minus_shared: 0.02, steps_to_90_shared_over_separate: 1.5 }), "nuanced");
  assert.equal(decide(q02, { accuracy_separate_minus_shared: 0.02, steps_to_90_shared_over_separate: 1.4 }), "refuted");
  const q05 = rule("q05.closeToZero");
  assert.equal(decide(q05, { masked_padding_drift_max: 0, neg_inf_vs_boolean_mask_max_diff: 0 }), "nuanced");
  assert.equal(decide(q05, { masked_padding_drift_max: 1e-7, neg_inf_vs_boolean_mask_max_diff: 0 }), "supported");
});
