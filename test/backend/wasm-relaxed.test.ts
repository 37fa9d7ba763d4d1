/**
 * The relaxed-SIMD build (FMA through f32x4.relaxed_madd). Node 20 has relaxed SIMD only behind
 * --experimental-wasm-relaxed-simd, so this file turns the V8 flag on for its own process before compiling.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import v8 from "node:v8";
import type { MatmulParams } from "../../src/backend/backend.ts";
import { referenceBackend as ref } from "../../src/backend/reference/index.ts";
import { detectFeatures } from "../../src/backend/wasm/index.ts";
import { Rng } from "../../src/tensor/random.ts";
import { THREAD_COUNTS, assertFixturesPass, assertNear, randomArray, wasmWithThreads } from "./wasm-helpers.ts";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd"); // must precede compilation; a no-op where it is standard
const available = detectFeatures().relaxedSimd;
const relaxedMissing = available ? false : "this Node has no relaxed SIMD, even with --experimental-wasm-relaxed-simd: run it on Node 20 or later";

for (const threads of THREAD_COUNTS) {
  test(`relaxed SIMD on ${threads} thread(s): matmul, attention, LayerNorm and GELU match the reference`, { skip: relaxedMissing }, async () => {
    const wasm = await wasmWithThreads(threads, true);
    assert.equal(wasm.simd, "relaxed");
    const rng = new Rng(51);
    for (const [m, n, k] of [[5, 7, 9], [130, 47, 257], [67, 300, 31]]) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const p: MatmulParams = { batch: 2, m, n, k, transA, transB, strideA: m * k, strideB: 0, accumulate: transA };
          const a = randomArray(2 * m * k, rng);
          const b = randomArray(k * n, rng);
          const expected = randomArray(2 * m * n, rng);
          const actual = expected.slice();
          ref.matmul(a, b, expected, p);
          wasm.matmul(a, b, actual, p);
          assertNear(actual, expected, 8e-6 * Math.sqrt(k), 1e-5, `matmul ${m}×${n}×${k} tA=${transA} tB=${transB}`);
        }
      }
    }
    const [batch, heads, nQ, nK, d] = [2, 3, 70, 150, 16];
    const q = randomArray(batch * heads * nQ * d, rng);
    const kk = randomArray(batch * heads * nK * d, rng);
    const v = randomArray(batch * heads * nK * d, rng);
    const keyMask = new Uint8Array(batch * nK).map((_, i) => (i % 7 === 3 ? 0 : 1));
    const p = { batch, heads, nQ, nK, dK: d, dV: d, scale: 0.25, causal: true, keyMask, additiveMask: null,
      additiveStrides: [0, 0, 0, 0] as [number, number, number, number] };
    const out = new Float32Array(batch * heads * nQ * d);
    const probs = new Float32Array(batch * heads * nQ * nK);
    ref.attention(q, kk, v, out, p, probs, null);
    const flash = new Float32Array(out.length);
    wasm.attention(q, kk, v, flash, p, null, null);
    assertNear(flash, out, 2e-6, 1e-5, "attention");
    const x = randomArray(37 * 129, rng, 3).map((t, i) => (i % 3 === 0 ? t + 1000 : t));
    const ln = [new Float32Array(x.length), new Float32Array(37), new Float32Array(37)];
    ref.layerNorm(x, null, null, ln[0], ln[1], ln[2], 37, 129, 1e-12);
    const lnActual = ln.map((t) => new Float32Array(t.length));
    wasm.layerNorm(x, null, null, lnActual[0], lnActual[1], lnActual[2], 37, 129, 1e-12);
    assertNear(lnActual[0], ln[0], 2e-6, 2e-6, "layerNorm");
    const g = new Float32Array(x.length);
    const gActual = new Float32Array(x.length);
    ref.unary("gelu", x.map((t) => t % 10), g);
    wasm.unary("gelu", x.map((t) => t % 10), gActual);
    assertNear(gActual, g, 1e-7, 5e-7, "gelu");
  });

  test(`relaxed SIMD on ${threads} thread(s): every PyTorch fixture case passes`, { skip: relaxedMissing }, async () => {
    assertFixturesPass(await wasmWithThreads(threads, true));
  });
}
