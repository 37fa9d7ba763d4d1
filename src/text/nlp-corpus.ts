/**
 * `nlp-corpus` (npm, by Spencer Kelly): 100,000 English sentences from many sources — film and restaurant
 * reviews, Wikipedia, fiction, news headlines, speeches, legal and UN text, e-mail, SMS, TV transcripts, lyrics,
 * Reddit, jokes — in 100 files `builds/doc-0.json` … `doc-99.json`, each a JSON array of 1,000 sentences in
 * random order. Sentences of different sources are shuffled together, so each is a document of its own here.
 * The package warns that some text is offensive: pretraining reads it only through `OffensiveFilter`.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DataError, TsformerError } from "../errors.ts";

/** The package has exactly this many build files, `doc-0.json` … `doc-99.json`. */
export const NLP_CORPUS_FILES = 100;

/** The folder of the installed npm package `nlp-corpus`; a one-line error saying to run npm install if missing. */
export function findNlpCorpusDirectory(from: string = import.meta.url): string {
  try {
    // the package's "exports" hides package.json; its entry point is src/server/index.js, two folders down
    return join(dirname(createRequire(from).resolve("nlp-corpus")), "..", "..");
  } catch {
    throw new TsformerError("nlp-corpus (npm package) is not in node_modules: run `npm install`");
  }
}

/**
 * Every sentence of the package in `dir` as the files hold it, in file order (`doc-0.json` first). A missing file
 * is a one-line error saying to reinstall; a file that is not a JSON array of strings is a `DataError` naming it.
 */
export function readNlpCorpus(dir: string): string[] {
  const sentences: string[] = [];
  for (let i = 0; i < NLP_CORPUS_FILES; i++) {
    const path = join(dir, "builds", `doc-${i}.json`);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      throw new TsformerError(`${path}: missing; nlp-corpus should have ${NLP_CORPUS_FILES} build files: run \`npm install\``);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new DataError(`${path}: not JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new DataError(`${path}: expected a JSON array of sentences`);
    parsed.forEach((s: unknown, k) => {
      if (typeof s !== "string") throw new DataError(`${path}: entry ${k} is not a string`);
      sentences.push(s);
    });
  }
  return sentences;
}
