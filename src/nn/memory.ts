/**
 * Memory guard: before a forward pass, estimate the activation memory it needs and refuse, with the figures, a
 * batch that would exceed the limit — a clear error instead of an out-of-memory crash minutes later.
 */
import { ResourceError } from "../errors.ts";

/** Default limit: 4 GiB, the most a 32-bit WebAssembly memory can address. */
const DEFAULT_LIMIT = 4 * 1024 ** 3;
let limit = DEFAULT_LIMIT;

/** Sets the activation-memory limit in bytes (Infinity turns the guard off); returns the previous one. */
export function setMemoryLimit(bytes: number): number {
  const previous = limit;
  limit = bytes;
  return previous;
}

/** The current limit in bytes. */
export function memoryLimit(): number {
  return limit;
}

/** What the estimate depends on. */
export interface ActivationShape {
  batch: number;
  n: number;
  dModel: number;
  dFF: number;
  heads: number;
  numLayers: number;
  /** Attention probabilities are kept (needWeights, a trace, or training). */
  keepsWeights: boolean;
  /** Gradients are recorded: every layer's activations live until backward. */
  training: boolean;
}

/**
 * Estimated peak bytes of float32 activations. Per layer a forward pass makes about 15 (batch·n·d_model) tensors
 * (projections, head splits, residuals, norms), 2 of (batch·n·d_ff) (FFN hidden, activation) and, when kept,
 * the (batch·heads·n·n) probabilities. Inference frees each layer's tensors as it goes (one layer live, the
 * probabilities of every layer kept when asked); training keeps every layer for backward, and backward about
 * doubles it.
 */
export function estimateActivationBytes(s: ActivationShape): number {
  const tokens = s.batch * s.n;
  const probs = s.keepsWeights ? s.batch * s.heads * s.n * s.n : 0;
  const perLayer = 15 * tokens * s.dModel + 2 * tokens * s.dFF;
  const floats = s.training ? 2 * s.numLayers * (perLayer + probs) : perLayer + s.numLayers * probs;
  return 4 * floats;
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/** Throws a ResourceError when the estimate exceeds the limit. */
export function checkActivationMemory(s: ActivationShape): void {
  const bytes = estimateActivationBytes(s);
  if (bytes <= limit) return;
  throw new ResourceError(`a batch of ${s.batch} × ${s.n} tokens needs an estimated ${gib(bytes)} of activations${s.training ? " for training" : ""}, over the ${gib(limit)} limit (use smaller batches or shorter inputs, or raise it with setMemoryLimit)`);
}

