/**
 * Module: the base of every layer, as in PyTorch's `nn.Module`. A module owns its parameters under
 * dotted names (`layers.0.self_attn.q_proj.weight`), holds child modules, and switches between training
 * and inference. `forward` is pure: it reads parameters and returns new tensors, storing nothing.
 */
import { CheckpointError, ShapeError, formatShape } from "../errors.ts";
import { sameShape } from "../tensor/shape.ts";
import { assertFinite } from "../tensor/checks.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** A tensor's values by name, as read from a checkpoint (parameters or buffers). */
export interface NamedArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Options of `loadStateDict`. */
export interface LoadOptions {
  /** Refuse names the module does not have, and require every parameter (default true). */
  strict?: boolean;
  /** Where the weights come from, for error messages (a file name). */
  source?: string;
  /** Accept NaN and ±Infinity in the values (default false: an error naming the tensor). */
  allowNonFinite?: boolean;
}

/** The base class of layers. */
export abstract class Module {
  /** Training mode enables dropout. tsformer modules start in inference mode (PyTorch's start in training). */
  training = false;
  private readonly ownParameters = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /**
   * Registers a trainable tensor under `name` and returns it. Made by src/nn/init.ts, its values already live
   * where the backend computes, so kernels read it in place; any other Float32Array works too, copied per call.
   */
  protected registerParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.ownParameters.set(name, t);
    return t;
  }

  /** Registers a child module under `name` and returns it. */
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Every parameter with its full dotted name, children first-registered first. */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, p] of this.ownParameters) out.push([prefix + name, p]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  /** Every parameter (each tensor once, even if shared). */
  parameters(): Tensor[] {
    return [...new Set(this.namedParameters().map(([, p]) => p))];
  }

  /** Direct children by name. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Total number of trainable values. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Switches this module and its children to training (dropout on) or inference mode. */
  train(on = true): this {
    this.training = on;
    for (const child of this.children.values()) child.train(on);
    return this;
  }

  /** Inference mode (dropout off). */
  eval(): this {
    return this.train(false);
  }

  /** The parameters by name (views: they share memory with the module). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /**
   * Copies values into the parameters by name. With `strict` (default), a missing or unexpected name is an
   * error listing them; a wrong shape is always an error naming the tensor and both shapes.
   */
  loadStateDict(state: ReadonlyMap<string, NamedArray>, options: LoadOptions = {}): void {
    const strict = options.strict ?? true;
    const from = options.source ? `${options.source}: ` : "";
    const own = this.stateDict();
    for (const [name, p] of own) {
      const src = state.get(name);
      if (!src) continue;
      if (!sameShape(src.shape, p.shape)) {
        throw new ShapeError(`${from}tensor '${name}' has shape ${formatShape(src.shape)}, the model expects ${formatShape(p.shape)}`);
      }
      if (!options.allowNonFinite) assertFinite(`${from}tensor '${name}'`, src.data, src.shape, "load with allowNonFinite to accept it");
    }
    if (strict) {
      const missing = [...own.keys()].filter((n) => !state.has(n));
      const unexpected = [...state.keys()].filter((n) => !own.has(n));
      if (missing.length > 0 || unexpected.length > 0) {
        const parts: string[] = [];
        if (missing.length > 0) parts.push(`missing ${list(missing)}`);
        if (unexpected.length > 0) parts.push(`unexpected ${list(unexpected)}`);
        throw new CheckpointError(`${from}weights do not match the model: ${parts.join("; ")}`);
      }
    }
    for (const [name, p] of own) {
      const src = state.get(name);
      if (src) p.data.set(src.data);
    }
  }
}

function list(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => `'${n}'`).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/** An ordered list of modules named 0, 1, 2, … (PyTorch's `nn.ModuleList`). */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];

  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.registerModule(String(i), m));
  }
}
