/**
 * `npm run bench [-- --json] [-- --quick]`: issue 5's workloads (W1, W2 forward passes, W3 a training step, K1 an
 * sgemm) and issue 12's W4 and W4-tiny (BERT fine-tuning steps, MiniLM- and BERT-tiny-shaped) on tsformer,
 * onnxruntime-node, onnxruntime-web, TensorFlow.js and, where `python3` imports torch, PyTorch — interleaved in
 * one run, then the memory checks. W1 and W2 also run in int8 (issue 13): tsformer after `quantizeDynamic`
 * (tsformer-wasm-int8) and onnxruntime-web on the int8 export of the same weights (onnxruntime-web-int8). `--help`
 * lists the options (`USAGE` below). Progress goes to stderr.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { exportOnnx } from "../src/models/onnx-export.ts";
import { ChildPool, runMemoryTask, runWorkload } from "./orchestrate.ts";
import type { MemoryResult, SystemName, SystemSpec } from "./protocol.ts";
import { type TorchProbe, findTorch, writeTorchInputs } from "./peers/pytorch.ts";
import { type ResultLine, markdownTable, memoryLine, memoryText, resultLines, targetChecks, targetTable, tolerance } from "./report.ts";
import { LOAD_CHECKS, type LoadCheckId, loadLine, loadText, runLoadBench } from "./load.ts";
import { benchModel } from "./runners/tsformer.ts";
import { type Workload, type WorkloadId, workloads } from "./workloads.ts";

const USAGE = `npm run bench -- [options]
  --json              one JSON line per result (every line has a dtype: fp32 or int8)
  --quick             tiny sizes: a smoke run, not a measurement
  --runs N            timed calls per system (default 7, at least 5)
  --warmup N          warm-up calls per system (default 2)
  --workloads LIST    a subset of ${workloads(false).map((w) => w.id).join(",")},${LOAD_CHECKS.join(",")} (L*: loading a BERT-base folder, bench/load.ts)
  --systems LIST      a subset of the systems (e.g. tsformer-wasm,tsformer-wasm-int8,onnxruntime-web,onnxruntime-web-int8,onnxruntime-node)
  --skip-memory       leave out the memory checks M1 and M2
  --max-call-s S      drop a system whose warm-up call takes longer (default 10 s, 120 s for W4)
  --help              this text
Only W1 in int8 and its float32 peers: --workloads W1 --systems tsformer-wasm,tsformer-wasm-int8,onnxruntime-web,onnxruntime-web-int8,onnxruntime-node --skip-memory`;

/** Every system name --systems accepts. */
const SYSTEMS: readonly SystemName[] = ["tsformer-wasm", "tsformer-wasm-int8", "tsformer-reference", "onnxruntime-node", "onnxruntime-web",
  "onnxruntime-web-int8", "tfjs-wasm", "tfjs-cpu", "pytorch"];

/** The command line, checked. */
interface Options {
  json: boolean;
  quick: boolean;
  runs: number;
  warmup: number;
  /** --max-call-s, or null for each workload's default (`maxCallMsOf`). */
  maxCallMs: number | null;
  workloads: Workload[];
  /** --systems: the systems to run, or null for every system of each workload. */
  systems: SystemName[] | null;
  memory: boolean;
  /** The load checks chosen in --workloads (bench/load.ts). */
  load: LoadCheckId[];
}

function parseOptions(): Options | null {
  const { values: a } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      warmup: { type: "string" },
      workloads: { type: "string" },
      "skip-memory": { type: "boolean", default: false },
      "max-call-s": { type: "string" },
      systems: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) return null;
  const int = (name: string, v: string | undefined, fallback: number, min: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const quick = a.quick;
  const all = workloads(quick);
  const chosen = a.workloads ? a.workloads.split(",").map((s) => s.trim().toUpperCase()) : [...all.map((w) => w.id.toUpperCase()), ...LOAD_CHECKS];
  const unknown = chosen.filter((id) => !all.some((w) => w.id.toUpperCase() === id) && !(LOAD_CHECKS as readonly string[]).includes(id));
  if (unknown.length > 0) throw new Error(`--workloads: unknown ${unknown.join(", ")} (choose from ${[...all.map((w) => w.id), ...LOAD_CHECKS].join(", ")})`);
  const systems = a.systems ? a.systems.split(",").map((x) => x.trim()) : null;
  const unknownSystems = (systems ?? []).filter((x) => !(SYSTEMS as readonly string[]).includes(x));
  if (unknownSystems.length > 0) throw new Error(`--systems: unknown ${unknownSystems.join(", ")} (choose from ${SYSTEMS.join(", ")})`);
  return {
    json: a.json, quick, runs: int("runs", a.runs, quick ? 5 : 7, 5), warmup: int("warmup", a.warmup, quick ? 1 : 2, 1),
    maxCallMs: a["max-call-s"] === undefined ? null : 1000 * int("max-call-s", a["max-call-s"], 10, 1),
    workloads: all.filter((w) => chosen.includes(w.id.toUpperCase())), systems: systems as SystemName[] | null, memory: !a["skip-memory"],
    load: LOAD_CHECKS.filter((id) => chosen.includes(id)),
  };
}

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

