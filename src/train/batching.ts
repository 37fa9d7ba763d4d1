/**
 * Batches for training: examples of similar length go together (less padding, less wasted compute), the order
 * is shuffled by a seeded RNG, and each batch carries its padding mask (1 = real token).
 */
import type { AttentionMask } from "../nn/masks.ts";
import { Rng } from "../tensor/random.ts";
import { type IndexTensor, Tensor, indexTensor } from "../tensor/tensor.ts";

/** A tokenized example. */
export interface EncodedExample {
  ids: number[];
  label: number;
  /** A teacher's class probabilities (knowledge distillation, distill.ts), in the head's class order. */
  softTarget?: Float32Array;
}

/** One padded batch. */
export interface Batch {
  ids: IndexTensor;
  attentionMask: AttentionMask;
  labels: IndexTensor;
  /** The examples' soft targets (N, C) when every example has one, else null. */
  softTargets: Tensor | null;
  /** Real (non-padding) tokens in the batch. */
  tokens: number;
}

/** Pads examples to the longest one with `padId` and builds the mask. */
export function collate(examples: readonly EncodedExample[], padId: number): Batch {
  const n = Math.max(...examples.map((e) => e.ids.length));
  const ids = new Int32Array(examples.length * n).fill(padId);
  const mask = new Uint8Array(examples.length * n);
  let tokens = 0;
  examples.forEach((e, b) => {
    ids.set(e.ids, b * n);
    mask.fill(1, b * n, b * n + e.ids.length);
    tokens += e.ids.length;
  });
  return {
    ids: indexTensor(ids, [examples.length, n]),
    attentionMask: { shape: [examples.length, n], data: mask },
    labels: indexTensor(examples.map((e) => e.label), [examples.length]),
    softTargets: softTargetsOf(examples),
    tokens,
  };
}

/** The soft targets of a batch as one (N, C) tensor, or null when any example lacks one. */
function softTargetsOf(examples: readonly EncodedExample[]): Tensor | null {
  if (!examples.every((e) => e.softTarget)) return null;
  const classes = examples[0].softTarget!.length;
  const data = new Float32Array(examples.length * classes);
  examples.forEach((e, b) => data.set(e.softTarget!, b * classes));
  return new Tensor(data, [examples.length, classes]);
}

/**
 * The batches of one epoch. Shuffles with a generator seeded by (seed, epoch) — so an epoch's order does not
 * depend on what ran before it, and a resumed run rebuilds exactly the same batches — then sorts by length
 * within pools of 50 batches and shuffles the batch order.
 */
export function epochBatches(examples: readonly EncodedExample[], batchSize: number, seed: number, epoch: number, padId: number): Batch[] {
  const rng = new Rng((seed * 1000003 + epoch * 7919) >>> 0);
  const order = rng.shuffle(examples.map((_, i) => i));
  const pool = batchSize * 50;
  const groups: number[][] = [];
  for (let start = 0; start < order.length; start += pool) {
    const chunk = order.slice(start, start + pool).sort((a, b) => examples[a].ids.length - examples[b].ids.length);
    for (let i = 0; i < chunk.length; i += batchSize) groups.push(chunk.slice(i, i + batchSize));
  }
  rng.shuffle(groups);
  return groups.map((g) => collate(g.map((i) => examples[i]), padId));
}

/** How many batches `epochBatches` makes of n examples: every pool but the last holds whole batches. */
export function batchesPerEpoch(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/** Batches in the given order, sorted by length for speed (evaluation: order does not matter). */
export function evalBatches(examples: readonly EncodedExample[], batchSize: number, padId: number): { batch: Batch; indices: number[] }[] {
  const order = examples.map((_, i) => i).sort((a, b) => examples[a].ids.length - examples[b].ids.length);
  const out: { batch: Batch; indices: number[] }[] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const indices = order.slice(i, i + batchSize);
    out.push({ batch: collate(indices.map((j) => examples[j]), padId), indices });
  }
  return out;
}
