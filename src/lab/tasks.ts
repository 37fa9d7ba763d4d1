/**
 * Synthetic sequence tasks for the lab: every position has a target, so attention must fetch the right other
 * tokens. Data are drawn fresh from a seeded generator (no overfitting), with a fixed held-out set.
 */
import { Rng } from "../tensor/random.ts";
import { type IndexTensor, indexTensor } from "../tensor/tensor.ts";

/** Targets equal to this are not scored (crossEntropy's default ignore index). */
export const IGNORE = -100;

/** A token-level task: random input tokens in [0, vocab), a target class per position. */
export interface TokenTask {
  name: string;
  /** Input tokens are 0…vocab−1 (the model gets one more row, an unused padding id). */
  vocab: number;
  classes: number;
  n: number;
  /** Targets of one sequence (IGNORE where there is none). */
  targets(ids: readonly number[]): number[];
  /** The key positions the target of query i is a function of (for attention diagnostics). */
  sources(i: number, n: number): number[];
}

/**
 * Q01's task, two relations per position: y_i = V·x_{i−1} + x_{n−1−i} (previous token, cyclic, and the mirror
 * position), one of V² classes. One attention head has to serve both rules at once; two heads can split them.
 */
export function twoRelationTask(n: number, vocab: number): TokenTask {
  const prev = (i: number): number => (i + n - 1) % n;
  const mirror = (i: number): number => n - 1 - i;
  return {
    name: `two-relation (n=${n}, V=${vocab})`, vocab, classes: vocab * vocab, n,
    targets: (ids) => ids.map((_, i) => vocab * ids[prev(i)] + ids[mirror(i)]),
    sources: (i) => [prev(i), mirror(i)],
  };
}

/** Q02/Q03/Q04's task: output the token at position i−1 (position 0 has no target). Needs attention to another position. */
export function copyPreviousTask(n: number, vocab: number): TokenTask {
  return {
    name: `copy-previous (n=${n}, V=${vocab})`, vocab, classes: vocab, n,
    targets: (ids) => ids.map((_, i) => (i === 0 ? IGNORE : ids[i - 1])),
    sources: (i) => [Math.max(0, i - 1)],
  };
}

/** A batch of a task: ids (batch, n) and flat targets (batch·n). */
export interface TaskBatch {
  ids: IndexTensor;
  targets: IndexTensor;
}

/** Draws `batch` random sequences of the task. */
export function sampleBatch(task: TokenTask, rng: Rng, batch: number): TaskBatch {
  const ids: number[] = [];
  const targets: number[] = [];
  for (let b = 0; b < batch; b++) {
    const seq = Array.from({ length: task.n }, () => rng.int(task.vocab));
    ids.push(...seq);
    targets.push(...task.targets(seq));
  }
  return { ids: indexTensor(ids, [batch, task.n]), targets: indexTensor(targets, [batch * task.n]) };
}
