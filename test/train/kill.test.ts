/**
 * Crashes: a training process killed with SIGKILL after a chosen number of saved checkpoints, and once while a
 * checkpoint is being written, always leaves a loadable last checkpoint; every restart really resumes from it (at
 * the step it reports), and the resumed run ends with the same loss curve and bit-identical weights as an
 * uninterrupted run.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { recoverDirectory } from "../../src/io/atomic.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import { Rng } from "../../src/tensor/index.ts";
import { pretrain } from "../../src/train/pretrain.ts";
import { train } from "../../src/train/trainer.ts";
import { KILL_RUN_SETTINGS } from "./kill-settings.ts";
import { tinyPretrainConfig } from "./pretrain-tiny.ts";
import { tinyConfig } from "./tiny.ts";

/** Which loop the child runs: classification training or masked-LM pretraining. */
type Objective = "train" | "pretrain";

const CHILD = join(import.meta.dirname, "train-child.ts");

/** What the child reported before it ended. */
interface ChildRun {
  killed: boolean;
  startStep: number;
  /** Steps of the `last/` saves that completed. */
  saved: number[];
  /** Killed after a save of `last/` started and before it reported done. */
  killedMidSave: boolean;
}

/** When to kill: after `saves` completed saves of last/, or (midSave) as soon as the next save starts. */
function runAndKill(dir: string, objective: Objective, resume: boolean, when: { saves: number; midSave: boolean } | null): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, objective, ...(resume ? ["--resume"] : [])], { stdio: ["ignore", "pipe", "pipe"] });
    const run: ChildRun = { killed: false, startStep: -1, saved: [], killedMidSave: false };
    let pending = "";
    let stderr = "";
    let saving = false;
    let killSent = false;
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const e = JSON.parse(line) as { event: string; step: number; phase?: string; last?: boolean };
        if (e.event === "start") run.startStep = e.step;
        if (e.event !== "checkpoint" || !e.last) continue;
        saving = e.phase === "start";
        if (e.phase === "done") run.saved.push(e.step);
        if (when && !killSent && run.saved.length >= when.saves && (!when.midSave || saving)) {
          killSent = true;
          run.killedMidSave = saving;
          child.kill("SIGKILL");
        }
      }
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve({ ...run, killed: true });
      else if (code === 0) resolve(run);
      else reject(new Error(`child failed (${code}): ${stderr}`));
    });
  });
}

const lossCurve = (out: string): number[] => readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n")
  .map((l) => JSON.parse(l) as { type: string; loss: number }).filter((m) => m.type === "step").map((m) => m.loss);

/** Kills a run of `objective` at random moments, resumes it each time, and compares the end with an uninterrupted run. */
async function killAndResume(objective: Objective): Promise<void> {
  const referenceDir = mkdtempSync(join(tmpdir(), "tsformer-kill-"));
  const referenceOut = objective === "train" ? (await train(tinyConfig(referenceDir, KILL_RUN_SETTINGS.train))).out
    : (await pretrain(tinyPretrainConfig(referenceDir, KILL_RUN_SETTINGS.pretrain))).out;
  const dir = mkdtempSync(join(tmpdir(), "tsformer-kill-"));
  const last = join(dir, "run", "last");
  const rng = new Rng(Date.now() % 100000);
  const resumedAt: number[] = [];
  let midSaveKills = 0;
  let lastSaved = 0;
  // Four kills after a random number of completed saves, then up to three tries at a kill while a save is written.
  const plan = [...Array.from({ length: 4 }, () => ({ saves: 1 + rng.int(25), midSave: false })), ...Array.from({ length: 3 }, () => ({ saves: 1 + rng.int(5), midSave: true }))];
  for (const when of plan) {
    if (when.midSave && midSaveKills > 0) continue;
    const resume = existsSync(join(last, "trainer_state.json"));
    const run = await runAndKill(dir, objective, resume, when);
    assert.ok(run.killed, "the child was killed before finishing");
    if (resume) {
      assert.equal(run.startStep, lastSaved, "the restart resumed from the last completed save");
      resumedAt.push(run.startStep);
    }
    if (run.killedMidSave) midSaveKills++;
    await recoverDirectory(last);
    const state = JSON.parse(readFileSync(join(last, "trainer_state.json"), "utf8")) as { step: number };
    // Killed mid-save, the folder holds the previous save or the new one, never a mix; either loads.
    const newest = run.saved.at(-1) ?? lastSaved;
    assert.ok(state.step === newest || (run.killedMidSave && state.step === newest + 1), `last/ is at step ${state.step}, last completed save ${newest}`);
    await loadBert(last);
    lastSaved = state.step;
  }
  assert.ok(resumedAt.length >= 4, `restarts that resumed: ${resumedAt.join(", ")}`);
  assert.ok(midSaveKills >= 1, "at least one kill landed while a checkpoint was being written");
  const final = await runAndKill(dir, objective, true, null);
  assert.equal(final.startStep, lastSaved);
  assert.deepEqual(lossCurve(join(dir, "run")), lossCurve(referenceOut));
  const a = (await loadBert(join(dir, "run", "best"))).model.stateDict();
  const b = (await loadBert(join(referenceOut, "best"))).model.stateDict();
  for (const [name, t] of a) assert.deepEqual([...t.data], [...b.get(name)!.data], name);
}

test("training: SIGKILL after saves and during a save never corrupts the checkpoint; every restart resumes; the run ends identical", () => killAndResume("train"));

test("pretraining: SIGKILL after saves and during a save never corrupts the checkpoint; every restart resumes; the run ends identical", () => killAndResume("pretrain"));
