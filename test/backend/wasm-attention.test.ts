/** The wasm fused attention and its backward against the reference: shapes, masks, causal, fully masked rows. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AttentionParams } from "../../src/backend/backend.ts";
import { referenceBackend as ref } from "../../src/backend/reference/index.ts";
import { Rng } from "../../src/tensor/random.ts";
import { broadcastStrides } from "../../src/tensor/shape.ts";
import { THREAD_COUNTS, assertNear, assertNoNaN, randomArray, wasmWithThreads } from "./wasm-helpers.ts";

interface Case extends Pick<AttentionParams, "batch" | "heads" | "nQ" | "nK" | "dK" | "dV"> {
  label: string;
  causal?: boolean;
  /** Which keys of which batch entry are masked (0). */
  keyMask?: (b: number, j: number) => boolean;
  /** Additive mask shape, broadcast to (batch, heads, nQ, nK). */
  additive?: [number, number, number, number];
  scale?: number;
}

const CASES: Case[] = [
  { label: "tiny, odd sizes", batch: 2, heads: 3, nQ: 5, nK: 7, dK: 4, dV: 6 },
  { label: "one query, one key", batch: 1, heads: 1, nQ: 1, nK: 1, dK: 3, dV: 2 },
  { label: "nQ ≠ nK, across flash blocks", batch: 1, heads: 2, nQ: 130, nK: 200, dK: 16, dV: 8 },
  { label: "causal across a query block", batch: 2, heads: 2, nQ: 70, nK: 70, dK: 8, dV: 12, causal: true },
  { label: "causal, nQ > nK", batch: 1, heads: 2, nQ: 9, nK: 6, dK: 5, dV: 3, causal: true },
  { label: "key padding", batch: 3, heads: 2, nQ: 11, nK: 13, dK: 8, dV: 8, keyMask: (b, j) => j >= 13 - 4 * b },
  { label: "a batch entry with every key masked", batch: 2, heads: 2, nQ: 6, nK: 9, dK: 4, dV: 5, keyMask: (b) => b === 1 },
  { label: "causal + first key masked: query 0 sees nothing", batch: 1, heads: 3, nQ: 8, nK: 8, dK: 4, dV: 4, causal: true, keyMask: (_b, j) => j === 0 },
  { label: "additive (batch, 1, 1, nK), unscaled", batch: 2, heads: 3, nQ: 7, nK: 10, dK: 6, dV: 4, additive: [2, 1, 1, 10], scale: 1 },
  { label: "additive (nQ, nK) over batch and heads", batch: 2, heads: 2, nQ: 9, nK: 131, dK: 4, dV: 4, additive: [1, 1, 9, 131] },
  { label: "additive full + padding + causal", batch: 2, heads: 2, nQ: 12, nK: 12, dK: 8, dV: 8, additive: [2, 2, 12, 12], causal: true, keyMask: (b, j) => b === 0 && j % 5 === 4 },
  { label: "additive per (batch, head, query), broadcast over keys", batch: 2, heads: 2, nQ: 5, nK: 6, dK: 4, dV: 4, additive: [2, 2, 5, 1] },
  // large enough (> 4 MFLOP) to split the (batch, head) pairs across threads
  { label: "large, padded", batch: 3, heads: 3, nQ: 150, nK: 140, dK: 16, dV: 16, keyMask: (b, j) => j >= 140 - 30 * b },
  { label: "large, causal + additive", batch: 2, heads: 3, nQ: 140, nK: 140, dK: 16, dV: 8, causal: true, additive: [2, 1, 140, 140] },
];

