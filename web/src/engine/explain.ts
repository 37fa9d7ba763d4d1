/**
 * The Explain view's engine side: the library's `explainText` (src/explain/explain.ts) on the main model, in
 * float32 even while the int8 switch is on (its gradients need the float32 weights). DOM-free, so Node tests run
 * exactly what the worker runs.
 */
import { explainText } from "../../../src/explain/explain.ts";
import type { HeadRef } from "../../../src/explain/heads.ts";
import type { Module } from "../../../src/nn/module.ts";
import { withFloat32 } from "./int8.ts";
import type { ExplainResult } from "./protocol.ts";
import type { ExplorerModel } from "./run.ts";

/** How `runExplain` runs. */
export interface ExplainRunOptions {
  /** The class explained, by label name; null or absent: the predicted class. */
  target?: string | null;
  /** Heads removed from the model for this run. */
  maskedHeads?: readonly HeadRef[];
}

/** Every explanation of the prediction for `text` (cut to the model's maximum length); throws without a classifier. */
export function runExplain(m: ExplorerModel, text: string, { target = null, maskedHeads = [] }: ExplainRunOptions = {}): ExplainResult {
  const { loaded } = m;
  const model = loaded.model;
  const parts: Module[] = [model.encoder, ...(model.pooler ? [model.pooler] : []), ...(model.classifier ? [model.classifier] : [])];
  const started = performance.now();
  const e = withFloat32(parts, () => explainText(loaded, text, { target: target ?? undefined, maskedHeads: maskedHeads.length > 0 ? maskedHeads : undefined }));
  return {
    ...e, text, maskedHeads: maskedHeads.map(({ layer, head }) => ({ layer, head })),
    truncated: loaded.tokenizer.tokenize(text).length + 2 > loaded.maxLength, ms: performance.now() - started,
  };
}
