/**
 * The fast backend: WASM SIMD kernels with worker threads.
 *
 * ```ts
 * import { useFastestBackend } from "./backend/wasm/index.ts";
 * await useFastestBackend();            // "wasm" when the engine supports it, else stays on "reference"
 * ```
 *
 * Relaxed SIMD (FMA) needs `node --experimental-wasm-relaxed-simd` on Node 20 (browsers have it); without it the
 * SIMD128 build runs. Threads need SharedArrayBuffer: always in Node; in browsers only on cross-origin isolated
 * pages (COOP `same-origin` + COEP `require-corp`), else the backend runs single-threaded. On a browser's main
 * thread the fork-join spins instead of blocking (Atomics.wait is not allowed there); running tsformer inside a
 * Web Worker avoids that.
 */
import { getBackend, registerBackend, setBackend } from "../registry.ts";
import { THREADED_KERNELS, type KernelHelpers } from "./kernel-exports.ts";
import { type SimdFlavour, compileKernels, createMemory, detectFeatures } from "./loader.ts";
import { type KernelFunction, ThreadPool, isNode } from "./pool.ts";
import { WasmBackend } from "./wasm-backend.ts";

export type { SimdFlavour, WasmFeatures } from "./loader.ts";
export { detectFeatures } from "./loader.ts";

/** Options of `loadWasmBackend`. */
export interface WasmBackendOptions {
  /** Threads, the calling one included (default: every core); 1 = no workers. Clamped to 1 without shared memory. */
  threads?: number;
  /** Use the relaxed-SIMD build when the engine has it (default true); false forces SIMD128. */
  relaxedSimd?: boolean;
  /**
   * Use a shared memory and worker threads when the engine allows (default true); false runs single-threaded on a
   * private memory, as on a page without cross-origin isolation.
   */
  sharedMemory?: boolean;
}

/**
 * The loaded wasm backend: a Backend plus `threads` (effective thread count), `simd` ("relaxed" or "simd128"),
 * its `memory`, `lastCallBytes` and `lastCallThreads` (diagnostics), `erf` (the kernels' float32 erf, for tests) and `dispose()` (stops the workers).
 */
export type LoadedWasmBackend = WasmBackend;

const INITIAL_PAGES = 256; // 16 MiB; grown on demand

let loaded: WasmBackend | null = null;

/** Cores available to this process (Node) or page (browser). */
async function defaultThreads(): Promise<number> {
  if (isNode()) {
    const specifier = "node:os"; // a variable specifier keeps browser bundlers from resolving the Node module
    const os = await import(specifier) as typeof import("node:os");
    return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

/**
 * Compiles and instantiates the kernels (relaxed SIMD when available and allowed, else SIMD128), starts the
 * worker threads, registers the backend as "wasm" (replacing an earlier one) and returns it. Rejects when the
 * engine lacks WASM SIMD. Call `dispose()` on a backend you replace to stop its workers.
 */
export async function loadWasmBackend(options: WasmBackendOptions = {}): Promise<LoadedWasmBackend> {
  const features = detectFeatures();
  if (!features.simd) throw new Error("wasm backend: this engine does not support WebAssembly SIMD");
  const flavour: SimdFlavour = features.relaxedSimd && options.relaxedSimd !== false ? "relaxed" : "simd128";
  const shared = features.sharedMemory && options.sharedMemory !== false;
  const threads = shared ? Math.max(1, Math.floor(options.threads ?? await defaultThreads())) : 1;
  const module = await compileKernels(flavour, shared);
  const { memory, maximumBytes } = createMemory(shared, INITIAL_PAGES);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as unknown as KernelHelpers & Record<string, KernelFunction>;
  const local = THREADED_KERNELS.map((name) => exports[name]);
  const pool = threads > 1
    ? await ThreadPool.start(module, memory, threads, THREADED_KERNELS, local)
    : ThreadPool.single(THREADED_KERNELS, local);
  const backend = new WasmBackend(pool, exports, memory, maximumBytes, flavour);
  registerBackend(backend);
  loaded = backend;
  return backend;
}

/** Threads of the loaded wasm backend (0 when none is loaded). */
export function wasmThreads(): number {
  return loaded?.threads ?? 0;
}

/**
 * Loads the wasm backend and makes it current; when it cannot load (no WASM SIMD), keeps the current backend
 * ("reference" by default). Returns the name of the backend now in use.
 */
export async function useFastestBackend(options: WasmBackendOptions = {}): Promise<string> {
  try {
    const backend = await loadWasmBackend(options);
    setBackend(backend.name);
    return backend.name;
  } catch {
    return getBackend().name;
  }
}
