/**
 * `tsformer train`: train a text classifier from a config file and/or flags — from random weights, or fine-tuning a
 * pretrained folder with `--init-from` — with a progress bar and resumable checkpoints (Hugging Face folders).
 */
import type { Command } from "commander";
import type { TrainConfig } from "../train/config.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

interface TrainFlags {
  config?: string;
  initFrom?: string;
  freezeEmbeddings?: boolean;
  freezeLayers?: string;
  layerDecay?: string;
  head?: TrainConfig["head"];
  warmupRatio?: string;
  weightDecay?: string;
  maxLength?: string;
  train?: string;
  dev?: string;
  out?: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  seed?: string;
  dModel?: string;
  heads?: string;
  dFf?: string;
  layers?: string;
  dropout?: string;
  optimizer?: TrainConfig["optimizer"]["name"];
  schedule?: TrainConfig["schedule"]["name"];
  warmup?: string;
  maxSteps?: string;
  saveEvery?: string;
  patience?: string;
  resume?: boolean;
  json?: boolean;
}

function int(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`${flag} must be an integer, got "${value}"`);
  return n;
}

function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${flag} must be a number, got "${value}"`);
  return n;
}

/** Drops undefined leaves so they do not override the config file. */
function defined(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const d = defined(v);
    if (d !== undefined && !(typeof d === "object" && d !== null && Object.keys(d).length === 0)) out[k] = d;
  }
  return out;
}

/** The flags as a partial config. */
function flagsToConfig(f: TrainFlags): unknown {
  return defined({
    initFrom: f.initFrom,
    freeze: { embeddings: f.freezeEmbeddings, layers: int(f.freezeLayers, "--freeze-layers") },
    layerDecay: num(f.layerDecay, "--layer-decay"),
    head: f.head,
    tokenizer: { maxLength: int(f.maxLength, "--max-length") },
    data: { train: f.train, dev: f.dev },
    out: f.out,
    epochs: int(f.epochs, "--epochs"),
    batchSize: int(f.batchSize, "--batch-size"),
    seed: int(f.seed, "--seed"),
    maxSteps: int(f.maxSteps, "--max-steps"),
    saveEvery: int(f.saveEvery, "--save-every"),
    patience: int(f.patience, "--patience"),
    optimizer: { name: f.optimizer, lr: num(f.lr, "--lr"), weightDecay: num(f.weightDecay, "--weight-decay") },
    schedule: { name: f.schedule, warmup: int(f.warmup, "--warmup"), warmupRatio: num(f.warmupRatio, "--warmup-ratio") },
    model: { dModel: int(f.dModel, "--d-model"), heads: int(f.heads, "--heads"), dFF: int(f.dFf, "--d-ff"), numLayers: int(f.layers, "--layers"), dropout: num(f.dropout, "--dropout") },
  });
}

/** Registers the command. */
export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("train a text classifier from scratch (the shipped SST-2 recipe) or fine-tune a pretrained folder (--init-from); <out>/best and <out>/last are Hugging Face folders")
    .option("--config <file>", "a JSON training config (see configs/); flags override it")
    .option("--init-from <dir>", "fine-tune this pretrained folder (Hugging Face BERT or tsformer checkpoint); defaults become AdamW 2e-5, 6 % warmup, linear decay, 3 epochs, early stopping")
    .option("--freeze-embeddings", "keep the embedding tables and their LayerNorm as loaded")
    .option("--freeze-layers <n>", "keep the bottom n encoder layers as loaded")
    .option("--layer-decay <factor>", "layer-wise lr decay: layer i of L trains at lr·factor^(L−i), embeddings at lr·factor^(L+1)")
    .option("--head <mode>", "with --init-from: auto (keep the folder's head when it knows the data's labels), keep or new")
    .option("--max-length <n>", "longest input in tokens, [CLS]/[SEP] included (with --init-from: at most the position table)")
    .option("--train <file>", "training data: `<label> <text>` lines, TSV with a header, or JSONL {text, label}")
    .option("--dev <file>", "evaluation data, same formats")
    .option("--out <dir>", "output folder")
    .option("--epochs <n>").option("--batch-size <n>").option("--lr <rate>", "peak learning rate").option("--seed <n>")
    .option("--d-model <n>").option("--heads <n>").option("--d-ff <n>").option("--layers <n>").option("--dropout <p>")
    .option("--optimizer <name>", "adamw, adam or sgd").option("--weight-decay <λ>", "AdamW's decoupled decay (never on biases or LayerNorm)")
    .option("--schedule <name>", "linear, cosine, constant or noam").option("--warmup <steps>").option("--warmup-ratio <fraction>", "warmup as a fraction of all steps (replaces --warmup)")
    .option("--max-steps <n>", "stop after n steps in all").option("--save-every <n>", "also save <out>/last every n steps")
    .option("--patience <epochs>", "early stopping: epochs without a better dev accuracy")
    .option("--resume", "continue the run saved in <out>/last exactly")
    .option("--json", "print the summary as JSON")
    .action(async (flags: TrainFlags) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const [{ SingleBar }, { readTrainConfigFile, resolveTrainConfig }, { train }] = await Promise.all([
          import("cli-progress"), import("../train/config.ts"), import("../train/trainer.ts"),
        ]); // on use: the CLI starts without the engine
        const config = resolveTrainConfig(flags.config ? readTrainConfigFile(flags.config) : undefined, flagsToConfig(flags));
        const tty = process.stderr.isTTY === true;
        const bar = tty ? new SingleBar({
          format: "epoch {epoch} |{bar}| {value}/{total} steps | loss {loss} | {tps} tok/s | ETA {eta_formatted}",
          hideCursor: true, etaBuffer: 50,
        }) : null;
        const say = (line: string): void => {
          if (!flags.json) process.stdout.write(`${line}\n`);
        };
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
