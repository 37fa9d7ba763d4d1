/** `tsformer similarity --model DIR "a" "b"`: the cosine similarity of two sentence embeddings. */
import type { Command } from "commander";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";
import { type ModelOptions, addModelOptions, loadModelOption, maxLengthOption, poolingOption } from "./model-option.ts";

/** The command's options. */
interface SimilarityOptions extends ModelOptions {
  pooling?: string;
  json?: boolean;
}

/** Registers the command. */
export function registerSimilarity(program: Command): void {
  addModelOptions(program.command("similarity"))
    .description("cosine similarity of the sentence embeddings of two texts (1 = same direction)")
    .argument("<a>", "first text")
    .argument("<b>", "second text")
    .option("--pooling <kind>", "mean (default), cls or max, over real tokens")
    .option("--json", "one JSON object: {a, b, pooling, similarity}")
    .action(async (a: string, b: string, options: SimilarityOptions) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const pooling = poolingOption(options.pooling);
        const loaded = await loadModelOption(options);
        const maxLength = maxLengthOption(loaded, options, [a, b]);
        const { textSimilarity } = await import("../models/embeddings.ts"); // on use: the CLI starts without the engine
        const similarity = textSimilarity(loaded, a, b, { pooling, maxLength });
        if (options.json) printJsonLine({ a, b, pooling, similarity });
        else process.stdout.write(`${similarity.toFixed(4)}\n`);
      });
    });
}
