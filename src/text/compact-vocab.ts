/**
 * A compact vocabulary for a small model: the part of a big WordPiece vocabulary (bert-base-uncased,
 * say) that a corpus actually uses, so the embedding table shrinks from 30,522 rows to a few
 * thousand without new [UNK]s.
 *
 * What `compactVocabulary` guarantees, for a tokenizer with the same options over the result:
 * 1. Every special token of the base vocabulary ([PAD] [UNK] [CLS] [SEP] [MASK]) is kept.
 * 2. Character coverage: for every character the corpus uses (after normalization) and every
 *    character of `extraCharacters` (default: printable ASCII), the single piece `c` and the
 *    continuation `##c` are kept when the base vocabulary has them. Hence any word, from the
 *    corpus or not, of at most `maxInputCharsPerWord` code points whose first character has its
 *    piece and whose other characters have their `##` pieces in the result never becomes [UNK]:
 *    greedy longest-match can always fall back to one character.
 * 3. Every corpus word that the base vocabulary tokenizes without [UNK] is tokenized without
 *    [UNK]: by (2), or, when the base lacks some single-character piece it needs, because all
 *    the word's base pieces are kept, which gives the same pieces as the base.
 * 4. With no `maxSize` (and `minFrequency` 1), every corpus word gets exactly its base pieces:
 *    greedy longest-match over a subset that contains a word's base pieces picks the same pieces.
 * Under a `maxSize`, words whose frequent pieces were dropped are cut into more, shorter pieces.
 * The result keeps the base order, so the specials come first in bert-base-uncased
 * ([PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4); `base.idOf(token)` maps a token back.
 */
import { ConfigError } from "../errors.ts";
import { Vocabulary } from "./vocab.ts";
import { BertTokenizer, type BertTokenizerOptions } from "./wordpiece.ts";

/** Options of `compactVocabulary`: the tokenizer options, plus how many pieces to keep. */
export interface CompactOptions extends BertTokenizerOptions {
  /** A piece used fewer times than this is dropped unless the guarantees need it; default 1. */
  minFrequency?: number;
  /** At most this many tokens in all; an error when the guaranteed tokens alone exceed it. */
  maxSize?: number;
  /** Characters kept as if the corpus used them; default every printable ASCII character. */
  extraCharacters?: string;
}

/** `!` to `~`: cheap to keep (two pieces each) and common in new text even when the corpus lacks them. */
const PRINTABLE_ASCII = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join("");

/** How often a tokenizer falls back to [UNK] on some texts. */
export interface UnknownRate {
  /** Word pieces, without [CLS]/[SEP]. */
  pieces: number;
  /** Of those, [UNK]. */
  unknown: number;
  /** unknown / pieces (0 for no pieces). */
  rate: number;
}

/** The vocabulary of `base` that `texts` use; see the file comment for what it guarantees. */
export function compactVocabulary(base: Vocabulary, texts: Iterable<string>, options: CompactOptions = {}): Vocabulary {
  const minFrequency = options.minFrequency ?? 1;
  const maxSize = options.maxSize ?? Infinity;
  const tokenizer = new BertTokenizer(base, options);
  const specials = new Set(base.specialTokens());
  const unk = "[UNK]";

  const chars = new Set<string>(options.extraCharacters ?? PRINTABLE_ASCII);
  const frequency = new Map<string, number>();
  const wordPieces = new Map<string, string[]>(); // distinct words → base pieces
  for (const text of texts) {
    for (const word of tokenizer.basicTokenize(text)) {
      if (specials.has(word)) continue;
      let pieces = wordPieces.get(word);
      if (pieces === undefined) {
        pieces = tokenizer.wordpieceTokenize(word);
        wordPieces.set(word, pieces);
        for (const ch of word) chars.add(ch);
      }
      for (const p of pieces) if (p !== unk) frequency.set(p, (frequency.get(p) ?? 0) + 1);
    }
  }

  const required = new Set<string>(specials);
  for (const ch of chars) {
    for (const piece of [ch, `##${ch}`]) if (base.has(piece)) required.add(piece);
  }
  // Guarantee 3: a word the single-character pieces cannot cover keeps all its base pieces.
  const maxChars = tokenizer.options.maxInputCharsPerWord;
  for (const [word, pieces] of wordPieces) {
    const cps = [...word];
    if (cps.length > maxChars || pieces.includes(unk)) continue;
    if (!cps.every((ch, i) => required.has(i === 0 ? ch : `##${ch}`))) for (const p of pieces) required.add(p);
  }
  if (required.size > maxSize) {
    throw new ConfigError(
      `compactVocabulary: maxSize ${maxSize} is below the ${required.size} tokens the guarantees need (specials and single characters)`,
    );
  }

  const byId = (a: string, b: string): number => (base.idOf(a) ?? 0) - (base.idOf(b) ?? 0);
  const candidates = [...frequency]
    .filter(([piece, n]) => n >= minFrequency && !required.has(piece))
    .sort((a, b) => b[1] - a[1] || byId(a[0], b[0])) // most frequent first; base order breaks ties
    .map(([piece]) => piece);
  const kept = [...required, ...candidates.slice(0, Math.max(0, maxSize - required.size))];
  kept.sort(byId);
  return Vocabulary.fromTokens(kept, { source: `compact(${base.source})`, requireSpecials: [...specials] });
}

/** Counts the [UNK] pieces a tokenizer gives for some texts. */
export function unknownRate(tokenizer: BertTokenizer, texts: Iterable<string>): UnknownRate {
  let pieces = 0;
  let unknown = 0;
  for (const text of texts) {
    for (const piece of tokenizer.tokenize(text)) {
      pieces++;
      if (piece === "[UNK]") unknown++;
    }
  }
  return { pieces, unknown, rate: pieces === 0 ? 0 : unknown / pieces };
}
