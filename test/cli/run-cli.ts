/** Runs the tsformer CLI from source, as a user would run it after `npm install`. */
import { spawnSync } from "node:child_process";

/** Spawns `tsformer <args>`; returns its exit code and output. */
export function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
