/**
 * BERT (Devlin et al. 2019) as a configuration of the same encoder: word + learned position + token-type
 * embeddings, an embedding LayerNorm, post-LN layers with GELU, then the pooler (tanh(W·h_[CLS] + b)) and,
 * for sequence classification checkpoints, a linear classifier on the pooled vector; for masked-LM checkpoints,
 * the MLM head whose decoder is the word-embedding table (masked-lm.ts).
 */
import { ConfigError } from "../errors.ts";
import { Rng } from "../tensor/random.ts";
import { tanh } from "../tensor/ops/elementwise.ts";
import type { IndexTensor, Tensor } from "../tensor/tensor.ts";
import { Dropout } from "../nn/layernorm.ts";
import { Linear } from "../nn/linear.ts";
import { type AttentionMask, maskFromLengths } from "../nn/masks.ts";
import { Module } from "../nn/module.ts";
import { type ModelCall, type ModelOutput, TransformerEncoderModel } from "../nn/model.ts";
import { type BertConfig, bertEncoderConfig } from "./bert-config.ts";
import { BertLMPredictionHead, initBertLinear } from "./masked-lm.ts";
import { clsPool, pool } from "./pooling.ts";

/** BERT's default `initializer_range`: the std of N(0, std²) weights in new heads. */
export const BERT_INITIALIZER_RANGE = 0.02;

/** BERT's pooler: a dense layer and tanh on the first token ([CLS]). Parameters `dense.*`. */
export class BertPooler extends Module {
  readonly dense: Linear;

  /** Initialised as BERT initialises it (N(0, initStd²) weights, zero bias), for checkpoints that have none. */
  constructor(hidden: number, rng: Rng, initStd = BERT_INITIALIZER_RANGE) {
    super();
    this.dense = this.registerModule("dense", new Linear(hidden, hidden, { rng }));
    initBertLinear(this.dense, initStd, rng);
  }

  /** (batch, n, hidden) → (batch, hidden). */
  forward(hidden: Tensor): Tensor {
    return tanh(this.dense.forward(clsPool(hidden)));
  }
}

/** What BERT returns: the encoder outputs plus the pooled vector and, with a classifier, the logits. */
export interface BertOutput extends ModelOutput {
  /** BERT's pooler output; for a `tsformer` config without a pooler, the pooled vector the classifier reads. */
  poolerOutput: Tensor;
  logits: Tensor | null;
}

/** Options of `BertModel` besides its config. */
export interface BertModelOptions {
  /** Add the masked-LM head (`mlm_head.*`, decoder tied to the word embeddings). Default false. */
  mlmHead?: boolean;
  /**
   * Add BERT's pooler (default true). BertForMaskedLM has none; without one, `poolerOutput` is the [CLS] hidden
   * state of a plain BERT config.
   */
  pooler?: boolean;
}

/**
 * BERT's initialisation of every parameter (Hugging Face `BertPreTrainedModel._init_weights`): matrices and
 * embedding tables N(0, std²) with std = `initializer_range`, the padding row of the word embeddings zero, biases
 * zero, LayerNorm weights one. For pretraining from scratch; loading a checkpoint overwrites all of it.
 */
export function initBertWeights(model: BertModel, rng: Rng): void {
  const std = model.bertConfig.initializerRange ?? BERT_INITIALIZER_RANGE;
  for (const [name, p] of model.namedParameters()) {
    const d = p.data;
    if (p.rank === 2) for (let i = 0; i < d.length; i++) d[i] = rng.normal() * std;
    else d.fill(name.endsWith(".weight") ? 1 : 0); // rank 1: LayerNorm weights, biases
  }
  const cols = model.embedding.weight.shape[1];
  model.embedding.weight.data.fill(0, model.config.padId * cols, (model.config.padId + 1) * cols);
}

/**
 * BertModel (with `classifier.*` when the config has labels, `mlm_head.*` when asked). Names: the encoder's, plus
 * `pooler.dense.*`, `classifier.*`, `mlm_head.{dense,norm}.*`, `mlm_head.bias` (src/io/names.ts maps them to HF's).
 * A config with a `tsformer` object whose pooling is not "pooler" has no pooler: the classifier reads that pooling.
 */
export class BertModel extends TransformerEncoderModel {
  readonly bertConfig: BertConfig;
  readonly pooler: BertPooler | null;
  readonly classifier: Linear | null;
  /** Dropout on the pooled vector before the classifier, in training (HF BertForSequenceClassification's). */
  private readonly classifierDropout: Dropout;
  /** The masked-LM head (BertForMaskedLM), or null. */
  readonly mlmHead: BertLMPredictionHead | null;

  constructor(config: BertConfig, rng = new Rng(0), options: BertModelOptions = {}) {
    super(bertEncoderConfig(config), rng);
    this.bertConfig = config;
    const initStd = config.initializerRange ?? BERT_INITIALIZER_RANGE;
    const pooling = config.tsformer?.pooling ?? "pooler";
    this.pooler = pooling === "pooler" && options.pooler !== false ? this.registerModule("pooler", new BertPooler(config.hiddenSize, rng, initStd)) : null;
    this.classifierDropout = this.registerModule("classifier_dropout", new Dropout(config.classifierDropout ?? config.hiddenDropoutProb, rng));
    this.classifier = config.labels ? this.registerModule("classifier", new Linear(config.hiddenSize, config.labels.length, { rng })) : null;
    this.mlmHead = options.mlmHead ? this.registerModule("mlm_head", new BertLMPredictionHead(this.embedding.weight, {
      hiddenSize: config.hiddenSize, activation: config.hiddenAct, layerNormEps: config.layerNormEps, initStd, rng,
    })) : null;
  }

  /** Masked-LM logits (batch, n, vocab) from hidden states (batch, n, hidden), e.g. `forward(...).lastHiddenState`. */
  maskedLmLogits(hidden: Tensor): Tensor {
    if (!this.mlmHead) throw new ConfigError("BertModel: this model has no masked-LM head (load a BertForMaskedLM folder with mlmHead: true, or build it with { mlmHead: true })");
    return this.mlmHead.forward(hidden);
  }

  /** ids (batch, n) → hidden states, pooled output and logits. */
  override forward(ids: IndexTensor, call: ModelCall = {}): BertOutput {
    const out = super.forward(ids, call);
    return this.head(out, call.attentionMask);
  }

  /**
   * The pooler and classifier on top of encoder outputs (also for callers that ran the encoder themselves).
   * The mask (1 = real token) matters only for a pooler-less `tsformer` model's mean/max pooling; omitted, every token is real.
   */
  head(out: ModelOutput, attentionMask?: AttentionMask | null): BertOutput {
    const hidden = out.lastHiddenState;
    const pooling = this.bertConfig.tsformer?.pooling ?? "pooler";
    const poolerOutput = this.pooler ? this.pooler.forward(hidden)
      : pool(pooling === "pooler" ? "cls" : pooling, hidden, attentionMask ?? maskFromLengths(new Array<number>(hidden.shape[0]).fill(hidden.shape[1]), hidden.shape[1]));
    const logits = this.classifier ? this.classifier.forward(this.classifierDropout.forward(poolerOutput)) : null;
    return { ...out, poolerOutput, logits };
  }
}
