/**
 * Step memory (src/tensor/memory.ts, src/backend/wasm/resident.ts): a training step's large arrays live in one
 * region of WASM memory that kernels write in place and the next step reuses. Training with it must give the same
 * bits as training without it, on 1 and 2 threads; the region must stop the memory from growing once it has its
 * size; and its arrays must be zeros, valid views of the backend's memory, and refused when the step outgrows it.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { getBackend, registerBackend, setBackend } from "../../src/backend/registry.ts";
import { type LoadedWasmBackend, loadWasmBackend } from "../../src/backend/wasm/index.ts";
import { EncoderClassifier } from "../../src/models/classifier.ts";
import { encoderConfig } from "../../src/nn/model.ts";
import { STEP_MEMORY_MIN_FLOATS, floats, withStepMemory } from "../../src/tensor/memory.ts";
import { Rng } from "../../src/tensor/random.ts";
import { indexTensor } from "../../src/tensor/tensor.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { evaluate } from "../../src/train/evaluate.ts";
import { crossEntropy } from "../../src/train/losses.ts";
import { AdamW } from "../../src/train/optim.ts";
import { THREAD_COUNTS, wasmWithThreads } from "../backend/wasm-helpers.ts";

/** Runs `fn` with `wasm` as the current backend, then restores the previous one. */
async function onBackend<T>(wasm: LoadedWasmBackend, fn: () => T): Promise<T> {
  registerBackend(wasm);
  const previous = getBackend().name;
  setBackend("wasm");
  try {
    return fn();
  } finally {
    setBackend(previous);
  }
}

/** Trains a small classifier (padding in half the rows, dropout on) for `steps` AdamW steps; returns losses and weights. */
function train(steps: number, stepMemory: boolean, memoryBytes?: () => number): { losses: number[]; weights: Float32Array[]; bytes: number[] } {
  const config = encoderConfig({ vocabSize: 300, dModel: 64, heads: 4, dFF: 128, numLayers: 2, maxPositions: 64, activation: "gelu", dropout: 0.1, positional: "learned" });
  const model = new EncoderClassifier({ encoder: config, pooling: "mean", labels: ["a", "b", "c"] }, new Rng(7)).train();
  const optimizer = new AdamW(model.namedParameters().map(([name, param]) => ({ name, param })), { lr: 1e-3, weightDecay: 0.01 });
  const [batch, n] = [16, 48];
  const data = new Rng(3);
  const ids = Int32Array.from({ length: batch * n }, (_, i) => (i % 2 === 1 && i % n > 36 ? 0 : 1 + data.int(299)));
  const mask = Uint8Array.from(ids, (id) => (id === 0 ? 0 : 1));
  const labels = indexTensor(Int32Array.from({ length: batch }, () => data.int(3)), [batch]);
  const losses: number[] = [];
  const bytes: number[] = [];
  const step = (): number => {
    const out = model.forward(indexTensor(ids, [batch, n]), { attentionMask: { shape: [batch, n], data: mask } });
    const loss = crossEntropy(out.logits, labels);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return loss.item();
  };
  for (let s = 0; s < steps; s++) {
    losses.push(stepMemory ? withStepMemory(step) : step());
    if (memoryBytes) bytes.push(memoryBytes());
  }
  return { losses, weights: model.parameters().map((p) => Float32Array.from(p.data)), bytes };
}

/** Bit patterns, so that equal means the same float32 bits. */
function bits(x: Float32Array): Uint32Array {
  return new Uint32Array(Float32Array.from(x).buffer);
}

for (const threads of THREAD_COUNTS) {
  test(`training in step memory gives the same bits as without it, on ${threads} thread(s), and stops the memory growing`, async () => {
    const wasm = await wasmWithThreads(threads);
    const plain = await onBackend(wasm, () => train(6, false));
    const stepped = await onBackend(wasm, () => train(12, true, () => wasm.memory.buffer.byteLength));
    assert.deepEqual(stepped.losses.slice(0, 6), plain.losses, "losses");
    const again = await onBackend(wasm, () => train(6, true));
    assert.deepEqual(again.losses, plain.losses, "losses of a second run in step memory");
    again.weights.forEach((w, i) => assert.deepEqual(bits(w), bits(plain.weights[i]), `parameter ${i} after 6 steps`));
    // steps 1–2 size the region; from then on each step reuses it, and the memory stays as it is
    assert.equal(stepped.bytes[11], stepped.bytes[3], `WASM memory after step 4: ${stepped.bytes[3]} bytes, after step 12: ${stepped.bytes[11]}`);
  });
}

