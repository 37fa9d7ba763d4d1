/**
 * The tokenizer of a BERT folder: vocab.txt (or tokenizer.json's WordPiece vocabulary) and the settings of
 * tokenizer_config.json, which overrides tokenizer.json's normalizer as Hugging Face does.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError, ConfigError } from "../errors.ts";
import { BertTokenizer } from "../text/wordpiece.ts";
import { Vocabulary } from "../text/vocab.ts";
import type { BertConfig } from "./bert-config.ts";
import { readJsonObject } from "./json-file.ts";

/** The tokenizer settings of a BERT folder (tokenizer_config.json's fields, in tsformer's spelling). */
export interface BertTokenizerSettings {
  doLowerCase: boolean;
  /** null: strip accents exactly when lower-casing (HF's default). */
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
}

/** A folder's tokenizer, its settings, and tokenizer_config.json's model_max_length when it sets a real limit. */
export interface FolderTokenizer {
  tokenizer: BertTokenizer;
  settings: BertTokenizerSettings;
  modelMaxLength: number | null;
}

/** A tokenizer_config.json field that must be a boolean (or null where allowed) when present. */
function boolField(tc: Record<string, unknown>, key: string, path: string, nullable = false): boolean | null | undefined {
  const v = tc[key];
  if (v === undefined || typeof v === "boolean" || (nullable && v === null)) return v as boolean | null | undefined;
  throw new ConfigError(`${path}: field "${key}" is ${JSON.stringify(v)}; expected true or false${nullable ? " (or null)" : ""}`);
}

/** The vocabulary (vocab.txt, else tokenizer.json) and settings (tokenizer_config.json overrides tokenizer.json's normalizer, as HF does). */
export function loadFolderTokenizer(dir: string, config: BertConfig): FolderTokenizer {
  const tcPath = join(dir, "tokenizer_config.json");
  const tc = existsSync(tcPath) ? readJsonObject(tcPath, "") : {};
  const expected: Record<string, string> = { unk_token: "[UNK]", cls_token: "[CLS]", sep_token: "[SEP]", pad_token: "[PAD]", mask_token: "[MASK]" };
  for (const [key, token] of Object.entries(expected)) {
    const v = tc[key];
    // AddedToken objects carry the text in "content".
    const text = typeof v === "object" && v !== null && "content" in v ? (v as { content: unknown }).content : v;
    if (text !== undefined && text !== null && text !== token) {
      throw new ConfigError(`${tcPath}: field "${key}" is ${JSON.stringify(text)}; tsformer's BERT tokenizer uses ${token}`);
    }
  }
  if (tc.do_basic_tokenize === false) throw new ConfigError(`${tcPath}: field "do_basic_tokenize" is false; tsformer's BERT tokenizer always runs the basic (punctuation, case) stage`);
  if (Array.isArray(tc.never_split) && tc.never_split.length > 0) throw new ConfigError(`${tcPath}: field "never_split" lists tokens; tsformer's BERT tokenizer does not support never_split`);
  const lower = boolField(tc, "do_lower_case", tcPath);
  const strip = boolField(tc, "strip_accents", tcPath, true);
  const chinese = boolField(tc, "tokenize_chinese_chars", tcPath);
  const vocabPath = join(dir, "vocab.txt");
  const jsonPath = join(dir, "tokenizer.json");
  let vocab: Vocabulary;
  let settings: BertTokenizerSettings;
  if (existsSync(vocabPath)) {
    vocab = Vocabulary.fromFile(vocabPath);
    settings = { doLowerCase: lower ?? true, stripAccents: strip ?? null, tokenizeChineseChars: chinese ?? true };
  } else if (existsSync(jsonPath)) {
    vocab = Vocabulary.fromTokenizerJsonFile(jsonPath);
    const n = vocab.normalizer;
    settings = { doLowerCase: lower ?? n?.lowercase ?? true, stripAccents: strip !== undefined ? strip : (n?.stripAccents ?? null), tokenizeChineseChars: chinese ?? n?.handleChineseChars ?? true };
  } else {
    throw new CheckpointError(`${dir}: no vocab.txt or tokenizer.json; save the tokenizer into the folder too (tokenizer.save_pretrained('${dir}'))`);
  }
  if (vocab.size > config.vocabSize) {
    throw new CheckpointError(`${vocab.source}: ${vocab.size} tokens but config.json vocab_size is ${config.vocabSize}, so ids from ${config.vocabSize} on have no embedding; use the vocabulary the model was trained with`);
  }
  const tokenizer = new BertTokenizer(vocab, { ...settings, ...(vocab.maxInputCharsPerWord !== null ? { maxInputCharsPerWord: vocab.maxInputCharsPerWord } : {}) });
  // HF writes a huge sentinel (1e30) when a tokenizer has no length limit.
  const mml = tc.model_max_length;
  const modelMaxLength = typeof mml === "number" && Number.isInteger(mml) && mml > 0 && mml < 1e9 ? mml : null;
  return { tokenizer, settings, modelMaxLength };
}