/** Inputs and parameters for a case. */
function setUp(c: Case, rng: Rng): { q: Float32Array; k: Float32Array; v: Float32Array; p: AttentionParams } {
  const pairs = c.batch * c.heads;
  let keyMask: Uint8Array | null = null;
  if (c.keyMask) {
    keyMask = new Uint8Array(c.batch * c.nK);
    for (let b = 0; b < c.batch; b++) for (let j = 0; j < c.nK; j++) keyMask[b * c.nK + j] = c.keyMask(b, j) ? 0 : 1;
  }
  let additiveMask: Float32Array | null = null;
  let additiveStrides: [number, number, number, number] = [0, 0, 0, 0];
  if (c.additive) {
    additiveMask = randomArray(c.additive.reduce((x, y) => x * y, 1), rng, 2);
    for (let i = 0; i < additiveMask.length; i += 7) additiveMask[i] = -Infinity; // some keys masked additively too
    additiveStrides = broadcastStrides(c.additive, [c.batch, c.heads, c.nQ, c.nK]) as [number, number, number, number];
  }
  return {
    q: randomArray(pairs * c.nQ * c.dK, rng),
    k: randomArray(pairs * c.nK * c.dK, rng),
    v: randomArray(pairs * c.nK * c.dV, rng),
    p: { batch: c.batch, heads: c.heads, nQ: c.nQ, nK: c.nK, dK: c.dK, dV: c.dV, scale: c.scale ?? 1 / Math.sqrt(c.dK),
      causal: c.causal ?? false, keyMask, additiveMask, additiveStrides },
  };
}

for (const threads of THREAD_COUNTS) {
  test(`attention on ${threads} thread(s): output, probabilities and scores match the reference`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(21);
    for (const c of CASES) {
      const { q, k, v, p } = setUp(c, rng);
      const pairs = c.batch * c.heads;
      const out = new Float32Array(pairs * c.nQ * c.dV);
      const probs = new Float32Array(pairs * c.nQ * c.nK);
      const scores = new Float32Array(pairs * c.nQ * c.nK);
      ref.attention(q, k, v, out, p, probs, scores);
      // with probabilities and scores (the full path)
      const out1 = new Float32Array(out.length).fill(NaN);
      const probs1 = new Float32Array(probs.length).fill(NaN);
      const scores1 = new Float32Array(scores.length).fill(NaN);
      wasm.attention(q, k, v, out1, p, probs1, scores1);
      assertNear(out1, out, 2e-6, 1e-5, `${c.label}: out (with probs)`);
      assertNear(probs1, probs, 1e-7, 1e-5, `${c.label}: probs`);
      assertNear(scores1, scores, 2e-6, 1e-5, `${c.label}: scores`);
      // without probabilities (the flash path with the online softmax)
      const out2 = new Float32Array(out.length).fill(NaN);
      wasm.attention(q, k, v, out2, p, null, null);
      if (c.label.startsWith("large")) assert.equal(wasm.lastCallThreads, threads, c.label);
      assertNear(out2, out, 2e-6, 1e-5, `${c.label}: out (online softmax)`);
      assertNoNaN(out2, `${c.label}: out (online softmax)`);
      // scores alone
      const scores3 = new Float32Array(scores.length).fill(NaN);
      wasm.attention(q, k, v, out2, p, null, scores3);
      assertNear(scores3, scores, 2e-6, 1e-5, `${c.label}: scores without probs`);
    }
  });

  test(`attention backward on ${threads} thread(s) matches the reference, with and without dScores`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(22);
    for (const c of CASES) {
      const { q, k, v, p } = setUp(c, rng);
      const pairs = c.batch * c.heads;
      const probs = new Float32Array(pairs * c.nQ * c.nK);
      ref.attention(q, k, v, new Float32Array(pairs * c.nQ * c.dV), p, probs, null);
      const dOut = randomArray(pairs * c.nQ * c.dV, rng);
      const expected = [q, k, v, probs].map((x) => new Float32Array(x.length));
      ref.attentionBackward(q, k, v, probs, dOut, expected[0], expected[1], expected[2], p, expected[3]);
      const actual = expected.map((x) => new Float32Array(x.length).fill(NaN));
      wasm.attentionBackward(q, k, v, probs, dOut, actual[0], actual[1], actual[2], p, actual[3]);
      const names = ["dq", "dk", "dv", "dScores"];
      for (let i = 0; i < 4; i++) assertNear(actual[i], expected[i], 5e-6, 1e-4, `${c.label}: ${names[i]}`);
      // only some gradients asked for
      const dv = new Float32Array(v.length).fill(NaN);
      wasm.attentionBackward(q, k, v, probs, dOut, null, null, dv, p, null);
      assertNear(dv, expected[2], 5e-6, 1e-4, `${c.label}: dv alone`);
      const dk = new Float32Array(k.length).fill(NaN);
      wasm.attentionBackward(q, k, v, probs, dOut, null, dk, null, p, null);
      assertNear(dk, expected[1], 5e-6, 1e-4, `${c.label}: dk alone`);
    }
  });
}

