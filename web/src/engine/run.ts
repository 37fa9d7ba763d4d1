/**
 * Running a loaded model on one sentence for the explorer: tokenize, optionally pad, run embeddings → encoder →
 * head under a Trace, and return every recorded step. DOM-free, so Node tests run exactly what the worker runs.
 */
import type { BertModel } from "../../../src/models/bert.ts";
import type { LoadedBert } from "../../../src/models/load-bert.ts";
import type { Encoder } from "../../../src/nn/encoder.ts";
import { maskFromLengths } from "../../../src/nn/masks.ts";
import { Trace } from "../../../src/nn/trace.ts";
import { noGrad } from "../../../src/tensor/autograd.ts";
import { softmax } from "../../../src/tensor/ops/nn.ts";
import { type Tensor, indexTensor } from "../../../src/tensor/tensor.ts";
import { BASELINE, type ModelInfo, type RunResult, type TensorData, type WhatIf, needsVariant } from "./protocol.ts";
import { attentionShape, variantEncoder, variantKey } from "./what-if.ts";

/** A loaded model with the what-if encoders built for it so far. */
export interface ExplorerModel {
  loaded: LoadedBert;
  info: ModelInfo;
  variants: Map<string, Encoder>;
}

/** Wraps a loaded model for the explorer. */
export function explorerModel(loaded: LoadedBert, name: string): ExplorerModel {
  const c = loaded.model.config;
  const { heads, headDim } = attentionShape(loaded.model, BASELINE);
  const info: ModelInfo = {
    name, kind: loaded.config.tsformer ? "tsformer" : "bert", layers: c.numLayers, heads, headDim, dModel: c.dModel, dFF: c.dFF, vocabSize: c.vocabSize,
    positional: c.positional, scaleEmbedding: c.scaleEmbedding, embeddingNorm: c.embeddingNorm, normFirst: c.normFirst,
    activation: c.activation, pooling: loaded.config.tsformer?.pooling ?? "pooler", labels: loaded.model.classifier ? loaded.config.labels : null, maxLength: loaded.maxLength,
    parameters: loaded.model.parameterCount(),
  };
  return { loaded, info, variants: new Map() };
}

/** A copy of a tensor's values that can be transferred to another thread. */
function copyOut(t: Tensor): TensorData {
  return { shape: [...t.shape], data: t.data.slice() };
}

/** The encoder a what-if runs: the trained one, or a variant built once and cached. */
function encoderFor(m: ExplorerModel, w: WhatIf): Encoder {
  if (!needsVariant(w)) return m.loaded.model.encoder;
  const key = variantKey(w);
  let encoder = m.variants.get(key);
  if (!encoder) m.variants.set(key, (encoder = variantEncoder(m.loaded.model, w)));
  return encoder;
}

/**
 * Runs `text` (truncated to the model's length) with the what-if switches. The attention sees the [PAD] tokens
 * only when `maskPadding` is off; pooling always uses the real tokens, so a change of prediction comes from attention.
 */
export function runSentence(m: ExplorerModel, text: string, w: WhatIf): RunResult {
  const { tokenizer, maxLength } = m.loaded;
  const model: BertModel = m.loaded.model;
  const enc = tokenizer.encode(text, null, { maxLength, truncation: "longest_first" });
  const truncated = tokenizer.tokenize(text).length + 2 > maxLength;
  const realLength = enc.inputIds.length;
  // Padding must still fit the position table.
  const padding = Math.max(0, Math.min(Math.floor(w.padding), model.config.maxPositions - realLength));
  const padId = tokenizer.vocab.padId;
  const ids = [...enc.inputIds, ...new Array<number>(padding).fill(padId)];
  const tokens = [...enc.tokens, ...new Array<string>(padding).fill(tokenizer.vocab.tokenOf(padId))];
  const n = ids.length;
  const realTokens = maskFromLengths([realLength], n);
  const trace = new Trace();
  const started = performance.now();
  const out = noGrad(() => {
    const x0 = model.embed(indexTensor(ids, [1, n]), { tokenTypeIds: indexTensor([...enc.tokenTypeIds, ...new Array<number>(padding).fill(0)], [1, n]), trace });
    const r = encoderFor(m, w).forward(x0, { attentionMask: w.maskPadding ? realTokens : null, needWeights: true, trace: trace.scope("encoder") });
    return model.head({ lastHiddenState: r.output, hiddenStates: [x0, ...r.layerOutputs], attentions: r.attentions }, realTokens);
  });
  const ms = performance.now() - started;
  const steps: Record<string, TensorData> = {};
  for (const [name, t] of trace.all()) steps[name] = copyOut(t);
  steps.last_hidden_state = copyOut(out.lastHiddenState);
  steps.pooled = copyOut(out.poolerOutput);
  if (out.logits) steps.logits = copyOut(out.logits);
  const probs = out.logits ? Array.from(noGrad(() => softmax(out.logits as Tensor)).data) : null;
  const shape = attentionShape(model, w);
  return {
    tokens, ids, realLength, truncated, whatIf: { ...w, padding }, heads: shape.heads, headDim: shape.headDim, scale: shape.scale,
    steps, attentions: out.attentions.map(copyOut), probs, ms,
  };
}

/** The buffers of a result, for a zero-copy postMessage. */
export function transferables(r: RunResult): ArrayBuffer[] {
  const buffers = [...Object.values(r.steps), ...r.attentions].map((t) => t.data.buffer);
  return [...new Set(buffers)].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}
