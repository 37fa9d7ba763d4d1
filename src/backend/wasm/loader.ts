/**
 * Finding out what the WebAssembly engine supports and compiling the matching kernels.
 *
 * Relaxed SIMD (`f32x4.relaxed_madd`, an FMA on x86-64 with FMA3; the int8 kernels' relaxed dot product) is
 * standard in recent browsers; on Node 20 it sits behind a V8 flag: run `node --experimental-wasm-relaxed-simd …`
 * (or set `NODE_OPTIONS=--experimental-wasm-relaxed-simd`) to get the relaxed build, otherwise SIMD128 is used.
 */
import { WASM_KERNELS } from "./generated/kernels.ts";

/** Which build of the kernels: plain SIMD128, or with relaxed SIMD's fused multiply-add. */
export type SimdFlavour = "relaxed" | "simd128";

/** What the engine offers. */
export interface WasmFeatures {
  /** SIMD128 validates (without it the wasm backend is unavailable). */
  simd: boolean;
  /** Relaxed SIMD validates. */
  relaxedSimd: boolean;
  /** A shared WebAssembly.Memory can be made and sent to workers (SharedArrayBuffer; cross-origin isolation in browsers). */
  sharedMemory: boolean;
}

/** A module with one function `() -> v128` whose body is `body` (then `end`). */
function v128Module(body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...body, 0x0b]; // no locals, body, end
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
    0x03, 0x02, 0x01, 0x00, // functions: one of type 0
    0x0a, code.length + 2, 0x01, code.length, ...code, // code section (sizes < 128: one LEB byte each)
  ]);
}

const V128_CONST_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
/** `v128.const 0` — validates where SIMD128 is supported. */
const SIMD_PROBE = v128Module(V128_CONST_ZERO);
/** `f32x4.relaxed_madd(0, 0, 0)` (opcode 0xfd 0x105) — validates where relaxed SIMD is supported. */
const RELAXED_PROBE = v128Module([...V128_CONST_ZERO, ...V128_CONST_ZERO, ...V128_CONST_ZERO, 0xfd, 0x85, 0x02]);

/**
 * `i16x8.relaxed_dot_i8x16_i7x16_s(0, 0)` (opcode 0xfd 0x112): engines shipped relaxed SIMD's dot products together
 * with relaxed_madd, but the int8 kernels use this one, so the relaxed build is picked only where it validates.
 */
const RELAXED_DOT_PROBE = v128Module([...V128_CONST_ZERO, ...V128_CONST_ZERO, 0xfd, 0x92, 0x02]);

/** Probes the engine (cheap: two tiny validations and one 1-page memory). */
export function detectFeatures(): WasmFeatures {
  if (typeof WebAssembly !== "object") return { simd: false, relaxedSimd: false, sharedMemory: false };
  const simd = WebAssembly.validate(SIMD_PROBE);
  const relaxedSimd = simd && WebAssembly.validate(RELAXED_PROBE) && WebAssembly.validate(RELAXED_DOT_PROBE);
  return { simd, relaxedSimd, sharedMemory: canShareMemory() };
}

/** Whether a shared memory can be created and posted to workers. */
function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined") return false;
  // browsers only let shared memory cross to workers in cross-origin isolated pages
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (isolated === false) return false;
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return memory.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Base64 → bytes, with `atob` (global in browsers and Node ≥ 16). */
function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Reads an unsigned LEB128 at `at`; returns [value, next offset]. */
function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
    shift += 7;
  }
}

/**
 * Turns the module's shared-memory import into a private one, in place, for engines or pages without
 * SharedArrayBuffer: the limits flag of the `env.memory` import goes from 0x03 (max, shared) to 0x01 (max).
 * The kernels use no atomics, so nothing else changes.
 */
export function makeMemoryPrivate(bytes: Uint8Array): void {
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, start] = readLeb(bytes, at + 1);
    if (id === 2) { // the import section
      let [count, p] = readLeb(bytes, start);
      for (; count > 0; count--) {
        const [moduleLength, m] = readLeb(bytes, p);
        const [fieldLength, f] = readLeb(bytes, m + moduleLength);
        p = f + fieldLength;
        const kind = bytes[p++];
        if (kind === 2) { // memory: limits
          if (bytes[p] === 0x03) bytes[p] = 0x01;
          return;
        }
        if (kind === 0) p = readLeb(bytes, p)[1]; // function: type index
        else if (kind === 1) p = skipLimits(bytes, p + 1); // table: reference type, limits
        else if (kind === 3) p += 2; // global: value type, mutability
      }
      return;
    }
    at = start + size;
  }
}

/** Skips a limits record (flag, min, optional max). */
function skipLimits(bytes: Uint8Array, at: number): number {
  const flag = bytes[at];
  let p = readLeb(bytes, at + 1)[1];
  if (flag & 1) p = readLeb(bytes, p)[1];
  return p;
}

/** Compiles the kernels of one flavour, for a shared or a private memory. */
export function compileKernels(flavour: SimdFlavour, sharedMemory: boolean): Promise<WebAssembly.Module> {
  const bytes = decodeBase64(WASM_KERNELS[flavour]);
  if (!sharedMemory) makeMemoryPrivate(bytes);
  return WebAssembly.compile(bytes);
}

/** Largest memory the kernels may grow to, in 64 KiB pages (the modules declare at most 65536 = 4 GiB). */
const MAX_PAGES_CHOICES = [65536, 32768, 16384, 4096];

/** A memory for the kernels and its maximum size in bytes (WebAssembly.Memory does not expose it). */
export interface KernelMemory {
  memory: WebAssembly.Memory;
  maximumBytes: number;
}

/** Creates the memory the kernels import: shared when asked, with the largest maximum the engine accepts. */
export function createMemory(shared: boolean, initialPages: number): KernelMemory {
  let lastError: unknown = null;
  for (const maximum of MAX_PAGES_CHOICES) {
    // a shared memory reserves its maximum up front; 32-bit or constrained engines refuse 4 GiB
    try {
      const memory = new WebAssembly.Memory({ initial: Math.min(initialPages, maximum), maximum, shared });
      return { memory, maximumBytes: maximum * 65536 };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}
