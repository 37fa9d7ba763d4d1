/**
 * The what-if switches as real engine modules: an encoder stack built with the switch turned, loaded with the
 * trained weights. Nothing is re-trained, so each what-if shows what the trained model does when one design
 * choice of the notes is undone.
 *
 * - scaling off (Q04): MultiHeadAttention `scale: 1` instead of 1/√d_k.
 * - shared W_Q = W_K (Q02): `shareQK: true`; the trained W_Q (weight and bias) serves for both, W_K is unused.
 * - heads merged (Q01): `heads: 1, headDim: h·d_k`: the same W_Q, W_K, W_V, W_O as one head of width h·d_k
 *   (= d_model), so softmax runs once over the full-width dot product, scaled by 1/√(h·d_k).
 * Padding (Q05) needs no new module: the runner appends [PAD] tokens and passes or drops the attention mask.
 */
import type { MultiHeadAttentionOptions } from "../../../src/nn/attention.ts";
import { Encoder } from "../../../src/nn/encoder.ts";
import type { TransformerEncoderModel } from "../../../src/nn/model.ts";
import type { WhatIf } from "./protocol.ts";

/** Heads, per-head width and score factor of the attention a what-if runs. */
export interface AttentionShape {
  heads: number;
  headDim: number;
  scale: number;
}

/** The attention shape of the trained model, and of the model with the switches applied. */
export function attentionShape(model: TransformerEncoderModel, w: WhatIf): AttentionShape {
  const trained = model.encoder.layers.items[0].selfAttn; // every layer's attention is built alike
  const headDim = w.mergeHeads ? trained.heads * trained.headDim : trained.headDim;
  // Merged heads are one head of width h·d_k, so "scaled" means ÷√(h·d_k), what the engine does for such a head.
  const scaledBy = w.mergeHeads ? 1 / Math.sqrt(headDim) : trained.scale;
  return { heads: w.mergeHeads ? 1 : trained.heads, headDim, scale: w.scaling ? scaledBy : 1 };
}

/** A cache key for the modules a what-if needs. */
export function variantKey(w: WhatIf): string {
  return `scaling=${w.scaling} shareQK=${w.shareQK} merge=${w.mergeHeads}`;
}

/** A new encoder stack with the what-if's attention, carrying the trained model's weights. */
export function variantEncoder(model: TransformerEncoderModel, w: WhatIf): Encoder {
  const c = model.config;
  const shape = attentionShape(model, w);
  const attention: Pick<MultiHeadAttentionOptions, "headDim" | "scale" | "shareQK" | "scoring" | "bias"> = {
    ...c.attention, headDim: shape.headDim, scale: shape.scale, shareQK: w.shareQK || (c.attention?.shareQK ?? false),
  };
  const encoder = new Encoder({
    dModel: c.dModel, heads: shape.heads, dFF: c.dFF, numLayers: c.numLayers, activation: c.activation, normFirst: c.normFirst,
    layerNormEps: c.layerNormEps, dropout: 0, finalNorm: c.finalNorm, residual: c.residual, layerNorm: c.layerNorm, attention,
  });
  // With shareQK the variant has no k_proj: W_Q is used for both, the trained W_K is left out.
  const weights = [...model.encoder.stateDict()].filter(([name]) => !(w.shareQK && name.includes(".self_attn.k_proj.")));
  encoder.loadStateDict(new Map(weights), { source: "what-if encoder" });
  return encoder;
}
