/** Which backend the op API runs on: one process-wide choice, switchable at any time between ops. */
import { ConfigError } from "../errors.ts";
import type { Backend } from "./backend.ts";
import { referenceBackend } from "./reference/index.ts";

const backends = new Map<string, Backend>([[referenceBackend.name, referenceBackend]]);
let current: Backend = referenceBackend;

/** The backend ops run on now. */
export function getBackend(): Backend {
  return current;
}

/** Makes a backend available to `setBackend` under its name. */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** Switches every following op to the named (registered) backend. */
export function setBackend(name: string): Backend {
  const b = backends.get(name);
  if (!b) throw new ConfigError(`unknown backend "${name}" (available: ${[...backends.keys()].join(", ")})`);
  current = b;
  return b;
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...backends.keys()];
}