/**
 * The slowest warm-up call a system may take: 10 s, or 120 s for W4, where tfjs-wasm's MiniLM step takes 35–50
 * seconds on 2 cores (dropping it would leave W4 without its JavaScript peer).
 */
function maxCallMsOf(w: Workload, o: Options): number {
  return o.maxCallMs ?? (w.id === "W4" ? 120_000 : 10_000);
}

/**
 * The systems a workload runs on. tfjs-cpu runs K1 and W3 only: W1 took 42 s a call in the issue's measurements.
 * PyTorch runs every workload at tsformer's thread counts, where it is installed. The int8 systems run W1 and W2:
 * tsformer at its thread counts, onnxruntime-web on all threads (the issue's comparison).
 */
function systemsFor(w: Workload, threadCounts: number[], torch: boolean): SystemSpec[] {
  const each = (system: SystemSpec["system"]): SystemSpec[] => threadCounts.map((threads) => ({ system, threads }));
  const tsformer = each("tsformer-wasm");
  const ort = [...each("onnxruntime-node"), ...each("onnxruntime-web")];
  const tfjs: SystemSpec = { system: "tfjs-wasm", threads: 1 };
  const tfcpu: SystemSpec = { system: "tfjs-cpu", threads: 1 };
  const int8: SystemSpec[] = [...each("tsformer-wasm-int8"), { system: "onnxruntime-web-int8", threads: Math.max(...threadCounts) }];
  const pytorch = torch ? each("pytorch") : [];
  if (w.kind === "forward") return [...tsformer, ...ort, tfjs, ...int8, ...pytorch];
  if (w.kind === "train") return [...tsformer, tfjs, tfcpu, ...pytorch];
  if (w.kind === "bert-train") return [...tsformer, tfjs, ...pytorch];
  return [...tsformer, { system: "tsformer-reference", threads: 1 }, ...ort, tfjs, tfcpu, ...pytorch];
}

/** The markdown report. */
function report(o: Options, lines: ResultLine[], memory: MemoryResult[], allThreads: number, loadStart: number, torch: TorchProbe | null): string {
  const out: string[] = [];
  out.push(`# tsformer benchmark${o.quick ? " (--quick: tiny sizes, a smoke run, not a measurement)" : ""}`, "");
  out.push(`${cpus()[0]?.model ?? "unknown CPU"}, ${allThreads} threads available, Node ${process.version}; load average ${loadStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end.`);
  out.push(`Each time is the median of ${o.runs} calls after ${o.warmup} warm-up call(s), systems interleaved call by call in one run (ratios between systems are what to read on a shared machine).`, "");
  for (const w of o.workloads) {
    const check = w.kind === "bert-train" ? " (compared: a dropout-free step's loss and the logits after it, run once at set-up)" : "";
    out.push(`- ${w.id}: ${w.title}; ${(w.flops / 1e9).toFixed(2)} GFLOP per call; outputs must agree within ${tolerance(w.id)}${w.kind === "forward" ? ` (int8 systems with each other: ${tolerance(w.id, "int8")})` : ""}${check}`);
  }
  if (torch) out.push(torch.found ? `- PyTorch: torch ${torch.version} (${torch.python}; BLAS ${torch.blas}), torch.set_num_threads as tsformer's threads` : `- PyTorch: skipped, ${torch.why}`);
  out.push("", markdownTable(lines), "");
  const bad = lines.filter((l) => l.max_abs_diff !== null && !(l.max_abs_diff <= tolerance(l.workload as WorkloadId, l.dtype)));
  out.push(bad.length === 0 ? "Outputs: every system agrees with the first within the tolerance."
    : `Outputs OUTSIDE the tolerance: ${bad.map((l) => `${l.workload} ${l.system} ×${l.threads} (${l.max_abs_diff})`).join(", ")}.`);
  if (o.workloads.some((w) => w.kind === "forward")) out.push("Not run: tfjs-cpu on W1 and W2 (about 42 s per W1 call in the issue's measurements: minutes per system).");
  out.push("", "## Targets (issue 13; issue 5's where issue 13 sets none) and ratios for information", "", targetTable(targetChecks(lines, allThreads, memory)), "");
  if (memory.length > 0) out.push("## Memory", "", memoryText(memory), "");
  return `${out.join("\n")}\n`;
}

