/**
 * `tsformer lab <q01…q08|all>`: the interview notes' claims tested on the engine. Each question writes
 * `<out>/<id>/result.json`, `report.md` (English and Chinese) and SVG charts; `<out>/index.html` links them all.
 * With `--check` it writes nothing there: it reruns the questions and lists every number that differs from `<out>`.
 */
import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import type { Change } from "../lab/check.ts";
import type { CodeVersion } from "../lab/types.ts";
import { ExitCode, type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

/** The command's options. */
interface LabFlags {
  quick?: boolean;
  out?: string;
  seed?: string;
  model?: string;
  json?: boolean;
  check?: boolean;
}

/**
 * The code the results come from, as `npm run build:lab` passes it in TSFORMER_CODE_VERSION ("<commit>" or
 * "<commit>+uncommitted"); null when it is not set. Read from the environment because the library never spawns
 * processes (test/hardening/untrusted.test.ts).
 */
function codeVersion(): CodeVersion | null {
  const m = /^([0-9a-f]{7,40})(\+uncommitted)?$/.exec(process.env.TSFORMER_CODE_VERSION ?? "");
  return m ? { commit: m[1], uncommitted_changes: m[2] !== undefined } : null;
}

/** A value of a changed metric as text. */
function shown(v: unknown): string {
  return v === undefined ? "(absent)" : JSON.stringify(v);
}

/** One line per change: `q04 metrics.variance_exponent: 1.002 → 1.003`. */
function changeLines(changes: Change[]): string {
  return changes.map((c) => `${c.id} ${c.path}: ${shown(c.before)} → ${shown(c.after)}\n`).join("");
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
    .option("--model <dir>", "the trained classifier of Q01's head pruning and Q07 (default: the shipped models/notes-encoder, the notes' encoder trained from scratch)")
    .option("--json", "print one JSON line per question: {id, verdicts, runtime_s, report}")
    .option("--check", "rerun with the seed and mode of the results in --out and list every number that changed (timings excluded); exit 1 if any")
    .action(async (question: string, flags: LabFlags) => {
      const globals = program.opts<GlobalOptions>();
      // One thread unless asked: the numbers then do not depend on the machine's cores, nor timings on other jobs.
      await runCommand({ ...globals, threads: globals.threads ?? "1" }, async () => {
        // On use: the lab pulls in vega and vega-lite, the slowest modules to load, which no other command needs.
        const [{ checkLab }, { parseQuestionIds, runLab }, { VERDICT_LABEL }] = await Promise.all([import("../lab/check.ts"), import("../lab/runner.ts"), import("../lab/report.ts")]);
        const ids = parseQuestionIds(question);
        const seed = flags.seed === undefined ? 1 : Number(flags.seed);
        if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be a non-negative integer, got "${flags.seed}"`);
        const out = flags.out ?? "runs/lab";
        const log = flags.json ? (): void => {} : (m: string): void => void process.stderr.write(`${m}\n`);
        if (flags.check) {
          if (flags.seed !== undefined || flags.quick) throw new ConfigError(`--check reruns with the seed and mode recorded in ${out}: drop --seed and --quick`);
          const r = await checkLab({ ids, against: out, modelDir: flags.model, code: codeVersion(), log });
          if (flags.json) printJsonLine({ changes: r.changes, timing_verdicts: r.timingVerdicts, rerun: r.rerunDir });
          else {
            process.stdout.write(changeLines(r.changes));
            if (r.timingVerdicts.length > 0) process.stdout.write(`verdicts decided from timings, which vary between runs (not counted):\n${changeLines(r.timingVerdicts)}`);
            process.stdout.write(r.changes.length === 0
              ? `${ids.join(", ")}: every number as in ${out} (timings excluded); rerun in ${r.rerunDir}\n`
              : `${r.changes.length} value(s) differ from ${out} (timings excluded); rerun in ${r.rerunDir}\n`);
          }
          if (r.changes.length > 0) throw new ExitCode(1);
          return;
        }
        const results = await runLab({ ids, out, quick: flags.quick ?? false, seed, modelDir: flags.model, code: codeVersion(), log });
        for (const r of results) {
          const report = `${out}/${r.id}/report.md`;
          if (flags.json) printJsonLine({ id: r.id, verdicts: r.claims.map((c) => c.verdict), runtime_s: r.runtime_s, report });
          else process.stdout.write(`${r.id}  ${r.claims.map((c) => VERDICT_LABEL[c.verdict].mark).join(" ")}  ${r.runtime_s.toFixed(1)} s  ${report}\n`);
        }
        if (!flags.json) process.stdout.write(`index: ${out}/index.html\n`);
      });
    });
}