for (const threads of THREAD_COUNTS) {
  test(`forward passes in step memory give the same bits as plain calls, on ${threads} thread(s), and evaluate() agrees`, async () => {
    const wasm = await wasmWithThreads(threads);
    await onBackend(wasm, () => {
      const config = encoderConfig({ vocabSize: 300, dModel: 64, heads: 4, dFF: 128, numLayers: 2, maxPositions: 64, activation: "gelu" });
      const model = new EncoderClassifier({ encoder: config, pooling: "mean", labels: ["a", "b"] }, new Rng(11)).eval();
      const [batch, n] = [12, 40];
      const data = new Rng(5);
      const ids = indexTensor(Int32Array.from({ length: batch * n }, (_, i) => (i % 3 === 0 && i % n > 30 ? 0 : 1 + data.int(299))), [batch, n]);
      const attentionMask = { shape: [batch, n], data: Uint8Array.from(ids.data, (id) => (id === 0 ? 0 : 1)) };
      const plain = noGrad(() => model.forward(ids, { attentionMask })).lastHiddenState.data;
      for (let pass = 0; pass < 3; pass++) { // the first pass only sizes the region; the next ones run in it
        const scoped = withStepMemory(() => noGrad(() => model.forward(ids, { attentionMask })).lastHiddenState.data.slice());
        assert.deepEqual(bits(scoped), bits(plain), `forward pass ${pass + 1}`);
      }
      const examples = Array.from({ length: 40 }, (_, i) => ({ ids: Array.from({ length: 5 + (i % 9) }, (_, j) => 1 + ((i * 31 + j * 7) % 299)), label: i % 2 }));
      const viaEvaluate = evaluate(model, examples, 8);
      const byHand = noGrad(() => examples.map((e) => {
        const logits = model.forward(indexTensor(Int32Array.from(e.ids), [1, e.ids.length])).logits.data;
        return (logits[1] > logits[0] ? 1 : 0) === e.label ? 1 : 0;
      })).reduce((p: number, q: number) => p + q, 0);
      assert.equal(viaEvaluate.accuracy, byHand / examples.length, "evaluate (batches in step memory) counts what one-by-one forward passes predict");
    });
  });
}

test("step arrays: zeros in the backend's memory, reused by the next step, refused outside a step or past the region", async () => {
  const wasm = await loadWasmBackend({ threads: 1 }); // a fresh one: its step region is empty
  after(() => wasm.dispose());
  await onBackend(wasm, () => {
    const n = STEP_MEMORY_MIN_FLOATS;
    assert.equal(wasm.stepArray(n), null, "outside a step");
    assert.notEqual(floats(n).buffer, wasm.memory.buffer, "floats() outside a step is an ordinary array");
    withStepMemory(() => assert.equal(wasm.stepArray(n), null, "the first step has no region yet: it only measures"));
    const first = withStepMemory(() => {
      const a = floats(n);
      assert.equal(a.buffer, wasm.memory.buffer, "a step array is a view of WASM memory");
      assert.ok(a.every((x) => x === 0), "zeros");
      a.fill(5);
      assert.notEqual(floats(100).buffer, wasm.memory.buffer, "small results stay ordinary arrays");
      return a.byteOffset;
    });
    withStepMemory(() => {
      const a = floats(n);
      assert.equal(a.byteOffset, first, "the next step reuses the same bytes");
      assert.ok(a.every((x) => x === 0), "zeros again, not the last step's values");
      assert.equal(wasm.stepArray(100 * n), null, "more than the region holds: the caller allocates");
    });
    const bigger = withStepMemory(() => wasm.stepArray(100 * n));
    assert.ok(bigger !== null && bigger.length === 100 * n, "the region grew to what the last step asked for");
    withStepMemory(() => {
      const outer = floats(n);
      withStepMemory(() => floats(n));
      assert.notEqual(floats(n).byteOffset, outer.byteOffset, "a nested step does not release the outer one's arrays");
    });
  });
  assert.throws(() => wasm.closeStepMemory(), /without openStepMemory/);
});
