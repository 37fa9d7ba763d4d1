/**
 * `npm run bench [-- --json] [-- --quick]`: issue 5's workloads (W1, W2 forward passes, W3 a training step, K1 an
 * sgemm) on tsformer, onnxruntime-node, onnxruntime-web and TensorFlow.js, interleaved in one run, then the memory
 * checks. Options: --json (one line per result), --quick (tiny sizes: a smoke run), --runs N (timed calls per system,
 * default 7, at least 5), --warmup N (default 2), --workloads W1,K1 (a subset), --skip-memory, --max-call-s S (drop a
 * system whose warm-up call takes longer; default 10). Progress goes to stderr.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { exportOnnx } from "../src/io/onnx.ts";
import { ChildPool, runMemoryTask, runWorkload } from "./orchestrate.ts";
import type { MemoryResult, SystemSpec } from "./protocol.ts";
import { type ResultLine, markdownTable, memoryLine, memoryText, resultLines, targetChecks, targetTable, tolerance } from "./report.ts";
import { benchModel } from "./runners/tsformer.ts";
import { type Workload, type WorkloadId, workloads } from "./workloads.ts";

/** The command line, checked. */
interface Options {
  json: boolean;
  quick: boolean;
  runs: number;
  warmup: number;
  maxCallMs: number;
  workloads: Workload[];
  memory: boolean;
}

function parseOptions(): Options {
  const { values: a } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      warmup: { type: "string" },
      workloads: { type: "string" },
      "skip-memory": { type: "boolean", default: false },
      "max-call-s": { type: "string" },
    },
  });
  const int = (name: string, v: string | undefined, fallback: number, min: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const quick = a.quick;
  const all = workloads(quick);
  const chosen = a.workloads ? a.workloads.split(",").map((s) => s.trim().toUpperCase()) : all.map((w) => w.id);
  const unknown = chosen.filter((id) => !all.some((w) => w.id === id));
  if (unknown.length > 0) throw new Error(`--workloads: unknown ${unknown.join(", ")} (choose from W1, W2, W3, K1)`);
  return {
    json: a.json, quick, runs: int("runs", a.runs, quick ? 5 : 7, 5), warmup: int("warmup", a.warmup, quick ? 1 : 2, 1),
    maxCallMs: 1000 * int("max-call-s", a["max-call-s"], 10, 1), workloads: all.filter((w) => chosen.includes(w.id)), memory: !a["skip-memory"],
  };
}

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

/** The systems a workload runs on. tfjs-cpu runs K1 and W3 only: W1 took 42 s a call in the issue's measurements. */
function systemsFor(w: Workload, threadCounts: number[]): SystemSpec[] {
  const each = (system: SystemSpec["system"]): SystemSpec[] => threadCounts.map((threads) => ({ system, threads }));
  const tsformer = each("tsformer-wasm");
  const ort = [...each("onnxruntime-node"), ...each("onnxruntime-web")];
  const tfjs: SystemSpec = { system: "tfjs-wasm", threads: 1 };
  const tfcpu: SystemSpec = { system: "tfjs-cpu", threads: 1 };
  if (w.kind === "forward") return [...tsformer, ...ort, tfjs];
  if (w.kind === "train") return [...tsformer, tfjs, tfcpu];
  return [...tsformer, { system: "tsformer-reference", threads: 1 }, ...ort, tfjs, tfcpu];
}

/** The markdown report. */
function report(o: Options, lines: ResultLine[], memory: MemoryResult[], allThreads: number, loadStart: number): string {
  const out: string[] = [];
  out.push(`# tsformer benchmark${o.quick ? " (--quick: tiny sizes, a smoke run, not a measurement)" : ""}`, "");
  out.push(`${cpus()[0]?.model ?? "unknown CPU"}, ${allThreads} threads available, Node ${process.version}; load average ${loadStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end.`);
  out.push(`Each time is the median of ${o.runs} calls after ${o.warmup} warm-up call(s), systems interleaved call by call in one run (ratios between systems are what to read on a shared machine).`, "");
  for (const w of o.workloads) out.push(`- ${w.id}: ${w.title}; ${(w.flops / 1e9).toFixed(2)} GFLOP per call; outputs must agree within ${tolerance(w.id)}`);
  out.push("", markdownTable(lines), "");
  const bad = lines.filter((l) => l.max_abs_diff !== null && !(l.max_abs_diff <= tolerance(l.workload as WorkloadId)));
  out.push(bad.length === 0 ? "Outputs: every system agrees with the first within the tolerance."
    : `Outputs OUTSIDE the tolerance: ${bad.map((l) => `${l.workload} ${l.system} ×${l.threads} (${l.max_abs_diff})`).join(", ")}.`);
  if (o.workloads.some((w) => w.kind === "forward")) out.push("Not run: tfjs-cpu on W1 and W2 (about 42 s per W1 call in the issue's measurements: minutes per system).");
  out.push("", "## Targets (issue 5)", "", targetTable(targetChecks(lines, allThreads, memory)), "");
  if (memory.length > 0) out.push("## Memory", "", memoryText(memory), "");
  return `${out.join("\n")}\n`;
}

async function main(): Promise<void> {
  const o = parseOptions();
  const allThreads = availableParallelism();
  // --quick is a smoke run: one thread count (all) and one child per system across workloads (start-ups dominate it);
  // a measurement runs 1 thread and all, and gives each workload fresh processes, so each peak RSS is its own.
  const threadCounts = o.quick ? [allThreads] : [...new Set([1, allThreads])];
  const pool = new ChildPool(o.quick);
  const tmp = mkdtempSync(join(tmpdir(), "tsformer-bench-"));
  const lines: ResultLine[] = [];
  const memory: MemoryResult[] = [];
  const loadStart = loadavg()[0];
  try {
    for (const w of o.workloads) {
      let onnxPath: string | null = null;
      if (w.kind === "forward") {
        // onnxruntime runs the graph tsformer exports from the very weights the other systems build from the seed.
        onnxPath = join(tmp, `${w.id}.onnx`);
        writeFileSync(onnxPath, exportOnnx(benchModel(w.shape)).bytes);
      }
      log(`${w.id}: ${w.title}`);
      const options = { runs: o.runs, warmup: o.warmup, maxCallMs: o.maxCallMs, onnxPath, log, parallelStart: o.quick };
      lines.push(...resultLines(w, await runWorkload(w, systemsFor(w, threadCounts), options, pool)));
    }
    if (o.memory) {
      log("M1: WASM memory reuse over 1,000 calls");
      memory.push(await runMemoryTask({ kind: "reuse", calls: 1000, threads: allThreads, quick: o.quick }));
      const seq = o.quick ? 2048 : 4096; // quick: long enough that n²·heads·4 bytes exceed the initial 16 MiB of WASM memory
      log(`M2: one ${seq}-token sequence through W1's model`);
      memory.push(await runMemoryTask({ kind: "long-sequence", seq, threads: allThreads, quick: o.quick }));
    }
  } finally {
    pool.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  if (o.json) {
    for (const l of lines) process.stdout.write(`${JSON.stringify(l)}\n`);
    for (const m of memory) process.stdout.write(`${JSON.stringify(memoryLine(m))}\n`);
  } else {
    process.stdout.write(report(o, lines, memory, allThreads, loadStart));
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
