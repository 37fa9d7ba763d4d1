/**
 * A WordPiece vocabulary: the token ↔ id maps of a BERT `vocab.txt` (line i = id i) or of a
 * Hugging Face `tokenizer.json`, and the ids of the special tokens, read from the vocabulary.
 */
import { readFileSync } from "node:fs";
import { CheckpointError, DataError } from "../errors.ts";

/** The special tokens of BERT, by role. Their ids always come from the vocabulary. */
export const SPECIAL_TOKENS = { pad: "[PAD]", unk: "[UNK]", cls: "[CLS]", sep: "[SEP]", mask: "[MASK]" } as const;

/** The special tokens that must be present unless `requireSpecials` says otherwise. */
export const DEFAULT_REQUIRED_SPECIALS: readonly string[] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"];

/** The BertNormalizer settings of a `tokenizer.json`, in tsformer's naming. */
export interface NormalizerSettings {
  lowercase: boolean;
  /** null = follow `lowercase` (HF's default). */
  stripAccents: boolean | null;
  handleChineseChars: boolean;
}

/** How a vocabulary is checked when it is loaded. */
export interface VocabularyOptions {
  /** Named in error messages (a file path, say). */
  source?: string;
  /** Special tokens whose absence is an error; default `[PAD] [UNK] [CLS] [SEP]`. */
  requireSpecials?: readonly string[];
}

/** Settings read from a `tokenizer.json` besides the tokens. */
interface JsonExtras {
  normalizer: NormalizerSettings | null;
  maxInputCharsPerWord: number | null;
}

/** Token ↔ id maps of a WordPiece vocabulary. Immutable. */
export class Vocabulary {
  /** Tokens by id. */
  readonly tokens: readonly string[];
  /** Where the vocabulary came from, for error messages. */
  readonly source: string;
  /** The BertNormalizer settings of a `tokenizer.json`; null for vocab.txt and token lists. */
  readonly normalizer: NormalizerSettings | null;
  /** `model.max_input_chars_per_word` of a `tokenizer.json`; null when not given. */
  readonly maxInputCharsPerWord: number | null;
  private readonly ids: ReadonlyMap<string, number>;

  private constructor(tokens: string[], ids: Map<string, number>, source: string, extras: JsonExtras) {
    this.tokens = Object.freeze(tokens);
    this.ids = ids;
    this.source = source;
    this.normalizer = extras.normalizer;
    this.maxInputCharsPerWord = extras.maxInputCharsPerWord;
  }

  /** Parses vocab.txt text: split on "\n" only, line i is id i, a trailing empty line is dropped. */
  static fromText(text: string, options: VocabularyOptions = {}): Vocabulary {
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return Vocabulary.build(lines, options.source ?? "vocab.txt", "line", options, { normalizer: null, maxInputCharsPerWord: null });
  }

  /** Reads a vocab.txt file. */
  static fromFile(path: string, options: VocabularyOptions = {}): Vocabulary {
    return Vocabulary.fromText(readFileSync(path, "utf8"), { ...options, source: options.source ?? path });
  }

  /** Builds a vocabulary from tokens in id order. */
  static fromTokens(tokens: Iterable<string>, options: VocabularyOptions = {}): Vocabulary {
    const list = [...tokens];
    const source = options.source ?? "token list";
    list.forEach((t, i) => {
      // toText() could not write such a token back as one line.
      if (t.includes("\n")) throw new CheckpointError(`${source}: token ${i} contains a newline`);
    });
    return Vocabulary.build(list, source, "token", options, { normalizer: null, maxInputCharsPerWord: null });
  }

