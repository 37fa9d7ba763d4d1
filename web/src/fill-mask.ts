/**
 * The fill-mask view's page logic without the DOM: which model it uses, the text after masking or restoring a
 * clicked token (exBERT's gesture), and the attention row of a [MASK] position.
 */
import type { FillMaskResult, ModelInfo, ModelSlot } from "./engine/protocol.ts";
import type { HeadChoice } from "./metrics.ts";
import type { SiteManifest } from "./site.ts";

/** The mask token, as BERT vocabularies spell it. */
export const MASK = "[MASK]";

/**
 * The model place fill-mask uses: the main model when it has a masked-LM head (a BertForMaskedLM folder opened with
 * "Open model…"), else the site's shipped masked-LM model; null when there is neither.
 */
export function fillSlot(model: ModelInfo | null, site: SiteManifest): ModelSlot | null {
  if (model?.maskedLm) return "main";
  return site.maskedLmModel ? "masked-lm" : null;
}

/** Whether token `i` of a run can be clicked to mask it: any but the [CLS] and [SEP] the tokenizer put around the text. */
export function maskable(tokens: readonly string[], i: number): boolean {
  return i > 0 && i < tokens.length - 1;
}

/**
 * A text that tokenizes back to `tokens` (without the first [CLS] and the last [SEP]): words joined by spaces, a
 * "##" continuation glued to the token before it. A continuation after a [MASK] is glued too ("[MASK]ing"), which the tokenizer reads
 * as a new word ("ing"): the text is what the model then sees, and the page shows its tokens.
 */
export function textFromTokens(tokens: readonly string[]): string {
  let text = "";
  tokens.forEach((token, i) => {
    if (!maskable(tokens, i)) return;
    if (token.startsWith("##") && token.length > 2 && text !== "") text += token.slice(2);
    else text += text === "" ? token : ` ${token}`;
  });
  return text;
}

/** The text with token `i` replaced by `token` (a click masks a word with "[MASK]", or puts the word back). */
export function textWithToken(tokens: readonly string[], i: number, token: string): string {
  return textFromTokens(tokens.map((t, k) => (k === i ? token : t)));
}

/** What a click on token `i` does: the new text and the tokens to put back later (by position). */
export function toggleMask(r: FillMaskResult, restore: Readonly<Record<number, string>>, i: number): { text: string; restore: Record<number, string> } | null {
  if (!maskable(r.tokens, i)) return null;
  if (r.tokens[i] === MASK) {
    const original = restore[i];
    if (original === undefined) return null; // typed in the sentence: nothing to put back
    const rest = { ...restore };
    delete rest[i];
    return { text: textWithToken(r.tokens, i, original), restore: rest };
  }
  return { text: textWithToken(r.tokens, i, MASK), restore: { ...restore, [i]: r.tokens[i] } };
}

/** The entries of `restore` that still point at a [MASK] of the new run (others no longer apply). */
export function keptRestores(restore: Readonly<Record<number, string>>, r: FillMaskResult): Record<number, string> {
  return Object.fromEntries(Object.entries(restore).filter(([i]) => r.tokens[Number(i)] === MASK));
}

/** The attention weights from query `position` to every token in a layer, for one head or the mean of the heads. */
export function attentionRow(r: FillMaskResult, layer: number, head: HeadChoice, position: number): number[] {
  const a = r.attentions[layer];
  const [, heads, n] = a.shape;
  const row = (h: number, j: number): number => a.data[(h * n + position) * n + j];
  return Array.from({ length: n }, (_, j) => {
    if (head !== "mean") return row(head, j);
    let sum = 0;
    for (let h = 0; h < heads; h++) sum += row(h, j);
    return sum / heads;
  });
}
