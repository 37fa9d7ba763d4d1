/** Token embeddings (Q08's ×√d_model) and the two kinds of positional information (Q07 step 2). */
import { ShapeError } from "../errors.ts";
import { Rng } from "../tensor/random.ts";
import { embedding } from "../tensor/ops/nn.ts";
import { scale } from "../tensor/ops/elementwise.ts";
import { narrow } from "../tensor/ops/layout.ts";
import { type IndexTensor, Tensor } from "../tensor/tensor.ts";
import { normal } from "./init.ts";
import { Module } from "./module.ts";
import type { Trace } from "./trace.ts";

/** Options of `Embedding`. */
export interface EmbeddingOptions {
  /**
   * Multiply the looked-up vectors by √d_model (Vaswani et al. §3.4). Q08: with embeddings initialised at
   * std d_model^-½ this brings them to unit scale, the scale of the sinusoidal positions added next.
   */
  scaleBySqrtDModel?: boolean;
  /** Standard deviation of the N(0, std²) initialisation (default d_model^-½). */
  initStd?: number;
  /** A token id whose row starts at zero (PyTorch's `padding_idx`); null for none. */
  paddingIdx?: number | null;
  rng?: Rng;
}

/** A lookup table `weight` (vocabSize, dModel): token id → vector. Q07 step 1. */
export class Embedding extends Module {
  readonly weight: Tensor;
  readonly scaleBySqrtDModel: boolean;

  constructor(readonly vocabSize: number, readonly dModel: number, options: EmbeddingOptions = {}) {
    super();
    const rng = options.rng ?? new Rng(0);
    const w = normal([vocabSize, dModel], options.initStd ?? dModel ** -0.5, rng);
    const pad = options.paddingIdx ?? null;
    if (pad !== null) w.data.fill(0, pad * dModel, (pad + 1) * dModel);
    this.weight = this.registerParameter("weight", w);
    this.scaleBySqrtDModel = options.scaleBySqrtDModel ?? false;
  }

  /** ids (…) → vectors (…, dModel), × √d_model when enabled; the trace gets `lookup` and `scaled`. */
  forward(ids: IndexTensor, trace?: Trace): Tensor {
    return this.scaled(embedding(this.weight, ids), trace);
  }

  /** Looked-up (or given) vectors, × √d_model when enabled; the trace gets `lookup` and `scaled`. */
  scaled(vectors: Tensor, trace?: Trace): Tensor {
    trace?.record("lookup", vectors);
    if (!this.scaleBySqrtDModel) return vectors;
    return trace?.record("scaled", scale(vectors, Math.sqrt(this.dModel))) ?? scale(vectors, Math.sqrt(this.dModel));
  }
}

/**
 * The sinusoidal table of the paper (§3.5): PE(pos, 2i) = sin(pos / 10000^{2i/d}),
 * PE(pos, 2i+1) = cos(pos / 10000^{2i/d}). Computed in double precision, stored as float32.
 * A fixed buffer, not a parameter: it needs no training and extends to any length.
 */
export function sinusoidalTable(maxLen: number, dModel: number): Float32Array {
  const table = new Float32Array(maxLen * dModel);
  for (let pos = 0; pos < maxLen; pos++) {
    for (let c = 0; c < dModel; c++) {
      const i2 = c - (c % 2); // 2i for both members of the sin/cos pair
      const angle = pos / Math.pow(10000, i2 / dModel);
      table[pos * dModel + c] = c % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return table;
}

/** Fixed sinusoidal positional encoding for up to `maxLen` positions. */
export class SinusoidalPositionalEncoding extends Module {
  /** The (maxLen, dModel) table. */
  readonly table: Tensor;

  constructor(readonly maxLen: number, readonly dModel: number) {
    super();
    this.table = new Tensor(sinusoidalTable(maxLen, dModel), [maxLen, dModel]);
  }

  /** The encodings of positions 0…n−1: (n, dModel). */
  forward(n: number): Tensor {
    if (n > this.maxLen) throw new ShapeError(`positional encoding: sequence of ${n} tokens exceeds maxPositions ${this.maxLen}`);
    return narrow(this.table, 0, 0, n);
  }
}

/** Learned absolute position embeddings (BERT): a trainable (maxLen, dModel) table. */
export class LearnedPositionalEmbedding extends Module {
  readonly weight: Tensor;

  constructor(readonly maxLen: number, readonly dModel: number, options: { initStd?: number; rng?: Rng } = {}) {
    super();
    this.weight = this.registerParameter("weight", normal([maxLen, dModel], options.initStd ?? 0.02, options.rng ?? new Rng(0)));
  }

  /** The embeddings of positions 0…n−1: (n, dModel). */
  forward(n: number): Tensor {
    if (n > this.maxLen) throw new ShapeError(`position embeddings: sequence of ${n} tokens exceeds maxPositions ${this.maxLen}`);
    return narrow(this.weight, 0, 0, n);
  }
}
