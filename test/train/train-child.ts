/**
 * A training run in a child process, for the kill tests: `train-child.ts <dir> <train|pretrain> [--resume]`. It
 * prints one JSON line per event on stdout — where it starts, and each checkpoint's start and end — so the parent
 * can kill it at a chosen moment (after some saves, or while a save is being written).
 */
import { pretrain } from "../../src/train/pretrain.ts";
import { train } from "../../src/train/trainer.ts";
import { KILL_RUN_SETTINGS } from "./kill-settings.ts";
import { tinyPretrainConfig } from "./pretrain-tiny.ts";
import { tinyConfig } from "./tiny.ts";

const [dir, objective, flag] = process.argv.slice(2);
const say = (event: Record<string, unknown>): boolean => process.stdout.write(`${JSON.stringify(event)}\n`);
const hooks = {
  resume: flag === "--resume",
  onStart: (i: { startStep: number }) => say({ event: "start", step: i.startStep }),
  onCheckpoint: (c: { phase: string; step: number; dir: string }) => say({ event: "checkpoint", phase: c.phase, step: c.step, last: c.dir.endsWith("last") }),
};
if (objective === "pretrain") await pretrain(tinyPretrainConfig(dir, KILL_RUN_SETTINGS.pretrain), hooks);
else await train(tinyConfig(dir, KILL_RUN_SETTINGS.train), hooks);
