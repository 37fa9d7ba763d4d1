/**
 * Starting a classifier from a pretrained folder (`tsformer train --init-from DIR`): the folder's architecture,
 * vocabulary and tokenizer are kept exactly; the training config may only restate them. The classification head
 * is the folder's when the data's labels are among its labels, otherwise a new one (BERT's initialisation:
 * N(0, 0.02²) weights, zero bias), as Hugging Face's `from_pretrained(..., num_labels=k)` does.
 */
import { readFileSync } from "node:fs";
import { ConfigError, DataError } from "../errors.ts";
import { BERT_INITIALIZER_RANGE, BertModel } from "../models/bert.ts";
import { initBertLinear } from "../models/masked-lm.ts";
import type { LoadedBert } from "../models/load-bert.ts";
import type { TsformerArchitecture } from "../models/bert-config.ts";
import type { Pooling } from "../models/pooling.ts";
import type { EncoderModelConfig } from "../nn/model.ts";
import type { Rng } from "../tensor/random.ts";
import type { TrainConfig } from "./config.ts";
import { classIdsFor } from "./data.ts";

/** Plain BERT in the terms of config.json's "tsformer" object: what a pooling change starts from. */
const PLAIN_BERT_ARCHITECTURE: TsformerArchitecture = {
  positional: "learned", scaleEmbedding: false, embeddingNorm: true, normFirst: false, finalNorm: false, pooling: "pooler",
};

/** A config field of the model section, its flag and its config.json name, for messages. */
const ARCHITECTURE_FIELDS: readonly [keyof EncoderModelConfig, string, string][] = [
  ["dModel", "--d-model", "hidden_size"],
  ["heads", "--heads", "num_attention_heads"],
  ["dFF", "--d-ff", "intermediate_size"],
  ["numLayers", "--layers", "num_hidden_layers"],
  ["maxPositions", "model.maxPositions", "max_position_embeddings"],
  ["activation", "model.activation", "hidden_act"],
  ["layerNormEps", "model.layerNormEps", "layer_norm_eps"],
  ["typeVocabSize", "model.typeVocabSize", "type_vocab_size"],
  ["positional", "model.positional", "tsformer.positional (BERT: learned)"],
  ["scaleEmbedding", "model.scaleEmbedding", "tsformer.scale_embedding (BERT: false)"],
  ["embeddingNorm", "model.embeddingNorm", "tsformer.embedding_norm (BERT: true)"],
  ["normFirst", "model.normFirst", "tsformer.norm_first (BERT: false, post-LN)"],
  ["finalNorm", "model.finalNorm", "tsformer.final_norm (BERT: false)"],
  ["padId", "model.padId", "pad_token_id"],
];

/** The one-line refusal for a setting that contradicts the folder. */
function contradiction(setting: string, value: unknown, dir: string, field: string, folderValue: unknown): ConfigError {
  return new ConfigError(`${setting} ${JSON.stringify(value)} contradicts ${dir}/config.json ${field} ${JSON.stringify(folderValue)}: with --init-from the architecture comes from the folder; drop the setting or use another folder`);
}

/**
 * Refuses model, tokenizer and vocabulary settings that differ from the folder (dropout may differ: it is not
 * architecture). Returns notes for settings that are ignored because the folder decides them.
 */
export function checkAgainstFolder(config: TrainConfig, loaded: LoadedBert): string[] {
  const folder = loaded.model.config;
  const dir = loaded.dir;
  for (const [key, setting, field] of ARCHITECTURE_FIELDS) {
    const given = config.model[key as keyof TrainConfig["model"]];
    if (given !== undefined && given !== folder[key]) throw contradiction(setting, given, dir, field, folder[key]);
  }
  const lower = config.tokenizer.doLowerCase;
  if (lower !== undefined && lower !== loaded.tokenizerSettings.doLowerCase) {
    throw contradiction("tokenizer.doLowerCase", lower, dir, "tokenizer_config.json do_lower_case", loaded.tokenizerSettings.doLowerCase);
  }
  const maxLength = config.tokenizer.maxLength;
  if (maxLength !== undefined && maxLength > loaded.config.maxPositionEmbeddings) {
    throw new ConfigError(`--max-length ${maxLength} is above the position table of ${dir}/config.json (max_position_embeddings ${loaded.config.maxPositionEmbeddings}); give at most ${loaded.config.maxPositionEmbeddings}`);
  }
  const notes: string[] = [];
  const folderPooling = loaded.config.tsformer?.pooling ?? "pooler";
  if (config.model.pooling !== undefined && config.model.pooling !== folderPooling) {
    if (config.head === "keep") throw new ConfigError(`--head keep with model.pooling "${config.model.pooling}": the folder's head reads its ${folderPooling === "pooler" ? "[CLS] pooler" : `${folderPooling} pooling`}; keep the folder's pooling or use a new head`);
    notes.push(`pooling: ${config.model.pooling} over the last hidden states instead of the folder's ${folderPooling === "pooler" ? "[CLS] pooler" : folderPooling}, with a new head; the saved folders record it in config.json's "tsformer" object, which only tsformer honours`);
  }
  if (config.vocab.file !== undefined) {
    const text = readFileSync(config.vocab.file, "utf8").replace(/\r?\n$/, "");
    if (text !== loaded.tokenizer.vocab.toText().replace(/\r?\n$/, "")) {
      throw new ConfigError(`vocab.file ${config.vocab.file} is not the vocabulary of ${dir}; with --init-from the vocabulary comes from the folder (its embedding rows are indexed by it)`);
    }
  } else if (config.vocab.base !== undefined) {
    notes.push(`vocabulary: the folder's ${loaded.tokenizer.vocab.size} tokens (vocab.base ${config.vocab.base} is for training from scratch and is ignored)`);
  }
  return notes;
}

