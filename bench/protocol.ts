/**
 * What the benchmark's parent and its child processes say to each other. Each (system, threads) of a workload
 * runs in its own child, so its peak RSS is its own; the parent drives every child one call at a time, round by
 * round, so all systems see the same machine load (the machine is shared: timings swing ±20 %). Node children talk
 * over Node's IPC channel; the PyTorch peer (a Python process) sends the same messages as JSON lines on stdin/stdout.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Workload } from "./workloads.ts";

/** The systems compared; the `-int8` ones run the same model with int8 Linear layers (tsformer's int8 scheme). */
export type SystemName = "tsformer-wasm" | "tsformer-reference" | "onnxruntime-node" | "onnxruntime-web" | "tfjs-wasm" | "tfjs-cpu" | "pytorch"
  | "tsformer-wasm-int8" | "onnxruntime-web-int8";

/** The number type of a system's matrix products. */
export type Dtype = "fp32" | "int8";

/** The dtype a system runs in. */
export function dtypeOf(system: SystemName): Dtype {
  return system.endsWith("-int8") ? "int8" : "fp32";
}

/** A system at a thread count. */
export interface SystemSpec {
  system: SystemName;
  threads: number;
}

/** A child's job: one system, set up on one workload after another (`setup` messages). */
export interface SystemTask {
  kind: "system";
  spec: SystemSpec;
}

/** The memory checks of issue 5 item 6, each in a child of its own. */
export type MemoryTask =
  | { kind: "reuse"; calls: number; threads: number; quick: boolean }
  | { kind: "long-sequence"; seq: number; threads: number; quick: boolean };

/** Anything a child is started for. */
export type ChildTask = SystemTask | MemoryTask;

/**
 * Parent → child: `setup` a workload (with a file of its weights: the ONNX graph for onnxruntime, a safetensors file
 * of weights and inputs for PyTorch), `run` one timed call, send the `output`, `reset-peak` RSS (forget the
 * loading's), `release` the workload (report its peak RSS), `exit`.
 */
export type ParentMessage =
  | { type: "setup"; workload: Workload; modelPath: string | null }
  | { type: "run" } | { type: "output" } | { type: "reset-peak" } | { type: "release" } | { type: "exit" };

/** The result of a memory check. */
export interface MemoryResult {
  check: "reuse" | "long-sequence";
  threads: number;
  /** reuse: median ms per call; long-sequence: the one 4,096-token call. */
  ms: number;
  calls: number;
  seq: number;
  /** WASM memory after the first call (reuse) or before the long call (long-sequence), and at the end. */
  wasmBytesBefore: number;
  wasmBytesAfter: number;
  /** long-sequence: the bytes n×n scores of every head of one layer would need (n²·heads·4). */
  scoresBytes: number;
  /** reuse: the process's peak RSS; long-sequence: the peak during the long call, and the RSS just before it. */
  peakRssMiB: number;
  rssBeforeMiB: number;
  flops: number;
}

/** Child → parent. */
export type ChildMessage =
  | { type: "started" }
  | { type: "ready"; loadMs: number; loadPeakMiB: number }
  | { type: "ran"; ms: number }
  | { type: "output"; data: Float32Array }
  | { type: "released"; runPeakMiB: number }
  | { type: "memory"; result: MemoryResult }
  | { type: "error"; message: string };

/** Peak resident set size of this process since the start or the last `resetPeakRss`, MiB (Linux VmHWM, else maxRSS). */
export function peakRssMiB(): number {
  let status = "";
  try {
    status = readFileSync("/proc/self/status", "utf8");
  } catch {
    // not Linux: maxRSS below
  }
  const m = /VmHWM:\s+(\d+)\s*kB/.exec(status);
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** Resets the kernel's peak-RSS mark (Linux), so the next `peakRssMiB` covers what follows only; elsewhere a no-op. */
export function resetPeakRss(): void {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // the peak keeps covering everything before
  }
}
