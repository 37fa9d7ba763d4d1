/**
 * Adversarial training on the word embeddings (src/train/adversarial.ts): the perturbation has the documented size
 * and direction, the gradients equal those of the objective built from scratch, and a run with it learns and
 * resumes like any other.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../../src/errors.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import { maskFromLengths } from "../../src/nn/masks.ts";
import { Rng } from "../../src/tensor/random.ts";
import { add } from "../../src/tensor/ops/elementwise.ts";
import { embedding as gather } from "../../src/tensor/ops/nn.ts";
import { type Tensor, Tensor as TensorClass, indexTensor } from "../../src/tensor/tensor.ts";
import { adversarialLoss, adversarialPerturbation } from "../../src/train/adversarial.ts";
import { resolveTrainConfig } from "../../src/train/config.ts";
import { crossEntropy } from "../../src/train/losses.ts";
import { train } from "../../src/train/trainer.ts";
import { BERT_SEQCLS } from "./fine-tune-task.ts";
import { lossesOf, tinyConfig } from "./tiny.ts";

const tmp = (): string => mkdtempSync(join(tmpdir(), "tsformer-adv-"));

const norm = (v: ArrayLike<number>, from: number, to: number): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += v[i] * v[i];
  return Math.sqrt(s);
};

test("the perturbation is ε·‖e‖ long per sequence, points along the gradient, and leaves padding and zero-gradient sequences alone", () => {
  const rng = new Rng(7);
  const [batch, n, d] = [3, 5, 4];
  const e = Float32Array.from({ length: batch * n * d }, () => rng.normal());
  const g = Float32Array.from({ length: batch * n * d }, () => rng.normal());
  g.fill(0, 2 * n * d); // the third sequence has no gradient
  const mask = maskFromLengths([5, 3, 4], n);
  const epsilon = 0.25;
  const r = adversarialPerturbation(e, g, [batch, n, d], mask, epsilon);
  for (const [b, length] of [[0, 5], [1, 3]]) {
    const start = b * n * d;
    const realEnd = start + length * d;
    assert.ok(Math.abs(norm(r, start, realEnd) - epsilon * norm(e, start, realEnd)) < 1e-5, `sequence ${b}: ‖r‖ = ε‖e‖`);
    const ratio = r[start] / g[start];
    for (let i = start; i < realEnd; i++) assert.ok(Math.abs(r[i] - ratio * g[i]) < 1e-5, `sequence ${b}: r ∥ g at ${i}`);
    assert.ok(ratio > 0, "r points up the gradient");
    for (let i = realEnd; i < start + n * d; i++) assert.equal(r[i], 0, `sequence ${b}: padding row untouched at ${i}`);
  }
  assert.ok(r.subarray(2 * n * d).every((v) => v === 0), "a sequence with zero gradient is not moved");
});

test("adversarial gradients equal those of L(e) + L(e + r_adv) built from scratch, and the perturbed loss is higher", async () => {
  const { model } = await loadBert(BERT_SEQCLS);
  model.eval(); // no dropout: both computations must see the same function
  const vocab = model.embedding.weight.shape[0];
  const rng = new Rng(3);
  const n = 6;
  const ids = indexTensor(Array.from({ length: 2 * n }, () => 1 + rng.int(vocab - 1)), [2, n]);
  const attentionMask = maskFromLengths([6, 4], n);
  const labels = indexTensor([1, 0], [2]);
  const lossOf = (logits: Tensor): Tensor => crossEntropy(logits, labels);
  const grads = (): Float32Array[] => model.parameters().map((p) => Float32Array.from(p.grad?.data ?? new Float32Array(p.size)));
  const zero = (): void => model.parameters().forEach((p) => (p.grad = null));
  const logitsOf = (wordEmbeddings: Tensor): Tensor => model.forward(ids, { attentionMask, wordEmbeddings }).logits!;
  const epsilon = 0.05;

  zero();
  const { clean, perturbed: perturbedViaModule } = adversarialLoss(model, ids, attentionMask, epsilon, lossOf);
  perturbedViaModule.backward(); // the training loop's order: the clean pass is already backpropagated
  const viaModule = grads();

  zero();
  const e = gather(model.embedding.weight, ids).retainGrad();
  const cleanAgain = lossOf(logitsOf(e));
  cleanAgain.backward();
  const r = new TensorClass(adversarialPerturbation(e.data, e.grad!.data, e.shape, attentionMask, epsilon), e.shape);
  zero();
  const e2 = gather(model.embedding.weight, ids);
  const perturbed = lossOf(logitsOf(add(e2, r)));
  add(lossOf(logitsOf(e2)), perturbed).backward();
  const fromScratch = grads();

  assert.equal(clean.item(), cleanAgain.item());
  assert.ok(Math.abs(perturbedViaModule.item() - perturbed.item()) < 1e-6, `L(e + r): ${perturbedViaModule.item()} vs ${perturbed.item()}`);
  assert.ok(perturbed.item() > clean.item(), `moving along the gradient raises the loss: ${perturbed.item()} vs ${clean.item()}`);
  let worst = 0;
  viaModule.forEach((g, i) => g.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - fromScratch[i][j])))));
  assert.ok(worst < 1e-6, `largest gradient difference ${worst}`);
  assert.ok(viaModule.some((g) => g.some((v) => v !== 0)), "the gradients are not all zero");
});

test("with the embedding table frozen the vectors still move, and the table gets no gradient", async () => {
  const { model } = await loadBert(BERT_SEQCLS);
  model.eval();
  const table = model.embedding.weight;
  table.requiresGrad = false; // what --freeze-embeddings does (param-groups.ts)
  const ids = indexTensor([5, 9, 14, 3, 7, 11], [1, 6]);
  const labels = indexTensor([1], [1]);
  const { clean, perturbed } = adversarialLoss(model, ids, maskFromLengths([6], 6), 0.05, (logits) => crossEntropy(logits, labels));
  assert.ok(perturbed.item() > clean.item(), `the perturbation raised the loss: ${perturbed.item()} vs ${clean.item()}`);
  perturbed.backward();
  assert.equal(table.grad, null, "a frozen table gets no gradient");
  assert.ok(model.parameters().some((p) => p.requiresGrad && p.grad?.data.some((v) => v !== 0)), "the rest of the model does");
});

test("training with --adversarial learns the tiny task, logs the clean loss, and resumes exactly", async () => {
  const config = tinyConfig(tmp(), { adversarial: 0.1, epochs: 8, saveEvery: 7 });
  const summary = await train(config);
  assert.ok(summary.best!.accuracy >= 0.9, `dev accuracy ${summary.best!.accuracy}`);
  // Same weights, batch and dropout draws at step 1: the clean pass runs first, so L(e) is the plain run's loss (L(e + r) is not).
  const plain = tinyConfig(tmp(), { epochs: 8, maxSteps: 1 });
  await train(plain);
  assert.equal(lossesOf(config.out)[0], lossesOf(plain.out)[0], "the first step logs L(e), the loss on the batch as it is");

  const interrupted = tinyConfig(tmp(), { adversarial: 0.1, epochs: 8, saveEvery: 7, maxSteps: 7 });
  await train(interrupted);
  await train({ ...interrupted, maxSteps: 0 }, { resume: true });
  assert.deepEqual(lossesOf(interrupted.out), lossesOf(config.out));
});

test("a negative or non-numeric --adversarial is refused in one line", () => {
  for (const adversarial of [-0.1, Number.NaN, "0.1"]) {
    assert.throws(() => resolveTrainConfig({ data: { train: "x" }, adversarial }), (e: unknown) => e instanceof ConfigError && /adversarial must be a number ≥ 0/.test(e.message), String(adversarial));
  }
});
