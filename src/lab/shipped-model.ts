/** The trained classifier the lab inspects (Q01's head pruning, Q07's steps): --model, the shipped one, or one trained now. */
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { shippedPath } from "../io/shipped.ts";
import type { EncoderClassifier } from "../models/classifier.ts";
import { loadCheckpoint } from "../models/tsformer-checkpoint.ts";
import type { BertTokenizer } from "../text/wordpiece.ts";
import { pct } from "./metrics.ts";
import { loadSst2, trainSst2 } from "./sst2.ts";
import type { LabContext } from "./types.ts";

/** A classifier with its tokenizer, input limit, labels and where it came from (as reports show it). */
export interface LabClassifier {
  model: EncoderClassifier;
  tokenizer: BertTokenizer;
  maxLength: number;
  /** The labels as data files write them, in the model's class order (SST-2's "0" and "1"). */
  dataLabels: string[];
  source: string;
}

/**
 * The classifier the lab inspects: --model, else the shipped models/notes-encoder, else a small one trained now. Not
 * models/default: that is a pretrained BERT, while Q01 and Q07 study the notes' own encoder (×√d_model, sinusoids).
 */
export function shippedClassifier(ctx: LabContext): LabClassifier {
  const dir = ctx.modelDir || shippedPath("models/notes-encoder");
  if (ctx.modelDir || existsSync(join(dir, "config.json"))) {
    const loaded = loadCheckpoint(dir);
    // Shown relative to the checkout, so reports read the same on every machine.
    const shown = relative(shippedPath("."), resolve(dir));
    const dataLabels = loaded.config.dataLabels ?? loaded.config.classifier.labels;
    return { model: loaded.model, tokenizer: loaded.tokenizer, maxLength: loaded.config.tokenizer.maxLength, dataLabels, source: shown.startsWith("..") ? dir : shown };
  }
  ctx.log("no trained classifier found: training a small one on SST-2");
  const r = trainSst2({ encoder: { dModel: 64, heads: 4, dFF: 128 }, epochs: 1, trainLimit: ctx.quick ? 1000 : undefined, seed: ctx.seed });
  const data = loadSst2();
  return { model: r.model, tokenizer: data.tokenizer, maxLength: data.maxLength, dataLabels: r.model.classifierConfig.labels, source: `trained here (SST-2, 1 epoch, dev accuracy ${pct(r.accuracy)})` };
}

