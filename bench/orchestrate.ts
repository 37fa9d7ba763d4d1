/**
 * Drives the child processes of one workload: starts one per system, warms each up, then runs interleaved rounds —
 * one call per system per round, the order rotated each round, a short pause between calls so no system's spinning
 * threads overlap the next one's call — and collects times, outputs and peak RSS.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { PYTORCH_SCRIPT, peerEnv } from "./peers/pytorch.ts";
import { type ChildMessage, type ChildTask, type MemoryResult, type ParentMessage, type SystemSpec, dtypeOf } from "./protocol.ts";
import type { Workload } from "./workloads.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH_DIR);
// Thread pools spin for ~1–2 ms after a call (tsformer's, onnxruntime's); this pause lets them go to sleep.
const PAUSE_MS = 30;

/** The measurements of one system on one workload. */
export interface SystemResult {
  spec: SystemSpec;
  /** Timed calls after warm-up, in ms, in call order. */
  times: number[];
  loadMs: number;
  /** Peak RSS over the whole process (loading included) and over the timed calls only (Linux; else both the same). */
  loadPeakMiB: number;
  runPeakMiB: number;
  output: Float32Array | null;
  /** Why the system has no times (start failed, too slow). */
  skipped: string | null;
}

/** A message of the PyTorch peer, a JSON line (its output comes as an array of numbers, null for non-finite ones). */
export function parsePeerLine(line: string): ChildMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    return null; // not a protocol line (a library printing to stdout): ignored
  }
  if (typeof m !== "object" || m === null || typeof (m as { type?: unknown }).type !== "string") return null;
  const message = m as ChildMessage | { type: "output"; data: (number | null)[] };
  if (message.type !== "output") return message;
  return { type: "output", data: Float32Array.from(message.data, (x) => x ?? Number.NaN) };
}

/** A child process with a one-request-at-a-time message channel. */
class Child {
  private readonly inbox: ChildMessage[] = [];
  private waiting: ((m: ChildMessage) => void) | null = null;
  private stderr = "";

  /** `post` hands a message to the child, false when its channel is closed. */
  private constructor(private readonly proc: ChildProcess, private readonly post: (m: ParentMessage) => boolean) {
    proc.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000);
    });
    proc.on("exit", (code) => this.deliver({ type: "error", message: `child exited (${code}) ${this.lastError()}`.trim() }));
    proc.on("error", (e) => this.deliver({ type: "error", message: `child failed: ${e.message}` }));
  }

  /** Starts `bench/child.ts` on a task, over Node's IPC channel. */
  static start(task: ChildTask): Child {
    const proc = fork(join(BENCH_DIR, "child.ts"), [JSON.stringify(task)], {
      cwd: ROOT, execArgv: ["--import", "tsx"], serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const child = new Child(proc, (m) => {
      if (!proc.connected) return false;
      proc.send(m); // false only says messages are queued: they are still delivered
      return true;
    });
    proc.on("message", (m: ChildMessage) => child.deliver(m));
    return child;
  }

  /** Starts the PyTorch peer (bench/peers/pytorch_bert.py) with `python`, over JSON lines on its stdin and stdout. */
  static startPython(python: string, spec: SystemSpec): Child {
    const proc = spawn(python, [PYTORCH_SCRIPT, JSON.stringify(spec)], { cwd: ROOT, env: peerEnv(spec.threads), stdio: ["pipe", "pipe", "pipe"] });
    const stdin = proc.stdin!;
    stdin.on("error", () => undefined); // a peer that died: its exit is reported as the error
    const child = new Child(proc, (m) => {
      if (!stdin.writable) return false;
      stdin.write(`${JSON.stringify(m)}\n`);
      return true;
    });
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      const m = parsePeerLine(line);
      if (m) child.deliver(m);
    });
    return child;
  }

  private lastError(): string {
    const lines = this.stderr.trim().split("\n").filter((l) => l.trim() !== "" && !l.startsWith("Node.js v"));
    const error = lines.find((l) => /Error\b/.test(l)) ?? lines.at(-1);
    return error ? `: ${error.trim()}` : "";
  }

  private deliver(m: ChildMessage): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(m);
    } else {
      this.inbox.push(m);
    }
  }

  /** The next message from the child. */
  next(): Promise<ChildMessage> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Sends a message and waits for the answer; an error answer throws. */
  async ask(m: ParentMessage): Promise<ChildMessage> {
    if (!this.post(m)) throw new Error(`child gone ${this.lastError()}`.trim());
    const answer = await this.next();
    if (answer.type === "error") throw new Error(answer.message);
    return answer;
  }

  /** Asks the child to exit (it answers nothing); a child that does not exit within a second is killed. */
  exit(): void {
    if (this.proc.exitCode !== null || !this.post({ type: "exit" })) return this.kill();
    setTimeout(() => this.kill(), 1000).unref();
  }

  /** Kills the child unless it has exited. */
  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill();
  }
}

/**
 * The child processes of a run, one per system. By default a workload's children exit after it (so each workload's
 * peak RSS is its own); with `reuse` (quick smoke runs) a system's child serves every workload, saving start-ups.
 * `python` is the interpreter that runs the PyTorch peer (null where none imports torch).
 */
export class ChildPool {
  private readonly children = new Map<string, Child>();

  constructor(private readonly reuse: boolean, private readonly python: string | null = null) {}

  private static key(spec: SystemSpec): string {
    return `${spec.system}×${spec.threads}`;
  }

