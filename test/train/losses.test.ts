/** Losses, optimizers, schedules and clipping against their formulas. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng, Tensor, indexTensor, tensor } from "../../src/tensor/index.ts";
import { crossEntropy, mseLoss } from "../../src/train/losses.ts";
import { Adam, AdamW, SGD, clipGradNorm, decaysByDefault } from "../../src/train/optim.ts";
import { noamSchedule, warmupDecaySchedule } from "../../src/train/schedule.ts";
import { gradCheck, randomTensor } from "../helpers.ts";

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("cross-entropy: value, label smoothing, ignore index and gradient", () => {
  const logits = tensor([1, 2, 3, 0, 0, 0], [2, 3]);
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  const nll0 = lse - 1;
  const nll1 = Math.log(3);
  close(crossEntropy(logits, indexTensor([0, 2], [2])).item(), (nll0 + nll1) / 2);
  // label smoothing ε: (1 − ε)·nll + ε·mean_c(−log p_c)  (PyTorch's definition)
  const eps = 0.1;
  const mean0 = (3 * lse - 6) / 3;
  const mean1 = Math.log(3);
  close(crossEntropy(logits, indexTensor([0, 2], [2]), { labelSmoothing: eps }).item(), ((1 - eps) * nll0 + eps * mean0 + (1 - eps) * nll1 + eps * mean1) / 2);
  close(crossEntropy(logits, indexTensor([0, -100], [2])).item(), nll0);
  assert.equal(crossEntropy(logits, indexTensor([-100, -100], [2])).item(), 0);
  assert.throws(() => crossEntropy(logits, indexTensor([0, 3], [2])), /target 3 of row 1 is not a class in 0…2/);
  const x = randomTensor([4, 5], new Rng(1));
  const targets = indexTensor([1, 4, -100, 0], [4]);
  gradCheck("crossEntropy", (l) => crossEntropy(l, targets, { labelSmoothing: 0.2 }), [x]);
  close(mseLoss(tensor([1, 2]), tensor([0, 4])).item(), 2.5);
});

function param(values: number[], grad: number[]): Tensor {
  const p = tensor(values).requireGrad();
  p.grad = tensor(grad);
  return p;
}

test("SGD with momentum follows PyTorch's update", () => {
  const p = param([1, -1], [0.5, -2]);
  const opt = new SGD([{ name: "w", param: p }], { lr: 0.1, momentum: 0.9 });
  opt.step(); // v = g; p −= lr·v
  close(p.data[0], 1 - 0.05);
  p.grad = tensor([0.5, -2]);
  opt.step(); // v = 0.9·g + g
  close(p.data[0], 1 - 0.05 - 0.1 * 0.95);
});

test("Adam's first step moves by lr·sign(g); AdamW decays decoupled, except biases and norms", () => {
  const w = param([2, -3], [0.1, -40]);
  new Adam([{ name: "w", param: w }], { lr: 0.01 }).step();
  close(w.data[0], 2 - 0.01, 1e-6);
  close(w.data[1], -3 + 0.01, 1e-6);
  const weight = param([2], [0.5]);
  const bias = param([2], [0.5]);
  const opt = new AdamW([{ name: "layer.weight", param: weight }, { name: "layer.bias", param: bias }], { lr: 0.01, weightDecay: 0.1 });
  opt.step();
  close(weight.data[0], 2 * (1 - 0.01 * 0.1) - 0.01, 1e-6);
  close(bias.data[0], 2 - 0.01, 1e-6);
  assert.equal(decaysByDefault("encoder.layers.0.norm1.weight"), false);
  assert.equal(decaysByDefault("embedding_norm.weight"), false);
  assert.equal(decaysByDefault("encoder.layers.0.ffn.linear1.weight"), true);
  // state round trip: a restored optimizer takes the same next step
  const a = param([1, 1], [0.3, -0.2]);
  const b = param([1, 1], [0.3, -0.2]);
  const optA = new AdamW([{ name: "w", param: a }], { lr: 0.01 });
  optA.step();
  const optB = new AdamW([{ name: "w", param: b }], { lr: 0.01 });
  b.data.set(a.data);
  optB.loadStateDict(optA.stateDict(), optA.stepCount);
  a.grad = tensor([0.1, 0.4]);
  b.grad = tensor([0.1, 0.4]);
  optA.step();
  optB.step();
  assert.deepEqual([...a.data], [...b.data]);
});

test("global-norm clipping scales all gradients together", () => {
  const a = param([0], [3]);
  const b = param([0, 0], [0, 4]);
  assert.equal(clipGradNorm([a, b], 1), 5);
  close(a.grad!.data[0], 0.6, 1e-5);
  close(b.grad!.data[1], 0.8, 1e-5);
  close(clipGradNorm([a, b], 10), 1, 1e-5); // under the limit: reported, nothing changed
  close(a.grad!.data[0], 0.6, 1e-5);
});

test("schedules: the paper's warmup, linear and cosine decay", () => {
  const noam = noamSchedule(512, 4000);
  close(noam(4000), 512 ** -0.5 * 4000 ** -0.5, 1e-12);
  assert.ok(noam(2000) < noam(4000) && noam(8000) < noam(4000));
  close(noam(16000), 512 ** -0.5 * 16000 ** -0.5, 1e-12);
  const linear = warmupDecaySchedule({ peak: 1, warmup: 10, total: 110, decay: "linear" });
  close(linear(5), 0.5);
  close(linear(10), 1);
  close(linear(60), 0.5);
  close(linear(110), 0);
  const cosine = warmupDecaySchedule({ peak: 1, warmup: 0, total: 100, decay: "cosine", minLr: 0.1 });
  close(cosine(50), 0.55);
  close(cosine(100), 0.1);
});
