/**
 * `tsformer fill-mask --model DIR "text with [MASK]"`: the likeliest tokens for each [MASK] of a text, from a
 * BertForMaskedLM folder, with Hugging Face's fill-mask pipeline semantics (src/models/fill-mask.ts). Prints a
 * small table per mask (rank, probability, token, filled-in text), or with `--json` the pipeline's own output: a
 * list of {score, token, token_str, sequence} for one mask, a list of such lists for several.
 */
import type { Command } from "commander";
import type { FillMaskCandidate } from "../models/fill-mask.ts";
import { defaultMaskedLmDir } from "./model-default.ts";
import { type ModelOptions, addQuantizeOption, applyQuantizeOption, intOption } from "./model-option.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";
import { noteTruncation } from "./truncation.ts";

/** The command's options. */
interface FillMaskCliOptions extends ModelOptions {
  topK?: string;
  json?: boolean;
}

/** One mask's candidates as an aligned table: rank, probability in %, token, sequence. */
export function candidateTable(candidates: readonly FillMaskCandidate[]): string {
  const rows = candidates.map((c, i) => [String(i + 1), `${(100 * c.score).toFixed(2)}%`, c.token_str, c.sequence]);
  const header = ["rank", "probability", "token", "sequence"];
  const width = header.map((h, j) => Math.max(h.length, ...rows.map((r) => [...r[j]].length)));
  const pad = (cells: string[]): string => cells.map((cell, j) => {
    if (j === cells.length - 1) return cell;
    const fill = " ".repeat(width[j] - [...cell].length);
    return j < 2 ? fill + cell : cell + fill; // numbers right-aligned, text left-aligned
  }).join("  ");
  return [pad(header), ...rows.map(pad)].join("\n");
}

/** Registers the command. */
export function registerFillMask(program: Command): void {
  addQuantizeOption(program.command("fill-mask"))
    .description("the likeliest tokens for each [MASK] in a text (a BertForMaskedLM folder), as Hugging Face's fill-mask pipeline")
    .argument("<text>", "a text with one or more [MASK] tokens, e.g. \"the movie was [MASK] fun.\"")
    .option("--model <dir>", "a BertForMaskedLM folder: config.json, model.safetensors with cls.predictions.*, vocab.txt (default: models/mlm, the shipped pretrained BERT)")
    .option("--top-k <k>", "candidates per mask (default 5)")
    .option("--max-length <n>", "longest input in tokens, [CLS]/[SEP] included (default: the model's limit); a longer text is cut, but not past a [MASK]")
    .option("--json", "the pipeline's JSON: [{score, token, token_str, sequence}, …] for one mask, one such list per mask for several")
    .action(async (text: string, options: FillMaskCliOptions) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        // Checked before loading, so that a typo fails fast; the upper bound needs the model.
        const topK = intOption("--top-k", options.topK, 1) ?? 5;
        const { loadBert } = await import("../models/load-bert.ts"); // on use: the CLI starts without the engine
        const loaded = await loadBert(options.model ?? defaultMaskedLmDir());
        const { fillMask, requireMaskedLmHead } = await import("../models/fill-mask.ts");
        requireMaskedLmHead(loaded);
        intOption("--top-k", options.topK, 1, loaded.config.vocabSize, " (the model's vocabulary size)");
        await applyQuantizeOption(loaded.model, options.quantize);
        const maxLength = intOption("--max-length", options.maxLength, 2, loaded.config.maxPositionEmbeddings, " (config.json max_position_embeddings)");
        const perMask = fillMask(loaded, text, { topK, maxLength });
        // Noted only once the cut is known to keep every [MASK] (else fillMask's error is the one line).
        noteTruncation(loaded.tokenizer, [text], maxLength ?? loaded.maxLength, maxLength ? "--max-length" : "the model's maximum length, from tokenizer_config.json model_max_length or its position table; --max-length sets it");
        if (options.json) {
          printJsonLine(perMask.length === 1 ? perMask[0] : perMask);
          return;
        }
        perMask.forEach((candidates, m) => {
          if (perMask.length > 1) process.stdout.write(`${m > 0 ? "\n" : ""}[MASK] ${m + 1} of ${perMask.length}\n`);
          process.stdout.write(`${candidateTable(candidates)}\n`);
        });
      });
    });
}
