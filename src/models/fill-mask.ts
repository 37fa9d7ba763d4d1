/**
 * Fill-mask with a BertForMaskedLM folder, with the semantics of Hugging Face's `FillMaskPipeline`
 * (transformers, src/transformers/pipelines/fill_mask.py, `postprocess`):
 *
 * - the text is tokenized with [CLS]/[SEP]; every `[MASK]` id is a masked position (none is an error);
 * - per masked position, `score` = softmax over the whole vocabulary of the MLM logits there, and the top k
 *   (sorted by score, descending; tsformer breaks ties by the smaller id, where torch.topk leaves them unspecified);
 * - each candidate's `sequence` is the input ids with only THAT mask replaced by the candidate, `[PAD]` ids removed,
 *   then decoded with `skip_special_tokens` exactly when the text has one mask: with several, [CLS], [SEP] and the
 *   other [MASK]s stay in the text (the pipeline adds them back "so the other [MASK] would not be removed");
 * - `token_str` is `tokenizer.decode([token])`, so a continuation keeps its prefix ("##s");
 * - one mask gives a list of candidates, several give one list per mask (in text order), each mask scored
 *   independently (the pipeline's "disjoint probabilities").
 *
 * Decoding is that of the tokenizer the pipeline loads, the fast one (BertTokenizerFast; transformers v5's
 * BertTokenizer): the Rust `decoders.WordPiece(prefix="##", cleanup=True)` (tokenizers,
 * tokenizers/src/decoders/wordpiece.rs) strips "##" or prepends a space token by token — special tokens included,
 * so "##s" after [CLS] gives "[CLS]s" — and cleans each token ("," → no space before it); then, when the folder's
 * tokenizer_config.json sets `clean_up_tokenization_spaces`, Python's `clean_up_tokenization` runs on the whole
 * text (" ' " → "'", " 's" → "'s", …). `BertTokenizer.decode` (src/text/wordpiece.ts) is not used: it splits runs
 * at special tokens and has no per-token clean-up.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, DataError } from "../errors.ts";
import { noGrad } from "../tensor/autograd.ts";
import { concat, narrow } from "../tensor/ops/layout.ts";
import type { BertTokenizer } from "../text/wordpiece.ts";
import { SPECIAL_TOKENS } from "../text/vocab.ts";
import { encodeTexts } from "./embeddings.ts";
import { readJsonObject } from "./json-file.ts";
import type { LoadedBert } from "./load-bert.ts";

/** One candidate for one `[MASK]`, with the fields (and in the order) of Hugging Face's fill-mask pipeline. */
export interface FillMaskCandidate {
  /** Softmax probability over the whole vocabulary at the masked position (computed in float64). */
  score: number;
  /** The candidate's token id. */
  token: number;
  /** The candidate decoded alone (`tokenizer.decode([token])`): "fox", "##s", ",". */
  token_str: string;
  /** The text with this mask filled in, decoded as HF does (see the module comment). */
  sequence: string;
}

/** How ids are turned back into text: HF's fast BERT tokenizer's decoder settings. */
export interface HfDecodeSettings {
  /** The WordPiece continuation prefix (tokenizer.json `decoder.prefix`; "##"). */
  prefix: string;
  /** The Rust WordPiece decoder's per-token clean-up (tokenizer.json `decoder.cleanup`; true). */
  cleanup: boolean;
  /** tokenizer_config.json `clean_up_tokenization_spaces` (false when absent, as in current transformers). */
  cleanUpTokenizationSpaces: boolean;
}

/** Options of `fillMask`. */
export interface FillMaskOptions {
  /** Candidates per mask (HF's `top_k`), from 1 to the vocabulary size; default 5. */
  topK?: number;
  /** Longest input in tokens, [CLS]/[SEP] included (default: the model's `maxLength`); a longer text is cut, but a [MASK] must survive the cut. */
  maxLength?: number;
  /** Decoder settings; default: read from the model folder (`readHfDecodeSettings`). */
  decode?: HfDecodeSettings;
}

/** HF's default candidates per mask. */
export const FILL_MASK_TOP_K = 5;

/** The tensors a BertForMaskedLM checkpoint holds for its head (the decoder weight is tied to the word embeddings). */
const MLM_TENSORS = ["cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias", "cls.predictions.bias"];

/** Python's `PreTrainedTokenizerBase.clean_up_tokenization`: [from, to] replacements, in order. */
const PYTHON_CLEANUP: readonly [string, string][] = [
  [" .", "."], [" ?", "?"], [" !", "!"], [" ,", ","], [" ' ", "'"], [" n't", "n't"], [" 'm", "'m"], [" 's", "'s"], [" 've", "'ve"], [" 're", "'re"],
];

/**
 * The Rust WordPiece decoder's `cleanup` (tokenizers/src/decoders/wordpiece.rs): Python's rules plus " do not" →
 * " don't" (no other rule makes or breaks that pattern, so where it runs in the order does not matter).
 */
