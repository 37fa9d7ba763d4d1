/**
 * The source of a kernel worker thread, as a string: the same code runs as a Node `worker_threads` Worker
 * (eval) and as a browser Web Worker (from a Blob URL), so it is plain JavaScript with no imports.
 *
 * Protocol (Int32 slots of the control SharedArrayBuffer, see pool.ts): the worker instantiates the kernels
 * on the shared memory, posts {ready}, then loops: wait for GENERATION to change, read KERNEL (−1 = quit),
 * THREADS and ARGC + the Float64 arguments, run its share (tid, threads, …args) when tid < THREADS, flag
 * ERROR on a trap, and decrement PENDING (notifying the main thread when it reaches 0). Every worker
 * acknowledges every task, so the main thread never publishes a task while one is still being read. After a
 * task a worker polls for `spin` ms before it sleeps in Atomics.wait.
 */
export const WORKER_SOURCE = `"use strict";
const isNode = typeof process === "object" && process !== null && !!(process.versions && process.versions.node);
const GENERATION = 0, PENDING = 1, KERNEL = 2, THREADS = 3, ARGC = 4, ERROR = 5;
function start(port, init) {
  let kernels;
  try {
    const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
    kernels = init.names.map((name) => instance.exports[name]);
  } catch (e) {
    port.postMessage({ error: String((e && e.stack) || e) });
    return;
  }
  const control = new Int32Array(init.control, 0, 16);
  const args = new Float64Array(init.control, init.argsOffset, init.maxArgs);
  const tid = init.tid;
  const spin = init.spin;
  let seen = Atomics.load(control, GENERATION);
  port.postMessage({ ready: true });
  for (;;) {
    let generation = Atomics.load(control, GENERATION);
    // spin a while before sleeping: waking a sleeping thread costs far more than a poll
    const spinStart = performance.now();
    for (let s = 1; generation === seen; s++) {
      if ((s & 255) === 0 && performance.now() - spinStart > spin) break;
      generation = Atomics.load(control, GENERATION);
    }
    while (generation === seen) {
      Atomics.wait(control, GENERATION, seen);
      generation = Atomics.load(control, GENERATION);
    }
    seen = generation;
    const kernel = Atomics.load(control, KERNEL);
    if (kernel < 0) break;
    const threads = Atomics.load(control, THREADS);
    if (tid < threads) {
      try {
        kernels[kernel](tid, threads, ...Array.prototype.slice.call(args, 0, Atomics.load(control, ARGC)));
      } catch (e) {
        Atomics.store(control, ERROR, 1);
      }
    }
    if (Atomics.sub(control, PENDING, 1) === 1) Atomics.notify(control, PENDING);
  }
  if (!isNode) self.close();
}
// import() rather than require(): an eval worker runs as an ES module when Node's default type is "module"
if (isNode) import("node:worker_threads").then(({ parentPort }) => parentPort.once("message", (init) => start(parentPort, init)));
else self.onmessage = (event) => { self.onmessage = null; start(self, event.data); };
`;
