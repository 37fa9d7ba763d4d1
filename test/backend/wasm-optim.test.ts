/**
 * The wasm Adam and weight-average kernels against the reference (bit for bit: both compute in double, in the same
 * order), on resident moments (`allocate`: WASM memory, updated in place) and on ordinary arrays, and the resident blocks themselves:
 * zeroed, in place, still valid after the memory grows, reused once freed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AdamStepParams } from "../../src/backend/backend.ts";
import { referenceBackend as ref } from "../../src/backend/reference/index.ts";
import { Arena } from "../../src/backend/wasm/arena.ts";
import { Rng } from "../../src/tensor/random.ts";
import { THREAD_COUNTS, randomArray, wasmWithThreads } from "./wasm-helpers.ts";

const ADAM: AdamStepParams = { beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 0.01, shrink: 1, stepSize: 1e-3 / (1 - 0.9 ** 3), rootC2: Math.sqrt(1 - 0.999 ** 3) };
const ADAMW: AdamStepParams = { ...ADAM, l2: 0, shrink: 1 - 1e-3 * 0.01 };

/** Bit patterns, so −0 ≠ 0 and NaN = NaN count. */
function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(Float32Array.from(x).buffer);
}

for (const threads of THREAD_COUNTS) {
  for (const [label, p] of [["Adam", ADAM], ["AdamW", ADAMW]] as const) {
    test(`${label} step on ${threads} thread(s): wasm gives the reference's bits, resident moments or not`, async () => {
      const wasm = await wasmWithThreads(threads);
      const rng = new Rng(threads * 7 + p.l2);
      for (const n of [3, 4099, 70_001]) { // below the WASM threshold, a ragged tail, split over threads
        for (const resident of [false, true]) {
          const w = randomArray(n, rng);
          const g = randomArray(n, rng, 0.1);
          const m0 = randomArray(n, rng, 0.01);
          const v0 = Float32Array.from(randomArray(n, rng, 0.01), Math.abs);
          const [wr, mr, vr] = [Float32Array.from(w), Float32Array.from(m0), Float32Array.from(v0)];
          ref.adamStep(wr, g, mr, vr, p);
          const m = resident ? wasm.allocate(n) : new Float32Array(n);
          const v = resident ? wasm.allocate(n) : new Float32Array(n);
          m.set(m0);
          v.set(v0);
          wasm.adamStep(w, g, m, v, p);
          const what = `n=${n}, ${resident ? "resident" : "ordinary"} moments`;
          assert.deepEqual(bits(w), bits(wr), `${what}: parameters`);
          assert.deepEqual(bits(m), bits(mr), `${what}: first moments`);
          assert.deepEqual(bits(v), bits(vr), `${what}: second moments`);
        }
      }
    });
  }
}

for (const threads of THREAD_COUNTS) {
  test(`weight-average step on ${threads} thread(s): wasm gives the reference's bits, resident shadow or not`, async () => {
    const wasm = await wasmWithThreads(threads);
    const rng = new Rng(threads * 11);
    for (const n of [5, 4099, 70_001]) { // below the WASM threshold, a ragged tail, split over threads
      for (const resident of [false, true]) {
        for (const decay of [0, 0.1, 0.995]) {
          const w = randomArray(n, rng);
          const start = randomArray(n, rng);
          const expected = Float32Array.from(start);
          ref.averageStep(expected, w, decay);
          const shadow = resident ? wasm.allocate(n) : new Float32Array(n);
          shadow.set(start);
          wasm.averageStep(shadow, w, decay);
          assert.deepEqual(bits(shadow), bits(expected), `n=${n}, ${resident ? "resident" : "ordinary"} shadow, decay ${decay}`);
          assert.ok(decay === 0 || shadow.some((x, i) => x !== w[i]), "the shadow moved towards w, not onto it");
        }
      }
    }
  });
}

for (const threads of THREAD_COUNTS) {
test(`allocate on ${threads} thread(s): zeros in WASM memory that kernels update in place, valid after the memory grows`, async () => {
  const wasm = await wasmWithThreads(threads);
  const m = wasm.allocate(5000);
  const v = wasm.allocate(5000);
  assert.ok(m.every((x) => x === 0) && v.every((x) => x === 0), "fresh blocks are zeros");
  assert.equal(m.buffer, v.buffer, "both live in the backend's memory");
  const before = wasm.memory.buffer.byteLength;
  // a product far larger than anything before makes the arena grow the memory
  const big = 1500;
  const a = new Float32Array(big * big).fill(1);
  const c = new Float32Array(big * big);
  wasm.matmul(a, a, c, { batch: 1, m: big, n: big, k: big, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: false });
  assert.ok(wasm.memory.buffer.byteLength > before, "the memory grew");
  const w = new Float32Array(5000).fill(1);
  const g = new Float32Array(5000).fill(0.5);
  wasm.adamStep(w, g, m, v, ADAMW);
  assert.ok(Math.abs(m[0] - 0.05) < 1e-7, `the kernel wrote the old view in place: m[0] = ${m[0]}`);
  // the product left its operands (ones) and result in the arena; a block reserved over them must still read zeros,
  // and one reaching past them into never-used memory too (a block this large is zeroed by every thread)
  const over = wasm.allocate(3 * big * big);
  assert.equal(over.findIndex((x) => x !== 0), -1, "a block over bytes a call used is zeroed");
  assert.ok(Math.abs(v[4999] - 0.00025) < 1e-9, `v[4999] = ${v[4999]}`);
});
}

test("resident blocks: reserved below the arena, which moves up; given back when the topmost is freed", () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 64, shared: true });
  const arena = new Arena(memory, 1024, 64 * 65536);
  arena.alloc(192); // a call's operands: those bytes now hold values
  arena.reset();
  const { at: first, dirtyBytes } = arena.reserve(256);
  assert.equal(dirtyBytes, 192, "a block knows which of its bytes a call has used (the rest is still zero)");
  const { at: second, dirtyBytes: clean } = arena.reserve(128);
  assert.equal(second, first + 256);
  assert.equal(clean, 0);
  arena.reset();
  assert.ok(arena.alloc(64) >= second + 128, "the arena allocates above every reserved block");
  assert.equal(arena.unreserve(first, 256), false, "a block below another cannot go back to the arena");
  assert.equal(arena.unreserve(second, 128), true);
  arena.reset();
  assert.equal(arena.alloc(64), second, "the arena reuses the freed top block");
  const view = arena.residentView(first, 4);
  assert.equal(arena.pointerOf(view), first);
  assert.equal(arena.pointerOf(new Float32Array(4)), -1, "an ordinary array is not in the memory");
});
