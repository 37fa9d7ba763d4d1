/**
 * A training run in a child process, for the kill tests: `train-child.ts <dir> [--resume]`. It prints one JSON line
 * per event on stdout — where it starts, and each checkpoint's start and end — so the parent can kill it at a
 * chosen moment (after some saves, or while a save is being written).
 */
import { train } from "../../src/train/trainer.ts";
import { tinyConfig } from "./tiny.ts";

const [dir, flag] = process.argv.slice(2);
const say = (event: Record<string, unknown>): boolean => process.stdout.write(`${JSON.stringify(event)}\n`);
await train(tinyConfig(dir, { epochs: 20, saveEvery: 1 }), {
  resume: flag === "--resume",
  onStart: (i) => say({ event: "start", step: i.startStep }),
  onCheckpoint: (c) => say({ event: "checkpoint", phase: c.phase, step: c.step, last: c.dir.endsWith("last") }),
});
