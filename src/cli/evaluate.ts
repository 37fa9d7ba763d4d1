/** `tsformer eval` and `tsformer classify`: accuracy and loss on a labelled file; label and probability per text. */
import type { Command } from "commander";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { readDataset } from "../train/data.ts";
import { encodeText, evaluate, predict } from "../train/evaluate.ts";
import { defaultModelDir } from "./model-default.ts";
import { noteTruncation } from "./truncation.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

/** Registers `eval`. */
export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("accuracy and mean cross-entropy of a classifier on a labelled file")
    .option("--model <dir>", "a tsformer classifier checkpoint (default: the shipped model)")
    .requiredOption("--data <file>", "labelled data: `<label> <text>` lines, TSV with a header, or JSONL {text, label}")
    .option("--json", "print {accuracy, loss, n}")
    .action(async (options: { model?: string; data: string; json?: boolean }) => {
      await runCommand(program.opts<GlobalOptions>(), () => {
        const loaded = loadCheckpoint(options.model ?? defaultModelDir());
        const data = readDataset(options.data, { labels: loaded.config.dataLabels ?? loaded.config.classifier.labels });
        const maxLength = loaded.config.tokenizer.maxLength;
        noteTruncation(loaded.tokenizer, data.examples.map((e) => e.text), maxLength, "the length the model was trained with, config.json tokenizer.maxLength");
        const examples = data.examples.map((e) => ({ ids: encodeText(loaded.tokenizer, e.text, maxLength), label: e.label }));
        const r = evaluate(loaded.model, examples);
        if (options.json) printJsonLine({ accuracy: r.accuracy, loss: r.loss, n: r.n });
        else process.stdout.write(`accuracy ${(100 * r.accuracy).toFixed(2)}% (${Math.round(r.accuracy * r.n)}/${r.n}), loss ${r.loss.toFixed(4)}\n`);
      });
    });
}

/** Registers `classify`. */
export function registerClassify(program: Command): void {
  program
    .command("classify")
    .description("the label and its probability for each text")
    .argument("<texts...>", "one or more texts")
    .option("--model <dir>", "a tsformer classifier checkpoint (default: the shipped model)")
    .option("--json", "one JSON object per text: {text, label, probability, probabilities}")
    .action(async (texts: string[], options: { model?: string; json?: boolean }) => {
      await runCommand(program.opts<GlobalOptions>(), () => {
        const loaded = loadCheckpoint(options.model ?? defaultModelDir());
        const labels = loaded.config.classifier.labels;
        noteTruncation(loaded.tokenizer, texts, loaded.config.tokenizer.maxLength, "the length the model was trained with, config.json tokenizer.maxLength");
        const probs = predict(loaded.model, loaded.tokenizer, texts, loaded.config.tokenizer.maxLength);
        texts.forEach((text, i) => {
          const p = probs[i];
          const best = p.indexOf(Math.max(...p));
          if (options.json) printJsonLine({ text, label: labels[best], probability: p[best], probabilities: Object.fromEntries(labels.map((l, j) => [l, p[j]])) });
          else process.stdout.write(`${labels[best]}\t${p[best].toFixed(3)}\t${text}\n`);
        });
      });
    });
}
