/**
 * `tsformer pretrain`: masked-LM pretraining of a BERT on plain-text files, with a progress bar (tokens/s, loss,
 * masked-token accuracy) and resumable checkpoints; `<out>/best` and `<out>/last` are BertForMaskedLM folders.
 */
import type { Command } from "commander";
import { type LoopFlags, addLoopOptions, defined, intFlag, loopOutput, numFlag } from "./flags.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

interface PretrainFlags extends LoopFlags {
  config?: string;
  initFrom?: string;
  text?: string[];
  heldOut?: string[];
  heldOutFraction?: string;
  vocab?: string;
  maxLength?: string;
  separator?: string;
  wholeWordMasking?: boolean;
}

/** The flags as a partial pretraining config. */
function flagsToConfig(f: PretrainFlags): unknown {
  return defined({
    initFrom: f.initFrom,
    data: { text: f.text, heldOutText: f.heldOut, heldOutFraction: numFlag(f.heldOutFraction, "--held-out-fraction") },
    vocab: f.vocab ? { file: f.vocab } : undefined,
    tokenizer: { maxLength: intFlag(f.maxLength, "--max-length") },
    packing: { separator: f.separator },
    masking: { wholeWord: f.wholeWordMasking },
    out: f.out,
    epochs: intFlag(f.epochs, "--epochs"),
    batchSize: intFlag(f.batchSize, "--batch-size"),
    seed: intFlag(f.seed, "--seed"),
    maxSteps: intFlag(f.maxSteps, "--max-steps"),
    saveEvery: intFlag(f.saveEvery, "--save-every"),
    patience: intFlag(f.patience, "--patience"),
    ema: numFlag(f.ema, "--ema"),
    optimizer: { lr: numFlag(f.lr, "--lr") },
    schedule: { warmupRatio: numFlag(f.warmupRatio, "--warmup-ratio") },
    model: { dModel: intFlag(f.dModel, "--d-model"), heads: intFlag(f.heads, "--heads"), dFF: intFlag(f.dFf, "--d-ff"), numLayers: intFlag(f.layers, "--layers"), dropout: numFlag(f.dropout, "--dropout") },
  });
}

/** "12.3 s" or "4 min 05 s". */
function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${String(Math.round(seconds % 60)).padStart(2, "0")} s`;
}

/** Registers the command. */
export function registerPretrain(program: Command): void {
  addLoopOptions(program
    .command("pretrain")
    .description("pretrain a BERT with the masked-LM objective on plain text (one sentence per line, blank lines between documents); <out>/best and <out>/last are BertForMaskedLM folders for fill-mask and train --init-from")
    .option("--config <file>", "a JSON pretraining config (see configs/pretrain.json); flags override it")
    .option("--text <files...>", "training text files")
    .option("--init-from <dir>", "continue pretraining this folder (its weights, vocabulary and sizes) on the text: domain- or task-adaptive pretraining")
    .option("--held-out <files...>", "held-out text files (default: a seeded 1 % of the documents)")
    .option("--held-out-fraction <f>", "fraction of documents held out when --held-out is not given")
    .option("--vocab <file>", "use this vocab.txt as is (default: the bert-base-uncased pieces the text uses)")
    .option("--max-length <n>", "packed sequence length in tokens, [CLS]/[SEP] included")
    .option("--separator <where>", "[SEP] after each sentence or each document")
    .option("--whole-word-masking", "choose whole words: a word's ## pieces are masked with its first piece"), "early stopping: epochs without a lower held-out loss (0: never)")
    .action(async (flags: PretrainFlags) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const [{ readPretrainConfigFile, resolvePretrainConfig }, { pretrain }] = await Promise.all([
          import("../train/pretrain-config.ts"), import("../train/pretrain.ts"),
        ]); // on use: the CLI starts without the engine
        const config = resolvePretrainConfig(flags.config ? readPretrainConfigFile(flags.config) : undefined, flagsToConfig(flags));
        const { bar, say } = await loopOutput(flags.json, "loss {loss} | masked acc {acc} | {tps} tok/s");
        const summary = await pretrain(config, {
          resume: flags.resume,
          onStart: (i) => {
            for (const note of i.notes) say(note);
            const c = i.corpus;
            const s = c.seconds;
            say(`corpus: ${c.files} file(s), ${c.documents} documents (${c.heldOutDocuments} held out), ${c.sentences.toLocaleString("en-US")} sentences, ${c.tokens.toLocaleString("en-US")} tokens → ${c.sequences} sequences of ≤ ${config.tokenizer.maxLength} (${c.heldOutSequences} held out); vocabulary ${c.vocabSize}`);
            say(`corpus steps: read ${duration(s.read)}, vocabulary ${duration(s.vocabulary)}, tokenize ${duration(s.tokenize)}, pack ${duration(s.pack)}`);
            say(`pretraining ${i.parameters.toLocaleString("en-US")} parameters, ${i.totalSteps} steps${i.startStep > 0 ? ` (resuming at step ${i.startStep})` : ""}`);
            bar?.start(i.totalSteps, i.startStep, { epoch: "-", loss: "-", acc: "-", tps: "-" });
          },
          onStep: (s) => bar?.update(s.step, { epoch: s.epoch + 1, loss: s.loss.toFixed(4), acc: `${(100 * s.accuracy).toFixed(1)}%`, tps: Math.round(s.tokensPerSecond) }),
          onEpoch: (e) => {
            bar?.stop();
            const held = e.dev ? `, held-out MLM loss ${e.dev.loss.toFixed(4)}, masked-token accuracy ${(100 * e.dev.accuracy).toFixed(2)}%${e.improved ? " (best)" : ""}` : "";
            say(`epoch ${e.epoch + 1}: step ${e.step}, train loss ${e.trainLoss.toFixed(4)}${held}`);
            if (bar && e.epoch + 1 < config.epochs) bar.start(bar.getTotal(), e.step, { epoch: e.epoch + 2, loss: "-", acc: "-", tps: "-" });
          },
        });
        bar?.stop();
        if (flags.json) printJsonLine(summary);
        else {
          const best = summary.best ? `best held-out MLM loss ${summary.best.loss.toFixed(4)} (epoch ${summary.best.epoch + 1}, masked-token accuracy ${(100 * summary.best.accuracy).toFixed(2)}%)` : "no held-out text";
          say(`done: ${summary.steps} steps, ${duration(summary.trainSeconds)} of training, ${Math.round(summary.tokensPerSecond)} tokens/s, ${best}`);
          say(`model folders: ${config.out}/best, ${config.out}/last (resumable); try: tsformer fill-mask --model ${config.out}/best "the [MASK] was great ."`);
        }
      });
    });
}
