/**
 * BERT's WordPiece tokenizer, exact to Hugging Face's Python `BertTokenizer`: special tokens
 * written in the text, the BasicTokenizer stage, greedy longest-match WordPiece with `##`
 * continuations, `[CLS]`/`[SEP]`, token types, "longest_first" truncation and padding.
 */
import { ConfigError } from "../errors.ts";
import { basicTokenize } from "./basic.ts";
import {
  type BatchEncoding,
  type BatchOptions,
  type EncodeOptions,
  type Encoding,
  type PiecePair,
  assemble,
  padAndFlatten,
  truncateLongestFirst,
  truncationLength,
} from "./encoding.ts";
import { splitWhitespace } from "./unicode.ts";
import { SPECIAL_TOKENS, Vocabulary, type VocabularyOptions } from "./vocab.ts";

/** How the tokenizer normalizes and cuts text (HF's `BertTokenizer` arguments and defaults). */
export interface BertTokenizerOptions {
  doLowerCase?: boolean;
  /** null: strip accents exactly when lower-casing. */
  stripAccents?: boolean | null;
  tokenizeChineseChars?: boolean;
  /** A longer word (in code points, after normalization) becomes one `[UNK]`. */
  maxInputCharsPerWord?: number;
}

/** One input of a batch: a text, or a text and an optional second text. */
export type BatchInput = string | { text: string; textPair?: string | null };

/** Options of `decode`. */
export interface DecodeOptions {
  /** Leave out [PAD] [UNK] [CLS] [SEP] [MASK]. */
  skipSpecialTokens?: boolean;
  /** HF's `clean_up_tokenization_spaces`: "a ." → "a.", "do n't" → "don't", and so on. */
  cleanUpTokenizationSpaces?: boolean;
}

/** A piece of input text: ordinary text, or a special token written literally in it. */
interface Segment {
  text: string;
  special: boolean;
}

/** The BERT WordPiece tokenizer over a `Vocabulary`. */
export class BertTokenizer {
  readonly vocab: Vocabulary;
  readonly options: Readonly<Required<BertTokenizerOptions>>;
  /** The special tokens of the vocabulary, recognized when written in the text. */
  private readonly specials: readonly string[];
  /** The longest vocabulary entry in code points: no longer match needs to be tried. */
  private readonly longestToken: number;

  constructor(vocab: Vocabulary, options: BertTokenizerOptions = {}) {
    this.vocab = vocab;
    this.options = Object.freeze({
      doLowerCase: options.doLowerCase ?? true,
      stripAccents: options.stripAccents ?? null,
      tokenizeChineseChars: options.tokenizeChineseChars ?? true,
      maxInputCharsPerWord: options.maxInputCharsPerWord ?? 100,
    });
    vocab.requireId(SPECIAL_TOKENS.unk, "WordPiece"); // fail now, naming the vocabulary, not at the first unknown word
    this.specials = vocab.specialTokens();
    this.longestToken = vocab.tokens.reduce((m, t) => Math.max(m, [...t].length), 0);
  }

  /** Loads a vocab.txt file. */
  static fromVocabFile(path: string, options: BertTokenizerOptions = {}, vocabOptions: VocabularyOptions = {}): BertTokenizer {
    return new BertTokenizer(Vocabulary.fromFile(path, vocabOptions), options);
  }

  /** Loads a `tokenizer.json`; its BertNormalizer settings apply unless `options` overrides them. */
  static fromTokenizerJsonFile(path: string, options: BertTokenizerOptions = {}, vocabOptions: VocabularyOptions = {}): BertTokenizer {
    const vocab = Vocabulary.fromTokenizerJsonFile(path, vocabOptions);
    const n = vocab.normalizer;
    return new BertTokenizer(vocab, {
      doLowerCase: options.doLowerCase ?? n?.lowercase,
      stripAccents: options.stripAccents !== undefined ? options.stripAccents : n?.stripAccents,
      tokenizeChineseChars: options.tokenizeChineseChars ?? n?.handleChineseChars,
      maxInputCharsPerWord: options.maxInputCharsPerWord ?? vocab.maxInputCharsPerWord ?? undefined,
    });
  }

  /** Number of tokens in the vocabulary. */
  get vocabSize(): number {
    return this.vocab.size;
  }

  /** Cuts out the special tokens written in the text (case-sensitive, earliest match first). */
  private splitSpecials(text: string): Segment[] {
    const out: Segment[] = [];
    let pos = 0;
    while (pos < text.length) {
      let at = -1;
      let found = "";
      for (const s of this.specials) {
        const i = text.indexOf(s, pos);
        if (i >= 0 && (at < 0 || i < at || (i === at && s.length > found.length))) [at, found] = [i, s];
      }
      if (at < 0) break;
      if (at > pos) out.push({ text: text.slice(pos, at), special: false });
      out.push({ text: found, special: true });
      pos = at + found.length;
    }
    if (pos < text.length) out.push({ text: text.slice(pos), special: false });
    return out;
  }

  /** The words before WordPiece (the `basic_tokens` of the fixtures), special tokens kept whole. */
  basicTokenize(text: string): string[] {
    const opts = { ...this.options, neverSplit: this.specials };
    return this.splitSpecials(text).flatMap((s) => (s.special ? [s.text] : basicTokenize(s.text, opts)));
  }

