/** Shared CLI plumbing: one-line errors, JSON output, the backend and thread options. */
import { ConfigError } from "../errors.ts";

/** Options every command accepts. */
export interface GlobalOptions {
  debug?: boolean;
  /** "auto" (default: wasm where it loads, else reference), "wasm" or "reference". */
  backend?: string;
  /** Threads for the wasm backend (default: every core). */
  threads?: string;
}

/**
 * Applies --backend and --threads: loads the fast backend unless the reference one is asked for. A command that
 * computes nothing (`computes: false`) only has its options checked: loading even the reference kernels costs a
 * command such as `inspect` about 20 ms of its start.
 */
async function chooseBackend(globals: GlobalOptions, computes: boolean): Promise<void> {
  const name = globals.backend ?? "auto";
  const threads = globals.threads === undefined ? undefined : Number(globals.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new ConfigError(`--threads must be a positive integer, got "${globals.threads}"`);
  }
  if (!computes) return;
  // Loaded when a command runs, not at start-up, so that `--help` and argument errors stay fast.
  const { setBackend } = await import("../backend/registry.ts");
  if (name === "reference") {
    setBackend(name);
    return;
  }
  const { loadWasmBackend, useFastestBackend } = await import("../backend/wasm/index.ts");
  if (name === "auto") await useFastestBackend({ threads });
  else if (name === "wasm") setBackend((await loadWasmBackend({ threads })).name);
  else setBackend(name);
}

/** Thrown by a command to exit with a code after printing its own output (no error line). */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** How a command runs: `computes: false` for one that runs no kernels (no backend is loaded for it). */
export interface CommandOptions {
  computes?: boolean;
}

/**
 * Runs a command body: applies the global options, and turns any error into one line on stderr with exit
 * code 1 (the stack only with --debug).
 */
export async function runCommand(globals: GlobalOptions, body: () => Promise<void> | void, options: CommandOptions = {}): Promise<void> {
  try {
    await chooseBackend(globals, options.computes ?? true);
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
