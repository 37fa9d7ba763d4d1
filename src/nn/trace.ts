/**
 * Trace: an optional sink that modules write their intermediate tensors into, by dotted name, so every
 * step of a forward pass can be inspected (the explorer, the lab, the fixture runner). Passing no trace
 * costs nothing; passing one never changes the result.
 */
import type { Tensor } from "../tensor/tensor.ts";

/** Named intermediates of one forward pass, in the order they were computed. */
export class Trace {
  private readonly entries: Map<string, Tensor>;
  private readonly prefix: string;

  constructor(entries = new Map<string, Tensor>(), prefix = "") {
    this.entries = entries;
    this.prefix = prefix;
  }

  /** Stores `t` under this scope's prefix + `name` and returns it (so it can wrap an expression). */
  record(name: string, t: Tensor): Tensor {
    this.entries.set(this.prefix + name, t);
    return t;
  }

  /** A view that records under `prefix.name.` into the same trace. */
  scope(name: string): Trace {
    return new Trace(this.entries, `${this.prefix}${name}.`);
  }

  /** A recorded tensor by its full name. */
  get(name: string): Tensor | undefined {
    return this.entries.get(name);
  }

  /** Every recorded name, in order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** All entries, in order. */
  all(): Map<string, Tensor> {
    return new Map(this.entries);
  }
}
