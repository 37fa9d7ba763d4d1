/**
 * Long-lived blocks in WASM memory: what `allocate` hands out (optimizer moments), so kernels read and write them
 * in place instead of copying them in and out on every call. Blocks sit just below the per-call arena, which moves
 * up to make room (between calls it holds nothing); a freed block is reused by later allocations, and the arena
 * moves back down when the block below it is freed. A block is freed when the array handed out becomes
 * unreachable (a FinalizationRegistry): views made from it with `subarray` do not keep it alive.
 *
 * A training step's arrays take another way (`openStep` … `closeStep`): one region, bump-allocated during the step
 * and reset at its end, so the next step reuses the same (already touched) pages. The region starts empty; a step
 * that needs more than it holds gets ordinary arrays for the rest and leaves the size it needed, which the region
 * grows to (with a quarter to spare) at the close. Freeing step arrays at the garbage collector's pace instead was
 * measured: WASM memory kept growing and W3 ran 2.6× slower (README, "where the time goes").
 *
 * Only a shared memory can hold them: growing a shared memory keeps every existing view valid, while growing a
 * private one detaches its buffer (and every view with it). Without shared memory `allocate` returns ordinary arrays.
 */
import type { Arena } from "./arena.ts";

const ALIGN = 64; // a cache line, as the arena's operands

/** A block of WASM memory: byte offset and size. */
interface Block {
  at: number;
  bytes: number;
}

/** The resident blocks of one WASM memory, carved from the bottom of its arena. */
export class ResidentHeap {
  private readonly free: Block[] = [];
  private readonly registry = new FinalizationRegistry<Block>((block) => this.release(block));
  private readonly enabled: boolean;
  /** The step region ([at, at + bytes)), its bump pointer, the bytes the current step asked for, and open depth. */
  private step: Block = { at: 0, bytes: 0 };
  private stepTop = 0;
  private stepWanted = 0;
  private stepDepth = 0;

  constructor(memory: WebAssembly.Memory, private readonly arena: Arena) {
    this.enabled = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  }

  /**
   * `length` floats that stay in WASM memory until the returned array is unreachable, and how many of its first
   * floats may hold old values (a reused block's); the rest were never handed out and still hold a fresh memory's
   * zeros. The caller zeroes (see WasmBackend.allocate). Call between kernel calls.
   */
  allocate(length: number): { view: Float32Array; dirtyFloats: number } {
    if (!this.enabled || length === 0) return { view: new Float32Array(length), dirtyFloats: 0 };
    const bytes = Math.ceil((length * 4) / ALIGN) * ALIGN;
    const { block, dirtyBytes } = this.take(bytes);
    const view = this.arena.residentView(block.at, length);
    this.registry.register(view, block);
    return { view, dirtyFloats: Math.min(length, Math.ceil(dirtyBytes / 4)) };
  }

  /**
   * `bytes` of WASM memory that stay put until `owner` is unreachable; returns their byte offset (valid across
   * memory growth, shared or not: only views detach). Kernel-private data such as packed int8 weights. Between calls.
   */
  reserveFor(owner: object, bytes: number): number {
    const { block } = this.take(Math.ceil(bytes / ALIGN) * ALIGN);
    this.registry.register(owner, block);
    return block.at;
  }

  /** Starts a step (or nests in the one open). Between calls. */
  openStep(): void {
    if (this.stepDepth++ === 0) {
      this.stepTop = this.step.at;
      this.stepWanted = 0;
    }
  }

  /**
   * `length` floats in the step region, valid until the step closes, holding whatever the last step left there (the
   * backend zeroes them where asked, threaded); null outside a step or when the region is full.
   */
  stepArray(length: number): Float32Array | null {
    if (!this.enabled || this.stepDepth === 0 || length === 0) return null;
    const bytes = Math.ceil((length * 4) / ALIGN) * ALIGN;
    this.stepWanted += bytes;
    if (this.stepTop + bytes > this.step.at + this.step.bytes) return null;
    const view = this.arena.residentView(this.stepTop, length);
    this.stepTop += bytes;
    return view;
  }

  /** Ends the outermost step: the region is reset, and regrown when the step needed more. Between calls. */
  closeStep(): void {
    if (this.stepDepth === 0) throw new Error("wasm backend: closeStepMemory without openStepMemory");
    if (--this.stepDepth > 0 || this.stepWanted <= this.step.bytes) return;
    if (this.step.bytes > 0) this.release(this.step);
    const bytes = Math.ceil((this.stepWanted * 1.25) / ALIGN) * ALIGN;
    try {
      this.step = this.take(bytes).block; // old values are fine: step arrays are zeroed when handed out, where asked
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this.step = { at: 0, bytes: 0 }; // above the memory's maximum: steps keep ordinary arrays
    }
  }

  /**
   * The first free block that fits (split when larger), else a new one below the arena; with how many of its first
   * bytes may hold old values (all of a reused block).
   */
  private take(bytes: number): { block: Block; dirtyBytes: number } {
    const i = this.free.findIndex((b) => b.bytes >= bytes);
    if (i < 0) {
      const { at, dirtyBytes } = this.arena.reserve(bytes);
      return { block: { at, bytes }, dirtyBytes };
    }
    const block = this.free[i];
    if (block.bytes === bytes) {
      this.free.splice(i, 1);
      return { block, dirtyBytes: bytes };
    }
    this.free[i] = { at: block.at + bytes, bytes: block.bytes - bytes };
    return { block: { at: block.at, bytes }, dirtyBytes: bytes };
  }

  /** Returns a block: merged with free neighbours, and given back to the arena when it is the topmost one. */
  private release(block: Block): void {
    let { at, bytes } = block;
    for (let i = this.free.length - 1; i >= 0; i--) {
      const f = this.free[i];
      if (f.at + f.bytes === at || at + bytes === f.at) {
        at = Math.min(at, f.at);
        bytes += f.bytes;
        this.free.splice(i, 1);
      }
    }
    if (!this.arena.unreserve(at, bytes)) this.free.push({ at, bytes });
  }
}
