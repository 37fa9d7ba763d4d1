/**
 * The benchmark's int8 rows and the README tables, from hand-made results (never timings): every line has a dtype,
 * int8 systems are compared with the first int8 output rather than float32's, issue 13's int8 targets are read off
 * the right rows, and the README generator shows each run's value, the range and the misses.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { SystemResult } from "../../bench/orchestrate.ts";
import { dtypeOf } from "../../bench/protocol.ts";
import { loadTable, parseRun, rangesTable, systemsTable } from "../../bench/readme-table.ts";
import { type ResultLine, markdownTable, resultLines, targetChecks } from "../../bench/report.ts";
import { workloads } from "../../bench/workloads.ts";

const w1 = workloads(false).find((w) => w.id === "W1")!;

/** A system's result with five equal times and an output. */
const result = (system: SystemResult["spec"]["system"], threads: number, ms: number, output: number[]): SystemResult => ({
  spec: { system, threads }, times: [ms, ms, ms, ms, ms], loadMs: 1, loadPeakMiB: 10, runPeakMiB: 10, output: Float32Array.from(output), skipped: null,
});

const RESULTS: SystemResult[] = [
  result("tsformer-wasm", 2, 400, [1, 2, 3]),
  result("onnxruntime-web", 2, 500, [1, 2, 3.0001]),
  result("onnxruntime-node", 2, 80, [1, 2, 3]),
  result("tsformer-wasm-int8", 2, 150, [1.02, 1.98, 3.03]),
  result("onnxruntime-web-int8", 2, 300, [1.02, 1.98, 3.03]),
];

test("dtype: int8 systems say int8, the rest fp32; each dtype is compared with its own first output", () => {
  assert.equal(dtypeOf("tsformer-wasm-int8"), "int8");
  assert.equal(dtypeOf("onnxruntime-web-int8"), "int8");
  assert.equal(dtypeOf("onnxruntime-web"), "fp32");
  const lines = resultLines(w1, RESULTS);
  assert.deepEqual(lines.map((l) => l.dtype), ["fp32", "fp32", "fp32", "int8", "int8"]);
  assert.ok(lines[1].max_abs_diff! > 0 && lines[1].max_abs_diff! < 1e-3);
  assert.equal(lines[3].max_abs_diff, 0, "the first int8 system is the int8 reference, not float32");
  assert.equal(lines[4].max_abs_diff, 0);
  for (const l of lines) for (const key of ["system", "workload", "threads", "median_ms", "gflops", "tokens_per_s", "runs", "max_abs_diff"]) assert.ok(key in l, key);
  assert.match(markdownTable(lines), /\| W1 \| tsformer-wasm-int8 \| int8 \| 2 \| 150\.0 \|/);
});

test("int8 targets: W1 int8 / onnxruntime-web fp32 ≤ 0.4 and / onnxruntime-node ≤ 2.5, read from the int8 row", () => {
  const checks = targetChecks(resultLines(w1, RESULTS), 2, []);
  const get = (what: string) => checks.find((c) => c.what === what);
  assert.deepEqual(get("W1: tsformer-wasm-int8 ×2 / onnxruntime-web ×2"), { what: "W1: tsformer-wasm-int8 ×2 / onnxruntime-web ×2", value: 0.3, target: "≤ 0.4", met: true });
  assert.deepEqual(get("W1: tsformer-wasm-int8 ×2 / onnxruntime-node ×2"), { what: "W1: tsformer-wasm-int8 ×2 / onnxruntime-node ×2", value: 1.875, target: "≤ 2.5", met: true });
  assert.equal(get("W1: tsformer-wasm-int8 ×2 / onnxruntime-web-int8 ×2")?.value, 0.5);
  assert.equal(get("W1: tsformer ×2 / onnxruntime-web ×2")?.met, false, "float32 400/500 = 0.8 misses ≤ 0.7");
});

test("README tables: systems side by side with int8, and each target's runs, range and misses", () => {
  const toJson = (lines: ResultLine[]): string => lines.map((l) => JSON.stringify(l)).join("\n");
  const slower = RESULTS.map((r) => (r.spec.system === "tsformer-wasm-int8" ? { ...r, times: r.times.map(() => 250) } : r));
  const runs = [parseRun(toJson(resultLines(w1, RESULTS))), parseRun(toJson(resultLines(w1, slower)))];
  const systems = systemsTable(runs[0]);
  assert.match(systems, /\| workload \| tsformer wasm, 2 thr \| tsformer wasm \*\*int8\*\*, 2 thr \| onnxruntime-web, 2 thr \| onnxruntime-web \*\*int8\*\*, 2 thr \| onnxruntime-node \(native\), 2 thr \|/);
  assert.match(systems, /\| W1 \| 400 \(57\) \| 150 \(153\) \| 500 \(46\) \| 300 \(77\) \| 80 \(287\) \|/);
  const ranges = rangesTable(runs);
  // 150/500 = 0.3 meets ≤ 0.4 in run 1; 250/500 = 0.5 misses it in run 2.
  assert.match(ranges, /\| W1: tsformer-wasm-int8 ×2 \/ onnxruntime-web ×2 \| 0\.3 \| 0\.5 \| 0\.3–0\.5 \| ≤ 0\.4 \| \*\*no\*\* \(1\/2\) \|/);
  assert.match(ranges, /\| W1: tsformer-wasm-int8 ×2 \/ tsformer ×2 \| 0\.375 \| 0\.625 \| 0\.375–0\.625 \| \(info\) \| info \|/);
  // A line saved before the dtype field existed reads as float32.
  assert.equal(parseRun('{"system":"tsformer-wasm","workload":"W1","threads":1,"median_ms":5,"gflops":1}').lines[0].dtype, "fp32");
});

test("README tables: the loading checks get their own table, out of the systems one", () => {
  const line = (ms: number, met: boolean): string => JSON.stringify({ system: "tsformer-cli", workload: "L2", threads: 2, median_ms: ms, gflops: null,
    dtype: "fp32", title: "load + first embedding", load_peak_rss_mib: 501, peak_rss_over_file: 1.2, target_ms: 1500, target_met: met });
  const w1Line = '{"system":"tsformer-wasm","workload":"W1","threads":2,"median_ms":5,"gflops":1}';
  const runs = [parseRun(`${w1Line}\n${line(1400, true)}`), parseRun(`${w1Line}\n${line(3100, false)}`)];
  assert.doesNotMatch(systemsTable(runs[0]), /L2|tsformer-cli|undefined/);
  assert.match(loadTable(runs), /\| L2 load \+ first embedding \| 1,400, 501 \(1\.2 × file\) \| 3,100, 501 \(1\.2 × file\) \| 1500 \| \*\*no\*\* \(1\/2\) \|/);
});

test("readme-table --medians-of K shows run K's medians (the run that met the targets), and refuses a run it was not given", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsformer-readme-table-"));
  const runLine = (ms: number): string => JSON.stringify({ system: "tsformer-wasm", workload: "W1", threads: 2, median_ms: ms, gflops: 1 });
  const files = [700, 300].map((ms, i) => {
    const file = join(dir, `run${i + 1}.jsonl`);
    writeFileSync(file, `${runLine(ms)}\n`);
    return file;
  });
  const table = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "bench/readme-table.ts", ...args], { encoding: "utf8" });
  assert.match(table(...files).stdout, /\| W1 \| 700 \(1\) \|/, "the first run by default");
  const second = table("--medians-of", "2", ...files);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /\| W1 \| 300 \(1\) \|/);
  const wrong = table("--medians-of", "3", ...files);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /--medians-of must name one of the 2 runs \(1–2\), not 3/);
});