async function main(): Promise<void> {
  const o = parseOptions();
  if (!o) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const allThreads = availableParallelism();
  // --quick is a smoke run: one thread count (all) and one child per system across workloads (start-ups dominate it);
  // a measurement runs 1 thread and all, and gives each workload fresh processes, so each peak RSS is its own.
  const threadCounts = o.quick ? [allThreads] : [...new Set([1, allThreads])];
  const torch = o.workloads.length > 0 && (o.systems === null || o.systems.includes("pytorch")) ? findTorch() : null;
  if (torch) log(torch.found ? `PyTorch: torch ${torch.version} (${torch.python}; BLAS ${torch.blas})` : `PyTorch: skipped, ${torch.why}`);
  const pool = new ChildPool(o.quick, torch?.found ? torch.python : null);
  const tmp = mkdtempSync(join(tmpdir(), "tsformer-bench-"));
  const lines: ResultLine[] = [];
  const memory: MemoryResult[] = [];
  const loadStart = loadavg()[0];
  try {
    for (const w of o.workloads) {
      let modelPath: string | null = null;
      let int8ModelPath: string | null = null;
      let torchPath: string | null = null;
      if (w.kind === "forward") {
        // onnxruntime runs the graph tsformer exports from the very weights the other systems build from the seed.
        modelPath = join(tmp, `${w.id}.onnx`);
        writeFileSync(modelPath, exportOnnx(benchModel(w.shape)).bytes);
        int8ModelPath = join(tmp, `${w.id}.int8.onnx`);
        writeFileSync(int8ModelPath, exportOnnx(benchModel(w.shape), { quantize: "int8" }).bytes);
      }
      if (torch?.found) {
        torchPath = join(tmp, `${w.id}.safetensors`);
        writeTorchInputs(w, torchPath);
      }
      log(`${w.id}: ${w.title}`);
      const options = { runs: o.runs, warmup: o.warmup, maxCallMs: maxCallMsOf(w, o), modelPath, int8ModelPath, torchPath, log, parallelStart: o.quick };
      const specs = systemsFor(w, threadCounts, torch?.found === true).filter((s) => o.systems === null || o.systems.includes(s.system));
      const results = await runWorkload(w, specs, options, pool);
      if (torch && !torch.found) {
        // A line per skipped PyTorch, so --json readers see the peer and why it is missing.
        for (const threads of threadCounts) {
          results.push({ spec: { system: "pytorch", threads }, times: [], loadMs: 0, loadPeakMiB: 0, runPeakMiB: 0, output: null, skipped: torch.why });
        }
      }
      lines.push(...resultLines(w, results));
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
  // --quick: two rounds on a 2-layer folder, a smoke run.
  const loads = o.load.length > 0 ? runLoadBench({ checks: o.load, runs: o.quick ? 2 : o.runs, quick: o.quick, log }) : [];
  if (o.json) {
    for (const l of lines) process.stdout.write(`${JSON.stringify(l)}\n`);
    for (const m of memory) process.stdout.write(`${JSON.stringify(memoryLine(m))}\n`);
    for (const r of loads) process.stdout.write(`${JSON.stringify(loadLine(r))}\n`);
  } else {
    process.stdout.write(report(o, lines, memory, allThreads, loadStart, torch));
    if (loads.length > 0) process.stdout.write(`\n## Loading a BERT-base-shaped folder (issue 13 item 5)\n\n${loadText(loads)}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