test("a fully masked query row gives zeros and zero probabilities, never NaN, on both paths", async () => {
  const wasm = await wasmWithThreads(2);
  const rng = new Rng(23);
  const c = CASES.find((x) => x.label.startsWith("causal + first key masked"))!;
  const { q, k, v, p } = setUp(c, rng);
  const out = new Float32Array(c.heads * c.nQ * c.dV).fill(NaN);
  const probs = new Float32Array(c.heads * c.nQ * c.nK).fill(NaN);
  wasm.attention(q, k, v, out, p, probs, null);
  const flash = new Float32Array(out.length).fill(NaN);
  wasm.attention(q, k, v, flash, p, null, null);
  for (let h = 0; h < c.heads; h++) {
    for (let d = 0; d < c.dV; d++) {
      assert.equal(out[h * c.nQ * c.dV + d], 0);
      assert.equal(flash[h * c.nQ * c.dV + d], 0);
    }
    for (let j = 0; j < c.nK; j++) assert.equal(probs[h * c.nQ * c.nK + j], 0);
  }
  assertNoNaN(out, "out");
  assertNoNaN(flash, "flash out");
});

test("attention memory stays bounded by the inputs without probabilities (no nQ×nK buffer)", async () => {
  const wasm = await wasmWithThreads(1);
  const rng = new Rng(24);
  const c: Case = { label: "long", batch: 1, heads: 1, nQ: 2048, nK: 2048, dK: 16, dV: 16 };
  const { q, k, v, p } = setUp(c, rng);
  wasm.attention(q, k, v, new Float32Array(c.nQ * c.dV), p, null, null);
  // an nQ×nK float buffer alone would be 16 MiB; inputs, output and the per-thread blocks take ~2 MiB
  assert.ok(wasm.lastCallBytes < 4 * 2 ** 20, `the call used ${wasm.lastCallBytes} bytes`);
  wasm.attention(q, k, v, new Float32Array(c.nQ * c.dV), p, new Float32Array(c.nQ * c.nK), null);
  assert.ok(wasm.lastCallBytes > 16 * 2 ** 20, "with probabilities the n×n buffer is there");
});

/** (batch, heads, n, d) → (batch, n, heads, d), or back with `inverse`. */
function swapHeadsAndTokens(x: Float32Array, batch: number, heads: number, n: number, d: number, inverse = false): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < n; i++) {
        const headsFirst = ((b * heads + h) * n + i) * d;
        const tokensFirst = ((b * n + i) * heads + h) * d;
        for (let c = 0; c < d; c++) {
          if (inverse) out[headsFirst + c] = x[tokensFirst + c];
          else out[tokensFirst + c] = x[headsFirst + c];
        }
      }
    }
  }
  return out;
}

