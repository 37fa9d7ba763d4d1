/**
 * Long-lived blocks in WASM memory: what `allocate` hands out (optimizer moments), so kernels read and write them
 * in place instead of copying them in and out on every call. Blocks sit just below the per-call arena, which moves
 * up to make room (between calls it holds nothing); a freed block is reused by later allocations, and the arena
 * moves back down when the block below it is freed. A block is freed when the array handed out becomes
 * unreachable (a FinalizationRegistry): views made from it with `subarray` do not keep it alive.
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

  constructor(memory: WebAssembly.Memory, private readonly arena: Arena) {
    this.enabled = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  }

  /** `length` zeros that stay in WASM memory until the returned array is unreachable. Call between kernel calls. */
  allocate(length: number): Float32Array {
    if (!this.enabled || length === 0) return new Float32Array(length);
    const bytes = Math.ceil((length * 4) / ALIGN) * ALIGN;
    const block = this.take(bytes);
    const view = this.arena.residentView(block.at, length);
    view.fill(0); // a reused block holds old values
    this.registry.register(view, block);
    return view;
  }

  /**
   * `bytes` of WASM memory that stay put until `owner` is unreachable; returns their byte offset (valid across
   * memory growth, shared or not: only views detach). Kernel-private data such as packed int8 weights. Between calls.
   */
  reserveFor(owner: object, bytes: number): number {
    const block = this.take(Math.ceil(bytes / ALIGN) * ALIGN);
    this.registry.register(owner, block);
    return block.at;
  }

  /** The first free block that fits (split when larger), else a new one below the arena. */
  private take(bytes: number): Block {
    const i = this.free.findIndex((b) => b.bytes >= bytes);
    if (i < 0) return { at: this.arena.reserve(bytes), bytes };
    const block = this.free[i];
    if (block.bytes === bytes) {
      this.free.splice(i, 1);
      return block;
    }
    this.free[i] = { at: block.at + bytes, bytes: block.bytes - bytes };
    return { at: block.at, bytes };
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
