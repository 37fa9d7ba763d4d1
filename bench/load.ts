/**
 * Loading real models (issue 13 item 5): the CLI as a user runs it (`bin/tsformer.js`, which runs dist/), each call
 * in a fresh process on a generated BERT-base-shaped folder (bench/bert-base-folder.ts: random weights, 438 MB):
 *   L1  `tsformer inspect model.safetensors`: time and peak RSS to print a header (targets ≤ 300 ms, ≤ 100 MB)
 *   L2  `tsformer embed --model DIR "…"`: load + first embedding (targets ≤ 1,500 ms, peak ≤ 1.3 × the file)
 *   L3  `tsformer --help`: CLI start (target ≤ 300 ms)
 * Times are wall clock from spawn to exit (Node's start included, as a user sees it); peak RSS is the child's own
 * high-water mark (Linux VmHWM, else maxRSS), reported by a preloaded exit hook. Rounds interleave the checks (and
 * the CLIs, when several are given).
 *
 *   node --import tsx bench/load.ts [--runs N] [--quick] [--json] [--cli PATH]…   # e.g. --cli A --cli B: an A/B run
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BERT_BASE, type GeneratedFolder, writeBertBaseFolder } from "./bert-base-folder.ts";
import { median } from "./report.ts";

/** The load checks, in the order each round runs them. */
export const LOAD_CHECKS = ["L1", "L2", "L3"] as const;
/** One of the load checks. */
export type LoadCheckId = (typeof LOAD_CHECKS)[number];

const TITLES: Record<LoadCheckId, string> = { L1: "inspect (header only)", L2: "load + first embedding", L3: "CLI start (--help)" };
/** Issue 13's targets: milliseconds, and the peak RSS in bytes (L2: a multiple of the file's size). */
const TARGET_MS: Record<LoadCheckId, number> = { L1: 300, L2: 1500, L3: 300 };
const INSPECT_MAX_BYTES = 100e6;
const EMBED_MAX_FILE_MULTIPLE = 1.3;

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The CLI users run; it runs the compiled dist/ (npm install builds it; `npm run build` after changes). */
export const DEFAULT_CLI = join(ROOT, "bin", "tsformer.js");
/**
 * Preloaded into each child: prints its peak RSS in KiB on stderr as it exits. VmHWM, not maxRSS: on Linux a child's
 * maxRSS keeps the high-water mark of the parent's memory it was forked from (a `node -e 0` spawned by a 501 MiB
 * process reported 462 MiB, its VmHWM 40 MiB). VmHWM belongs to the address space exec gave the child.
 */
const PEAK_HOOK = "data:text/javascript,import{readFileSync}from'node:fs';process.on('exit',()=>{let kib=process.resourceUsage().maxRSS;"
  + "try{kib=Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status','utf8'))[1])}catch{}process.stderr.write(`\\n[peak-rss-kib] ${kib}\\n`)})";

/** One check of one CLI over all rounds. */
export interface LoadResult {
  id: LoadCheckId;
  cli: string;
  times: number[];
  peakKiB: number[];
  /** Size of model.safetensors (bytes). */
  fileBytes: number;
  error?: string;
}

/** Options of `runLoadBench`. */
export interface LoadBenchOptions {
  checks: readonly LoadCheckId[];
  runs: number;
  /** A 2-layer, d128 folder instead of BERT-base: a smoke run. */
  quick: boolean;
  /** CLI scripts to compare (default: this checkout's bin/tsformer.js). */
  clis?: string[];
  log: (line: string) => void;
}

