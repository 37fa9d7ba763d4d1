/**
 * BERT (Devlin et al. 2019) as a configuration of the same encoder: word + learned position + token-type
 * embeddings, an embedding LayerNorm, post-LN layers with GELU, then the pooler (tanh(W·h_[CLS] + b)) and,
 * for sequence classification checkpoints, a linear classifier on the pooled vector.
 */
import { Rng } from "../tensor/random.ts";
import { tanh } from "../tensor/ops/elementwise.ts";
import type { IndexTensor, Tensor } from "../tensor/tensor.ts";
import { Linear } from "../nn/linear.ts";
import { Module } from "../nn/module.ts";
import { type ModelCall, type ModelOutput, TransformerEncoderModel } from "../nn/model.ts";
import { type BertConfig, bertEncoderConfig } from "./bert-config.ts";
import { clsPool } from "./pooling.ts";

/** BERT's pooler: a dense layer and tanh on the first token ([CLS]). Parameters `dense.*`. */
export class BertPooler extends Module {
  readonly dense: Linear;

  constructor(hidden: number, rng: Rng) {
    super();
    this.dense = this.registerModule("dense", new Linear(hidden, hidden, { rng }));
  }

  /** (batch, n, hidden) → (batch, hidden). */
  forward(hidden: Tensor): Tensor {
    return tanh(this.dense.forward(clsPool(hidden)));
  }
}

/** What BERT returns: the encoder outputs plus the pooled vector and, with a classifier, the logits. */
export interface BertOutput extends ModelOutput {
  poolerOutput: Tensor;
  logits: Tensor | null;
}

/** BertModel (with `classifier.*` when the config has labels). Names: the encoder's, plus `pooler.dense.*`, `classifier.*`. */
export class BertModel extends TransformerEncoderModel {
  readonly bertConfig: BertConfig;
  readonly pooler: BertPooler;
  readonly classifier: Linear | null;

  constructor(config: BertConfig, rng = new Rng(0)) {
    super(bertEncoderConfig(config), rng);
    this.bertConfig = config;
    this.pooler = this.registerModule("pooler", new BertPooler(config.hiddenSize, rng));
    this.classifier = config.labels ? this.registerModule("classifier", new Linear(config.hiddenSize, config.labels.length, { rng })) : null;
  }

  /** ids (batch, n) → hidden states, pooled output and logits. */
  override forward(ids: IndexTensor, call: ModelCall = {}): BertOutput {
    const out = super.forward(ids, call);
    return this.head(out);
  }

  /** The pooler and classifier on top of encoder outputs (also for callers that ran the encoder themselves). */
  head(out: ModelOutput): BertOutput {
    const poolerOutput = this.pooler.forward(out.lastHiddenState);
    const logits = this.classifier ? this.classifier.forward(poolerOutput) : null;
    return { ...out, poolerOutput, logits };
  }
}
