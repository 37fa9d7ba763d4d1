/**
 * What an encoding looks like, and the sequence-level steps of HF Python's `prepare_for_model`
 * and `pad`: "longest_first" truncation, `[CLS] A [SEP] (B [SEP])` assembly, right padding and the
 * flattened (batch, length) arrays a model takes.
 */
import { ConfigError } from "../errors.ts";

/** One encoded row; plain arrays, special tokens included. */
export interface Encoding {
  tokens: string[];
  inputIds: number[];
  /** 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`, 0 at padding. */
  tokenTypeIds: number[];
  /** 1 = real token, 0 = padding (tsformer's convention, the same as HF's). */
  attentionMask: number[];
}

/** A batch: the padded rows, and the same numbers flattened row-major as (batch, length). */
export interface BatchEncoding {
  rows: Encoding[];
  batch: number;
  length: number;
  inputIds: Int32Array;
  tokenTypeIds: Int32Array;
  attentionMask: Uint8Array;
}

/** `true` means "longest_first", HF's meaning of `truncation=True`. */
export type Truncation = "longest_first" | boolean;

/** How one text (or pair) is encoded. */
export interface EncodeOptions {
  /** Maximum length, special tokens included. */
  maxLength?: number;
  /** Defaults to "longest_first" when `maxLength` is given (as HF does without padding), else off. */
  truncation?: Truncation;
}

/** How a batch is encoded. */
export interface BatchOptions {
  /** "longest" (default): pad to the longest row; "max_length": pad to `maxLength`; false: rows must be equal. */
  padding?: "longest" | "max_length" | false;
  /** Maximum length, special tokens included; also the padded length for `padding: "max_length"`. */
  maxLength?: number;
  /** Defaults to "longest_first" when `maxLength` is given and `padding` is false (HF's rule), else off. */
  truncation?: Truncation;
}

/** A pair of piece sequences (the second null for a single text). */
export type PiecePair = [string[], string[] | null];

/**
 * The maximum length to truncate to, or null for none. Like HF, a `maxLength` without `truncation`
 * turns truncation on only when nothing is padded.
 */
export function truncationLength(maxLength: number | undefined, truncation: Truncation | undefined, padded: boolean): number | null {
  if (maxLength === undefined) return null;
  if (!Number.isInteger(maxLength) || maxLength < 0) throw new ConfigError(`maxLength must be a non-negative integer, got ${maxLength}`);
  const on = truncation === undefined ? !padded : truncation !== false;
  return on ? maxLength : null;
}

/**
 * HF Python's "longest_first" truncation to `maxLength` tokens with the specials counted: a pair
 * loses the last piece of the longer sequence, one at a time, of the second on ties; a single text
 * keeps its first pieces, but (as in HF) is left whole when not even one piece would remain.
 */
export function truncateLongestFirst([a, b]: PiecePair, maxLength: number): PiecePair {
  const total = a.length + (b === null ? 2 : b.length + 3);
  const remove = total - maxLength;
  if (remove <= 0) return [a, b];
  if (b === null) return a.length > remove ? [a.slice(0, a.length - remove), null] : [a, null];
  let la = a.length;
  let lb = b.length;
  for (let i = 0; i < remove && la + lb > 0; i++) {
    if (la > lb) la--;
    else lb--;
  }
  return [a.slice(0, la), b.slice(0, lb)];
}

/** `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, with ids looked up by `idOf`. */
export function assemble([a, b]: PiecePair, cls: string, sep: string, idOf: (token: string) => number): Encoding {
  const tokens = [cls, ...a, sep];
  const tokenTypeIds = tokens.map(() => 0);
  if (b !== null) {
    tokens.push(...b, sep);
    for (let i = 0; i <= b.length; i++) tokenTypeIds.push(1);
  }
  return { tokens, inputIds: tokens.map(idOf), tokenTypeIds, attentionMask: tokens.map(() => 1) };
}

/** Right-pads the rows to `length` (or checks they already have it) and flattens them. */
export function padAndFlatten(rows: Encoding[], length: number, pad: { token: string; id: number } | null): BatchEncoding {
  const batch = rows.length;
  const inputIds = new Int32Array(batch * length);
  const tokenTypeIds = new Int32Array(batch * length);
  const attentionMask = new Uint8Array(batch * length);
  const padded = rows.map((row, r) => {
    const missing = length - row.tokens.length;
    if (missing < 0) throw new ConfigError(`row ${r} has ${row.tokens.length} tokens, more than the padded length ${length}; turn truncation on`);
    if (missing > 0 && pad === null) {
      throw new ConfigError(`rows have different lengths (row ${r}: ${row.tokens.length}, longest: ${length}); use padding`);
    }
    const out: Encoding = {
      tokens: [...row.tokens],
      inputIds: [...row.inputIds],
      tokenTypeIds: [...row.tokenTypeIds],
      attentionMask: [...row.attentionMask],
    };
    for (let i = 0; i < missing && pad !== null; i++) {
      out.tokens.push(pad.token);
      out.inputIds.push(pad.id);
      out.tokenTypeIds.push(0);
      out.attentionMask.push(0);
    }
    inputIds.set(out.inputIds, r * length);
    tokenTypeIds.set(out.tokenTypeIds, r * length);
    attentionMask.set(out.attentionMask, r * length);
    return out;
  });
  return { rows: padded, batch, length, inputIds, tokenTypeIds, attentionMask };
}
