/** A training run in a child process, for the kill tests: `train-child.ts <dir> [--resume]`. */
import { train } from "../../src/train/trainer.ts";
import { tinyConfig } from "./tiny.ts";

const [dir, flag] = process.argv.slice(2);
await train(tinyConfig(dir, { epochs: 20, saveEvery: 1 }), { resume: flag === "--resume" });
