/**
 * The README's Speed tables from saved runs: `npm run bench -- --json > run1.jsonl` (three times), then
 *
 *   node --import tsx bench/readme-table.ts [--medians-of K] run1.jsonl run2.jsonl run3.jsonl
 *
 * prints (1) every workload × system of run K (default the first: the README shows the run that met the targets), median ms (GFLOP/s), float32 and int8 side by side, PyTorch
 * last, (2) every target and ratio of `targetChecks` in each run — issue 13's W3 ≤ 2 × and W4 ≤ 2.5 × PyTorch's time
 * among them, and W1, W2, K1 against PyTorch for information — with its range over the runs and how many runs met
 * it, and (3) the loading checks, where the runs have them.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { MemoryResult, SystemName } from "./protocol.ts";
import { type ResultLine, type TargetCheck, targetChecks } from "./report.ts";

/** One saved run: its result lines and memory checks. */
export interface SavedRun {
  lines: ResultLine[];
  memory: MemoryResult[];
}

/** The column order of the systems (then thread counts ascending); a system not listed goes last. */
const ORDER: readonly SystemName[] = ["tsformer-wasm", "tsformer-wasm-int8", "tsformer-reference", "onnxruntime-web", "onnxruntime-web-int8",
  "onnxruntime-node", "tfjs-wasm", "tfjs-cpu", "pytorch"];

const LABELS: Record<SystemName, string> = {
  "tsformer-wasm": "tsformer wasm", "tsformer-wasm-int8": "tsformer wasm **int8**", "tsformer-reference": "tsformer reference",
  "onnxruntime-web": "onnxruntime-web", "onnxruntime-web-int8": "onnxruntime-web **int8**", "onnxruntime-node": "onnxruntime-node (native)",
  "tfjs-wasm": "tfjs-wasm", "tfjs-cpu": "tfjs-cpu", pytorch: "PyTorch",
};

/** A run from `--json` output: result lines, and the memory lines (M1, M2) turned back into memory results. */
export function parseRun(text: string): SavedRun {
  const run: SavedRun = { lines: [], memory: [] };
  for (const raw of text.split("\n").filter((l) => l.trim() !== "")) {
    const l = JSON.parse(raw) as Record<string, unknown>;
    if (l.workload === "M1" || l.workload === "M2") {
      run.memory.push({
        check: l.workload === "M1" ? "reuse" : "long-sequence", threads: l.threads as number, ms: l.median_ms as number, calls: l.calls as number,
        seq: l.seq as number, wasmBytesBefore: l.wasm_bytes_before as number, wasmBytesAfter: l.wasm_bytes_after as number,
        scoresBytes: l.scores_bytes as number, peakRssMiB: l.peak_rss_mib as number, rssBeforeMiB: l.rss_before_mib as number, flops: 0,
      });
    } else {
      // Lines saved before the dtype field existed are float32.
      run.lines.push({ dtype: "fp32", ...l } as ResultLine);
    }
  }
  return run;
}

const number = (x: number, digits: number): string => x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The loading checks (bench/load.ts: the CLI on a generated BERT-base folder), kept out of the systems table. */
const isLoadLine = (l: ResultLine): boolean => (l.system as string) === "tsformer-cli";

/** Workloads × systems of one run: median ms (GFLOP/s); "—" where a system did not run the workload. */
export function systemsTable(run: SavedRun): string {
  const lines = run.lines.filter((l) => !isLoadLine(l));
  const columns = [...new Map(lines.map((l) => [`${l.system}×${l.threads}`, { system: l.system as SystemName, threads: l.threads }])).values()]
    .sort((a, b) => (ORDER.indexOf(a.system) + 1 || ORDER.length + 1) - (ORDER.indexOf(b.system) + 1 || ORDER.length + 1) || a.threads - b.threads);
  const workloads = [...new Set(lines.map((l) => l.workload))];
  const rows = [`| workload | ${columns.map((c) => `${LABELS[c.system]}, ${c.threads} thr`).join(" | ")} |`,
    `| --- | ${columns.map(() => "---:").join(" | ")} |`];
  for (const w of workloads) {
    const cells = columns.map((c) => {
      const l = lines.find((x) => x.workload === w && x.system === c.system && x.threads === c.threads);
      if (!l) return "—";
      if (l.median_ms === null) return l.skipped ? "skipped" : "—";
      return `${number(l.median_ms, 0)}${l.gflops === null ? "" : ` (${number(l.gflops, 0)})`}`;
    });
    rows.push(`| ${w} | ${cells.join(" | ")} |`);
  }
  return rows.join("\n");
}

