/**
 * The memory checks (issue 5 item 6), each run in a child process of its own so its peak RSS is its own:
 *   reuse          1,000 forward calls of a small model on the wasm backend; WASM memory must not grow after the first
 *   long-sequence  W1's model on one 4,096-token sequence (fused online-softmax attention, no probabilities asked):
 *                  time, peak RSS, and WASM memory growth against the n×n×heads×4 bytes the scores would need
 */
import { noGrad } from "../src/tensor/autograd.ts";
import { indexTensor } from "../src/tensor/tensor.ts";
import { type MemoryResult, type MemoryTask, peakRssMiB, resetPeakRss } from "./protocol.ts";
import { median } from "./report.ts";
import { benchModel, useTsformerBackend } from "./runners/tsformer.ts";
import { type EncoderShape, encoderForwardFlops, encoderInputs, workloads } from "./workloads.ts";

/** The small model of the reuse check. */
export function reuseShape(quick: boolean): EncoderShape {
  return { layers: 2, dModel: quick ? 32 : 64, heads: 4, dFF: quick ? 64 : 256, vocab: 1000, batch: 4, seq: 32, activation: "gelu", padded: true };
}

/** W1's model on a batch of one `seq`-token sequence (the quick W1's model in quick mode). */
export function longShape(seq: number, quick: boolean): EncoderShape {
  const w1 = workloads(quick)[0].shape as EncoderShape;
  return { ...w1, batch: 1, seq, padded: false };
}

/** Runs one memory check on the wasm backend and reports it. */
export async function runMemoryCheck(task: MemoryTask): Promise<MemoryResult> {
  const wasm = await useTsformerBackend({ system: "tsformer-wasm", threads: task.threads });
  if (!wasm) throw new Error("the memory checks need the wasm backend");
  const bytes = (): number => wasm.memory.buffer.byteLength;
  if (task.kind === "reuse") {
    const s = reuseShape(task.quick);
    const model = benchModel(s);
    const inputs = encoderInputs(s);
    const ids = indexTensor(inputs.ids, [s.batch, s.seq]);
    const attentionMask = { shape: [s.batch, s.seq], data: inputs.mask };
    const call = (): number => {
      const t = performance.now();
      noGrad(() => model.forward(ids, { attentionMask }));
      return performance.now() - t;
    };
    call(); // the first call sizes the arena
    const before = bytes();
    const times = Array.from({ length: task.calls - 1 }, call);
    return {
      check: "reuse", threads: wasm.threads, ms: median(times) ?? Number.NaN, calls: task.calls, seq: s.seq,
      wasmBytesBefore: before, wasmBytesAfter: bytes(), scoresBytes: s.batch * s.heads * s.seq ** 2 * 4,
      peakRssMiB: peakRssMiB(), rssBeforeMiB: 0, flops: encoderForwardFlops(s),
    };
  }
  const s = longShape(task.seq, task.quick);
  const model = benchModel(s, task.seq);
  // Warm-up on a short sequence: compiles and tiers up the kernels without sizing the arena for the long call.
  const short = { ...s, seq: 128 };
  noGrad(() => model.forward(indexTensor(encoderInputs(short).ids, [1, short.seq])));
  const inputs = encoderInputs(s);
  const ids = indexTensor(inputs.ids, [1, s.seq]);
  const before = bytes();
  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  resetPeakRss(); // the peak that follows is the long call's own
  const t = performance.now();
  noGrad(() => model.forward(ids, { attentionMask: { shape: [1, s.seq], data: inputs.mask } }));
  const ms = performance.now() - t;
  return {
    check: "long-sequence", threads: wasm.threads, ms, calls: 1, seq: s.seq, wasmBytesBefore: before, wasmBytesAfter: bytes(),
    scoresBytes: s.heads * s.seq ** 2 * 4, peakRssMiB: peakRssMiB(), rssBeforeMiB: rssBefore, flops: encoderForwardFlops(s),
  };
}
