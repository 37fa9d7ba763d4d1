/** Length-bucketed batches: the count the trainer plans its schedule with is the count an epoch really has. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type EncodedExample, batchesPerEpoch, epochBatches } from "../../src/train/batching.ts";

test("batchesPerEpoch counts the batches epochBatches makes, across pools of 50 batches", () => {
  for (const [n, batchSize] of [[1, 32], [31, 4], [32, 32], [33, 32], [1601, 32], [3200, 32], [3201, 32], [6920, 32], [7, 1]]) {
    const examples: EncodedExample[] = Array.from({ length: n }, (_, i) => ({ ids: Array.from({ length: 1 + (i * 7) % 13 }, () => 5), label: i % 2 }));
    const batches = epochBatches(examples, batchSize, 1, 0, 0);
    assert.equal(batchesPerEpoch(n, batchSize), batches.length, `n ${n}, batch ${batchSize}`);
    assert.equal(batches.reduce((total, b) => total + b.labels.shape[0], 0), n, "every example once");
  }
});
