/** Shared CLI plumbing: one-line errors, JSON output, the backend option. */
import { setBackend } from "../backend/registry.ts";

/** Options every command accepts. */
export interface GlobalOptions {
  debug?: boolean;
  backend?: string;
}

/** Thrown by a command to exit with a code after printing its own output (no error line). */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/**
 * Runs a command body: applies the global options, and turns any error into one line on stderr with exit
 * code 1 (the stack only with --debug).
 */
export async function runCommand(globals: GlobalOptions, body: () => Promise<void> | void): Promise<void> {
  try {
    if (globals.backend) setBackend(globals.backend);
    await body();
  } catch (e) {
    if (e instanceof ExitCode) {
      process.exitCode = e.code;
      return;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    const firstLine = err.message.split("\n")[0];
    process.stderr.write(`tsformer: ${firstLine}\n`);
    if (globals.debug && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}

/** Writes one JSON value per line (NDJSON). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