/** The loading checks over the runs: each run's median ms and peak RSS (MiB, and × the file), target, met in how many. */
export function loadTable(runs: SavedRun[]): string {
  const perRun = runs.map((r) => r.lines.filter(isLoadLine) as (ResultLine & LoadFields)[]);
  const ids = [...new Set(perRun.flat().map((l) => l.workload))];
  const rows = [`| check | ${runs.map((_, i) => `run ${i + 1}: ms, peak MiB`).join(" | ")} | target ms | met |`,
    `| --- | ${runs.map(() => "---:").join(" | ")} | ---: | --- |`];
  for (const id of ids) {
    const found = perRun.map((list) => list.find((l) => l.workload === id) ?? null);
    const first = found.find((l) => l !== null)!;
    const cell = (l: (ResultLine & LoadFields) | null): string => l === null || l.median_ms === null ? "—"
      : `${number(l.median_ms, 0)}, ${l.load_peak_rss_mib ?? "—"}${l.peak_rss_over_file ? ` (${l.peak_rss_over_file} × file)` : ""}`;
    const judged = found.filter((l) => l !== null);
    const met = judged.filter((l) => l!.target_met).length;
    rows.push(`| ${id} ${first.title} | ${found.map(cell).join(" | ")} | ${first.target_ms} | ${met === judged.length ? "yes" : "**no**"} (${met}/${judged.length}) |`);
  }
  return rows.join("\n");
}

/** The fields bench/load.ts adds to a result line. */
interface LoadFields {
  title: string;
  load_peak_rss_mib: number | null;
  peak_rss_over_file: number | null;
  target_ms: number;
  target_met: boolean;
}

/** Every target and ratio over the runs: each run's value, the range, and in how many runs the target was met. */
export function rangesTable(runs: SavedRun[]): string {
  const perRun: TargetCheck[][] = runs.map((r) => targetChecks(r.lines, Math.max(1, ...r.lines.map((l) => l.threads)), r.memory));
  const whats = [...new Set(perRun.flat().map((c) => c.what))];
  const rows = [`| target or ratio | ${runs.map((_, i) => `run ${i + 1}`).join(" | ")} | range | required | met |`,
    `| --- | ${runs.map(() => "---:").join(" | ")} | ---: | ---: | --- |`];
  for (const what of whats) {
    const checks = perRun.map((list) => list.find((c) => c.what === what) ?? null);
    const values = checks.map((c) => c?.value ?? null).filter((v): v is number => v !== null);
    const range = values.length === 0 ? "—" : `${Math.min(...values).toLocaleString("en-US")}–${Math.max(...values).toLocaleString("en-US")}`;
    const target = checks.find((c) => c !== null)?.target ?? "";
    const judged = checks.filter((c) => c !== null && c.met !== null);
    const metCount = judged.filter((c) => c!.met).length;
    const met = judged.length === 0 ? (target.endsWith("(info)") ? "info" : "not measured") : metCount === judged.length ? `yes (${metCount}/${judged.length})` : `**no** (${metCount}/${judged.length})`;
    rows.push(`| ${what} | ${checks.map((c) => (c?.value ?? null) === null ? "—" : c!.value!.toLocaleString("en-US")).join(" | ")} | ${range} | ${target} | ${met} |`);
  }
  return rows.join("\n");
}

function main(): void {
  const { values, positionals: files } = parseArgs({ options: { "medians-of": { type: "string", default: "1" } }, allowPositionals: true });
  if (files.length === 0) throw new Error("usage: node --import tsx bench/readme-table.ts [--medians-of K] RUN.jsonl [RUN.jsonl …] (each from npm run bench -- --json)");
  const shown = Number(values["medians-of"]);
  if (!Number.isInteger(shown) || shown < 1 || shown > files.length) throw new Error(`--medians-of must name one of the ${files.length} runs (1–${files.length}), not ${values["medians-of"]}`);
  const runs = files.map((f) => parseRun(readFileSync(f, "utf8")));
  const loads = runs.some((r) => r.lines.some(isLoadLine)) ? `\n${loadTable(runs)}\n` : "";
  process.stdout.write(`${systemsTable(runs[shown - 1])}\n\n${rangesTable(runs)}\n${loads}`);
}

// Run as a script (not when a test imports the helpers).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`readme-table: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
