/**
 * The per-call scratch space in WASM memory: operands are copied in (unless already there: resident arrays, see
 * resident.ts), kernels run, results are copied out.
 * A bump allocator reset at the start of every backend call, so repeated calls of one size reuse the same
 * bytes; the memory grows only when a call needs more than any before it, and never shrinks.
 */

const PAGE_BYTES = 65536;
const ALIGN = 64; // a cache line: keeps operands from sharing lines between threads

/** Bump allocator over a WebAssembly.Memory, starting at `base` (which `reserve` moves up for resident blocks). */
export class Arena {
  private top: number;
  private base: number;
  /** End of the highest byte ever handed out: everything above still holds a fresh memory's zeros. */
  private touchedEnd: number;
  /** Every buffer object of the memory: a shared memory hands out a new one after each growth, all still valid. */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private f32: Float32Array;
  private u8: Uint8Array;
  private f64: Float64Array;

  /** `base`: first byte the arena may use (past the module's static data); `maxBytes`: the memory's maximum. */
  constructor(readonly memory: WebAssembly.Memory, base: number, private readonly maxBytes: number) {
    this.base = base;
    this.top = base;
    this.touchedEnd = base;
    this.buffers.add(memory.buffer);
    this.f32 = new Float32Array(memory.buffer);
    this.u8 = new Uint8Array(memory.buffer);
    this.f64 = new Float64Array(memory.buffer);
  }

  /** Bytes allocated since the last reset: what the current (or last) call uses. */
  get usedBytes(): number {
    return this.top - this.base;
  }

  /**
   * Moves the arena up by `bytes` (a multiple of 64) and returns the block it leaves below: its byte offset, and how
   * many of its first bytes may hold old values (the rest was never handed out: zeros). Between calls only.
   */
  reserve(bytes: number): { at: number; dirtyBytes: number } {
    const touched = this.touchedEnd;
    this.reset();
    const at = this.alloc(bytes);
    this.base = this.top;
    return { at, dirtyBytes: Math.min(bytes, Math.max(0, touched - at)) };
  }

  /** Moves the arena back down over the block [at, at + bytes) when it is the topmost reserved one; false otherwise. Between calls only. */
  unreserve(at: number, bytes: number): boolean {
    if (at + bytes !== this.base) return false;
    this.base = at;
    return true;
  }

  /**
   * The byte offset of `x` when it is a view of this memory (a resident array from src/backend/wasm/resident.ts),
   * else −1. Kernels use such operands in place.
   */
  pointerOf(x: Float32Array): number {
    return this.buffers.has(x.buffer) ? x.byteOffset : -1;
  }

  /** A float view of `length` values at byte offset `at`, valid as long as the memory is shared (it never detaches). */
  residentView(at: number, length: number): Float32Array {
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    return new Float32Array(buffer, at, length);
  }

  /** Forgets every allocation (start of a call). */
  reset(): void {
    this.top = this.base;
  }

  /** Reserves `bytes` (aligned) and returns their byte offset, growing the memory when the call needs more. */
  alloc(bytes: number): number {
    const at = Math.ceil(this.top / ALIGN) * ALIGN;
    const end = at + Math.max(bytes, 0);
    if (end > this.memory.buffer.byteLength) this.grow(end);
    this.top = end;
    this.touchedEnd = Math.max(this.touchedEnd, end);
    return at;
  }

  /** A zeroed 32-bit counter on a cache line of its own (for kernels whose threads claim work from it); its offset. */
  zeroedCounter(): number {
    const at = this.alloc(64);
    this.f32[at >> 2] = 0; // 0.0f has the bits of the integer 0
    return at;
  }

  /** Copies `src` in (unless it is already in this memory); returns its byte offset. */
  putF32(src: Float32Array): number {
    const resident = this.pointerOf(src);
    if (resident >= 0) return resident;
    const at = this.alloc(src.length * 4);
    this.f32.set(src, at >> 2);
    return at;
  }

  /**
   * Where a kernel writes `floats` values of `dst`: `dst` itself when it is in this memory (a step array, see
   * resident.ts: the result needs no copy out), else fresh arena space that `getF32` then copies to `dst`.
   */
  outF32(dst: Float32Array, floats: number): number {
    const resident = this.pointerOf(dst);
    return resident >= 0 ? resident : this.alloc(floats * 4);
  }

  /** `rows` copies of `row` back to back (a bias broadcast over the rows of an output) in `dst`'s output space; returns its offset. */
  putRows(row: Float32Array, rows: number, dst: Float32Array): number {
    const at = this.outF32(dst, row.length * rows);
    for (let r = 0; r < rows; r++) this.f32.set(row, (at >> 2) + r * row.length);
    return at;
  }

  /** Copies bytes in; returns their offset. */
  putU8(src: Uint8Array): number {
    const at = this.alloc(src.length);
    this.u8.set(src, at);
    return at;
  }

  /** Copies `dst.length` floats out from byte offset `at` (nothing to do when `dst` is that very memory). */
  getF32(at: number, dst: Float32Array): void {
    if (this.pointerOf(dst) === at) return;
    dst.set(this.f32.subarray(at >> 2, (at >> 2) + dst.length));
  }

  /** A view of `length` doubles at byte offset `at` (valid until the next allocation). */
  viewF64(at: number, length: number): Float64Array {
    return this.f64.subarray(at >> 3, (at >> 3) + length);
  }

  /** Grows to hold `end` bytes: at least a quarter more than now, so a slowly rising size does not grow every call. */
  private grow(end: number): void {
    if (end > this.maxBytes) {
      throw new RangeError(`wasm backend: a call needs ${(end / 2 ** 20).toFixed(0)} MiB, above the memory's ${(this.maxBytes / 2 ** 20).toFixed(0)} MiB maximum`);
    }
    const current = this.memory.buffer.byteLength;
    const wanted = Math.min(this.maxBytes, Math.max(end, current + current / 4));
    this.memory.grow(Math.ceil((wanted - current) / PAGE_BYTES));
    const buffer = this.memory.buffer; // a new (Shared)ArrayBuffer after growing: views must be remade
    this.buffers.add(buffer);
    this.f32 = new Float32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.f64 = new Float64Array(buffer);
  }
}
