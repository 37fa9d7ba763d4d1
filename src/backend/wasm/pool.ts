/**
 * Fork-join over worker threads sharing one WebAssembly.Memory, driven synchronously from the Backend's
 * synchronous methods: the main thread writes the task into a control SharedArrayBuffer, bumps a generation
 * counter and notifies, runs its own share (tid 0), then waits (Atomics.wait; a spin on Atomics.load on a
 * browser main thread, where waiting throws) until every worker has acknowledged. Workers poll for 1 ms after
 * each task before sleeping, so back-to-back kernels skip the wake-up latency. Node workers are unref'd:
 * they never keep a process alive.
 */
import { WORKER_SOURCE } from "./worker-source.ts";

// Control slots (Int32 indices) shared with worker-source.ts.
const GENERATION = 0;
const PENDING = 1;
const KERNEL = 2;
const THREADS = 3;
const ARGC = 4;
const ERROR = 5;
const ARGS_OFFSET = 64; // bytes: the Float64 arguments follow the Int32 slots
const MAX_ARGS = 32;
// Waking a sleeping thread (futex) costs ~60 µs on a 2-vCPU VM, polling a few ns: workers poll for 1 ms after a
// task before sleeping (back-to-back kernels of a forward pass find them awake; a 960×128×128 matmul measured up
// to 1.5× faster than with a 20 µs poll), and the calling thread polls up to 2 ms for the workers to finish.
const WORKER_SPIN_MS = 1;
const MAIN_SPIN_MS = 2;

/** A kernel as the pool calls it: (tid, threads, ...args). */
export type KernelFunction = (tid: number, threads: number, ...args: number[]) => void;

/** A started worker: what the pool needs to stop it. */
interface WorkerHandle {
  terminate(): void;
}

/** Runs kernels on `threads` threads (the calling thread included). */
export class ThreadPool {
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private workers: WorkerHandle[];
  private readonly canWait: boolean;

  private constructor(private readonly names: readonly string[], private readonly local: readonly KernelFunction[],
    controlBuffer: SharedArrayBuffer | null, workers: WorkerHandle[]) {
    const buffer = controlBuffer ?? new ArrayBuffer(ARGS_OFFSET + MAX_ARGS * 8);
    this.control = new Int32Array(buffer, 0, 16);
    this.args = new Float64Array(buffer, ARGS_OFFSET, MAX_ARGS);
    this.workers = workers;
    this.canWait = controlBuffer !== null && mainThreadCanWait();
  }

  /** Threads a task can use: the workers plus the calling thread. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** A pool without workers: every kernel runs on the calling thread. */
  static single(names: readonly string[], local: readonly KernelFunction[]): ThreadPool {
    return new ThreadPool(names, local, null, []);
  }

  /**
   * Starts `threads − 1` workers, each instantiating `module` on `memory` (which must be shared), and resolves
   * once all are ready. `local` are the calling thread's own kernels, in the order of `names`.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number,
    names: readonly string[], local: readonly KernelFunction[]): Promise<ThreadPool> {
    const controlBuffer = new SharedArrayBuffer(ARGS_OFFSET + MAX_ARGS * 8);
    const started: WorkerHandle[] = [];
    try {
      const handles = await Promise.all(Array.from({ length: threads - 1 }, (_, i) =>
        startWorker({ module, memory, control: controlBuffer, tid: i + 1, names: [...names],
          argsOffset: ARGS_OFFSET, maxArgs: MAX_ARGS, spin: WORKER_SPIN_MS }, started)));
      return new ThreadPool(names, local, controlBuffer, handles);
    } catch (e) {
      for (const w of started) w.terminate();
      throw e;
    }
  }

  /**
   * Runs kernel `name` as (tid, threads, ...args) on `threads` threads (clamped to the pool) and returns when
   * all are done. One thread calls it directly, without the workers.
   */
  run(name: string, args: readonly number[], threads: number): void {
    const index = this.names.indexOf(name);
    const local = this.local[index];
    const n = Math.max(1, Math.min(threads, this.threads));
    if (n === 1) {
      local(0, 1, ...args);
      return;
    }
    const c = this.control;
    this.args.set(args);
    Atomics.store(c, ARGC, args.length);
    Atomics.store(c, KERNEL, index);
    Atomics.store(c, THREADS, n);
    Atomics.store(c, ERROR, 0);
    Atomics.store(c, PENDING, this.workers.length);
    Atomics.add(c, GENERATION, 1);
    Atomics.notify(c, GENERATION);
    try {
      local(0, n, ...args);
    } finally {
      this.join(); // even when our share trapped: the workers must be done with the memory before it is reused
    }
    if (Atomics.load(c, ERROR) !== 0) throw new Error(`wasm backend: kernel ${name} failed on a worker thread`);
  }

  /** Stops the workers; later tasks run on the calling thread alone. */
  dispose(): void {
    if (this.workers.length === 0) return;
    Atomics.store(this.control, KERNEL, -1);
    Atomics.add(this.control, GENERATION, 1);
    Atomics.notify(this.control, GENERATION);
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }

  /** Waits until every worker has acknowledged the current task. */
  private join(): void {
    const c = this.control;
    let pending = Atomics.load(c, PENDING);
    const spinStart = performance.now();
    for (let s = 1; pending !== 0; s++) {
      if ((s & 255) === 0 && performance.now() - spinStart > MAIN_SPIN_MS) break;
      pending = Atomics.load(c, PENDING);
    }
    while (pending !== 0) {
      if (this.canWait) Atomics.wait(c, PENDING, pending);
      pending = Atomics.load(c, PENDING);
    }
  }
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function mainThreadCanWait(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // "not-equal" at once where waiting is allowed
    return true;
  } catch {
    return false;
  }
}

/** What a worker receives to start. */
interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  tid: number;
  names: string[];
  argsOffset: number;
  maxArgs: number;
  spin: number;
}

/** The worker's first message. */
interface WorkerReply {
  ready?: boolean;
  error?: string;
}

/** Whether we run under Node (worker_threads) rather than in a browser (Web Workers). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string";
}

/** Starts one worker (Node or browser), records it in `started`, and resolves when it reports ready. */
async function startWorker(init: WorkerInit, started: WorkerHandle[]): Promise<WorkerHandle> {
  if (isNode()) {
    // a variable specifier keeps browser bundlers from resolving the Node module
    const specifier = "node:worker_threads";
    const { Worker } = await import(specifier) as typeof import("node:worker_threads");
    // no inherited execArgv: the worker needs no loaders (--import tsx …) nor --input-type
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    worker.unref(); // an idle pool must not keep the process alive
    const handle: WorkerHandle = { terminate: () => void worker.terminate() };
    started.push(handle);
    await new Promise<void>((resolve, reject) => {
      worker.once("message", (reply: WorkerReply) => (reply.ready ? resolve() : reject(new Error(`wasm worker: ${reply.error}`))));
      worker.once("error", reject);
      worker.postMessage(init);
    });
    return handle;
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  const worker = new Worker(url);
  const handle: WorkerHandle = { terminate: () => worker.terminate() };
  started.push(handle);
  try {
    await new Promise<void>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) => (event.data.ready ? resolve() : reject(new Error(`wasm worker: ${event.data.error}`)));
      worker.onerror = (event) => reject(new Error(`wasm worker: ${event.message}`));
      worker.postMessage(init);
    });
  } finally {
    URL.revokeObjectURL(url);
  }
  return handle;
}