/** What the head decision gives: the class names (index = class id), each data label's class, and a one-line note. */
export interface HeadChoice {
  labels: string[];
  /** Data label index → class id. */
  classOf: number[];
  keep: boolean;
  note: string;
}

/** Keeps the folder's head or makes a new one, as `config.head` says, for data with these (display) labels. */
export function chooseHead(mode: TrainConfig["head"], loaded: LoadedBert, dataLabels: readonly string[], trainFile: string, pooling?: Pooling): HeadChoice {
  const samePooling = pooling === undefined || pooling === (loaded.config.tsformer?.pooling ?? "pooler");
  const existing = loaded.model.classifier && samePooling ? loaded.config.labels : null;
  const classes = existing ? classIdsFor(existing, dataLabels) : null;
  const list = (labels: readonly string[]): string => labels.join(", ");
  if (mode === "keep") {
    if (!existing) throw new ConfigError(`--head keep: ${loaded.dir} has no classification head; use --head new (or auto)`);
    if (!classes) {
      const unknown = dataLabels.filter((l) => !existing.includes(l));
      throw new DataError(`${trainFile}: label(s) ${list(unknown)} unknown to the kept head of ${loaded.dir} (it knows ${list(existing)}); use --head new to train a new head`);
    }
    return { labels: [...existing], classOf: classes, keep: true, note: `head: kept the folder's classifier (${existing.length} labels: ${list(existing)})` };
  }
  if (mode === "auto" && existing && classes) {
    return { labels: [...existing], classOf: classes, keep: true, note: `head: kept the folder's classifier (its labels ${list(existing)} cover the data's)` };
  }
  const why = !samePooling ? `model.pooling ${pooling} replaces the folder's pooling` : !existing ? "the folder has none" : mode === "new" ? "--head new" : `its labels (${list(existing)}) differ from the data's`;
  return { labels: [...dataLabels], classOf: dataLabels.map((_, i) => i), keep: false, note: `head: new classifier for ${dataLabels.length} labels (${list(dataLabels)}): ${why}` };
}

/**
 * The model to fine-tune: a fresh BertModel of the folder's architecture (so dropout draws from the trainer's
 * seeded generator), the folder's weights copied in, and the head kept or made new.
 */
export function modelFromFolder(loaded: LoadedBert, head: HeadChoice, dropout: number | undefined, rng: Rng, pooling?: Pooling): BertModel {
  const folder = loaded.config;
  const tsformer = pooling === undefined || pooling === (folder.tsformer?.pooling ?? "pooler") ? folder.tsformer
    : { ...(folder.tsformer ?? PLAIN_BERT_ARCHITECTURE), pooling };
  const config = { ...folder, labels: head.labels, hiddenDropoutProb: dropout ?? folder.hiddenDropoutProb, tsformer };
  const model = new BertModel(config, rng);
  const weights = new Map([...loaded.model.stateDict()].filter(([name]) => (head.keep || !name.startsWith("classifier.")) && (model.pooler !== null || !name.startsWith("pooler."))));
  // Not strict: a new head is not in `weights`, and a loaded masked-LM head has no place in a classifier.
  model.loadStateDict(weights, { strict: false, source: loaded.dir });
  // BERT's initialisation of a new head (HF _init_weights), drawn from the trainer's generator.
  if (!head.keep && model.classifier) initBertLinear(model.classifier, config.initializerRange ?? BERT_INITIALIZER_RANGE, rng);
  return model;
}
