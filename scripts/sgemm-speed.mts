// Quick sgemm speed check (not a test): GFLOP/s of C = A·B for the reference backend and the wasm backend on
// 1 and 2 threads, SIMD128 and (when the engine has it) relaxed SIMD, interleaved round by round because timings
// on a shared machine swing by ±20%; prints the best and the median of each.
// Run: node --import tsx scripts/sgemm-speed.mts            (SIMD128 only on Node 20)
//      node --experimental-wasm-relaxed-simd --import tsx scripts/sgemm-speed.mts   (adds relaxed SIMD)
import type { Backend, MatmulParams } from "../src/backend/backend.ts";
import { referenceBackend } from "../src/backend/reference/index.ts";
import { detectFeatures, loadWasmBackend } from "../src/backend/wasm/index.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 5);

interface Shape {
  label: string;
  m: number;
  n: number;
  k: number;
  transB: boolean;
}

const shapes: Shape[] = [
  { label: "1024³", m: 1024, n: 1024, k: 1024, transB: false },
  { label: "960×128×128 (Linear, x·Wᵀ)", m: 960, n: 128, k: 128, transB: true },
];

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** GFLOP/s of one timed batch of products (enough repetitions for ≥ ~0.2 s). */
function measure(backend: Backend, s: Shape, a: Float32Array, b: Float32Array, c: Float32Array): number {
  const p: MatmulParams = { batch: 1, m: s.m, n: s.n, k: s.k, transA: false, transB: s.transB, strideA: 0, strideB: 0, accumulate: false };
  const flops = 2 * s.m * s.n * s.k;
  backend.matmul(a, b, c, p); // warm-up (and tier-up of the wasm code)
  let reps = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < 200 || reps < 2) {
    backend.matmul(a, b, c, p);
    reps++;
    elapsed = performance.now() - start;
  }
  return (flops * reps) / (elapsed / 1000) / 1e9;
}

const features = detectFeatures();
const contenders: { name: string; backend: Backend }[] = [];
for (const relaxed of features.relaxedSimd ? [false, true] : [false]) {
  for (const threads of [1, 2]) {
    const backend = await loadWasmBackend({ threads, relaxedSimd: relaxed });
    contenders.push({ name: `wasm ${backend.simd} ${backend.threads} thread${backend.threads > 1 ? "s" : ""}`, backend });
  }
}
if (!features.relaxedSimd) console.log("(relaxed SIMD not available: run node with --experimental-wasm-relaxed-simd to compare)");

for (const s of shapes) {
  const a = random(s.m * s.k);
  const b = random(s.k * s.n);
  const c = new Float32Array(s.m * s.n);
  const results = new Map<string, number[]>();
  const all = [{ name: "reference", backend: referenceBackend }, ...contenders];
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, backend } of all) {
      if (name === "reference" && round > 0 && s.m * s.n * s.k > 2e8) continue; // one slow round is enough
      const list = results.get(name) ?? [];
      list.push(measure(backend, s, a, b, c));
      results.set(name, list);
    }
  }
  console.log(`\n${s.label}`);
  for (const [name, list] of results) {
    const sorted = [...list].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(`  ${name.padEnd(26)} best ${Math.max(...list).toFixed(1).padStart(6)}  median ${median.toFixed(1).padStart(6)} GFLOP/s`);
  }
}
for (const { backend } of contenders) (backend as { dispose(): void } & Backend).dispose();
