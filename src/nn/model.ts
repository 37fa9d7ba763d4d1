/**
 * TransformerEncoderModel: token ids → contextual vectors. Q07's seven steps, in order:
 * (1) embedding lookup, (2) + positional encoding (after Q08's ×√d_model), then N layers of
 * (3) multi-head self-attention, (4) residual, (5) LayerNorm, (6) FFN, (7) residual + LayerNorm.
 * With learned positions, token types and an embedding LayerNorm it is also BERT's encoder.
 */
import { ConfigError, ShapeError, formatShape } from "../errors.ts";
import { Rng } from "../tensor/random.ts";
import type { Activation } from "../tensor/ops/elementwise.ts";
import { add } from "../tensor/ops/elementwise.ts";
import { embedding as gather } from "../tensor/ops/nn.ts";
import type { IndexTensor, Tensor } from "../tensor/tensor.ts";
import type { MultiHeadAttentionOptions } from "./attention.ts";
import { Embedding, LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from "./embedding.ts";
import { Encoder } from "./encoder.ts";
import { Dropout, LayerNorm } from "./layernorm.ts";
import type { AttentionMask } from "./masks.ts";
import { Module } from "./module.ts";
import { normal } from "./init.ts";
import type { Trace } from "./trace.ts";
import { checkActivationMemory } from "./memory.ts";
import { isGradEnabled } from "../tensor/autograd.ts";

/** Everything that defines an encoder model's shape and behaviour. */
export interface EncoderModelConfig {
  vocabSize: number;
  /** Model width d_model. */
  dModel: number;
  /** Attention heads h. */
  heads: number;
  /** Feed-forward width d_ff. */
  dFF: number;
  numLayers: number;
  /** Longest sequence the position table covers. */
  maxPositions: number;
  /** Sinusoidal (the paper), learned (BERT) or none. */
  positional: "sinusoidal" | "learned" | "none";
  /** Multiply token embeddings by √d_model (Q08). */
  scaleEmbedding: boolean;
  /** Number of token types (segments) with their own embedding; 0 for none (BERT: 2). */
  typeVocabSize: number;
  /** LayerNorm over the summed embeddings (BERT). */
  embeddingNorm: boolean;
  activation: Activation;
  /** Pre-LN instead of post-LN. */
  normFirst: boolean;
  layerNormEps: number;
  dropout: number;
  /** Dropout between the FFN's two linear layers (default `dropout`; BERT: 0). */
  ffnDropout?: number;
  /** LayerNorm after the last layer. */
  finalNorm: boolean;
  /** The padding token id (its embedding row starts at zero). */
  padId: number;
  /** Init std of the token embeddings (default d_model^-½, which ×√d_model brings to 1). */
  embeddingInitStd?: number;
  /** Residual connections (lab switch, Q07). */
  residual?: boolean;
  /** LayerNorm in the layers (lab switch, Q07). */
  layerNorm?: boolean;
  /** Attention switches (Q01–Q06). */
  attention?: Pick<MultiHeadAttentionOptions, "headDim" | "scale" | "shareQK" | "scoring" | "bias">;
}

/** The paper's base encoder with tsformer's defaults for everything not given. */
export function encoderConfig(partial: Partial<EncoderModelConfig> & Pick<EncoderModelConfig, "vocabSize">): EncoderModelConfig {
  const config: EncoderModelConfig = {
    dModel: 512, heads: 8, dFF: 2048, numLayers: 6, maxPositions: 512, positional: "sinusoidal",
    scaleEmbedding: true, typeVocabSize: 0, embeddingNorm: false, activation: "relu", normFirst: false,
    layerNormEps: 1e-5, dropout: 0.1, finalNorm: false, padId: 0, ...partial,
  };
  for (const key of ["vocabSize", "dModel", "heads", "dFF", "numLayers", "maxPositions"] as const) {
    const v = config[key];
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`model config: ${key} must be a positive integer, got ${v}`);
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new ConfigError(`model config: dropout must be in [0, 1), got ${config.dropout}`);
  return config;
}

/** Inputs of a forward pass besides the token ids. */
export interface ModelCall {
  /** (batch, n), 1 = real token. Omitted: every token is real. */
  attentionMask?: AttentionMask | null;
  /** (batch, n) segment ids, for models with token types. */
  tokenTypeIds?: IndexTensor | null;
  /** Return every layer's attention probabilities. */
  needWeights?: boolean;
  /** Records every step (see Trace). */
  trace?: Trace;
  /**
   * Per layer, a gate on each head's output: (heads) or (batch, heads); 0 removes a head (Hugging Face's
   * `head_mask`, Michel et al.'s ξ). See `headMaskGates` for building them from "layer:head" pairs.
   */
  headGates?: readonly (Tensor | null)[] | null;
  /**
   * (batch, n, dModel) vectors used instead of the word-embedding lookup of `ids` (before × √d_model, positions
   * and token types): Hugging Face's `inputs_embeds`, for gradients with respect to the lookup.
   */
  wordEmbeddings?: Tensor | null;
}

/** The outputs of a forward pass. */
export interface ModelOutput {
  /** (batch, n, dModel): the encoder's output. */
  lastHiddenState: Tensor;
  /** The encoder input, then each layer's output: numLayers + 1 tensors. */
  hiddenStates: Tensor[];
  /** Per layer, (batch, heads, n, n); empty unless `needWeights`. */
  attentions: Tensor[];
}

/** Embeddings + positions + the encoder stack. Parameter names: `embedding.*`, `positions.*`, `token_types.*`, `embedding_norm.*`, `encoder.*`. */
export class TransformerEncoderModel extends Module {
  readonly config: EncoderModelConfig;
  readonly embedding: Embedding;
  readonly positions: SinusoidalPositionalEncoding | LearnedPositionalEmbedding | null;
  readonly tokenTypes: Tensor | null;
  readonly embeddingNorm: LayerNorm | null;
  readonly encoder: Encoder;
  private readonly embeddingDropout: Dropout;

  constructor(config: EncoderModelConfig, rng = new Rng(0)) {
    super();
    this.config = config;
    const d = config.dModel;
    this.embedding = this.registerModule("embedding", new Embedding(config.vocabSize, d, {
      scaleBySqrtDModel: config.scaleEmbedding, initStd: config.embeddingInitStd, paddingIdx: config.padId, rng,
    }));
    this.positions = config.positional === "sinusoidal" ? new SinusoidalPositionalEncoding(config.maxPositions, d)
      : config.positional === "learned" ? this.registerModule("positions", new LearnedPositionalEmbedding(config.maxPositions, d, { rng }))
      : null;
    this.tokenTypes = config.typeVocabSize > 0 ? this.registerParameter("token_types.weight", normal([config.typeVocabSize, d], 0.02, rng)) : null;
    this.embeddingNorm = config.embeddingNorm ? this.registerModule("embedding_norm", new LayerNorm(d, config.layerNormEps)) : null;
    this.embeddingDropout = this.registerModule("embedding_dropout", new Dropout(config.dropout, rng));
    this.encoder = this.registerModule("encoder", new Encoder({
      dModel: d, heads: config.heads, dFF: config.dFF, numLayers: config.numLayers, activation: config.activation,
      normFirst: config.normFirst, layerNormEps: config.layerNormEps, dropout: config.dropout, ffnDropout: config.ffnDropout, finalNorm: config.finalNorm,
      residual: config.residual, layerNorm: config.layerNorm, attention: config.attention, rng,
    }));
  }

  /** The encoder's input for the ids: embeddings (× √d_model) + positions (+ token types), normalised if configured. */
  embed(ids: IndexTensor, call: ModelCall = {}): Tensor {
    if (ids.shape.length !== 2) throw new ShapeError(`model: ids must be (batch, n), got ${formatShape(ids.shape)}`);
    const n = ids.shape[1];
    const trace = call.trace;
    // Steps 1 and Q08: look up each token's vector (and scale it by √d_model when configured).
    let x = call.wordEmbeddings ? this.embedding.scaled(this.checkWordEmbeddings(call.wordEmbeddings, ids), trace?.scope("embedding"))
      : this.embedding.forward(ids, trace?.scope("embedding"));
    // Step 2: add position information, since attention itself ignores order.
    if (this.positions) x = add(x, trace?.record("positions", this.positions.forward(n)) ?? this.positions.forward(n));
    if (this.tokenTypes) {
      const types = call.tokenTypeIds;
      if (types && (types.shape[0] !== ids.shape[0] || types.shape[1] !== n)) {
        throw new ShapeError(`model: tokenTypeIds ${formatShape(types.shape)} must match ids ${formatShape(ids.shape)}`);
      }
      const typeIds = types ?? { shape: ids.shape, data: new Int32Array(ids.data.length) };
      x = add(x, gather(this.tokenTypes, typeIds));
    }
    trace?.record("embeddings_sum", x);
    if (this.embeddingNorm) x = this.embeddingNorm.forward(x);
    x = this.embeddingDropout.forward(x);
    trace?.record("x0", x);
    return x;
  }

  /** `wordEmbeddings` after checking that it is (batch, n, dModel) for these ids. */
  private checkWordEmbeddings(vectors: Tensor, ids: IndexTensor): Tensor {
    const want = [ids.shape[0], ids.shape[1], this.config.dModel];
    if (vectors.rank !== 3 || vectors.shape.some((s, i) => s !== want[i])) {
      throw new ShapeError(`model: wordEmbeddings ${formatShape(vectors.shape)} must be ${formatShape(want)} (batch, n, dModel)`);
    }
    return vectors;
  }

  /** ids (batch, n) → hidden states (batch, n, dModel). */
  forward(ids: IndexTensor, call: ModelCall = {}): ModelOutput {
    if (call.attentionMask && (call.attentionMask.shape[0] !== ids.shape[0] || call.attentionMask.shape[1] !== ids.shape[1])) {
      throw new ShapeError(`model: attentionMask ${formatShape(call.attentionMask.shape)} must match ids ${formatShape(ids.shape)}`);
    }
    const c = this.config;
    const training = isGradEnabled(); // parameters always require gradients: recording is the mode that matters
    checkActivationMemory({
      batch: ids.shape[0], n: ids.shape[1], dModel: c.dModel, dFF: c.dFF, heads: c.heads, numLayers: c.numLayers,
      keepsWeights: call.needWeights === true || call.trace !== undefined || training, training,
    });
    const x0 = this.embed(ids, call);
    const r = this.encoder.forward(x0, {
      attentionMask: call.attentionMask, needWeights: call.needWeights, trace: call.trace?.scope("encoder"), headGates: call.headGates,
    });
    return { lastHiddenState: r.output, hiddenStates: [x0, ...r.layerOutputs], attentions: r.attentions };
  }
}
