/**
 * Running a loaded model on one sentence for the explorer: tokenize, optionally pad, run embeddings → encoder →
 * head under a Trace, and return every recorded step — in float32, or with the Linear layers in int8 (then, when
 * asked, also compared with a float32 pass of the same sentence). DOM-free, so Node tests run exactly what the
 * worker runs.
 */
import type { BertModel } from "../../../src/models/bert.ts";
import type { HfDecodeSettings } from "../../../src/models/fill-mask.ts";
import type { LoadedBert } from "../../../src/models/load-bert.ts";
import type { Encoder } from "../../../src/nn/encoder.ts";
import type { Module } from "../../../src/nn/module.ts";
import { cosineSimilarity } from "../../../src/models/pooling.ts";
import { isBertEncoder } from "../../../src/models/bert-config.ts";
import { maskFromLengths } from "../../../src/nn/masks.ts";
import { Trace } from "../../../src/nn/trace.ts";
import { noGrad } from "../../../src/tensor/autograd.ts";
import { softmax } from "../../../src/tensor/ops/nn.ts";
import { type Tensor, indexTensor } from "../../../src/tensor/tensor.ts";
import { setInt8, withFloat32 } from "./int8.ts";
import { BASELINE, type ModelInfo, type RunResult, type TensorData, type WhatIf, needsVariant } from "./protocol.ts";
import { attentionShape, variantEncoder, variantKey } from "./what-if.ts";

/** A loaded model with the what-if encoders built for it so far. */
export interface ExplorerModel {
  loaded: LoadedBert;
  info: ModelInfo;
  variants: Map<string, Encoder>;
  /** Fill-mask's decoder settings, read from the folder when it was loaded (else fillMask reads them on first use). */
  decode?: HfDecodeSettings;
}

/** Wraps a loaded model for the explorer. */
export function explorerModel(loaded: LoadedBert, name: string): ExplorerModel {
  const c = loaded.model.config;
  const { heads, headDim } = attentionShape(loaded.model, BASELINE);
  const info: ModelInfo = {
    // A fine-tuned BERT whose config.json records only tsformer's mean pooling is still a BERT.
    name, kind: isBertEncoder(c) ? "bert" : "tsformer", layers: c.numLayers, heads, headDim, dModel: c.dModel, dFF: c.dFF, vocabSize: c.vocabSize,
    positional: c.positional, scaleEmbedding: c.scaleEmbedding, embeddingNorm: c.embeddingNorm, normFirst: c.normFirst,
    activation: c.activation, pooling: loaded.config.tsformer?.pooling ?? "pooler", labels: loaded.model.classifier ? loaded.config.labels : null, maxLength: loaded.maxLength,
    parameters: loaded.model.parameterCount(), maskedLm: loaded.model.mlmHead !== null,
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

/** How `runSentence` runs the Linear layers. */
export interface RunPrecision {
  /** The Linear layers the run uses (encoder, pooler, classifier; not the unused masked-LM head) run in int8. */
  int8?: boolean;
  /** With `int8`: also run the input in float32 and report how far int8 moved from it (`RunResult.int8.comparison`). */
  compare?: boolean;
}

/**
 * Runs `text` (truncated to the model's length) with the what-if switches. The attention sees the [PAD] tokens
 * only when `maskPadding` is off; pooling always uses the real tokens, so a change of prediction comes from attention.
 */
export function runSentence(m: ExplorerModel, text: string, w: WhatIf, { int8 = false, compare = false }: RunPrecision = {}): RunResult {
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
  const encoder = encoderFor(m, w);
  const pass = (trace: Trace): ReturnType<BertModel["head"]> => noGrad(() => {
    const x0 = model.embed(indexTensor(ids, [1, n]), { tokenTypeIds: indexTensor([...enc.tokenTypeIds, ...new Array<number>(padding).fill(0)], [1, n]), trace });
    const r = encoder.forward(x0, { attentionMask: w.maskPadding ? realTokens : null, needWeights: true, trace: trace.scope("encoder") });
    return model.head({ lastHiddenState: r.output, hiddenStates: [x0, ...r.layerOutputs], attentions: r.attentions }, realTokens);
  });
  const parts: Module[] = [encoder, ...(model.pooler ? [model.pooler] : []), ...(model.classifier ? [model.classifier] : [])];
  const matrices = parts.reduce((count, part) => count + setInt8(part, int8), 0);
  // Traced as the run itself is (attention then runs as separate ops, not fused), so the float32 numbers compared are
  // exactly those the page shows with the switch off.
  const fp32 = int8 && compare ? withFloat32(parts, () => pass(new Trace())) : null;
  const trace = new Trace();
  const started = performance.now();
  const out = pass(trace);
  const ms = performance.now() - started;
  const steps: Record<string, TensorData> = {};
  for (const [name, t] of trace.all()) steps[name] = copyOut(t);
  steps.last_hidden_state = copyOut(out.lastHiddenState);
  steps.pooled = copyOut(out.poolerOutput);
  if (out.logits) steps.logits = copyOut(out.logits);
  const probsOf = (logits: Tensor | null): number[] | null => (logits ? Array.from(noGrad(() => softmax(logits)).data) : null);
  const probs = probsOf(out.logits);
  const shape = attentionShape(model, w);
  return {
    tokens, ids, realLength, truncated, whatIf: { ...w, padding }, heads: shape.heads, headDim: shape.headDim, scale: shape.scale,
    steps, attentions: out.attentions.map(copyOut), probs, ms,
    int8: int8 ? {
      matrices, comparison: fp32 ? { cosine: cosineSimilarity(out.lastHiddenState.data, fp32.lastHiddenState.data), fp32Probs: probsOf(fp32.logits) } : null,
    } : null,
  };
}

/** The buffers of a result, for a zero-copy postMessage. */
export function transferables(r: RunResult): ArrayBuffer[] {
  const buffers = [...Object.values(r.steps), ...r.attentions].map((t) => t.data.buffer);
  return [...new Set(buffers)].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}
