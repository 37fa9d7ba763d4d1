/**
 * How a verdict is reached. A claim is decided either by a rule over measured numbers — data, so that a test can
 * feed every rule numbers on both sides of each threshold — or by definition, with the reason written down.
 */
import { sig } from "./metrics.ts";
import type { Verdict } from "./types.ts";

/** How a condition compares a measured number with its threshold. */
export type Comparison = ">" | ">=" | "<" | "<=";

/** One condition of a rule: the measured number `metric` compared with a fixed threshold. */
export interface Condition {
  metric: string;
  comparison: Comparison;
  threshold: number;
}

/** One case of a rule: when every condition holds, `verdict`. */
export interface RuleCase {
  when: Condition[];
  verdict: Verdict;
}

/** A verdict rule: the first case whose conditions all hold gives the verdict, `otherwise` when none does. */
export interface VerdictRule {
  cases: RuleCase[];
  otherwise: Verdict;
}

/** A verdict that follows from measured numbers through a rule; `measured` holds every number the rule reads. */
export interface MeasuredVerdict {
  verdict: Verdict;
  decided_by: "measurement";
  rule: VerdictRule;
  measured: Record<string, number>;
}

/** A verdict fixed in the code, because the claim is settled by definition, shapes or arithmetic; `reason` says how. */
export interface DefinedVerdict {
  verdict: Verdict;
  decided_by: "definition";
  reason: string;
  reason_zh: string;
}

/**
 * Metric names starting with this come from wall-clock times: they vary between runs and machines, so
 * `tsformer lab --check` does not compare them, nor the verdicts of rules that read them.
 */
export const TIMING_PREFIX = "timings.";

/** A condition, written as it reads: `cond("gain", ">", 0.05)`. */
export function cond(metric: string, comparison: Comparison, threshold: number): Condition {
  return { metric, comparison, threshold };
}

/** Whether `value` satisfies the condition (a NaN satisfies none). */
export function holds(c: Condition, value: number): boolean {
  switch (c.comparison) {
    case ">": return value > c.threshold;
    case ">=": return value >= c.threshold;
    case "<": return value < c.threshold;
    case "<=": return value <= c.threshold;
  }
}

/** The verdict a rule gives for the measured numbers; a number the rule reads but `measured` lacks is an error. */
export function decide(rule: VerdictRule, measured: Readonly<Record<string, number>>): Verdict {
  for (const metric of ruleMetrics(rule)) {
    if (!(metric in measured)) throw new Error(`verdict rule reads "${metric}", which was not measured`);
  }
  const match = rule.cases.find((c) => c.when.every((w) => holds(w, measured[w.metric])));
  return match ? match.verdict : rule.otherwise;
}

/** Every metric name a rule reads, in order of first use. */
export function ruleMetrics(rule: VerdictRule): string[] {
  return [...new Set(rule.cases.flatMap((c) => c.when.map((w) => w.metric)))];
}

/** Whether a rule reads a wall-clock measurement (see TIMING_PREFIX). */
export function readsTimings(rule: VerdictRule): boolean {
  return ruleMetrics(rule).some((m) => m.startsWith(TIMING_PREFIX));
}

/**
 * Applies a rule. The numbers are rounded to 6 significant digits first and the verdict is decided on the rounded
 * numbers, so that result.json holds exactly what the rule read: anyone can re-apply the rule to it.
 */
export function byMeasurement(rule: VerdictRule, values: Readonly<Record<string, number>>): MeasuredVerdict {
  const measured = Object.fromEntries(ruleMetrics(rule).map((m) => {
    if (!(m in values)) throw new Error(`verdict rule reads "${m}", which was not measured`);
    return [m, sig(values[m], 6)];
  }));
  return { verdict: decide(rule, measured), decided_by: "measurement", rule, measured };
}

/** A verdict fixed by definition, with the reason in English and Chinese. */
export function byDefinition(verdict: Verdict, reason: string, reason_zh: string): DefinedVerdict {
  return { verdict, decided_by: "definition", reason, reason_zh };
}
