/**
 * BERT's masked-language-model head (Hugging Face `BertLMPredictionHead`, `cls.predictions.*`):
 *   t = LayerNorm(act(h·W_tᵀ + b_t)),  logits = t·Eᵀ + bias
 * where E is the word-embedding table itself: the decoder is TIED to the input embeddings (Devlin et al. 2019,
 * following Press & Wolf 2017), so one tensor gets the gradient of both its uses, summed by autograd.
 */
import { ShapeError, formatShape } from "../errors.ts";
import { type Activation, activation } from "../tensor/ops/elementwise.ts";
import { linear } from "../tensor/ops/linalg.ts";
import type { Rng } from "../tensor/random.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { zerosInit } from "../nn/init.ts";
import { LayerNorm } from "../nn/layernorm.ts";
import { Linear } from "../nn/linear.ts";
import { Module } from "../nn/module.ts";

/**
 * BERT's initialisation of a dense layer (HF `_init_weights`): weights N(0, std²) with std = `initializer_range`,
 * bias zero. Used for the heads a checkpoint may lack (a new pooler, a new MLM head).
 */
export function initBertLinear(layer: Linear, std: number, rng: Rng): void {
  const w = layer.weight.data;
  if (rng.drawsCentres) w.fill(0);
  else for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
  layer.bias?.data.fill(0);
}

/** What the head needs to know besides the tied table. */
export interface MaskedLmHeadOptions {
  hiddenSize: number;
  /** The transform's activation (config.json `hidden_act`). */
  activation: Activation;
  /** The transform LayerNorm's eps (config.json `layer_norm_eps`). */
  layerNormEps: number;
  /** Std of the N(0, std²) initialisation of the transform (config.json `initializer_range`). */
  initStd: number;
  rng: Rng;
}

/**
 * The MLM head. Parameters: `dense.*` (transform.dense), `norm.*` (transform.LayerNorm) and `bias` (vocab). The
 * decoder weight is NOT a parameter of this module: it is the model's word-embedding table, held by reference, so
 * a state dict lists it once (as `embedding.weight`) and an optimizer updates it once.
 */
export class BertLMPredictionHead extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  /** The output bias, one per vocabulary entry (HF `cls.predictions.bias`). */
  readonly bias: Tensor;
  /** The tied decoder weight (vocab, hidden): the very Tensor of the word embeddings. */
  readonly decoderWeight: Tensor;
  readonly activation: Activation;

  constructor(wordEmbeddings: Tensor, options: MaskedLmHeadOptions) {
    super();
    const h = options.hiddenSize;
    if (wordEmbeddings.rank !== 2 || wordEmbeddings.shape[1] !== h) {
      throw new ShapeError(`masked-LM head: the word-embedding table is ${formatShape(wordEmbeddings.shape)}, expected (vocab, ${h})`);
    }
    this.decoderWeight = wordEmbeddings;
    this.activation = options.activation;
    this.dense = this.registerModule("dense", new Linear(h, h, { rng: options.rng }));
    initBertLinear(this.dense, options.initStd, options.rng);
    this.norm = this.registerModule("norm", new LayerNorm(h, options.layerNormEps));
    this.bias = this.registerParameter("bias", zerosInit([wordEmbeddings.shape[0]]));
  }

  /** Hidden states (…, hidden) → vocabulary logits (…, vocab). */
  forward(hidden: Tensor): Tensor {
    const t = this.norm.forward(activation(this.activation, this.dense.forward(hidden)));
    return linear(t, this.decoderWeight, this.bias);
  }
}
