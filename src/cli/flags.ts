/** The flags `train` and `pretrain` share, and turning flag strings into config values: numbers checked, absent flags dropped. */
import type { Command } from "commander";
import type { SingleBar } from "cli-progress";

/** An integer flag value, or undefined when the flag was not given; anything else is a one-line error naming the flag. */
export function intFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`${flag} must be an integer, got "${value}"`);
  return n;
}

/** A finite number flag value, or undefined when the flag was not given. */
export function numFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${flag} must be a number, got "${value}"`);
  return n;
}

/** Drops undefined leaves and emptied objects, so flags that were not given do not override a config file. */
export function defined(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const d = defined(v);
    if (d !== undefined && !(typeof d === "object" && d !== null && !Array.isArray(d) && Object.keys(d).length === 0)) out[k] = d;
  }
  return out;
}

/** The values of the options `addLoopOptions` adds, as commander gives them. */
export interface LoopFlags {
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
  warmupRatio?: string;
  maxSteps?: string;
  saveEvery?: string;
  patience?: string;
  ema?: string;
  resume?: boolean;
  json?: boolean;
}

/** Adds the loop and model-size options `train` and `pretrain` share (their help texts say what differs). */
export function addLoopOptions(command: Command, patienceHelp: string): Command {
  return command
    .option("--out <dir>", "output folder")
    .option("--epochs <n>").option("--batch-size <n>").option("--lr <rate>", "peak learning rate").option("--seed <n>")
    .option("--d-model <n>").option("--heads <n>").option("--d-ff <n>").option("--layers <n>").option("--dropout <p>")
    .option("--warmup-ratio <fraction>", "warmup as a fraction of all steps")
    .option("--max-steps <n>", "stop after n steps in all").option("--save-every <n>", "also save <out>/last every n steps")
    .option("--patience <epochs>", patienceHelp)
    .option("--ema <decay>", "evaluate and keep best/ with an exponential moving average of the weights (e.g. 0.995: about the last 200 steps; 0: off)")
    .option("--resume", "continue the run saved in <out>/last exactly")
    .option("--json", "print the summary as JSON");
}

/** What a training command prints with: a progress bar on a terminal's stderr (else null), and lines on stdout (none with --json). */
export interface LoopOutput {
  bar: SingleBar | null;
  say: (line: string) => void;
}

/** The progress bar and line printer `train` and `pretrain` share; `columns` are the bar's fields after the step count. */
export async function loopOutput(json: boolean | undefined, columns: string): Promise<LoopOutput> {
  const { SingleBar } = await import("cli-progress"); // on use: the CLI starts without it
  const bar = process.stderr.isTTY === true
    ? new SingleBar({ format: `epoch {epoch} |{bar}| {value}/{total} steps | ${columns} | ETA {eta_formatted}`, hideCursor: true, etaBuffer: 50 })
    : null;
  return { bar, say: (line) => void (json ? undefined : process.stdout.write(`${line}\n`)) };
}
