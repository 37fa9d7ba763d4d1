/** `tsformer parity <dir>`: run a fixture folder and compare with the stored reference tensors. */
import type { Command } from "commander";
import type { CaseResult, Comparison } from "../parity/types.ts";
import { ExitCode, type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

/** One compared tensor as --json prints it: a non-finite worst ratio as null, and the status when not computed. */
function comparisonJson(c: Comparison): Record<string, unknown> {
  return { name: c.name, worst: Number.isFinite(c.worst) ? c.worst : null, ...(c.status ? { status: c.status } : {}) };
}

/** The one-line report of a case: verdict, name, op, and the worst tensor (or the error). */
function caseLine(r: CaseResult, w: Comparison | null): string {
  const detail = r.error ?? (w ? `worst ${w.worst.toExponential(2)} (${w.name}), ${r.compared.length} compared` : "nothing compared");
  return `${r.passed ? "PASS" : "FAIL"}  ${r.case}  [${r.op}]  ${detail}`;
}

/** `N passed, N failed`. */
function summaryLine(results: readonly CaseResult[]): string {
  const passed = results.filter((r) => r.passed).length;
  return `${passed} passed, ${results.length - passed} failed`;
}

/** Registers the command. */
export function registerParity(program: Command): void {
  program
    .command("parity")
    .description("run every case of a fixture folder (its index.json) and compare outputs, intermediates and gradients")
    .argument("<dir>", "fixture folder with an index.json (e.g. test/fixtures/pytorch)")
    .option("--json", "one JSON object per case: {case, op, passed, compared: [{name, worst, status?}]}; worst is null for a tensor not computed")
    .action(async (dir: string, options: { json?: boolean }) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const { runParity, worstOf } = await import("../parity/runner.ts"); // on use: the CLI starts without the engine
        const results = runParity(dir);
        for (const r of results) {
          if (options.json) printJsonLine({ case: r.case, op: r.op, passed: r.passed, compared: r.compared.map(comparisonJson), ...(r.error ? { error: r.error } : {}) });
          else process.stdout.write(`${caseLine(r, worstOf(r))}\n`);
        }
        const summary = summaryLine(results);
        if (options.json) process.stderr.write(`${summary}\n`);
        else process.stdout.write(`${summary}\n`);
        if (results.some((r) => !r.passed)) throw new ExitCode(1);
      });
    });
}