  /** The system's child, started (and waited for) unless one is kept. */
  async get(spec: SystemSpec): Promise<Child> {
    const kept = this.children.get(ChildPool.key(spec));
    if (kept) return kept;
    let child: Child;
    if (spec.system !== "pytorch") child = Child.start({ kind: "system", spec });
    else if (this.python) child = Child.startPython(this.python, spec);
    else throw new Error("no Python with torch");
    const hello = await child.next();
    if (hello.type !== "started") {
      child.kill();
      throw new Error(hello.type === "error" ? hello.message : `unexpected ${hello.type}`);
    }
    this.children.set(ChildPool.key(spec), child);
    return child;
  }

  /** Done with the system for this workload: exits the child unless children are reused. */
  done(spec: SystemSpec, failed = false): void {
    const key = ChildPool.key(spec);
    const child = this.children.get(key);
    if (!child || (this.reuse && !failed)) return;
    this.children.delete(key);
    if (failed) child.kill();
    else child.exit();
  }

  /** Exits every child. */
  close(): void {
    for (const child of this.children.values()) child.exit();
    this.children.clear();
  }
}

/** How a workload is run. */
export interface RunOptions {
  runs: number;
  warmup: number;
  /** A system whose warm-up call takes longer than this is dropped (≥ `runs` more calls would take minutes). */
  maxCallMs: number;
  /** The file a system sets the workload up from (see ParentMessage's `setup`). */
  modelPath: string | null;
  /** The file the int8 systems set up from instead (onnxruntime-web-int8: the int8 export of the same weights). */
  int8ModelPath?: string | null;
  /** The file the PyTorch peer sets up from instead (bench/peers/pytorch.ts's `writeTorchInputs`). */
  torchPath?: string | null;
  log: (line: string) => void;
  /** Start every child at once (quick smoke runs); by default one after another. */
  parallelStart?: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs every system of a workload, interleaved; returns one result per system, in the order given. */
export async function runWorkload(workload: Workload, specs: SystemSpec[], o: RunOptions, pool: ChildPool): Promise<SystemResult[]> {
  const results: SystemResult[] = specs.map((spec) => ({ spec, times: [], loadMs: 0, loadPeakMiB: 0, runPeakMiB: 0, output: null, skipped: null }));
  const active = new Map<SystemResult, Child>();
  const label = (r: SystemResult): string => `${workload.id} ${r.spec.system} ×${r.spec.threads}`;
  const drop = (r: SystemResult, why: string): void => {
    r.skipped = why;
    active.delete(r);
    pool.done(r.spec, true);
    o.log(`${label(r)}: skipped (${why})`);
  };
  try {
    // Set up one after another by default: loading is CPU- and memory-heavy (W2: ~0.5–1.5 GB per process).
    const setUp = async (r: SystemResult): Promise<void> => {
      try {
        const child = await pool.get(r.spec);
        const modelPath = r.spec.system === "pytorch" ? o.torchPath ?? null : dtypeOf(r.spec.system) === "int8" ? o.int8ModelPath ?? null : o.modelPath;
        const ready = await child.ask({ type: "setup", workload, modelPath });
        if (ready.type !== "ready") throw new Error(`unexpected ${ready.type}`);
        active.set(r, child);
        r.loadMs = ready.loadMs;
        r.loadPeakMiB = ready.loadPeakMiB;
        o.log(`${label(r)}: ready in ${(ready.loadMs / 1000).toFixed(1)} s`);
      } catch (e) {
        drop(r, (e as Error).message);
      }
    };
    if (o.parallelStart) await Promise.all(results.map(setUp));
    else for (const r of results) await setUp(r);
    const order = (): [SystemResult, Child][] => results.filter((r) => active.has(r)).map((r) => [r, active.get(r)!]);
    for (let w = 0; w < o.warmup; w++) {
      for (const [r, child] of order()) {
        const m = await child.ask({ type: "run" }).catch((e: Error) => e);
        if (m instanceof Error) drop(r, m.message);
        else if (m.type === "ran" && m.ms > o.maxCallMs) drop(r, `one call took ${(m.ms / 1000).toFixed(1)} s: ${o.runs} timed runs would take minutes`);
        await sleep(PAUSE_MS);
      }
    }
    for (const [, child] of order()) await child.ask({ type: "reset-peak" });
    for (let round = 0; round < o.runs; round++) {
      const now = order();
      const shift = now.length > 0 ? round % now.length : 0;
      for (const [r, child] of [...now.slice(shift), ...now.slice(0, shift)]) {
        const m = await child.ask({ type: "run" }).catch((e: Error) => e);
        if (m instanceof Error) drop(r, m.message);
        else if (m.type === "ran") r.times.push(m.ms);
        await sleep(PAUSE_MS);
      }
      o.log(`${workload.id}: round ${round + 1}/${o.runs}`);
    }
    for (const [r, child] of order()) {
      const out = await child.ask({ type: "output" });
      if (out.type === "output") r.output = out.data;
      const released = await child.ask({ type: "release" });
      if (released.type === "released") r.runPeakMiB = released.runPeakMiB;
      active.delete(r);
      pool.done(r.spec);
    }
  } finally {
    for (const r of active.keys()) pool.done(r.spec, true);
  }
  return results;
}

/** Runs one memory check in a child of its own. */
export async function runMemoryTask(task: ChildTask): Promise<MemoryResult> {
  const child = Child.start(task);
  try {
    const m = await child.next();
    if (m.type === "memory") return m.result;
    throw new Error(m.type === "error" ? m.message : `unexpected ${m.type}`);
  } finally {
    child.kill();
  }
}