  /** Reads the WordPiece model (and BertNormalizer settings) of a Hugging Face `tokenizer.json`. */
  static fromTokenizerJson(json: string | object, options: VocabularyOptions = {}): Vocabulary {
    const source = options.source ?? "tokenizer.json";
    let root: unknown;
    try {
      root = typeof json === "string" ? JSON.parse(json) : json;
    } catch (e) {
      throw new CheckpointError(`${source}: not valid JSON (${(e as Error).message})`);
    }
    const model = field(root, "model");
    if (!isObject(model)) throw new CheckpointError(`${source}: no "model" object`);
    if (model.type !== undefined && model.type !== "WordPiece") {
      throw new CheckpointError(`${source}: model.type is ${JSON.stringify(model.type)}, not "WordPiece"`);
    }
    const vocab = model.vocab;
    if (!isObject(vocab)) throw new CheckpointError(`${source}: model.vocab is not an object of token → id`);
    const entries = Object.entries(vocab);
    const tokens: string[] = new Array<string>(entries.length);
    for (const [token, id] of entries) {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= entries.length) {
        throw new CheckpointError(`${source}: model.vocab["${token}"] = ${JSON.stringify(id)} is not an id in 0..${entries.length - 1}`);
      }
      if (tokens[id] !== undefined) {
        throw new CheckpointError(`${source}: id ${id} is given to both "${tokens[id]}" and "${token}"`);
      }
      tokens[id] = token;
    }
    const maxChars = model.max_input_chars_per_word;
    const extras = { normalizer: readNormalizer(field(root, "normalizer")), maxInputCharsPerWord: typeof maxChars === "number" ? maxChars : null };
    return Vocabulary.build(tokens, source, "id", options, extras);
  }

  /** Reads a `tokenizer.json` file. */
  static fromTokenizerJsonFile(path: string, options: VocabularyOptions = {}): Vocabulary {
    return Vocabulary.fromTokenizerJson(readFileSync(path, "utf8"), { ...options, source: options.source ?? path });
  }

  private static build(tokens: string[], source: string, unit: "line" | "token" | "id", options: VocabularyOptions, extras: JsonExtras): Vocabulary {
    const base = unit === "line" ? 1 : 0; // lines are numbered from 1, ids from 0
    const ids = new Map<string, number>();
    tokens.forEach((token, id) => {
      const first = ids.get(token);
      if (first !== undefined) {
        throw new CheckpointError(`${source} ${unit} ${id + base}: duplicate token ${JSON.stringify(token)} (first at ${unit} ${first + base})`);
      }
      ids.set(token, id);
    });
    const missing = (options.requireSpecials ?? DEFAULT_REQUIRED_SPECIALS).filter((t) => !ids.has(t));
    if (missing.length > 0) {
      throw new CheckpointError(`${source}: the vocabulary has no ${missing.join(", ")} token (${tokens.length} tokens read); a BERT vocabulary needs them`);
    }
    return new Vocabulary(tokens, ids, source, extras);
  }

  /** Number of tokens. */
  get size(): number {
    return this.tokens.length;
  }

  /** Whether the token is in the vocabulary. */
  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** The id of a token, or undefined. */
  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The token of an id; throws a DataError for an id outside the vocabulary. */
  tokenOf(id: number): string {
    const token = this.tokens[id];
    if (token === undefined) throw new DataError(`token id ${id} is outside the vocabulary of ${this.source} (0..${this.size - 1})`);
    return token;
  }

  /** The id of a special token that must be present; the error names the vocabulary and the need. */
  requireId(token: string, purpose: string): number {
    const id = this.ids.get(token);
    if (id === undefined) throw new CheckpointError(`${this.source}: no ${token} token, which ${purpose} needs`);
    return id;
  }

  /** Id of `[UNK]`. */
  get unkId(): number {
    return this.requireId(SPECIAL_TOKENS.unk, "WordPiece");
  }

  /** Id of `[CLS]`. */
  get clsId(): number {
    return this.requireId(SPECIAL_TOKENS.cls, "encoding with special tokens");
  }

  /** Id of `[SEP]`. */
  get sepId(): number {
    return this.requireId(SPECIAL_TOKENS.sep, "encoding with special tokens");
  }

  /** Id of `[PAD]`. */
  get padId(): number {
    return this.requireId(SPECIAL_TOKENS.pad, "padding");
  }

  /** Id of `[MASK]`, or null when the vocabulary has none. */
  get maskId(): number | null {
    return this.ids.get(SPECIAL_TOKENS.mask) ?? null;
  }

  /** The BERT special tokens this vocabulary has, in the order [PAD] [UNK] [CLS] [SEP] [MASK]. */
  specialTokens(): string[] {
    return Object.values(SPECIAL_TOKENS).filter((t) => this.ids.has(t));
  }

  /** The vocab.txt text: one token a line, each line ended by "\n". */
  toText(): string {
    return this.tokens.map((t) => `${t}\n`).join("");
  }
}

/** A plain JSON object. */
type JsonObject = Record<string, unknown>;

function isObject(x: unknown): x is JsonObject {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function field(x: unknown, name: string): unknown {
  return isObject(x) ? x[name] : undefined;
}

/** Finds a BertNormalizer, at the top or inside a Sequence normalizer. */
function readNormalizer(n: unknown): NormalizerSettings | null {
  if (!isObject(n)) return null;
  if (n.type === "Sequence" && Array.isArray(n.normalizers)) {
    for (const inner of n.normalizers) {
      const found = readNormalizer(inner);
      if (found) return found;
    }
    return null;
  }
  if (n.type !== "BertNormalizer") return null;
  return {
    // HF's BertNormalizer defaults: lowercase true, strip_accents null, handle_chinese_chars true.
    lowercase: typeof n.lowercase === "boolean" ? n.lowercase : true,
    stripAccents: typeof n.strip_accents === "boolean" ? n.strip_accents : null,
    handleChineseChars: typeof n.handle_chinese_chars === "boolean" ? n.handle_chinese_chars : true,
  };
}
