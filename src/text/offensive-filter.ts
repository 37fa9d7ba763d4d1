/**
 * A sentence filter for pretraining text that may hold offensive language (issue 14: `nlp-corpus` has slurs and
 * profanity). A sentence is **dropped** when either of two independent word lists finds a term in it:
 *
 * 1. **LDNOOBW**, the "List of Dirty, Naughty, Obscene and Otherwise Bad Words" (npm `naughty-words`, its `en`
 *    list, 403 entries, CC BY 4.0): the list C4 used to clean Common Crawl for T5 (Raffel et al. 2020, §2.2).
 *    Matched as whole words on lower-cased letters and digits: a one-word entry must be a word of the sentence,
 *    a several-word entry a run of its words (`ass` drops "kiss my ass", not "assessment").
 * 2. **obscenity**'s English dataset with its recommended transformers (npm `obscenity`, MIT): patterns with
 *    inflections and disguises (`fucked`, `f*ck`, `niggas`, `sh1t`) that an exact word list misses.
 *
 * Dropping whole sentences (never masking words) is C4's choice too: a sentence with a slur removed still carries
 * its intent. Both lists also drop some harmless sentences (`anal` in a legal text); the cost is a little text.
 */
import { createRequire } from "node:module";
import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from "obscenity";
import { TsformerError } from "../errors.ts";

/** Why a sentence was dropped: which list matched, and the entry or pattern's word. */
export interface OffensiveMatch {
  list: "ldnoobw" | "obscenity";
  /** The LDNOOBW entry, or the word obscenity's dataset filed the matched pattern under. */
  term: string;
}

/** Lower-cased runs of letters and digits: the words an LDNOOBW entry is compared with. */
function wordsOf(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w !== "");
}

/** Decides, sentence by sentence, whether pretraining text may keep it. */
export class OffensiveFilter {
  private readonly singleWords: Map<string, string>;
  private readonly phrases: { words: string; term: string }[];
  private readonly matcher: RegExpMatcher;

  /** `wordList`: LDNOOBW's entries (default: the installed `naughty-words` package's `en` list). */
  constructor(wordList: readonly string[] = readLdnoobw()) {
    this.singleWords = new Map();
    this.phrases = [];
    for (const term of wordList) {
      const words = wordsOf(term);
      if (words.length === 1) this.singleWords.set(words[0], term);
      else if (words.length > 1) this.phrases.push({ words: ` ${words.join(" ")} `, term });
      // an entry without letters or digits (LDNOOBW's emoji) cannot be a word of a sentence; obscenity covers none either
    }
    this.matcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
  }

  /** The first match in `sentence`, or null when both lists pass it. */
  match(sentence: string): OffensiveMatch | null {
    const words = wordsOf(sentence);
    for (const w of words) {
      const term = this.singleWords.get(w);
      if (term !== undefined) return { list: "ldnoobw", term };
    }
    const joined = ` ${words.join(" ")} `;
    for (const p of this.phrases) if (joined.includes(p.words)) return { list: "ldnoobw", term: p.term };
    const [found] = this.matcher.getAllMatches(sentence);
    if (found === undefined) return null;
    const term = englishDataset.getPayloadWithPhraseMetadata(found).phraseMetadata?.originalWord ?? "(unnamed pattern)";
    return { list: "obscenity", term };
  }
}

/** The `en` list of the installed npm package `naughty-words`; a one-line error saying to run npm install if missing. */
export function readLdnoobw(from: string = import.meta.url): string[] {
  let list: unknown;
  try {
    list = createRequire(from)("naughty-words/en.json");
  } catch {
    throw new TsformerError("the LDNOOBW word list (npm package naughty-words) is not in node_modules: run `npm install`");
  }
  if (!Array.isArray(list) || list.length === 0 || !list.every((w): w is string => typeof w === "string")) {
    throw new TsformerError("naughty-words/en.json is not a list of words: reinstall it with `npm install`");
  }
  return list;
}
