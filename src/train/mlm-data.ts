/**
 * Data for masked-LM pretraining (Devlin et al. 2019, §3.1 and appendix A.1; Liu et al. 2019, RoBERTa, §4.1):
 * plain-text files read as documents of sentences, tokenized, packed into sequences of up to `maxLength` tokens,
 * and masked: of each sequence's ordinary tokens 15 % are chosen, and of those 80 % become [MASK], 10 % a random
 * token and 10 % stay as they are; the model predicts the original token at every chosen position.
 *
 * Text format: UTF-8, one sentence per line, documents separated by one or more blank lines (a file without
 * blank lines is one document).
 */
import { readFileSync } from "node:fs";
import { DataError } from "../errors.ts";
import { Rng } from "../tensor/random.ts";
import type { Vocabulary } from "../text/vocab.ts";
import type { BertTokenizer } from "../text/wordpiece.ts";

/** A document: its sentences, in order. */
export type CorpusDocument = string[];

/** Labels of positions the loss ignores (PyTorch's and Hugging Face's −100). */
export const IGNORE_INDEX = -100;

/** Reads a corpus file: documents (blank-line separated) of sentences (lines); refuses empty and binary files. */
export function readCorpusFile(path: string): CorpusDocument[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // The shipped recipe's text is generated, not committed: say how to make it.
    const hint = code === "ENOENT" ? " (configs/pretrain.json's text, data/pretrain/*.txt, is made by `npm run corpus`)" : "";
    throw new DataError(`${path}: cannot read the corpus file (${code ?? (e as Error).message}); give plain-text files, one sentence per line${hint}`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new DataError(`${path}: not a text file (a NUL byte at byte ${nul}); pretraining reads UTF-8 plain text, one sentence per line`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(`${path}: not valid UTF-8; convert it to UTF-8 plain text (one sentence per line) first`);
  }
  const docs: CorpusDocument[] = [];
  let current: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") {
      if (current.length > 0) docs.push(current);
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length > 0) docs.push(current);
  if (docs.length === 0) throw new DataError(`${path}: the corpus file is empty (no text lines); give plain-text files, one sentence per line, documents separated by blank lines`);
  return docs;
}

/** A tokenized document: each sentence's word-piece ids, without [CLS]/[SEP]. */
export type TokenizedDocument = number[][];

/** Tokenizes documents sentence by sentence (empty results dropped). */
export function tokenizeDocuments(docs: readonly CorpusDocument[], tokenizer: BertTokenizer): TokenizedDocument[] {
  return docs.map((doc) => doc.map((s) => tokenizer.convertTokensToIds(tokenizer.tokenize(s))).filter((ids) => ids.length > 0))
    .filter((doc) => doc.length > 0);
}

/** Where packing puts [SEP]: after every sentence, or only at the end of each document. */
export type SeparatorMode = "sentence" | "document";

/** Options of `packSequences`. */
export interface PackOptions {
  /** Longest sequence in tokens, [CLS] and [SEP]s included (≥ 4). */
  maxLength: number;
  separator: SeparatorMode;
  clsId: number;
  sepId: number;
}

/**
 * Packs documents into sequences `[CLS] s₁ s₂ … [SEP]` of at most `maxLength` tokens, filling each with whole
 * sentences in corpus order (RoBERTa's FULL-SENTENCES: a sequence may continue into the next document). [SEP]
 * follows each sentence or each document's last sentence, as `separator` says, and ends every sequence. A sentence
 * longer than a whole sequence is cut into pieces; otherwise a sentence that does not fit starts the next sequence.
 */
export function packSequences(docs: readonly TokenizedDocument[], options: PackOptions): number[][] {
  const { maxLength, clsId, sepId } = options;
  if (!Number.isInteger(maxLength) || maxLength < 4) throw new DataError(`pretraining: maxLength must be an integer ≥ 4, got ${maxLength}`);
  const room = maxLength - 2; // [CLS] and the closing [SEP]
  const out: number[][] = [];
  let body: number[] = [];
  const flush = (): void => {
    if (body.length === 0) return;
    if (body[body.length - 1] === sepId) body.pop(); // the closing [SEP] is added below
    out.push([clsId, ...body, sepId]);
    body = [];
  };
  for (const doc of docs) {
    doc.forEach((sentence, i) => {
      const sepAfter = options.separator === "sentence" || i === doc.length - 1;
      for (let start = 0; start < sentence.length; start += room) {
        const piece = sentence.slice(start, start + room);
        if (body.length + piece.length > room) flush();
        body.push(...piece);
        if (sepAfter && start + room >= sentence.length && body.length < room) body.push(sepId);
      }
    });
  }
  flush();
  return out;
}