/** Runs one CLI call; returns its wall time, peak RSS, or the first line of what went wrong. */
export function timeCall(cli: string, args: string[]): { ms: number; peakKiB: number } | { error: string } {
  const start = performance.now();
  const r = spawnSync(process.execPath, ["--import", PEAK_HOOK, cli, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  const ms = performance.now() - start;
  const peak = /\[peak-rss-kib\] (\d+)/.exec(r.stderr ?? "");
  if (r.status !== 0 || !peak) return { error: `exit ${r.status}: ${(r.stderr ?? "").trim().split("\n")[0] ?? ""}` };
  return { ms, peakKiB: Number(peak[1]) };
}

/** Says when dist/ is older than src/ (the CLI would measure stale code). */
function staleDistWarning(cli: string): string | null {
  if (resolve(cli) !== DEFAULT_CLI) return null;
  const built = join(ROOT, "dist", "cli", "main.js");
  if (!existsSync(built)) return "dist/ is missing: run `npm run build` first";
  const newest = execFileSync("git", ["ls-files", "src"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter((f) => f.endsWith(".ts") && existsSync(join(ROOT, f)))
    .reduce((t, f) => Math.max(t, statSync(join(ROOT, f)).mtimeMs), 0);
  return newest > statSync(built).mtimeMs ? "dist/ is older than src/: run `npm run build` for current numbers" : null;
}

/** Generates the folder once, runs `runs` rounds of the checks (each call a fresh process), and removes the folder. */
export function runLoadBench(o: LoadBenchOptions): LoadResult[] {
  const clis = o.clis && o.clis.length > 0 ? o.clis : [DEFAULT_CLI];
  for (const cli of clis) {
    const warning = staleDistWarning(cli);
    if (warning) o.log(`load: ${warning}`);
  }
  const tmp = mkdtempSync(join(tmpdir(), "tsformer-load-"));
  try {
    const shape = o.quick ? { ...BERT_BASE, layers: 2, hidden: 128, heads: 2, ffn: 512 } : BERT_BASE;
    const folder: GeneratedFolder | null = o.checks.some((c) => c !== "L3") ? writeBertBaseFolder(join(tmp, "bert"), 1, shape) : null;
    if (folder) o.log(`load: generated ${folder.parameters.toLocaleString("en-US")} parameters, ${(folder.weightsBytes / 1e6).toFixed(0)} MB of weights in ${folder.dir}`);
    const args: Record<LoadCheckId, string[]> = {
      L1: ["inspect", folder?.weightsPath ?? ""], L2: ["embed", "--model", folder?.dir ?? "", "The movie was great fun."], L3: ["--help"],
    };
    const results = clis.flatMap((cli) => o.checks.map((id): LoadResult => ({ id, cli, times: [], peakKiB: [], fileBytes: folder?.weightsBytes ?? 0 })));
    for (let round = 0; round < o.runs; round++) {
      for (const r of results) {
        if (r.error) continue;
        const got = timeCall(r.cli, args[r.id]);
        if ("error" in got) r.error = got.error;
        else {
          r.times.push(got.ms);
          r.peakKiB.push(got.peakKiB);
        }
      }
      o.log(`load: round ${round + 1}/${o.runs}`);
    }
    return results;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const round2 = (x: number | null): number | null => (x === null ? null : Number(x.toFixed(2)));

/** Whether a result meets its targets (time and memory), or null without measurements. */
function targetMet(r: LoadResult): boolean | null {
  const ms = median(r.times);
  if (ms === null) return null;
  const peak = Math.max(...r.peakKiB) * 1024;
  const memoryOk = r.id === "L1" ? peak <= INSPECT_MAX_BYTES : r.id === "L2" ? peak <= EMBED_MAX_FILE_MULTIPLE * r.fileBytes : true;
  return ms <= TARGET_MS[r.id] && memoryOk;
}

/**
 * A result as a JSON line: the fields of the other workloads' lines (bench/report.ts ResultLine; the peak RSS in
 * `load_peak_rss_mib`), then the load checks' own: the CLI, the file size, peak RSS over it, and the targets.
 */
export function loadLine(r: LoadResult): Record<string, unknown> {
  const ms = median(r.times);
  const peakMiB = r.peakKiB.length > 0 ? Math.max(...r.peakKiB) / 1024 : null;
  return {
    system: "tsformer-cli", workload: r.id, threads: availableParallelism(), median_ms: round2(ms), gflops: null, dtype: "fp32", tokens_per_s: null,
    runs: r.times.length, min_ms: r.times.length ? round2(Math.min(...r.times)) : null, max_ms: r.times.length ? round2(Math.max(...r.times)) : null,
    load_peak_rss_mib: peakMiB === null ? null : Math.round(peakMiB), run_peak_rss_mib: null, max_abs_diff: null,
    title: TITLES[r.id], cli: r.cli, file_bytes: r.fileBytes || null,
    peak_rss_over_file: r.id !== "L2" || peakMiB === null || !r.fileBytes ? null : round2((peakMiB * 2 ** 20) / r.fileBytes),
    target_ms: TARGET_MS[r.id], target_met: targetMet(r), ...(r.error ? { skipped: r.error } : {}),
  };
}

/** The load checks as a markdown table, with their targets. */
export function loadText(results: LoadResult[]): string {
  const rows = ["| check | CLI | median ms | min–max ms | runs | peak RSS MiB | peak / file | target | met |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"];
  for (const r of results) {
    const l = loadLine(r);
    const memory = r.id === "L1" ? ", ≤ 100 MB" : r.id === "L2" ? `, peak ≤ ${EMBED_MAX_FILE_MULTIPLE} × file` : "";
    const met = l.target_met === null ? `not measured${r.error ? `: ${r.error}` : ""}` : l.target_met ? "yes" : "**no**";
    rows.push(`| ${r.id} ${TITLES[r.id]} | ${r.cli === DEFAULT_CLI ? "bin/tsformer.js" : r.cli} | ${l.median_ms ?? "—"} | ${l.min_ms ?? "—"}–${l.max_ms ?? "—"} | ${l.runs} | ${l.load_peak_rss_mib ?? "—"} | ${l.peak_rss_over_file ?? "—"} | ≤ ${TARGET_MS[r.id]} ms${memory} | ${met} |`);
  }
  const file = results.find((r) => r.fileBytes > 0)?.fileBytes;
  return `${file ? `Folder: ${(file / 1e6).toFixed(0)} MB of F32 weights, generated with random values (bench/bert-base-folder.ts). ` : ""}Each call is a fresh process; times include Node's start.\n\n${rows.join("\n")}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values: a } = parseArgs({ options: { runs: { type: "string", default: "5" }, quick: { type: "boolean", default: false }, json: { type: "boolean", default: false }, cli: { type: "string", multiple: true } } });
  const runs = Number(a.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${JSON.stringify(a.runs)}`);
  const results = runLoadBench({ checks: LOAD_CHECKS, runs, quick: a.quick, clis: a.cli?.map((c) => resolve(c)), log: (line) => void process.stderr.write(`[bench] ${line}\n`) });
  process.stdout.write(a.json ? results.map((r) => `${JSON.stringify(loadLine(r))}\n`).join("") : `${loadText(results)}\n`);
}
