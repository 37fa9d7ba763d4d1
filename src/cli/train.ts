/**
 * `tsformer train`: train a text classifier from a config file and/or flags — from random weights, or fine-tuning a
 * pretrained folder with `--init-from` — with a progress bar and resumable checkpoints (Hugging Face folders).
 */
import type { Command } from "commander";
import type { TrainConfig } from "../train/config.ts";
import { type LoopFlags, addLoopOptions, defined, intFlag, loopOutput, numFlag } from "./flags.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

interface TrainFlags extends LoopFlags {
  config?: string;
  initFrom?: string;
  freezeEmbeddings?: boolean;
  freezeLayers?: string;
  layerDecay?: string;
  adversarial?: string;
  teacher?: string[];
  distillTemperature?: string;
  distillAlpha?: string;
  head?: TrainConfig["head"];
  reinit?: boolean;
  weightDecay?: string;
  maxLength?: string;
  train?: string;
  dev?: string;
  optimizer?: TrainConfig["optimizer"]["name"];
  schedule?: TrainConfig["schedule"]["name"];
  warmup?: string;
}

/** The flags as a partial config. */
function flagsToConfig(f: TrainFlags): unknown {
  return defined({
    initFrom: f.initFrom,
    freeze: { embeddings: f.freezeEmbeddings, layers: intFlag(f.freezeLayers, "--freeze-layers") },
    layerDecay: numFlag(f.layerDecay, "--layer-decay"),
    adversarial: numFlag(f.adversarial, "--adversarial"),
    distill: { teachers: f.teacher, temperature: numFlag(f.distillTemperature, "--distill-temperature"), alpha: numFlag(f.distillAlpha, "--distill-alpha") },
    head: f.head,
    reinit: f.reinit,
    tokenizer: { maxLength: intFlag(f.maxLength, "--max-length") },
    data: { train: f.train, dev: f.dev },
    out: f.out,
    epochs: intFlag(f.epochs, "--epochs"),
    batchSize: intFlag(f.batchSize, "--batch-size"),
    seed: intFlag(f.seed, "--seed"),
    maxSteps: intFlag(f.maxSteps, "--max-steps"),
    saveEvery: intFlag(f.saveEvery, "--save-every"),
    patience: intFlag(f.patience, "--patience"),
    ema: numFlag(f.ema, "--ema"),
    optimizer: { name: f.optimizer, lr: numFlag(f.lr, "--lr"), weightDecay: numFlag(f.weightDecay, "--weight-decay") },
    schedule: { name: f.schedule, warmup: intFlag(f.warmup, "--warmup"), warmupRatio: numFlag(f.warmupRatio, "--warmup-ratio") },
    model: { dModel: intFlag(f.dModel, "--d-model"), heads: intFlag(f.heads, "--heads"), dFF: intFlag(f.dFf, "--d-ff"), numLayers: intFlag(f.layers, "--layers"), dropout: numFlag(f.dropout, "--dropout") },
  });
}