/** Options of `maskTokens`. */
export interface MaskingOptions {
  /** Fraction of a sequence's ordinary tokens chosen for prediction (BERT: 0.15). */
  probability: number;
  /** Of the chosen, the fraction replaced by [MASK] (BERT: 0.8). */
  maskFraction: number;
  /** Of the chosen, the fraction replaced by a random ordinary token (BERT: 0.1); the rest stay unchanged. */
  randomFraction: number;
  /** Choose whole words: a word's continuation pieces (`##…`) are chosen with its first piece. */
  wholeWord: boolean;
}

/** BERT's recipe: 15 % chosen; 80 % [MASK], 10 % random, 10 % unchanged; single pieces. */
export const BERT_MASKING: MaskingOptions = { probability: 0.15, maskFraction: 0.8, randomFraction: 0.1, wholeWord: false };

/** What masking needs to know about the vocabulary. */
export interface MaskVocabulary {
  maskId: number;
  /** Ids never chosen nor drawn as random replacements ([PAD] [UNK] [CLS] [SEP] [MASK]). */
  specialIds: ReadonlySet<number>;
  /** Ordinary ids a random replacement is drawn from. */
  ordinaryIds: Int32Array;
  /** Whether an id is a word continuation (`##…`), for whole-word masking. */
  isContinuation: (id: number) => boolean;
}

/** The masking view of a vocabulary; one without [MASK] cannot be pretrained. */
export function maskVocabulary(vocab: Vocabulary): MaskVocabulary {
  const maskId = vocab.maskId;
  if (maskId === null) throw new DataError(`the vocabulary (${vocab.size} tokens) has no [MASK] token; masked-LM pretraining needs one: add a [MASK] line to vocab.txt`);
  const specialIds = new Set(vocab.specialTokens().map((t) => vocab.idOf(t) as number));
  const ordinary: number[] = [];
  const continuation = new Uint8Array(vocab.size);
  for (let id = 0; id < vocab.size; id++) {
    if (!specialIds.has(id)) ordinary.push(id);
    if (vocab.tokenOf(id).startsWith("##")) continuation[id] = 1;
  }
  return { maskId, specialIds, ordinaryIds: Int32Array.from(ordinary), isContinuation: (id) => continuation[id] === 1 };
}

/** A masked sequence: the model's input and, per position, the original id to predict or IGNORE_INDEX. */
export interface MaskedSequence {
  inputIds: number[];
  labels: number[];
}

/**
 * Masks one sequence (BERT's create_masked_lm_predictions): n = max(1, round(probability × ordinary tokens))
 * positions — or whole words, until n positions are covered without going over — are chosen at random; special
 * tokens and padding never are.
 */
export function maskTokens(ids: readonly number[], vocab: MaskVocabulary, options: MaskingOptions, rng: Rng): MaskedSequence {
  const groups: number[][] = [];
  for (let i = 0; i < ids.length; i++) {
    if (vocab.specialIds.has(ids[i])) continue;
    const last = groups[groups.length - 1];
    if (options.wholeWord && vocab.isContinuation(ids[i]) && last && last[last.length - 1] === i - 1) last.push(i);
    else groups.push([i]);
  }
  const ordinary = groups.reduce((n, g) => n + g.length, 0);
  const inputIds = [...ids];
  const labels = new Array<number>(ids.length).fill(IGNORE_INDEX);
  if (ordinary === 0) return { inputIds, labels };
  const target = Math.max(1, Math.round(options.probability * ordinary));
  let chosen = 0;
  for (const g of rng.shuffle(groups)) {
    if (chosen >= target) break;
    if (chosen + g.length > target) continue; // a whole word that would overshoot is skipped, as BERT does
    chosen += g.length;
    for (const i of g) {
      labels[i] = ids[i];
      const u = rng.uniform();
      if (u < options.maskFraction) inputIds[i] = vocab.maskId;
      else if (u < options.maskFraction + options.randomFraction) inputIds[i] = vocab.ordinaryIds[rng.int(vocab.ordinaryIds.length)];
    }
  }
  return { inputIds, labels };
}

/** The generator of an epoch's masks: a function of (seed, epoch) only, so a resumed run masks identically. */
export function maskingRng(seed: number, epoch: number): Rng {
  return new Rng((seed * 2654435761 + epoch * 40503 + 17) >>> 0);
}