for (const threads of THREAD_COUNTS) {
  test(`token-major attention (heads read in place) on ${threads} thread(s) gives the same bits as the usual layout, on both backends`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(23);
    for (const c of CASES) {
      const { q, k, v, p } = setUp(c, rng);
      const pairs = c.batch * c.heads;
      const tq = swapHeadsAndTokens(q, c.batch, c.heads, c.nQ, c.dK);
      const tk = swapHeadsAndTokens(k, c.batch, c.heads, c.nK, c.dK);
      const tv = swapHeadsAndTokens(v, c.batch, c.heads, c.nK, c.dV);
      for (const [name, backend] of [["reference", ref], ["wasm", wasm]] as const) {
        for (const withProbs of [false, true]) { // the wasm kernel's two paths: online softmax, and probabilities kept
          const out = new Float32Array(pairs * c.nQ * c.dV);
          const probs = withProbs ? new Float32Array(pairs * c.nQ * c.nK) : null;
          backend.attention(q, k, v, out, p, probs, null);
          const tOut = new Float32Array(out.length).fill(NaN);
          const tProbs = withProbs ? new Float32Array(pairs * c.nQ * c.nK).fill(NaN) : null;
          backend.attention(tq, tk, tv, tOut, { ...p, tokenMajor: true }, tProbs, null);
          const what = `${name}, ${c.label}${withProbs ? ", with probabilities" : ""}`;
          assert.deepEqual(swapHeadsAndTokens(tOut, c.batch, c.heads, c.nQ, c.dV, true), out, `${what}: output`);
          if (probs) assert.deepEqual(tProbs, probs, `${what}: probabilities keep the (batch, heads, nQ, nK) layout`);
        }
      }
    }
  });
}

for (const threads of THREAD_COUNTS) {
  test(`token-major attention backward on ${threads} thread(s): dQ, dK, dV in place, the same bits as the usual layout, on both backends`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(29);
    for (const c of CASES) {
      const { q, k, v, p } = setUp(c, rng);
      const pairs = c.batch * c.heads;
      const dOut = randomArray(pairs * c.nQ * c.dV, rng);
      const toTokens = (x: Float32Array, n: number, d: number): Float32Array => swapHeadsAndTokens(x, c.batch, c.heads, n, d);
      const toHeads = (x: Float32Array, n: number, d: number): Float32Array => swapHeadsAndTokens(x, c.batch, c.heads, n, d, true);
      for (const [name, backend] of [["reference", ref], ["wasm", wasm]] as const) {
        const probs = new Float32Array(pairs * c.nQ * c.nK);
        backend.attention(q, k, v, new Float32Array(pairs * c.nQ * c.dV), p, probs, null);
        const grads = (): [Float32Array, Float32Array, Float32Array, Float32Array] => [
          new Float32Array(q.length).fill(NaN), new Float32Array(k.length).fill(NaN), new Float32Array(v.length).fill(NaN), new Float32Array(probs.length).fill(NaN),
        ];
        const usual = grads();
        backend.attentionBackward(q, k, v, probs, dOut, usual[0], usual[1], usual[2], p, usual[3]);
        const tokenMajor = grads();
        backend.attentionBackward(toTokens(q, c.nQ, c.dK), toTokens(k, c.nK, c.dK), toTokens(v, c.nK, c.dV), probs, toTokens(dOut, c.nQ, c.dV),
          tokenMajor[0], tokenMajor[1], tokenMajor[2], { ...p, tokenMajor: true }, tokenMajor[3]);
        const what = `${name}, ${c.label}`;
        assert.deepEqual(toHeads(tokenMajor[0], c.nQ, c.dK), usual[0], `${what}: dQ`);
        assert.deepEqual(toHeads(tokenMajor[1], c.nK, c.dK), usual[1], `${what}: dK`);
        assert.deepEqual(toHeads(tokenMajor[2], c.nK, c.dV), usual[2], `${what}: dV`);
        assert.deepEqual(tokenMajor[3], usual[3], `${what}: dScores keep the (batch, heads, nQ, nK) layout`);
        assert.ok(usual[0].some((x) => x !== 0) || c.nK === 1, `${what}: dQ is not all zeros`);
      }
    }
  });
}