/** Registers the command. */
export function registerTrain(program: Command): void {
  addLoopOptions(program
    .command("train")
    .description("train a text classifier from scratch (the shipped SST-2 recipe) or fine-tune a pretrained folder (--init-from); <out>/best and <out>/last are Hugging Face folders")
    .option("--config <file>", "a JSON training config (see configs/); flags override it")
    .option("--init-from <dir>", "fine-tune this pretrained folder (Hugging Face BERT or tsformer checkpoint); defaults become AdamW 2e-5, 6 % warmup, linear decay, 3 epochs, early stopping")
    .option("--freeze-embeddings", "keep the embedding tables and their LayerNorm as loaded")
    .option("--freeze-layers <n>", "keep the bottom n encoder layers as loaded")
    .option("--layer-decay <factor>", "layer-wise lr decay: layer i of L trains at lr·factor^(L−i), embeddings at lr·factor^(L+1)")
    .option("--adversarial <ε>", "adversarial training on the word embeddings (Miyato et al. 2017): perturbation size as a fraction of each sentence's word-vector norm (0: off)")
    .option("--teacher <dir...>", "knowledge distillation: also train on the averaged probabilities of these trained classifier folders (same labels)")
    .option("--distill-temperature <T>", "with --teacher: softmax temperature of the soft targets and the student (default 2)")
    .option("--distill-alpha <α>", "with --teacher: weight of the loss on the labels; 1 − α goes to the teachers' (default 0.5)")
    .option("--reinit", "with --init-from: the folder's architecture, vocabulary and tokenizer from random weights (the no-pretraining ablation)")
    .option("--head <mode>", "with --init-from: auto (keep the folder's head when it knows the data's labels), keep or new")
    .option("--max-length <n>", "longest input in tokens, [CLS]/[SEP] included (with --init-from: at most the position table)")
    .option("--train <file>", "training data: `<label> <text>` lines, TSV with a header, or JSONL {text, label}")
    .option("--dev <file>", "evaluation data, same formats")
    .option("--optimizer <name>", "adamw, adam or sgd").option("--weight-decay <λ>", "AdamW's decoupled decay (never on biases or LayerNorm)")
    .option("--schedule <name>", "linear, cosine, constant or noam").option("--warmup <steps>", "warmup steps (--warmup-ratio replaces it)"), "early stopping: epochs without a better dev accuracy")
    .action(async (flags: TrainFlags) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const [{ readTrainConfigFile, resolveTrainConfig }, { train }] = await Promise.all([
          import("../train/config.ts"), import("../train/trainer.ts"),
        ]); // on use: the CLI starts without the engine
        const config = resolveTrainConfig(flags.config ? readTrainConfigFile(flags.config) : undefined, flagsToConfig(flags));
        const { bar, say } = await loopOutput(flags.json, "loss {loss} | {tps} tok/s");
        const summary = await train(config, {
          resume: flags.resume,
          onStart: (i) => {
            for (const note of i.notes) say(note);
            const frozen = i.trainableParameters < i.parameters ? ` (${i.trainableParameters.toLocaleString("en-US")} trainable)` : "";
            say(`training ${i.parameters.toLocaleString("en-US")} parameters${frozen}, vocabulary ${i.vocabSize}, ${i.examples} examples, labels ${i.labels.join(", ")}, ${i.totalSteps} steps${i.startStep > 0 ? ` (resuming at step ${i.startStep})` : ""}`);
            bar?.start(i.totalSteps, i.startStep, { epoch: "-", loss: "-", tps: "-" });
          },
          onStep: (s) => bar?.update(s.step, { epoch: s.epoch + 1, loss: s.loss.toFixed(4), tps: Math.round(s.tokensPerSecond) }),
          onEpoch: (e) => {
            bar?.stop();
            const dev = e.dev ? `, dev loss ${e.dev.loss.toFixed(4)}, dev accuracy ${(100 * e.dev.accuracy).toFixed(2)}%${e.improved ? " (best)" : ""}` : "";
            say(`epoch ${e.epoch + 1}: step ${e.step}, train loss ${e.trainLoss.toFixed(4)}${dev}`);
            if (bar && e.epoch + 1 < config.epochs) bar.start(bar.getTotal(), e.step, { epoch: e.epoch + 2, loss: "-", tps: "-" });
          },
        });
        bar?.stop();
        if (flags.json) printJsonLine(summary);
        else {
          const best = summary.best ? `best dev accuracy ${(100 * summary.best.accuracy).toFixed(2)}% (epoch ${summary.best.epoch + 1})` : "no dev set";
          say(`done: ${summary.steps} steps, ${summary.trainSeconds.toFixed(0)} s of training, ${Math.round(summary.tokensPerSecond)} tokens/s, ${best}${summary.stoppedEarly ? ", stopped early" : ""}`);
          say(`model folders: ${config.out}/best (best on dev), ${config.out}/last (resumable); try: tsformer classify --model ${config.out}/best "some text"`);
        }
      });
    });
}