  /** WordPiece alone (HF's `WordpieceTokenizer`): whitespace split, no normalization, then pieces. */
  wordpieceTokenize(text: string): string[] {
    const out: string[] = [];
    for (const word of splitWhitespace(text)) this.wordpieceWord(word, out);
    return out;
  }

  /** Greedy longest match; a word with an unmatched position, or too long, becomes one [UNK]. */
  private wordpieceWord(word: string, out: string[]): void {
    const chars = [...word]; // code points, not UTF-16 units
    if (chars.length > this.options.maxInputCharsPerWord) {
      out.push(SPECIAL_TOKENS.unk);
      return;
    }
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = Math.min(chars.length, start + this.longestToken);
      let piece: string | null = null;
      for (; end > start; end--) {
        const candidate = (start > 0 ? "##" : "") + chars.slice(start, end).join("");
        if (this.vocab.has(candidate)) {
          piece = candidate;
          break;
        }
      }
      if (piece === null) {
        out.push(SPECIAL_TOKENS.unk);
        return;
      }
      pieces.push(piece);
      start = end;
    }
    out.push(...pieces);
  }

  /** The word pieces of a text, without [CLS]/[SEP]. */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const s of this.splitSpecials(text)) {
      if (s.special) out.push(s.text);
      else for (const word of basicTokenize(s.text, { ...this.options, neverSplit: this.specials })) this.wordpieceWord(word, out);
    }
    return out;
  }

  /** Ids of tokens; a token outside the vocabulary gets the [UNK] id (as in HF). */
  convertTokensToIds(tokens: readonly string[]): number[] {
    const unk = this.vocab.unkId;
    return tokens.map((t) => this.vocab.idOf(t) ?? unk);
  }

  /** Encodes a text, or a pair, as `[CLS] A [SEP] (B [SEP])`; an empty `textPair` still counts as a pair. */
  encode(text: string, textPair: string | null = null, options: EncodeOptions = {}): Encoding {
    return this.encodeRow(text, textPair, truncationLength(options.maxLength, options.truncation, false));
  }

  private encodeRow(text: string, textPair: string | null | undefined, maxLength: number | null): Encoding {
    let pair: PiecePair = [this.tokenize(text), textPair === null || textPair === undefined ? null : this.tokenize(textPair)];
    if (maxLength !== null) pair = truncateLongestFirst(pair, maxLength);
    // A vocabulary without [CLS]/[SEP] fails here with its name, not with a silent [UNK] id.
    this.vocab.requireId(SPECIAL_TOKENS.cls, "encoding");
    this.vocab.requireId(SPECIAL_TOKENS.sep, "encoding");
    const unk = this.vocab.unkId;
    return assemble(pair, SPECIAL_TOKENS.cls, SPECIAL_TOKENS.sep, (t) => this.vocab.idOf(t) ?? unk);
  }

  /** Encodes a batch, truncates each row, right-pads with [PAD] and flattens to (batch, length). */
  encodeBatch(inputs: readonly BatchInput[], options: BatchOptions = {}): BatchEncoding {
    const padding = options.padding ?? "longest";
    if (padding !== "longest" && padding !== "max_length" && padding !== false) {
      throw new ConfigError(`padding must be "longest", "max_length" or false, got ${JSON.stringify(padding)}`);
    }
    const maxLength = truncationLength(options.maxLength, options.truncation, padding !== false);
    const rows = inputs.map((input) =>
      typeof input === "string" ? this.encodeRow(input, null, maxLength) : this.encodeRow(input.text, input.textPair, maxLength),
    );
    let length = rows.reduce((m, r) => Math.max(m, r.tokens.length), 0);
    if (padding === "max_length") {
      if (options.maxLength === undefined) throw new ConfigError(`padding "max_length" needs maxLength`);
      length = options.maxLength;
    }
    const pad = padding === false ? null : { token: SPECIAL_TOKENS.pad, id: this.vocab.padId };
    return padAndFlatten(rows, length, pad);
  }

  /** Joins the tokens of `ids` with spaces and merges `##` continuations into the previous word. */
  decode(ids: Iterable<number>, options: DecodeOptions = {}): string {
    const specials = new Set<string>(Object.values(SPECIAL_TOKENS));
    const parts: string[] = [];
    let run: string[] = [];
    const flush = (): void => {
      // HF joins ordinary tokens run by run, so "##" never merges into a special token.
      if (run.length > 0) parts.push(run.join(" ").replaceAll(" ##", "").trim());
      run = [];
    };
    for (const id of ids) {
      const token = this.vocab.tokenOf(id);
      if (!specials.has(token)) run.push(token);
      else if (!options.skipSpecialTokens) {
        flush();
        parts.push(token);
      }
    }
    flush();
    const text = parts.join(" ");
    return options.cleanUpTokenizationSpaces ? cleanUpSpaces(text) : text;
  }
}

/** HF's `clean_up_tokenization`: removes the space before punctuation and English contractions. */
function cleanUpSpaces(text: string): string {
  return text
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