const RUST_CLEANUP: readonly [string, string][] = [...PYTHON_CLEANUP, [" do not", " don't"]];

/** Applies replacement rules in order. */
function cleanUp(s: string, rules: readonly [string, string][]): string {
  return rules.reduce((text, [from, to]) => text.replaceAll(from, to), s);
}

/**
 * `tokenizer.decode(ids, skip_special_tokens)` of Hugging Face's fast BERT tokenizer: ids outside the vocabulary
 * are dropped (Rust `id_to_token` gives None), special tokens ([PAD] [UNK] [CLS] [SEP] [MASK]) are dropped when
 * asked, then the WordPiece decoder and, when set, `clean_up_tokenization`.
 */
export function decodeLikeHf(tokenizer: BertTokenizer, ids: Iterable<number>, skipSpecialTokens: boolean, settings: HfDecodeSettings): string {
  const specials = new Set(tokenizer.vocab.specialTokens());
  const tokens: string[] = [];
  for (const id of ids) {
    const token = Number.isInteger(id) && id >= 0 ? tokenizer.vocab.tokens[id] : undefined;
    if (token === undefined || (skipSpecialTokens && specials.has(token))) continue;
    tokens.push(token);
  }
  let text = "";
  tokens.forEach((token, i) => {
    // The first token is left as it is, "##" and all; later ones lose the prefix or gain a space.
    let piece = i === 0 ? token : token.startsWith(settings.prefix) ? token.slice(settings.prefix.length) : ` ${token}`;
    if (settings.cleanup) piece = cleanUp(piece, RUST_CLEANUP);
    text += piece;
  });
  return settings.cleanUpTokenizationSpaces ? cleanUp(text, PYTHON_CLEANUP) : text;
}

/** A boolean field of a JSON object, or `fallback` when absent; anything else is refused naming the file and field. */
function boolField(obj: Record<string, unknown>, key: string, fallback: boolean, path: string): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") throw new ConfigError(`${path}: field "${key}" is ${JSON.stringify(v)}; expected true or false`);
  return v;
}

/**
 * The decoder settings HF would use for a model folder: tokenizer.json's WordPiece decoder (prefix, cleanup) when the
 * folder has one, else BertTokenizerFast's (`"##"`, cleanup on); `clean_up_tokenization_spaces` from
 * tokenizer_config.json (false when absent, transformers' default since 4.45).
 */
export function readHfDecodeSettings(dir: string): HfDecodeSettings {
  const settings: HfDecodeSettings = { prefix: "##", cleanup: true, cleanUpTokenizationSpaces: false };
  const tcPath = join(dir, "tokenizer_config.json");
  if (existsSync(tcPath)) settings.cleanUpTokenizationSpaces = boolField(readJsonObject(tcPath, ""), "clean_up_tokenization_spaces", false, tcPath);
  const tjPath = join(dir, "tokenizer.json");
  if (existsSync(tjPath)) {
    const decoder = readJsonObject(tjPath, "").decoder;
    if (typeof decoder === "object" && decoder !== null && (decoder as { type?: unknown }).type === "WordPiece") {
      const d = decoder as Record<string, unknown>;
      if (typeof d.prefix === "string") settings.prefix = d.prefix;
      settings.cleanup = boolField(d, "cleanup", true, `${tjPath} decoder`);
    }
  }
  return settings;
}

/** Settings read once per loaded model. */
const decodeCache = new WeakMap<LoadedBert, HfDecodeSettings>();

/** The folder's decoder settings, cached; a model without a folder on disk gets the defaults. */
function decodeSettingsOf(loaded: LoadedBert): HfDecodeSettings {
  let s = decodeCache.get(loaded);
  if (!s) {
    s = existsSync(loaded.dir) ? readHfDecodeSettings(loaded.dir) : { prefix: "##", cleanup: true, cleanUpTokenizationSpaces: false };
    decodeCache.set(loaded, s);
  }
  return s;
}

/** Throws unless the model has a masked-LM head, naming what is missing and what to load instead. */
export function requireMaskedLmHead(loaded: LoadedBert): void {
  if (loaded.model.mlmHead) return;
  const why = loaded.architecture === "BertForMaskedLM" ? "its masked-LM head was not loaded (loadBert with mlmHead: false)"
    : `it holds a ${loaded.architecture} checkpoint, whose weights have none of ${MLM_TENSORS.join(", ")}`;
  throw new ConfigError(`${loaded.dir}: no masked-LM head: ${why}; fill-mask needs a BertForMaskedLM folder, such as what tsformer pretrain writes`);
}

/** A text for an error message: quoted, on one line, cut to 60 characters. */
function quote(text: string): string {
  const q = JSON.stringify(text);
  return q.length > 62 ? `${q.slice(0, 59)}…"` : q;
}

/** The positions of `id` in `ids`. */
function positionsOf(ids: ArrayLike<number>, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) if (ids[i] === id) out.push(i);
  return out;
}

