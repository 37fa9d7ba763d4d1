/**
 * `tsformer eval` and `tsformer classify`: accuracy and loss on a labelled file; label and probability per text.
 * Any classifier folder loads (`loadBert`: a fine-tuned Hugging Face BertForSequenceClassification folder, what
 * `tsformer train` writes, or an older tsformer checkpoint).
 */
import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import type { LoadedBert } from "../models/load-bert.ts";
import type { EvalCall } from "../train/evaluate.ts";
import { defaultModelDir } from "./model-default.ts";
import { noteTruncation } from "./truncation.ts";
import { addQuantizeOption, applyQuantizeOption } from "./model-option.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

/** Loads `--model` (default: the shipped model), checks it has a classification head, and applies `--quantize`. */
export async function loadClassifier(dir: string | undefined, quantize?: string): Promise<LoadedBert & { labels: string[] }> {
  const { loadBert } = await import("../models/load-bert.ts"); // on use: the CLI starts without the engine
  const loaded = await loadBert(dir ?? defaultModelDir(), { mlmHead: false });
  const labels = loaded.model.classifier ? loaded.config.labels : null;
  if (!labels) throw new ConfigError(`${loaded.dir}: no classification head (no classifier.* weights); fine-tune it first: tsformer train --init-from ${loaded.dir} --train FILE`);
  await applyQuantizeOption(loaded.model, quantize);
  return { ...loaded, labels };
}

/** The help of `--mask-heads`. */
export const MASK_HEADS_HELP = "remove these heads (layer:head, 0-based, comma-separated, e.g. 0:1,1:3): each one's output is multiplied by 0";

/** `--mask-heads` as the forward call's head gates (none when not given); a head that does not exist is a one-line error. */
async function maskHeadsCall(loaded: LoadedBert, spec: string | undefined): Promise<EvalCall> {
  if (spec === undefined) return {};
  const { headMaskGates, parseHeadList } = await import("../explain/heads.ts");
  const { numLayers, heads } = loaded.model.config;
  return { headGates: headMaskGates(parseHeadList(spec, numLayers, heads), numLayers, heads) };
}

const TRUNCATION_NOTE = "the model's maximum length, from tokenizer_config.json model_max_length or its position table";

/** Registers `eval`. */
export function registerEval(program: Command): void {
  addQuantizeOption(program
    .command("eval"))
    .description("accuracy and mean cross-entropy of a classifier on a labelled file")
    .option("--model <dir>", "a classifier folder: what tsformer train writes, or any BertForSequenceClassification folder (default: the shipped model)")
    .requiredOption("--data <file>", "labelled data: `<label> <text>` lines, TSV with a header, or JSONL {text, label}; labels are class names or ids")
    .option("--mask-heads <list>", MASK_HEADS_HELP)
    .option("--json", "print {accuracy, loss, n}")
    .action(async (options: { model?: string; data: string; json?: boolean; quantize?: string; maskHeads?: string }) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const loaded = await loadClassifier(options.model, options.quantize);
        const [{ readDatasetForClasses }, { encodeText, evaluate }] = await Promise.all([import("../train/data.ts"), import("../train/evaluate.ts")]);
        const data = readDatasetForClasses(options.data, loaded.labels);
        noteTruncation(loaded.tokenizer, data.examples.map((e) => e.text), loaded.maxLength, TRUNCATION_NOTE);
        const examples = data.examples.map((e) => ({ ids: encodeText(loaded.tokenizer, e.text, loaded.maxLength), label: e.label }));
        const r = evaluate(loaded.model, examples, 64, await maskHeadsCall(loaded, options.maskHeads));
        if (options.json) printJsonLine({ accuracy: r.accuracy, loss: r.loss, n: r.n });
        else process.stdout.write(`accuracy ${(100 * r.accuracy).toFixed(2)}% (${Math.round(r.accuracy * r.n)}/${r.n}), loss ${r.loss.toFixed(4)}\n`);
      });
    });
}

/** Registers `classify`. */
export function registerClassify(program: Command): void {
  addQuantizeOption(program
    .command("classify"))
    .description("the label and its probability for each text")
    .argument("<texts...>", "one or more texts")
    .option("--model <dir>", "a classifier folder: what tsformer train writes, or any BertForSequenceClassification folder (default: the shipped model)")
    .option("--mask-heads <list>", MASK_HEADS_HELP)
    .option("--json", "one JSON object per text: {text, label, probability, probabilities}")
    .action(async (texts: string[], options: { model?: string; json?: boolean; quantize?: string; maskHeads?: string }) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const loaded = await loadClassifier(options.model, options.quantize);
        const labels = loaded.labels;
        noteTruncation(loaded.tokenizer, texts, loaded.maxLength, TRUNCATION_NOTE);
        const { predict } = await import("../train/evaluate.ts");
        const probs = predict(loaded.model, loaded.tokenizer, texts, loaded.maxLength, 64, await maskHeadsCall(loaded, options.maskHeads));
        texts.forEach((text, i) => {
          const p = probs[i];
          const best = p.indexOf(Math.max(...p));
          if (options.json) printJsonLine({ text, label: labels[best], probability: p[best], probabilities: Object.fromEntries(labels.map((l, j) => [l, p[j]])) });
          else process.stdout.write(`${labels[best]}\t${p[best].toFixed(3)}\t${text}\n`);
        });
      });
    });
}
