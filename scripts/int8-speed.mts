// Quick int8 product speed check (not a test): GOP/s (2 ops per multiply-add) of out = int8(x) · Wᵀ for the wasm
// backend on 1 and 2 threads in the relaxed-SIMD and SIMD128 builds, with the float32 product of the same shape
// beside it, interleaved round by round because timings on a shared machine swing by ±20 %.
// Run: node --experimental-wasm-relaxed-simd --import tsx scripts/int8-speed.mts
import type { Backend, MatmulParams } from "../src/backend/backend.ts";
import { detectFeatures, loadWasmBackend } from "../src/backend/wasm/index.ts";
import { quantizeWeight } from "../src/nn/quantize.ts";
import { Tensor } from "../src/tensor/tensor.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
/** W1's Linear shapes: 8×128 tokens through d384 → 384 (attention) and 384 → 1536 → 384 (FFN). */
const shapes = [
  { label: "1024×384 · 384×1536", rows: 1024, k: 384, n: 1536 },
  { label: "1024×1536 · 1536×384", rows: 1024, k: 1536, n: 384 },
  { label: "1024×384 · 384×384", rows: 1024, k: 384, n: 384 },
];

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** Seconds per call of `run`, timed over ≥ 0.2 s after one warm-up call. */
function secondsPerCall(run: () => void): number {
  run();
  let reps = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < 200 || reps < 2) {
    run();
    reps++;
    elapsed = performance.now() - start;
  }
  return elapsed / 1000 / reps;
}

const features = detectFeatures();
const contenders: { name: string; backend: Backend }[] = [];
for (const relaxed of features.relaxedSimd ? [true, false] : [false]) {
  for (const threads of [1, 2]) {
    const backend = await loadWasmBackend({ threads, relaxedSimd: relaxed });
    contenders.push({ name: `${backend.simd} ${threads} thr`, backend });
  }
}
if (!features.relaxedSimd) console.log("(relaxed SIMD not available: run node with --experimental-wasm-relaxed-simd)");

for (const s of shapes) {
  const x = random(s.rows * s.k);
  const weight = random(s.n * s.k);
  const bias = random(s.n);
  const q = quantizeWeight(new Tensor(weight, [s.n, s.k]));
  const out = new Float32Array(s.rows * s.n);
  const ops = 2 * s.rows * s.n * s.k;
  const p: MatmulParams = { batch: 1, m: s.rows, n: s.n, k: s.k, transA: false, transB: true, strideA: 0, strideB: 0, accumulate: false };
  const results = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, backend } of contenders) {
      for (const [kind, run] of [
        ["int8", () => backend.matmulInt8(x, q, bias, out, s.rows)],
        ["f32", () => backend.matmul(x, weight, out, p)],
      ] as const) {
        const key = `${name} ${kind}`;
        const list = results.get(key) ?? [];
        list.push(ops / secondsPerCall(run) / 1e9);
        results.set(key, list);
      }
    }
  }
  console.log(`\n${s.label}`);
  for (const [name, list] of results) {
    const sorted = [...list].sort((a, b) => a - b);
    console.log(`  ${name.padEnd(24)} best ${Math.max(...list).toFixed(1).padStart(6)}  median ${sorted[Math.floor(sorted.length / 2)].toFixed(1).padStart(6)} GOP/s`);
  }
}
for (const { backend } of contenders) (backend as { dispose(): void } & Backend).dispose();
