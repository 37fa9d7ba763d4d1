/**
 * A NaN must come out as NaN (as in PyTorch), never be mistaken for a fully masked row of zeros: in the softmax
 * ops themselves and on both attention paths (fused, and step by step under a Trace), on both backends.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { getBackend, setBackend } from "../../src/backend/registry.ts";
import type { WasmBackend } from "../../src/backend/wasm/wasm-backend.ts";
import { loadWasmBackend } from "../../src/backend/wasm/index.ts";
import { MultiHeadAttention, Trace, maskFromLengths } from "../../src/nn/index.ts";
import { Rng, Tensor, ops } from "../../src/tensor/index.ts";

const BACKENDS = ["reference", "wasm"];
// 3: only the scalar tail of the wasm row loops; 4 and 8: only the 4-wide part; 5: both
const WIDTHS = [3, 4, 5, 8];

let wasm: WasmBackend;
let previous: string;
before(async () => {
  previous = getBackend().name;
  wasm = await loadWasmBackend({ threads: 1 });
});
after(() => {
  setBackend(previous);
  wasm.dispose();
});

/** Rows of width `cols`, each given as a function of the column index. */
function rows(cols: number, ...makers: ((j: number) => number)[]): Tensor {
  return new Tensor(Float32Array.from(makers.flatMap((f) => Array.from({ length: cols }, (_, j) => f(j)))), [makers.length, cols]);
}

test("softmax and logSoftmax: a row holding NaN gives NaN, a fully masked row gives zeros / −∞, on both backends", () => {
  for (const name of BACKENDS) {
    setBackend(name);
    for (const cols of WIDTHS) {
      const x = rows(cols,
        () => Number.NaN, // all NaN
        (j) => (j === 0 ? Number.NaN : -Infinity), // NaN among masked entries, in the 4-wide part when cols ≥ 4
        (j) => (j === cols - 1 ? Number.NaN : -Infinity), // NaN among masked entries, in the tail when cols % 4 ≠ 0
        (j) => (j === 1 ? Number.NaN : j), // NaN among ordinary scores
        () => -Infinity, // fully masked on purpose
        (j) => (j === 0 ? -Infinity : j)); // one key masked
      const at = `${name}, ${cols} columns`;
      const p = ops.softmax(x).data;
      const logP = ops.logSoftmax(x).data;
      for (let r = 0; r < 4; r++) {
        assert.ok(p.subarray(r * cols, (r + 1) * cols).every(Number.isNaN), `${at}: softmax row ${r} is NaN, got ${p.subarray(r * cols, (r + 1) * cols).join(", ")}`);
        assert.ok(logP.subarray(r * cols, (r + 1) * cols).every(Number.isNaN), `${at}: logSoftmax row ${r} is NaN`);
      }
      assert.ok(p.subarray(4 * cols, 5 * cols).every((v) => v === 0), `${at}: fully masked row gives zeros`);
      assert.ok(logP.subarray(4 * cols, 5 * cols).every((v) => v === -Infinity), `${at}: fully masked row gives −∞`);
      const last = p.subarray(5 * cols);
      assert.equal(last[0], 0, `${at}: a masked key gets exactly 0`);
      assert.ok(Math.abs(last.reduce((s, v) => s + v, 0) - 1) < 1e-6, `${at}: the rest sums to 1`);
    }
  }
});

test("scaledDotProductAttention propagates NaN and still gives zeros for fully masked rows, on both backends", () => {
  for (const name of BACKENDS) {
    setBackend(name);
    const q = new Tensor(Float32Array.from([Number.NaN, 1, 0, 1, 1, 0, 2, 2]), [1, 1, 4, 2]);
    const k = new Tensor(Float32Array.from([1, 1, 0, 1, 1, 0]), [1, 1, 3, 2]);
    for (const needWeights of [false, true]) {
      const out = ops.scaledDotProductAttention(q, k, k, { needWeights }).output.data;
      assert.ok(Number.isNaN(out[0]) && Number.isNaN(out[1]), `${name} (weights ${needWeights}): NaN row`);
      assert.ok(out.subarray(2).every(Number.isFinite), `${name}: other rows finite`);
      const masked = ops.scaledDotProductAttention(q, k, k, { needWeights, keyMask: { shape: [1, 3], data: new Uint8Array(3) } }).output.data;
      assert.ok(masked.subarray(2).every((v) => v === 0), `${name}: fully masked rows are zeros`);
    }
  }
});

test("multi-head attention with a NaN weight gives NaN on the fused and the step-by-step path, on both backends", () => {
  for (const name of BACKENDS) {
    setBackend(name);
    for (const n of WIDTHS) {
      const mha = new MultiHeadAttention({ dModel: 8, heads: 2, rng: new Rng(1) });
      mha.kProj.weight.data[0] = Number.NaN; // every key of head 0 gets a NaN component: all its scores are NaN
      const x = new Tensor(Float32Array.from({ length: 2 * n * 8 }, (_, i) => Math.sin(i)), [2, n, 8]);
      const mask = maskFromLengths([n, 0], n); // the second sequence is all padding: masked on purpose
      for (const trace of [undefined, new Trace()]) {
        const at = `${name}, n = ${n}, ${trace ? "step by step" : "fused"}`;
        const out = mha.forward(x, { attentionMask: mask, trace }).output.data;
        assert.ok(out.subarray(0, n * 8).every(Number.isNaN), `${at}: the unmasked sequence is NaN, got ${out[0]}`);
        // every key masked: zeros from attention, so the output is out_proj's bias alone
        assert.deepEqual(Array.from(out.subarray(n * 8, n * 8 + 8)), Array.from(mha.outProj.bias!.data), `${at}: masked row`);
        if (trace) {
          const weights = trace.get("weights")!.data;
          assert.ok(weights.subarray(0, n * n).every(Number.isNaN), `${at}: head 0's weights are NaN`);
        }
      }
    }
  }
});
