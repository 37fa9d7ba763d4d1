/**
 * Crashes: a training process killed with SIGKILL at random points (mid-step, mid-save) always leaves a
 * loadable last checkpoint, and resuming from it finishes with the same result as an uninterrupted run.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Rng } from "../../src/tensor/index.ts";
import { recoverDirectory } from "../../src/io/atomic.ts";
import { loadCheckpoint } from "../../src/train/checkpoint.ts";
import { train } from "../../src/train/trainer.ts";
import { tinyConfig } from "./tiny.ts";

const CHILD = join(import.meta.dirname, "train-child.ts");

/** Starts the child and SIGKILLs it after `ms`; resolves with whether it was killed before finishing. */
function runAndKill(dir: string, resume: boolean, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, ...(resume ? ["--resume"] : [])], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") resolve(true);
      else if (code === 0) resolve(false);
      else reject(new Error(`child failed (${code}): ${stderr}`));
    });
  });
}

const lossCurve = (out: string): number[] => readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n")
  .map((l) => JSON.parse(l) as { type: string; loss: number }).filter((m) => m.type === "step").map((m) => m.loss);

test("SIGKILL at random points never corrupts the checkpoint, and the resumed run ends identical", async () => {
  const reference = tinyConfig(mkdtempSync(join(tmpdir(), "tsformer-kill-")), { epochs: 20, saveEvery: 1 });
  await train(reference);
  const dir = mkdtempSync(join(tmpdir(), "tsformer-kill-"));
  const rng = new Rng(Date.now() % 100000);
  let kills = 0;
  let finished = false;
  const last = join(dir, "run", "last");
  const saved = (): boolean => existsSync(join(last, "trainer_state.json"));
  for (let attempt = 0; attempt < 6 && !finished; attempt++) {
    finished = !(await runAndKill(dir, saved(), 700 + rng.int(2300)));
    if (!finished) {
      kills++;
      await recoverDirectory(last);
      if (existsSync(last)) loadCheckpoint(last); // whatever the moment of the kill, what is there loads
    }
  }
  if (!finished) finished = !(await runAndKill(dir, saved(), 120_000));
  assert.ok(finished, "the run completes");
  assert.ok(kills >= 1, "at least one kill landed");
  assert.deepEqual(lossCurve(join(dir, "run")), lossCurve(reference.out));
  const a = loadCheckpoint(join(dir, "run", "best")).model.stateDict();
  const b = loadCheckpoint(join(reference.out, "best")).model.stateDict();
  for (const [name, t] of a) assert.deepEqual([...t.data], [...b.get(name)!.data], name);
});
