/**
 * The BasicTokenizer stage of BERT: clean the text, space out CJK ideographs, NFC, split on
 * whitespace, lower-case and strip accents per word, and split off punctuation. The result is the
 * list of words WordPiece then cuts into pieces (HF Python's `BasicTokenizer.tokenize`).
 */
import { isChineseChar, isControl, isPunctuation, isWhitespace, splitWhitespace, stripAccents } from "./unicode.ts";

/** How the BasicTokenizer normalizes words. */
export interface BasicOptions {
  /** Lower-case every word (full Unicode rules), and strip accents unless `stripAccents` is false. */
  doLowerCase?: boolean;
  /** null: follow `doLowerCase` (HF's default); true/false force accent stripping on or off. */
  stripAccents?: boolean | null;
  /** Put spaces around CJK ideographs so that each becomes its own word. */
  tokenizeChineseChars?: boolean;
  /** Words kept exactly as they are (not lower-cased, not split): HF passes the special tokens here. */
  neverSplit?: Iterable<string>;
}

/** Deletes U+0000, U+FFFD and control/format/unassigned characters; maps whitespace to a space. */
export function cleanText(text: string): string {
  let out = "";
  for (const ch of text) {
    // U+0000 is Cc anyway; U+FFFD is So, so it needs its own test.
    if (ch === "\u0000" || ch === "\ufffd" || isControl(ch)) continue;
    out += isWhitespace(ch) ? " " : ch;
  }
  return out;
}

/** Puts a space on both sides of every CJK ideograph (code points, so planes 2+ count too). */
export function spaceChineseChars(text: string): string {
  let out = "";
  for (const ch of text) {
    out += isChineseChar(ch.codePointAt(0) ?? 0) ? ` ${ch} ` : ch;
  }
  return out;
}

/** Splits a word into runs of non-punctuation and single punctuation characters. */
export function splitOnPunctuation(word: string): string[] {
  const out: string[] = [];
  let current = "";
  for (const ch of word) {
    if (isPunctuation(ch)) {
      if (current) out.push(current);
      out.push(ch);
      current = "";
    } else {
      current += ch;
    }
  }
  if (current) out.push(current);
  return out;
}

/** Lower-cases and/or strips accents from one whitespace-delimited word, as the options ask. */
export function normalizeWord(word: string, options: BasicOptions): string {
  const lower = options.doLowerCase ?? true;
  const strip = options.stripAccents ?? null;
  if (lower) {
    // Whole-word toLowerCase, so a word-final Σ becomes ς (Python's str.lower() does the same).
    const lowered = word.toLowerCase();
    return strip === false ? lowered : stripAccents(lowered);
  }
  return strip === true ? stripAccents(word) : word;
}

/** The BasicTokenizer: the words of `text` before WordPiece. */
export function basicTokenize(text: string, options: BasicOptions = {}): string[] {
  const neverSplit = new Set(options.neverSplit ?? []);
  let cleaned = cleanText(text);
  if (options.tokenizeChineseChars ?? true) cleaned = spaceChineseChars(cleaned);
  // NFC before splitting: only matters when accents are kept (cased or strip_accents=false).
  const normalized = cleaned.normalize("NFC");
  const words: string[] = [];
  for (const word of splitWhitespace(normalized)) {
    if (neverSplit.has(word)) {
      words.push(word);
      continue;
    }
    const normal = normalizeWord(word, options);
    // HF checks never_split again after lower-casing, before the punctuation split.
    if (neverSplit.has(normal)) {
      words.push(normal);
      continue;
    }
    // Re-split: HF joins the pieces with spaces and splits again, dropping empty words.
    for (const piece of splitOnPunctuation(normal)) words.push(...splitWhitespace(piece));
  }
  return words;
}
