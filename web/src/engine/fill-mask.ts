/**
 * The fill-mask view's engine side: the library's `fillMask` (Hugging Face's fill-mask pipeline semantics,
 * src/models/fill-mask.ts) for the candidates of every [MASK], and the same input through `encodeTexts` with
 * `needWeights` for the tokens and the attention probabilities. DOM-free, so Node tests run exactly what the worker
 * runs. A text without [MASK] still gives its tokens and attention (the page lets the visitor click one to mask it).
 */
import { fillMask, requireMaskedLmHead } from "../../../src/models/fill-mask.ts";
import { encodeTexts } from "../../../src/models/embeddings.ts";
import type { Module } from "../../../src/nn/module.ts";
import { setInt8 } from "./int8.ts";
import { FILL_MASK_SHOWN, type FillMaskResult, type ModelSlot, type TensorData } from "./protocol.ts";
import type { ExplorerModel } from "./run.ts";

/** How `runFillMask` runs. */
export interface FillMaskRunOptions {
  /** Candidates per [MASK] (default 10). */
  topK?: number;
  /** The int8 switch: the encoder's and the masked-LM head's Linear layers in int8 (as `tsformer fill-mask --quantize int8`). */
  int8?: boolean;
  /** The model place, recorded in the result (default "main"). */
  slot?: ModelSlot;
}

/** A copy of a tensor's values that can be transferred to another thread. */
function copyOut(t: { shape: readonly number[]; data: Float32Array }): TensorData {
  return { shape: [...t.shape], data: t.data.slice() };
}

/**
 * Runs `text` (cut to the model's maximum length) on a model with a masked-LM head: its tokens, the positions of its
 * [MASK]s, each one's top candidates, and every layer's attention of the same input. Throws fillMask's one-line
 * errors (no masked-LM head, a [MASK] beyond the cut).
 */
export function runFillMask(m: ExplorerModel, text: string, { topK = FILL_MASK_SHOWN, int8 = false, slot = "main" }: FillMaskRunOptions = {}): FillMaskResult {
  const { loaded } = m;
  requireMaskedLmHead(loaded);
  const head = loaded.model.mlmHead;
  const parts: Module[] = [loaded.model.encoder, ...(head ? [head] : [])];
  for (const part of parts) setInt8(part, int8);
  const started = performance.now();
  const { encoding, output } = encodeTexts(loaded, [text], { needWeights: true });
  const row = encoding.rows[0];
  const maskId = loaded.tokenizer.vocab.maskId;
  const masks = row.inputIds.flatMap((id, i) => (id === maskId ? [i] : []));
  const candidates = masks.length > 0 ? fillMask(loaded, text, { topK, decode: m.decode }) : [];
  const ms = performance.now() - started;
  return {
    text, slot, tokens: [...row.tokens], ids: [...row.inputIds], masks, candidates, attentions: output.attentions.map(copyOut),
    truncated: loaded.tokenizer.tokenize(text).length + 2 > loaded.maxLength, int8, ms,
  };
}

/** The buffers of a result, for a zero-copy postMessage. */
export function fillMaskTransferables(r: FillMaskResult): ArrayBuffer[] {
  return [...new Set(r.attentions.map((t) => t.data.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}
