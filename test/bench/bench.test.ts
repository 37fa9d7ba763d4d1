/**
 * The benchmark's code, never its timings: the FLOP formulas, the report's helpers, and `--quick --json` on tiny
 * sizes printing one well-formed line per (system, workload) with outputs that agree across systems — PyTorch's
 * included where `python3` imports torch, and the peers of bench/package.json (onnxruntime-node, TensorFlow.js)
 * where the first `npm run bench` has installed them; otherwise their lines say why they were skipped.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parsePeerLine } from "../../bench/orchestrate.ts";
import { findTorch } from "../../bench/peers/pytorch.ts";
import { maxAbsDiff, median, tolerance } from "../../bench/report.ts";
import { type Workload, type WorkloadId, bertTrainStepFlops, encoderForwardFlops, gemmFlops, rowLengths, tokensPerSecond, workloads } from "../../bench/workloads.ts";

const byId = (list: Workload[], id: WorkloadId): Workload => {
  const w = list.find((x) => x.id === id);
  assert.ok(w, `workload ${id} missing`);
  return w;
};

test("FLOP formulas: 2mnk for a product; per encoder layer 8Td² + 4Td·d_ff + 4·batch·n²·d; a training step 3× plus the head", () => {
  assert.equal(gemmFlops({ m: 1024, n: 1024, k: 1024 }), 2 * 1024 ** 3);
  assert.equal(gemmFlops({ m: 2, n: 3, k: 5 }), 60);
  // One layer, d 2, d_ff 3, batch 1 × 2 tokens, counted product by product: Q, K, V, O are 2×2 · 2×2 (4 × 2·2·2·2),
  // the FFN 2×2 · 2×3 and 2×3 · 3×2 (2 × 2·2·2·3), Q·Kᵀ and P·V 2×2 · 2×2 (2 × 2·2·2·2).
  assert.equal(encoderForwardFlops({ layers: 1, dModel: 2, dFF: 3, batch: 1, seq: 2 }), 4 * 16 + 2 * 24 + 2 * 16);
  const all = workloads(false);
  const [w1, w2, w3, k1] = (["W1", "W2", "W3", "K1"] as const).map((id) => byId(all, id));
  // W1 = 6 × (8·1024·384² + 4·1024·384·1536 + 4·8·128²·384) = 22.95 GFLOP; W2 (BERT-base, one 128-token row) = 22.35 GFLOP.
  assert.equal(w1.flops, 6 * (8 * 1024 * 384 ** 2 + 4 * 1024 * 384 * 1536 + 4 * 8 * 128 ** 2 * 384));
  assert.equal(Math.round(w1.flops / 1e7), 2295);
  assert.equal(Math.round(w2.flops / 1e7), 2235);
  assert.equal(w3.kind, "train");
  if (w3.kind === "train") assert.equal(w3.flops, 3 * encoderForwardFlops(w3.shape) + 6 * 32 * 128 * 2);
  assert.equal(k1.flops, 2 * 1024 ** 3);
  // W1's padding: the last 25 % of positions in every other row.
  assert.deepEqual(rowLengths(w1.shape as Parameters<typeof rowLengths>[0]), [128, 96, 128, 96, 128, 96, 128, 96]);
});

test("W4 and W4-tiny: MiniLM's and BERT-tiny's shapes, padded batches, a BERT step's FLOPs (pooler and classifier included)", () => {
  const all = workloads(false);
  const w4 = byId(all, "W4");
  const tiny = byId(all, "W4-tiny");
  assert.ok(w4.kind === "bert-train" && tiny.kind === "bert-train");
  assert.deepEqual(
    { layers: w4.shape.layers, d: w4.shape.dModel, heads: w4.shape.heads, ff: w4.shape.dFF, vocab: w4.shape.vocab, batch: w4.shape.batch, seq: w4.shape.seq },
    { layers: 6, d: 384, heads: 12, ff: 1536, vocab: 30522, batch: 16, seq: 64 },
  );
  assert.deepEqual(
    { layers: tiny.shape.layers, d: tiny.shape.dModel, heads: tiny.shape.heads, ff: tiny.shape.dFF, vocab: tiny.shape.vocab, batch: tiny.shape.batch, seq: tiny.shape.seq },
    { layers: 2, d: 128, heads: 2, ff: 512, vocab: 30522, batch: 32, seq: 64 },
  );
  assert.deepEqual([w4.dropout, w4.weightDecay, w4.labels], [0.1, 0.01, 2]);
  assert.ok(w4.shape.padded && rowLengths(w4.shape).includes(48), "W4's batch has padding");
  // 3 × (the encoder's forward + the pooler's 2·16·384² + the classifier's 2·16·384·2) ≈ 67.1 GFLOP per step.
  assert.equal(w4.flops, 3 * (encoderForwardFlops(w4.shape) + 2 * 16 * 384 ** 2 + 2 * 16 * 384 * 2));
  assert.equal(bertTrainStepFlops(w4.shape, 2), w4.flops);
  assert.equal(Math.round(w4.flops / 1e8), 671);
  assert.equal(tokensPerSecond({ batch: 16, seq: 64 }, 500), 2048);
  assert.ok(workloads(true).some((w) => w.id === "W4" && w.shape.vocab < 1000), "--quick shrinks W4");
});

test("the PyTorch peer's JSON lines: messages as the Node children's, output arrays as Float32Array, NaN as null", () => {
  assert.deepEqual(parsePeerLine('{"type":"ran","ms":12.5}'), { type: "ran", ms: 12.5 });
  const out = parsePeerLine('{"type":"output","data":[0.5,null,-1]}');
  assert.ok(out?.type === "output" && out.data instanceof Float32Array);
  assert.deepEqual([...out.data], [0.5, Number.NaN, -1]);
  assert.equal(parsePeerLine("some library's chatter"), null);
  assert.equal(parsePeerLine("[1, 2]"), null);
});

test("report helpers: median, differences over the common length, tolerances", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), null);
  assert.equal(maxAbsDiff(Float32Array.of(1, 2, 3), Float32Array.of(1, 2.5)), 0.5);
  assert.ok(Number.isNaN(maxAbsDiff(Float32Array.of(), Float32Array.of(1))));
  assert.ok(tolerance("K1") > 0 && tolerance("W1") > 0);
});

/** The packages of bench/package.json each peer system loads, installed into bench/node_modules by `npm run bench`. */
const PEER_PACKAGES: Record<string, string[]> = {
  "onnxruntime-node": ["onnxruntime-node"],
  "tfjs-wasm": ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"],
  "tfjs-cpu": ["@tensorflow/tfjs"],
};
/** The packages a system needs that bench/node_modules lacks (none for tsformer, onnxruntime-web and PyTorch). */
const missingPackages = (system: string): string[] =>
  (PEER_PACKAGES[system] ?? []).filter((name) => !existsSync(join("bench", "node_modules", name, "package.json")));
