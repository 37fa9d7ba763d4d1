/** Loading the wasm backend: feature detection, registration, thread counts, private memory, dispose, process exit. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { referenceBackend as ref } from "../../src/backend/reference/index.ts";
import { getBackend, listBackends, setBackend } from "../../src/backend/registry.ts";
import { detectFeatures, loadWasmBackend, useFastestBackend, wasmThreads } from "../../src/backend/wasm/index.ts";
import { compileKernels, makeMemoryPrivate } from "../../src/backend/wasm/loader.ts";
import { WASM_KERNELS } from "../../src/backend/wasm/generated/kernels.ts";
import { Rng } from "../../src/tensor/random.ts";
import { assertNear, randomArray } from "./wasm-helpers.ts";

test("Node has WASM SIMD and shared memory (relaxed SIMD depends on the version and flags)", () => {
  const f = detectFeatures();
  assert.equal(f.simd, true);
  assert.equal(f.sharedMemory, true);
  assert.equal(typeof f.relaxedSimd, "boolean");
});

test("loadWasmBackend registers \"wasm\" and reports its threads and SIMD build", async () => {
  const wasm = await loadWasmBackend({ threads: 2 });
  try {
    assert.equal(wasm.name, "wasm");
    assert.equal(wasm.threads, 2);
    assert.equal(wasmThreads(), 2);
    assert.equal(wasm.simd, detectFeatures().relaxedSimd ? "relaxed" : "simd128");
    assert.ok(listBackends().includes("wasm"));
    const forced = await loadWasmBackend({ threads: 1, relaxedSimd: false });
    assert.equal(forced.simd, "simd128");
    assert.equal(forced.threads, 1);
    forced.dispose();
  } finally {
    wasm.dispose();
  }
});

test("useFastestBackend makes wasm current and returns its name", async () => {
  const previous = getBackend().name;
  try {
    assert.equal(await useFastestBackend({ threads: 1 }), "wasm");
    assert.equal(getBackend().name, "wasm");
  } finally {
    (getBackend() as { dispose?: () => void }).dispose?.();
    setBackend(previous);
  }
});

test("without shared memory the kernels run single-threaded on a private memory", async () => {
  const wasm = await loadWasmBackend({ threads: 4, sharedMemory: false });
  assert.equal(wasm.threads, 1);
  assert.ok(!(wasm.memory.buffer instanceof SharedArrayBuffer));
  const rng = new Rng(41);
  const a = randomArray(300 * 200, rng);
  const b = randomArray(200 * 100, rng);
  const expected = new Float32Array(300 * 100);
  const actual = new Float32Array(300 * 100);
  const p = { batch: 1, m: 300, n: 100, k: 200, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: false };
  ref.matmul(a, b, expected, p);
  wasm.matmul(a, b, actual, p); // 12 MFLOP: grows the private memory (its ArrayBuffer is replaced)
  assertNear(actual, expected, 1e-4, 1e-5, "matmul on a private memory");
  wasm.dispose();
});

test("makeMemoryPrivate flips only the memory import's shared flag", async () => {
  const bytes = Uint8Array.from(atob(WASM_KERNELS.simd128), (ch) => ch.charCodeAt(0));
  const patched = bytes.slice();
  makeMemoryPrivate(patched);
  const changed = patched.reduce((n, v, i) => n + (v !== bytes[i] ? 1 : 0), 0);
  assert.equal(changed, 1);
  const module = await compileKernels("simd128", false);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  await WebAssembly.instantiate(module, { env: { memory } }); // a private memory is accepted
  const shared = await compileKernels("simd128", true);
  await assert.rejects(WebAssembly.instantiate(shared, { env: { memory } })); // and the shared build refuses it
});

test("after dispose() the backend keeps computing on one thread", async () => {
  const wasm = await loadWasmBackend({ threads: 2 });
  wasm.dispose();
  assert.equal(wasm.threads, 1);
  const rng = new Rng(42);
  const a = randomArray(256 * 256, rng);
  const expected = new Float32Array(256 * 256);
  const actual = new Float32Array(256 * 256);
  const p = { batch: 1, m: 256, n: 256, k: 256, transA: true, transB: false, strideA: 0, strideB: 0, accumulate: false };
  ref.matmul(a, a, expected, p);
  wasm.matmul(a, a, actual, p);
  assertNear(actual, expected, 1e-4, 1e-5, "matmul after dispose");
});

test("idle worker threads do not keep a Node process alive", () => {
  // a child loads 2 threads, computes, and returns without dispose(): it must exit by itself
  const script = [
    "import { loadWasmBackend } from './src/backend/wasm/index.ts';",
    "const w = await loadWasmBackend({ threads: 2 });",
    "const a = new Float32Array(256 * 256).fill(1);",
    "const c = new Float32Array(256 * 256);",
    "w.matmul(a, a, c, { batch: 1, m: 256, n: 256, k: 256, transA: false, transB: false, strideA: 0, strideB: 0, accumulate: false });",
    "console.log(w.threads, c[0]);",
  ].join("\n");
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 30000, // a hang guard, not a timing: a kept-alive process would never exit
  });
  assert.equal(child.error, undefined, `child did not exit: ${child.error?.message}`);
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), "2 256");
});
