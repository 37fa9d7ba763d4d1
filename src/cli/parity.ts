/** `tsformer parity <dir>`: run a fixture folder and compare with the stored reference tensors. */
import type { Command } from "commander";
import { runParity, worstOf } from "../parity/runner.ts";
import { ExitCode, type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

/** Registers the command. */
export function registerParity(program: Command): void {
  program
    .command("parity")
    .description("run every case of a fixture folder (its index.json) and compare outputs, intermediates and gradients")
    .argument("<dir>", "fixture folder with an index.json (e.g. test/fixtures/pytorch)")
    .option("--json", "one JSON object per case: {case, op, passed, compared: [{name, worst}]}")
    .action(async (dir: string, options: { json?: boolean }) => {
      await runCommand(program.opts<GlobalOptions>(), () => {
        const results = runParity(dir);
        for (const r of results) {
          if (options.json) {
            printJsonLine({ case: r.case, op: r.op, passed: r.passed, compared: r.compared.map((c) => ({ name: c.name, worst: Number.isFinite(c.worst) ? c.worst : null })), ...(r.error ? { error: r.error } : {}) });
          } else {
            const w = worstOf(r);
            const detail = r.error ?? (w ? `worst ${w.worst.toExponential(2)} (${w.name}), ${r.compared.length} compared` : "nothing compared");
            process.stdout.write(`${r.passed ? "PASS" : "FAIL"}  ${r.case}  [${r.op}]  ${detail}\n`);
          }
        }
        const passed = results.filter((r) => r.passed).length;
        const summary = `${passed} passed, ${results.length - passed} failed`;
        if (options.json) process.stderr.write(`${summary}\n`);
        else process.stdout.write(`${summary}\n`);
        if (passed !== results.length) throw new ExitCode(1);
      });
    });
}
