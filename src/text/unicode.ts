/**
 * The character classes of Hugging Face's Python BERT tokenizer (`_is_whitespace`, `_is_control`,
 * `_is_punctuation`, `_is_chinese_char`), written with Unicode property escapes. Every function
 * takes one code point as a string (what iterating a string with `for…of` yields).
 */

/** `\t \n \r`, which HF treats as whitespace and never as control characters. */
const TAB_NEWLINE = /^[\t\n\r]$/u;
/** Any `C*` category: Cc, Cf, Cs, Co and Cn (unassigned). */
const OTHER = /^\p{C}$/u;
/** Unicode punctuation, every `P*` category. */
const PUNCT = /^\p{P}$/u;
/** A non-spacing mark (category Mn): what accent stripping deletes after NFD. */
const NONSPACING_MARK = /\p{Mn}/gu;
/**
 * The characters Python's `str.split()` splits on (written as code points: the lint rule forbids
 * control characters in regexes). After cleaning, only U+2028/U+2029 (Zl/Zp) of these can remain
 * besides the ASCII space, and they do split words.
 */
const PYTHON_SPACES: ReadonlySet<number> = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
  ...Array.from({ length: 11 }, (_, i) => 0x2000 + i),
  0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** True for ` `, `\t`, `\n`, `\r` and every space separator (Zs): what cleaning maps to a space. */
export function isWhitespace(ch: string): boolean {
  return ch === " " || TAB_NEWLINE.test(ch) || /^\p{Zs}$/u.test(ch);
}

/** True for every `C*` character except `\t \n \r`: what cleaning deletes. */
export function isControl(ch: string): boolean {
  return !TAB_NEWLINE.test(ch) && OTHER.test(ch);
}

/** True for every ASCII non-alphanumeric (33–47, 58–64, 91–96, 123–126) and every Unicode `P*` character. */
export function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  // BERT counts `$ + < = > ^ ` | ~` as punctuation although Unicode calls them symbols.
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  return PUNCT.test(ch);
}

/** The CJK ideograph blocks BERT puts spaces around (not kana, not Hangul). */
const CJK_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b820, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

/** True when the code point lies in one of BERT's CJK ideograph blocks. */
export function isChineseChar(cp: number): boolean {
  return CJK_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi);
}

/** NFD, then delete every non-spacing mark (Mn); Mc and Me stay. */
export function stripAccents(text: string): string {
  return text.normalize("NFD").replace(NONSPACING_MARK, "");
}

/** Python's `text.strip().split()`: the non-empty runs between Python whitespace characters. */
export function splitWhitespace(text: string): string[] {
  const words: string[] = [];
  let current = "";
  for (const ch of text) {
    if (PYTHON_SPACES.has(ch.codePointAt(0) ?? 0)) {
      if (current) words.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (current) words.push(current);
  return words;
}
