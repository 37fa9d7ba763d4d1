/**
 * Fine-tuning is deterministic as docs/RELIABILITY.md promises: the same seed, backend and thread count give
 * bit-identical loss curves, the wasm backend gives the same bits on 1 and 2 threads, and the reference backend
 * (double-precision sums) agrees with wasm (float32 SIMD sums) to within float32 rounding.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getBackend, setBackend } from "../../src/backend/registry.ts";
import { loadWasmBackend } from "../../src/backend/wasm/index.ts";
import { train } from "../../src/train/trainer.ts";
import { BERT_SEQCLS, fineTuneConfig } from "./fine-tune-task.ts";

/** Eight fine-tuning steps of the 3-label fixture folder (dropout on): the loss after each. */
async function losses(): Promise<number[]> {
  const config = fineTuneConfig(mkdtempSync(join(tmpdir(), "tsformer-ftb-")), BERT_SEQCLS, { maxSteps: 8, batchSize: 6 });
  await train(config);
  return readFileSync(join(config.out, "metrics.jsonl"), "utf8").trim().split("\n")
    .map((l) => JSON.parse(l) as { type: string; loss: number }).filter((m) => m.type === "step").map((m) => m.loss);
}

test("fine-tuning losses: bit-identical per backend and on 1 vs 2 wasm threads; reference vs wasm within 1e-6 relative", async () => {
  const previous = getBackend().name;
  try {
    setBackend("reference");
    const reference = await losses();
    assert.equal(reference.length, 8);
    assert.deepEqual(await losses(), reference, "reference twice");
    const wasm: number[][] = [];
    for (const threads of [1, 2]) {
      const backend = await loadWasmBackend({ threads });
      setBackend("wasm");
      wasm.push(await losses());
      backend.dispose();
    }
    assert.deepEqual(wasm[1], wasm[0], "wasm: 2 threads give the bits of 1 thread");
    // Measured: at most 1.0e-7 relative over these 8 steps (about one float32 ulp); 1e-6 leaves room as runs grow.
    reference.forEach((l, i) => assert.ok(Math.abs(l - wasm[0][i]) <= 1e-6 * Math.abs(l), `step ${i + 1}: reference ${l}, wasm ${wasm[0][i]}`));
  } finally {
    setBackend(previous);
  }
});
