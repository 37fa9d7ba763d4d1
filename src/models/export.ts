/**
 * Exporting an encoder as a Hugging Face style BERT folder: config.json, model.safetensors (HF BERT tensor
 * names), vocab.txt and tokenizer_config.json, written atomically.
 *
 * A BertModel exports as plain BERT, which `transformers` loads as is (BertModel, BertForSequenceClassification
 * with a classifier, BertForMaskedLM with a masked-LM head; a pooler, when the model has one, is written too). tsformer's own encoders (EncoderClassifier: sinusoidal positions, ×√d_model, no embedding
 * LayerNorm, maybe pre-LN, mean pooling and no pooler) are NOT BERT: their config.json also carries a `"tsformer"`
 * object recording the deviations. `loadBert` honours it and reproduces the model exactly; Hugging Face
 * transformers ignores it (it would build a plain BERT, initialise the missing tensors at random and ignore the
 * extra ones), so such a folder reproduces its outputs only in tsformer.
 */
import { CheckpointError, ConfigError } from "../errors.ts";
import { writeDirectoryAtomic } from "../io/atomic.ts";
import { toHfBertName } from "../io/names.ts";
import { type StoredTensorInput, serializeSafetensors } from "../io/safetensors.ts";
import type { TransformerEncoderModel } from "../nn/model.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Vocabulary } from "../text/vocab.ts";
import { BertModel } from "./bert.ts";
import { type BertConfig, type TsformerArchitecture, toHfBertConfigJson } from "./bert-config.ts";
import { EncoderClassifier } from "./classifier.ts";

/** Tokenizer settings written to tokenizer_config.json (the training checkpoint's TokenizerSettings fit). */
export interface ExportTokenizerSettings {
  doLowerCase: boolean;
  stripAccents: boolean | null;
  tokenizeChineseChars?: boolean;
  /** tokenizer_config.json's model_max_length (default: the model's position count). */
  maxLength?: number;
}

/** Refuses encoder switches that neither BERT nor the `tsformer` object can express, naming the switch. */
function checkExpressible(model: TransformerEncoderModel): void {
  const c = model.config;
  const a = c.attention ?? {};
  const headDim = c.dModel / c.heads;
  const problems: string[] = [];
  if (c.residual === false) problems.push("residual: false");
  if (c.layerNorm === false) problems.push("layerNorm: false");
  if (a.headDim !== undefined && a.headDim !== headDim) problems.push(`attention.headDim ${a.headDim} (BERT uses d_model/heads = ${headDim})`);
  if (a.scale !== undefined && a.scale !== 1 / Math.sqrt(headDim)) problems.push(`attention.scale ${a.scale}`);
  if (a.shareQK) problems.push("attention.shareQK");
  if (a.scoring !== undefined && a.scoring !== "dot") problems.push(`attention.scoring "${a.scoring}"`);
  if (a.bias === false) problems.push("attention.bias: false");
  if (problems.length > 0) throw new ConfigError(`exportHfFolder: the model uses ${problems.join(", ")}, which a BERT config.json cannot express; export a model without these lab switches`);
}

/**
 * The BertConfig (plus `tsformer` object where needed) that rebuilds `model` exactly: a BertModel's own config;
 * for an EncoderClassifier or a bare TransformerEncoderModel, its sizes and the deviations from BERT.
 */
export function bertConfigFor(model: TransformerEncoderModel): BertConfig {
  checkExpressible(model);
  if (model instanceof BertModel) return { ...model.bertConfig, labels: model.classifier ? model.bertConfig.labels : null };
  const c = model.config;
  const classifier = model instanceof EncoderClassifier ? model.classifierConfig : null;
  const tsformer: TsformerArchitecture = {
    positional: c.positional, scaleEmbedding: c.scaleEmbedding, embeddingNorm: c.embeddingNorm, normFirst: c.normFirst, finalNorm: c.finalNorm,
    // An encoder without a head has no pooler either; "cls" only names what poolerOutput then holds.
    pooling: classifier?.pooling ?? "cls", model: model.constructor.name,
  };
  return {
    vocabSize: c.vocabSize, hiddenSize: c.dModel, numHiddenLayers: c.numLayers, numAttentionHeads: c.heads, intermediateSize: c.dFF,
    hiddenAct: c.activation, maxPositionEmbeddings: c.maxPositions, typeVocabSize: c.typeVocabSize, layerNormEps: c.layerNormEps,
    padTokenId: c.padId, hiddenDropoutProb: c.dropout, classifierDropout: classifier?.classifierDropout ?? null, labels: classifier ? [...classifier.labels] : null, tsformer,
  };
}