/** Checks `topK` against the vocabulary (the logits' width). */
function checkTopK(topK: number, vocab: number): void {
  if (!Number.isInteger(topK) || topK < 1 || topK > vocab) {
    throw new ConfigError(`top-k ${topK} must be an integer from 1 to ${vocab} (the model's vocabulary size)`);
  }
}

/** Softmax of one row in float64 (max subtracted), then the top k ids by probability, ties by the smaller id. */
function topCandidates(logits: Float32Array, topK: number, where: string): { id: number; p: number }[] {
  let max = -Infinity;
  for (const v of logits) {
    if (!Number.isFinite(v)) throw new DataError(`the model's logits at ${where} are not finite (${v}); the checkpoint's weights are damaged or overflow`);
    if (v > max) max = v;
  }
  const probs = new Float64Array(logits.length);
  let sum = 0;
  for (let j = 0; j < logits.length; j++) sum += probs[j] = Math.exp(logits[j] - max);
  for (let j = 0; j < logits.length; j++) probs[j] /= sum;
  const order = Array.from({ length: logits.length }, (_, j) => j).sort((a, b) => probs[b] - probs[a] || a - b);
  return order.slice(0, topK).map((id) => ({ id, p: probs[id] }));
}

/**
 * Predicts every `[MASK]` of `text` with a model loaded from a BertForMaskedLM folder (`loadBert(dir)`; the MLM head
 * loads by default): one list of `topK` candidates per mask, in text order, each as HF's fill-mask pipeline reports
 * it. Throws a one-line ConfigError/DataError when the model has no MLM head, the text has no [MASK], `topK` is not
 * from 1 to the vocabulary size, or a [MASK] lies beyond `maxLength` (a longer text is otherwise cut to it).
 */
export function fillMask(loaded: LoadedBert, text: string, options: FillMaskOptions = {}): FillMaskCandidate[][] {
  requireMaskedLmHead(loaded);
  const { tokenizer } = loaded;
  const maskId = tokenizer.vocab.maskId;
  if (maskId === null) throw new ConfigError(`${tokenizer.vocab.source}: the vocabulary has no ${SPECIAL_TOKENS.mask} token, which fill-mask needs`);
  const vocab = loaded.config.vocabSize;
  const topK = options.topK ?? FILL_MASK_TOP_K;
  checkTopK(topK, vocab);
  const full = tokenizer.encode(text).inputIds;
  const total = positionsOf(full, maskId).length;
  if (total === 0) {
    const hint = /\[mask\]/i.test(text) ? ` (${SPECIAL_TOKENS.mask} is case-sensitive)` : "";
    throw new DataError(`the text ${quote(text)} contains no ${SPECIAL_TOKENS.mask} token${hint}; put ${SPECIAL_TOKENS.mask} where a word should be predicted`);
  }
  const { encoding, output } = encodeTexts(loaded, [text], { maxLength: options.maxLength });
  const ids = encoding.rows[0].inputIds;
  const masks = positionsOf(ids, maskId);
  if (masks.length < total) {
    throw new DataError(`the text is ${full.length} tokens long ([CLS]/[SEP] included) and is cut to ${ids.length}, which leaves out ${total - masks.length} of its ${total} ${SPECIAL_TOKENS.mask} token(s); shorten the text or move ${SPECIAL_TOKENS.mask} earlier (the limit is maxLength / --max-length, at most config.json max_position_embeddings)`);
  }
  // Only the masked rows go through the head: (1, masks, hidden) → (1, masks, vocab).
  const hidden = output.lastHiddenState;
  const logits = noGrad(() => loaded.model.maskedLmLogits(concat(masks.map((p) => narrow(hidden, 1, p, 1)), 1)));
  const decode = options.decode ?? decodeSettingsOf(loaded);
  const single = masks.length === 1;
  const padId = tokenizer.vocab.idOf(SPECIAL_TOKENS.pad);
  return masks.map((position, m) => {
    const row = logits.data.subarray(m * vocab, (m + 1) * vocab);
    return topCandidates(row, topK, `${SPECIAL_TOKENS.mask} ${m + 1} (token ${position})`).map(({ id, p }) => {
      const filled = ids.map((x, i) => (i === position ? id : x)).filter((x) => x !== padId);
      return { score: p, token: id, token_str: decodeLikeHf(tokenizer, [id], false, decode), sequence: decodeLikeHf(tokenizer, filled, single, decode) };
    });
  });
}

/**
 * `fillMask` in the exact shape of HF's `pipeline("fill-mask")(text, top_k=…)`: the list of candidates when the text
 * has one `[MASK]`, one list per mask when it has several.
 */
export function fillMaskPipeline(loaded: LoadedBert, text: string, options: FillMaskOptions = {}): FillMaskCandidate[] | FillMaskCandidate[][] {
  const perMask = fillMask(loaded, text, options);
  return perMask.length === 1 ? perMask[0] : perMask;
}
