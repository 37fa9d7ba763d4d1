/**
 * `tsformer embed --model DIR "text" …`: sentence embeddings (mean, CLS or max pooling over real tokens, optionally
 * L2-normalised). Texts on the command line give one JSON object; `--input FILE` gives NDJSON, one `{text, embedding}`
 * line per input line, with a progress bar on stderr when stderr is a terminal.
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { ConfigError, DataError } from "../errors.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";
import { type ModelOptions, addModelOptions, intOption, loadModelOption, maxLengthOption, poolingOption } from "./model-option.ts";

/** The command's options. */
interface EmbedOptions extends ModelOptions {
  pooling?: string;
  normalize?: boolean;
  input?: string;
  batchSize?: string;
}

/** The lines of a text file (or stdin for "-"): split on "\n", a final "\r" and the last empty line dropped. */
function readInputLines(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (e) {
    const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : String(e);
    throw new DataError(`${path}: cannot read the input file (${code}); --input takes a text file with one sentence per line`);
  }
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Registers the command. */
export function registerEmbed(program: Command): void {
  addModelOptions(program.command("embed"))
    .description("sentence embeddings of texts (JSON), or of every line of --input FILE (NDJSON)")
    .argument("[texts...]", "texts to embed")
    .option("--pooling <kind>", "mean (default), cls or max, over real tokens")
    .option("--normalize", "L2-normalise each vector")
    .option("--input <file>", "embed every line of a text file ('-' for stdin); prints one {text, embedding} JSON line per line")
    .option("--batch-size <n>", "sentences per forward pass (default 32)")
    .action(async (texts: string[], options: EmbedOptions) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const pooling = poolingOption(options.pooling);
        const normalize = options.normalize ?? false;
        const batchSize = intOption("--batch-size", options.batchSize, 1) ?? 32;
        if (options.input !== undefined && texts.length > 0) throw new ConfigError("give texts or --input FILE, not both");
        if (options.input === undefined && texts.length === 0) throw new ConfigError("nothing to embed: give texts (tsformer embed --model DIR \"a sentence\") or --input FILE");
        const lines = options.input !== undefined ? readInputLines(options.input) : texts;
        const loaded = await loadModelOption(options);
        const { embedTexts } = await import("../models/embeddings.ts"); // on use: the CLI starts without the engine
        const settings = { pooling, normalize, maxLength: maxLengthOption(loaded, options, lines), batchSize };
        if (options.input === undefined) {
          const vectors = embedTexts(loaded, lines, settings);
          printJsonLine({ model: loaded.dir, pooling, normalize, dimension: loaded.config.hiddenSize, embeddings: lines.map((text, i) => ({ text, embedding: Array.from(vectors[i]) })) });
          return;
        }
        // The bar goes to stderr and only to a terminal, so stdout stays clean NDJSON and logs stay free of redraws.
        const cliProgress = (await import("cli-progress")).default;
        const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: "embedding [{bar}] {value}/{total} lines | {eta}s left", hideCursor: true }, cliProgress.Presets.shades_classic) : null;
        bar?.start(lines.length, 0);
        try {
          for (let start = 0; start < lines.length; start += batchSize) {
            const chunk = lines.slice(start, start + batchSize);
            const vectors = embedTexts(loaded, chunk, settings);
            chunk.forEach((text, i) => printJsonLine({ text, embedding: Array.from(vectors[i]) }));
            bar?.update(start + chunk.length);
          }
        } finally {
          bar?.stop();
        }
      });
    });
}