/**
 * The model's parameters under Hugging Face BERT names: `bert.` prefixed when there is a head (as
 * BertForSequenceClassification and BertForMaskedLM save). The tied decoder weight is not written (it is the word
 * embeddings), as transformers saves safetensors today.
 */
function hfBertTensors(model: TransformerEncoderModel): StoredTensorInput[] {
  return hfBertParameters(model).map(({ hf, param }) => ({ name: hf, shape: [...param.shape], data: Float32Array.from(param.data), dtype: "F32" }));
}

/**
 * Each parameter with the Hugging Face name an exported folder stores it under: `bert.` prefixed when there is a
 * head, as BertForSequenceClassification and BertForMaskedLM save (the trainer's `--resume` reads them back by it).
 */
export function hfBertParameters(model: TransformerEncoderModel): { hf: string; param: Tensor }[] {
  const state = model.stateDict();
  const prefixed = state.has("classifier.weight") || state.has("mlm_head.bias");
  return [...state].map(([name, param]) => {
    const hf = toHfBertName(name, prefixed);
    if (hf === null) throw new CheckpointError(`exportHfFolder: parameter '${name}' has no BERT tensor name; only encoder, pooler, classifier and masked-LM head parameters can be exported`);
    return { hf, param };
  });
}

/** The files of the folder, by name (what `exportHfFolder` writes; the trainer adds its state files to them). */
export function hfFolderFiles(model: TransformerEncoderModel, vocab: Vocabulary, tokenizer: ExportTokenizerSettings): Record<string, Uint8Array | string> {
  const config = bertConfigFor(model);
  if (vocab.size > config.vocabSize) {
    throw new ConfigError(`exportHfFolder: the vocabulary has ${vocab.size} tokens but the model's embedding table has ${config.vocabSize} rows; export the vocabulary the model was trained with`);
  }
  const architecture = config.labels ? "BertForSequenceClassification" : model instanceof BertModel && model.mlmHead ? "BertForMaskedLM" : "BertModel";
  const configJson = toHfBertConfigJson(config, architecture);
  const tokenizerConfig = {
    tokenizer_class: "BertTokenizer", do_lower_case: tokenizer.doLowerCase, strip_accents: tokenizer.stripAccents,
    tokenize_chinese_chars: tokenizer.tokenizeChineseChars ?? true, do_basic_tokenize: true, never_split: null,
    model_max_length: Math.min(tokenizer.maxLength ?? config.maxPositionEmbeddings, config.maxPositionEmbeddings),
    unk_token: "[UNK]", sep_token: "[SEP]", pad_token: "[PAD]", cls_token: "[CLS]", mask_token: "[MASK]", clean_up_tokenization_spaces: true,
  };
  return {
    "config.json": `${JSON.stringify(configJson, null, 2)}\n`,
    "model.safetensors": serializeSafetensors(hfBertTensors(model), { format: "pt", producer: "tsformer" }),
    "vocab.txt": vocab.toText(),
    "tokenizer_config.json": `${JSON.stringify(tokenizerConfig, null, 2)}\n`,
  };
}

/**
 * Saves `model` (a BertModel, an EncoderClassifier or a bare TransformerEncoderModel) with its vocabulary as a
 * Hugging Face style BERT folder, atomically: a crash leaves the previous folder or the new one, never a mix.
 * `loadBert(dir)` loads it back exactly; see the file comment for what Hugging Face can do with it.
 */
export async function exportHfFolder(dir: string, model: TransformerEncoderModel, vocab: Vocabulary, tokenizer: ExportTokenizerSettings): Promise<void> {
  await writeDirectoryAtomic(dir, hfFolderFiles(model, vocab, tokenizer));
}
