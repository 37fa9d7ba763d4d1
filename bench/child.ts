/**
 * A benchmark child process: one system (or one memory check). It sets the system up on each workload the parent
 * sends and answers, one message at a time: `setup`, `run` (one timed call), `output`, `reset-peak` (forget the
 * loading's peak RSS), `release`, `exit`. Started by bench/orchestrate.ts with an IPC channel; the task comes as JSON
 * in argv[2].
 */
import { type ChildMessage, type ChildTask, type ParentMessage, type SystemSpec, peakRssMiB, resetPeakRss } from "./protocol.ts";
import { runMemoryCheck } from "./memory.ts";
import { ortRunner } from "./runners/ort.ts";
import type { Runner } from "./runners/runner.ts";
import { tfjsRunner } from "./runners/tfjs.ts";
import { tsformerRunner } from "./runners/tsformer.ts";
import type { Workload } from "./workloads.ts";

/** Sends a message; resolves once it has been handed to the channel. */
const send = (m: ChildMessage): Promise<void> => new Promise((resolve) => {
  process.send!(m, undefined, {}, () => resolve());
});

function setUp(spec: SystemSpec, workload: Workload, modelPath: string | null): Promise<Runner> {
  if (spec.system === "tsformer-wasm" || spec.system === "tsformer-reference" || spec.system === "tsformer-wasm-int8") return tsformerRunner(workload, spec);
  if (spec.system === "onnxruntime-node" || spec.system.startsWith("onnxruntime-web")) return ortRunner(workload, spec, modelPath);
  if (spec.system === "pytorch") throw new Error("the PyTorch peer runs in a Python process (bench/peers/pytorch_bert.py)");
  return tfjsRunner(workload, spec);
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2]) as ChildTask;
  if (task.kind !== "system") {
    await send({ type: "memory", result: await runMemoryCheck(task) });
    process.exit(0); // the wasm backend's workers are unref'd, but onnxruntime-web's are not: exit explicitly
  }
  let runner: Runner | null = null;
  const current = (): Runner => {
    if (!runner) throw new Error("no workload set up");
    return runner;
  };
  process.on("message", (m: ParentMessage) => {
    void (async () => {
      try {
        if (m.type === "setup") {
          const started = performance.now();
          runner = await setUp(task.spec, m.workload, m.modelPath);
          await send({ type: "ready", loadMs: performance.now() - started, loadPeakMiB: peakRssMiB() });
        } else if (m.type === "run") {
          const t = performance.now();
          await current().run();
          await send({ type: "ran", ms: performance.now() - t });
        } else if (m.type === "output") {
          await send({ type: "output", data: current().output() });
        } else if (m.type === "reset-peak") {
          resetPeakRss();
          await send({ type: "ran", ms: 0 });
        } else if (m.type === "release") {
          const peak = peakRssMiB();
          runner = null;
          await send({ type: "released", runPeakMiB: peak });
        } else {
          process.exit(0); // worker threads of some systems (onnxruntime-web's pthreads) would keep the process alive
        }
      } catch (e) {
        await send({ type: "error", message: (e as Error).message });
      }
    })();
  });
  process.on("disconnect", () => process.exit(0)); // the parent died: its children must not linger
  await send({ type: "started" });
}

main().catch(async (e: unknown) => {
  await send({ type: "error", message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
