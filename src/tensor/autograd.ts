/**
 * Reverse-mode automatic differentiation (micrograd's idea, on tensors). Every op that sees an input
 * requiring a gradient records a GradNode: its inputs and a closure that maps dL/d(output) to
 * dL/d(input). `backward` visits the nodes in reverse topological order and sums the gradients.
 */
import { ShapeError, formatShape } from "../errors.ts";
// A runtime cycle with tensor.ts is safe here: Tensor is only used inside functions.
import { Tensor } from "./tensor.ts";
import { floatsToOverwrite } from "./memory.ts";

/** One recorded op: its inputs and how to push a gradient back through it. */
export interface GradNode {
  /** The op's name, for error messages and debugging. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /**
   * Given dL/d(output) (same size as the output), returns dL/d(input) for each input, or null for an
   * input that needs none. Must not modify `gradOutput`. Each array returned is either `gradOutput` itself or
   * one allocated for this call and held nowhere else (it may be returned for several inputs): `backward`
   * adopts such arrays without copying them.
   */
  backward(gradOutput: Float32Array): (Float32Array | null)[];
}

let gradEnabled = true;

/** Whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording anything (inference): faster and no memory kept for backward. */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(inputs: readonly Tensor[]): boolean {
  return gradEnabled && inputs.some((t) => t.requiresGrad);
}

/** Inputs in the order every path from `root` reaches them last: reverse topological order of the graph. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative DFS: deep graphs (long training unrolls) would overflow the call stack.
  const stack: { t: Tensor; expanded: boolean }[] = [{ t: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.expanded) {
      order.push(top.t);
      continue;
    }
    if (visited.has(top.t)) continue;
    visited.add(top.t);
    stack.push({ t: top.t, expanded: true });
    for (const input of top.t.node?.inputs ?? []) {
      if (input.requiresGrad && !visited.has(input)) stack.push({ t: input, expanded: false });
    }
  }
  return order.reverse();
}

/**
 * Computes dL/dt for every tensor t that `root` depends on and that requires a gradient, and adds it to
 * the `.grad` of leaves (and of tensors that called `retainGrad`). Gradients accumulate across calls,
 * as in PyTorch: zero them between steps (the optimizer's `zeroGrad`).
 */
export function backward(root: Tensor, gradOutput?: Float32Array): void {
  if (!root.requiresGrad) throw new ShapeError("backward(): the tensor does not require a gradient (no parameter reaches it)");
  let seed: Float32Array;
  if (gradOutput) {
    if (gradOutput.length !== root.size) {
      throw new ShapeError(`backward(): gradient of ${gradOutput.length} values for a tensor of shape ${formatShape(root.shape)}`);
    }
    seed = gradOutput;
  } else {
    if (root.size !== 1) throw new ShapeError(`backward(): needs a gradient for non-scalar output of shape ${formatShape(root.shape)}`);
    seed = new Float32Array([1]);
  }
  const grads = new Map<Tensor, Float32Array>([[root, seed]]);
  // Arrays someone else may still hold (the caller's seed, an op's gradOutput passed through, one array given to
  // several inputs): copied before anything is added into them. The rest are adopted as they are — for a
  // (vocab × d) embedding table that saves two copies of its whole gradient every step.
  const shared = new Set<Float32Array>([seed]);
  for (const t of topologicalOrder(root)) {
    const g = grads.get(t);
    if (!g) continue;
    if (t.node) {
      grads.delete(t); // free as we go: each intermediate gradient is needed only once
      const inputGrads = t.node.backward(g);
      t.node.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!gi || !input.requiresGrad) return;
        const prev = grads.get(input);
        if (!prev) {
          grads.set(input, gi);
          if (gi === g || shared.has(gi) || inputGrads.indexOf(gi) !== inputGrads.lastIndexOf(gi)) shared.add(gi);
        } else if (shared.has(prev)) {
          const sum = floatsToOverwrite(prev.length);
          for (let j = 0; j < sum.length; j++) sum[j] = prev[j] + gi[j];
          grads.set(input, sum);
        } else {
          for (let j = 0; j < prev.length; j++) prev[j] += gi[j];
        }
      });
    }
    if (!t.node || t.retainsGrad) accumulateInto(t, g, shared.has(g) || t.node !== null);
  }
}

/** Adds `g` into t.grad; a first gradient that nobody else holds (`shared` false) becomes t.grad without a copy. */
function accumulateInto(t: Tensor, g: Float32Array, shared: boolean): void {
  if (t.grad === null) {
    let data = g;
    if (shared) {
      data = floatsToOverwrite(g.length);
      data.set(g);
    }
    t.grad = new Tensor(data, t.shape);
  } else {
    const d = t.grad.data;
    for (let j = 0; j < d.length; j++) d[j] += g[j];
  }
}
