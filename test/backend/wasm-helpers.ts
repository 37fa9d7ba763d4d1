/**
 * Shared helpers of the wasm backend tests: seeded inputs, a tolerance check, backends on 1 and 2 threads, and
 * the PyTorch fixtures run on one of them.
 */
import assert from "node:assert/strict";
import { after } from "node:test";
import { getBackend, registerBackend, setBackend } from "../../src/backend/registry.ts";
import { type LoadedWasmBackend, loadWasmBackend } from "../../src/backend/wasm/index.ts";
import { runParity } from "../../src/parity/runner.ts";
import { Rng } from "../../src/tensor/random.ts";

/** n values from N(0, scale²), seeded. */
export function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere (Infinity and NaN must match exactly), naming
 * the first offending index and the case.
 */
export function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number,
  what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
      assert.fail(`${what}[${i}]: ${a} vs expected ${e}`);
    }
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) assert.fail(`${what}[${i}]: ${a} vs expected ${e}`);
  }
}

/** Asserts no element is NaN. */
export function assertNoNaN(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) assert.fail(`${what}[${i}] is NaN`);
}

/** The thread counts every kernel test runs on. */
export const THREAD_COUNTS = [1, 2] as const;

const cache = new Map<string, Promise<LoadedWasmBackend>>();

/**
 * A wasm backend with this many threads, loaded once per test file and disposed after it; the SIMD128 build
 * unless `relaxed` (which needs the engine's relaxed SIMD).
 */
export function wasmWithThreads(threads: number, relaxed = false): Promise<LoadedWasmBackend> {
  const key = `${threads} ${relaxed}`;
  let backend = cache.get(key);
  if (!backend) {
    backend = loadWasmBackend({ threads, relaxedSimd: relaxed });
    cache.set(key, backend);
  }
  return backend;
}

/**
 * Registers `wasm` as "wasm", makes it current, asserts that every case of test/fixtures/pytorch (at least 30) passes
 * and compares something, then restores the previous backend.
 */
export function assertFixturesPass(wasm: LoadedWasmBackend): void {
  registerBackend(wasm); // the "wasm" name now means this one
  const previous = getBackend().name;
  setBackend("wasm");
  try {
    const results = runParity("test/fixtures/pytorch");
    assert.ok(results.length >= 30, `only ${results.length} cases`);
    for (const r of results) {
      const bad = r.compared.filter((c) => !(c.worst <= 1)).map((c) => `${c.name}: ${c.worst}`);
      assert.ok(r.passed, `${r.case}: ${r.error ?? ""} ${bad.join("; ")}`);
      assert.ok(r.compared.length > 0, `${r.case} compared nothing`);
    }
  } finally {
    setBackend(previous);
  }
  assert.equal(getBackend().name, previous);
}

after(async () => {
  for (const backend of cache.values()) (await backend).dispose();
});
