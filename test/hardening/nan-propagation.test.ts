/** A NaN score must come out as NaN (as in PyTorch), never be mistaken for a fully masked row of zeros. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { getBackend, setBackend } from "../../src/backend/registry.ts";
import { loadWasmBackend } from "../../src/backend/wasm/index.ts";
import { Tensor, ops } from "../../src/tensor/index.ts";

test("attention propagates NaN and still gives zeros for fully masked rows, on both backends", async () => {
  const wasm = await loadWasmBackend({ threads: 1 });
  const previous = getBackend().name;
  try {
    for (const name of ["reference", "wasm"]) {
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
  } finally {
    setBackend(previous);
    wasm.dispose();
  }
});