const missingPeers = [...new Set(Object.keys(PEER_PACKAGES).flatMap(missingPackages))];

type Line = Record<string, unknown>;
let quickLines: Line[] | null = null;
/** `--quick --json`'s lines, from one run shared by the tests below. */
function quickRun(): Line[] {
  if (quickLines) return quickLines;
  const r = spawnSync(process.execPath, ["--import", "tsx", "bench/main.ts", "--quick", "--json"], { encoding: "utf8", timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  quickLines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Line);
  return quickLines;
}
const RESULT_WORKLOADS = ["W1", "W2", "W3", "W4", "W4-tiny", "K1"];
/** "workload system" for every line a quick run must print, run or skipped. */
const EXPECTED_LINES = [
  ...["W1", "W2"].flatMap((w) => ["tsformer-wasm", "onnxruntime-node", "onnxruntime-web", "tfjs-wasm", "tsformer-wasm-int8", "onnxruntime-web-int8"].map((s) => `${w} ${s}`)),
  ...["tsformer-wasm", "tfjs-wasm", "tfjs-cpu"].map((s) => `W3 ${s}`),
  ...["W4", "W4-tiny"].flatMap((w) => ["tsformer-wasm", "tfjs-wasm", "pytorch"].map((s) => `${w} ${s}`)),
  ...["tsformer-wasm", "tsformer-reference", "onnxruntime-node", "onnxruntime-web", "tfjs-wasm", "tfjs-cpu"].map((s) => `K1 ${s}`),
];
const isPeer = (l: Line): boolean => (l.system as string) in PEER_PACKAGES;

/** A result line of a system that ran: timed runs, tokens/s (not on K1), outputs within the workload's tolerance. */
function assertRan(l: Line): void {
  if (l.workload === "K1") assert.equal(l.tokens_per_s, null);
  else assert.ok(typeof l.tokens_per_s === "number" && l.tokens_per_s > 0, `${l.workload} ${l.system}: tokens/s ${String(l.tokens_per_s)}`);
  assert.equal(l.skipped, undefined, `${l.workload} ${l.system}: ${String(l.skipped)}`);
  assert.ok((l.runs as number) >= 5);
  assert.equal(typeof l.median_ms, "number");
  assert.ok(typeof l.max_abs_diff === "number" && l.max_abs_diff <= tolerance(l.workload as "W1", l.dtype as "fp32"), `${l.workload} ${l.system}: outputs differ by ${String(l.max_abs_diff)}`);
}

test("npm run bench -- --quick --json: one well-formed line per system and workload, outputs agree, WASM memory reused", () => {
  const lines = quickRun();
  const torch = findTorch();
  // Without torch, PyTorch's W4 lines say why they have no times; without bench/node_modules, so do the peers' lines.
  const skippedTorch = (l: Line): boolean => !torch.found && l.system === "pytorch";
  const results = lines.filter((l) => RESULT_WORKLOADS.includes(l.workload as string));
  for (const l of lines) {
    assert.equal(typeof l.system, "string");
    assert.equal(typeof l.threads, "number");
    assert.equal(l.dtype, String(l.system).endsWith("-int8") ? "int8" : "fp32", JSON.stringify(l));
    assert.ok(l.gflops === null || typeof l.gflops === "number", JSON.stringify(l));
    assert.ok(l.median_ms === null || (typeof l.median_ms === "number" && l.median_ms >= 0), JSON.stringify(l));
  }
  const seen = new Set(results.map((l) => `${l.workload} ${l.system}`));
  for (const pair of EXPECTED_LINES) assert.ok(seen.has(pair), `${pair} missing`);
  for (const l of results.filter(skippedTorch)) {
    assert.equal(l.median_ms, null);
    assert.match(String(l.skipped), /torch/);
  }
  const peerMissing = (l: Line): boolean => missingPackages(l.system as string).length > 0;
  for (const l of results.filter(peerMissing)) {
    assert.equal(l.median_ms, null, `${l.workload} ${l.system} ran without its package`);
    const named = missingPackages(l.system as string).some((name) => String(l.skipped).includes(`Cannot find package '${name}'`));
    assert.ok(named, `${l.workload} ${l.system}: skipped for ${String(l.skipped)}, not for its missing package`);
  }
  for (const l of results.filter((x) => !skippedTorch(x) && !isPeer(x))) assertRan(l);
  const m1 = lines.find((l) => l.workload === "M1");
  const m2 = lines.find((l) => l.workload === "M2");
  assert.ok(m1 && m2, "memory checks missing");
  assert.equal(m1.calls, 1000);
  assert.equal(m1.wasm_bytes_after, m1.wasm_bytes_before, "WASM memory grew over the 1,000 calls");
  const added = Math.max((m2.wasm_bytes_after as number) - (m2.wasm_bytes_before as number), ((m2.peak_rss_mib as number) - (m2.rss_before_mib as number)) * 2 ** 20);
  assert.ok(added < (m2.scores_bytes as number), `the long sequence added ${added} bytes, as much as its n×n scores`);
});

const peersSkip = missingPeers.length === 0 ? false
  : `benchmark peers not installed (${missingPeers.join(", ")} missing from bench/node_modules): run \`npm run bench\` once, or \`node bench/ensure-peers.mjs\`, to install them`;
test("npm run bench -- --quick --json: onnxruntime-node and TensorFlow.js ran every workload they run, outputs agree", { skip: peersSkip }, () => {
  const lines = quickRun();
  for (const pair of EXPECTED_LINES.filter((p) => p.split(" ")[1] in PEER_PACKAGES)) {
    const line = lines.find((l) => `${l.workload} ${l.system}` === pair);
    assert.ok(line, `${pair} missing`);
    assertRan(line);
  }
});
