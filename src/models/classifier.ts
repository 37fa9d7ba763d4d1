/**
 * A text classifier on the encoder: token ids → encoder → pooled vector (mean over real tokens, or the first
 * token) → dropout → a linear layer to one logit per label. tsformer's default model is one of these.
 */
import { Rng } from "../tensor/random.ts";
import type { IndexTensor, Tensor } from "../tensor/tensor.ts";
import { Dropout } from "../nn/layernorm.ts";
import { Linear } from "../nn/linear.ts";
import { maskFromLengths } from "../nn/masks.ts";
import { type EncoderModelConfig, type ModelCall, type ModelOutput, TransformerEncoderModel } from "../nn/model.ts";
import { type Pooling, pool } from "./pooling.ts";

/** An encoder configuration plus the classification head. */
export interface ClassifierConfig {
  encoder: EncoderModelConfig;
  /** How token vectors become one vector: "mean" over real tokens, "cls" (the first token) or "max". */
  pooling: Pooling;
  /** Label names; the classifier has one output per label. */
  labels: string[];
  /** Dropout on the pooled vector during training (default: the encoder's dropout). */
  classifierDropout?: number;
}

/** What the classifier returns: the encoder's outputs, the pooled vector and the logits. */
export interface ClassifierOutput extends ModelOutput {
  pooled: Tensor;
  /** (batch, labels), before softmax. */
  logits: Tensor;
}

/** Encoder + pooling + linear head. Parameter names: the encoder's, plus `classifier.weight`, `classifier.bias`. */
export class EncoderClassifier extends TransformerEncoderModel {
  readonly classifierConfig: ClassifierConfig;
  readonly classifier: Linear;
  private readonly headDropout: Dropout;

  constructor(config: ClassifierConfig, rng = new Rng(0)) {
    super(config.encoder, rng);
    this.classifierConfig = config;
    this.headDropout = this.registerModule("classifier_dropout", new Dropout(config.classifierDropout ?? config.encoder.dropout, rng));
    this.classifier = this.registerModule("classifier", new Linear(config.encoder.dModel, config.labels.length, { rng }));
  }

  /** ids (batch, n) → logits (batch, labels). Without a mask, every token is real. */
  override forward(ids: IndexTensor, call: ModelCall = {}): ClassifierOutput {
    const out = super.forward(ids, call);
    const mask = call.attentionMask ?? maskFromLengths(new Array<number>(ids.shape[0]).fill(ids.shape[1]), ids.shape[1]);
    const pooled = pool(this.classifierConfig.pooling, out.lastHiddenState, mask);
    call.trace?.record("pooled", pooled);
    const logits = this.classifier.forward(this.headDropout.forward(pooled));
    call.trace?.record("logits", logits);
    return { ...out, pooled, logits };
  }
}
