/**
 * `tsformer lab <q01…q08|all>`: the interview notes' claims tested on the engine. Each question writes
 * `<out>/<id>/result.json`, `report.md` (English and Chinese) and SVG charts; `<out>/index.html` links them all.
 */
import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import { parseQuestionIds, runLab } from "../lab/runner.ts";
import { VERDICT_LABEL } from "../lab/report.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

/** The command's options. */
interface LabFlags {
  quick?: boolean;
  out?: string;
  seed?: string;
  model?: string;
  json?: boolean;
}

/** Registers the command. */
export function registerLab(program: Command): void {
  program
    .command("lab")
    .description("test the interview notes' claims (Q01–Q08) on the engine: numbers, charts and verdicts in English and Chinese")
    .argument("<question>", "q01 … q08, or all")
    .option("--quick", "smaller sizes and fewer steps (all eight in a few minutes)")
    .option("--out <dir>", "output folder (default runs/lab)")
    .option("--seed <n>", "random seed (default 1); the same seed gives the same numbers")
    .option("--model <dir>", "Q07's classifier checkpoint (default: the shipped models/default)")
    .option("--json", "print one JSON line per question: {id, verdicts, runtime_s, report}")
    .action(async (question: string, flags: LabFlags) => {
      const globals = program.opts<GlobalOptions>();
      // One thread unless asked: the numbers then do not depend on the machine's cores, nor timings on other jobs.
      await runCommand({ ...globals, threads: globals.threads ?? "1" }, async () => {
        const ids = parseQuestionIds(question);
        const seed = flags.seed === undefined ? 1 : Number(flags.seed);
        if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be a non-negative integer, got "${flags.seed}"`);
        const out = flags.out ?? "runs/lab";
        const log = flags.json ? (): void => {} : (m: string): void => void process.stderr.write(`${m}\n`);
        const results = await runLab({ ids, out, quick: flags.quick ?? false, seed, modelDir: flags.model, log });
        for (const r of results) {
          const report = `${out}/${r.id}/report.md`;
          if (flags.json) printJsonLine({ id: r.id, verdicts: r.claims.map((c) => c.verdict), runtime_s: r.runtime_s, report });
          else process.stdout.write(`${r.id}  ${r.claims.map((c) => VERDICT_LABEL[c.verdict].mark).join(" ")}  ${r.runtime_s.toFixed(1)} s  ${report}\n`);
        }
        if (!flags.json) process.stdout.write(`index: ${out}/index.html\n`);
      });
    });
}
