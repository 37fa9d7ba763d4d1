/**
 * Knowledge distillation (src/train/distill.ts, softCrossEntropy in src/train/losses.ts): the soft loss and its
 * gradient match PyTorch's `F.cross_entropy(z / T, q) * T**2`, the teachers' targets are their averaged softened
 * probabilities in the student's class order, bad teachers are refused in one line, α weighs the two terms, and a
 * distilled run resumes exactly but refuses to when a teacher's files changed.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, ShapeError } from "../../src/errors.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import { backward } from "../../src/tensor/autograd.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { resolveTrainConfig } from "../../src/train/config.ts";
import { teacherTargets } from "../../src/train/distill.ts";
import { predict } from "../../src/train/evaluate.ts";
import { crossEntropy, softCrossEntropy } from "../../src/train/losses.ts";
import { train } from "../../src/train/trainer.ts";
import { indexTensor } from "../../src/tensor/tensor.ts";
import { lossesOf, tinyConfig } from "./tiny.ts";

const tmp = (): string => mkdtempSync(join(tmpdir(), "tsformer-distill-"));

/**
 * PyTorch 1.13 in float64, for z and q below:
 *   l = F.cross_entropy(z / T, q) * T**2; l.backward()   →   (l, z.grad) per T
 */
const TORCH_REFERENCE: { temperature: number; loss: number; grad: number[] }[] = [
  { temperature: 1, loss: 0.76676535055373, grad: [-0.04625921896897073, 0.002782233306480114, 0.04347698566249064, -0.021905857363599984, -0.03730562601850166, 0.05921148338210158] },
  { temperature: 2, loss: 3.065386131092563, grad: [-0.22474900415793247, 0.09811408998094667, 0.1266349141769859, 0.009977795315114266, 0.059343075482196916, -0.06932087079731131] },
  { temperature: 0.5, loss: 0.26657031159734007, grad: [0.024469006551748135, -0.018976557928287903, -0.005492448623460246, -0.012488726489690911, -0.03582686272085268, 0.0483155892105436] },
];

test("softCrossEntropy and its gradient equal PyTorch's F.cross_entropy(z / T, q) · T² at T = 1, 2 and 0.5", () => {
  const q = new Tensor(Float32Array.from([0.7, 0.1, 0.2, 0.05, 0.15, 0.8]), [2, 3]);
  for (const { temperature, loss, grad } of TORCH_REFERENCE) {
    const z = new Tensor(Float32Array.from([1.5, -0.25, 0.75, -2.0, 0.5, 3.0]), [2, 3]).requireGrad();
    const l = softCrossEntropy(z, q, temperature);
    assert.ok(Math.abs(l.item() - loss) < 1e-5, `T = ${temperature}: loss ${l.item()} against ${loss}`);
    backward(l);
    z.grad!.data.forEach((g, i) => assert.ok(Math.abs(g - grad[i]) < 1e-6, `T = ${temperature}: grad[${i}] ${g} against ${grad[i]}`));
  }
});

test("with one-hot targets at T = 1 it is the ordinary cross-entropy; targets of another shape are named", () => {
  const logits = new Tensor(Float32Array.from([0.3, -1.2, 2.0, 0.1, 0.4, -0.6]), [3, 2]);
  const oneHot = new Tensor(Float32Array.from([1, 0, 0, 1, 1, 0]), [3, 2]);
  assert.ok(Math.abs(softCrossEntropy(logits, oneHot).item() - crossEntropy(logits, indexTensor([0, 1, 0], [3])).item()) < 1e-6);
  assert.throws(() => softCrossEntropy(logits, new Tensor(new Float32Array(4), [2, 2])), (e: unknown) => e instanceof ShapeError && /targets \[2, 2\].*logits \[3, 2\]/.test(e.message));
  assert.throws(() => softCrossEntropy(logits, oneHot, 0), /temperature must be > 0/);
});

const TEXTS = ["a gripping , beautifully acted film .", "dull and lifeless from start to finish .", "it 's a movie ."];

test("a teacher's targets are its probabilities at T = 1, softened at T = 2, averaged over teachers, in the student's class order", async () => {
  const teacher = await loadBert("models/default", { mlmHead: false });
  const probs = predict(teacher.model, teacher.tokenizer, TEXTS, teacher.maxLength);
  const labels = teacher.config.labels!;
  const predicted = probs.map((p) => (p[1] > p[0] ? 1 : 0));
  const one = await teacherTargets(["models/default"], TEXTS, [1 - predicted[0], predicted[1], predicted[2]], labels, 1);
  one.targets.forEach((t, i) => t.forEach((v, c) => assert.ok(Math.abs(v - probs[i][c]) < 1e-5, `text ${i}, class ${c}`)));
  assert.equal(one.agreement, 2 / 3, "the teacher's class is the label for two texts of three");

  const two = await teacherTargets(["models/default", "models/default"], TEXTS, predicted, labels, 2);
  two.targets.forEach((t, i) => {
    const soft = probs[i].map((p) => Math.sqrt(p)); // softmax(z / 2) ∝ exp(z)^(1/2) ∝ √p
    const sum = soft[0] + soft[1];
    t.forEach((v, c) => assert.ok(Math.abs(v - soft[c] / sum) < 1e-5, `T = 2, text ${i}, class ${c}`));
  });
  assert.ok(two.targets[0][1] < one.targets[0][1], "a higher temperature flattens a confident prediction");

  const swapped = await teacherTargets(["models/default"], TEXTS, predicted, [...labels].reverse(), 1);
  swapped.targets.forEach((t, i) => assert.deepEqual(Array.from(t), Array.from(one.targets[i]).reverse()));
});

test("a missing teacher, one without a head or one with other labels is refused in one line naming it", async () => {
  await assert.rejects(teacherTargets(["runs/no-such-teacher/best"], TEXTS, [0, 0, 0], ["negative", "positive"], 1),
    (e: unknown) => e instanceof ConfigError && /^teacher runs\/no-such-teacher\/best: no such folder; a teacher is a trained classifier/.test(e.message));
  await assert.rejects(teacherTargets(["models/mlm"], TEXTS, [0, 0, 0], ["negative", "positive"], 1),
    (e: unknown) => e instanceof ConfigError && /teacher models\/mlm: no classification head/.test(e.message));
  await assert.rejects(teacherTargets(["models/default"], TEXTS, [0, 0, 0], ["bad", "good"], 1),
    (e: unknown) => e instanceof ConfigError && /teacher models\/default: its labels \(negative, positive\) are not the run's \(bad, good\)/.test(e.message));
});

test("distillation settings out of range are refused in one line", () => {
  const refused = (distill: Record<string, unknown>, message: RegExp): void =>
    assert.throws(() => resolveTrainConfig({ data: { train: "x" }, distill }), (e: unknown) => e instanceof ConfigError && message.test(e.message));
  refused({ temperature: 0 }, /distill.temperature must be > 0/);
  refused({ alpha: 1.5 }, /distill.alpha must be in \[0, 1\]/);
  refused({ teachers: [""] }, /distill.teachers must be a list of classifier folders/);
});

test("α weighs the terms: at α = 1 a run with a teacher trains exactly as without one, at α = 0 it learns from the teacher alone", async () => {
  const teacherRun = tinyConfig(tmp(), { epochs: 6 });
  const teacherSummary = await train(teacherRun);
  assert.ok(teacherSummary.best!.accuracy > 0.8, `the teacher learns the tiny task (${teacherSummary.best!.accuracy})`);
  const teacher = join(teacherRun.out, "best");

  const plain = tinyConfig(tmp(), { seed: 9, epochs: 2 });
  await train(plain);
  const labelsOnly = tinyConfig(tmp(), { seed: 9, epochs: 2, distill: { teachers: [teacher], alpha: 1 } });
  await train(labelsOnly);
  assert.deepEqual(lossesOf(labelsOnly.out), lossesOf(plain.out));

  const teacherOnly = tinyConfig(tmp(), { seed: 9, epochs: 6, distill: { teachers: [teacher], alpha: 0, temperature: 1 } });
  const summary = await train(teacherOnly);
  assert.notDeepEqual(lossesOf(teacherOnly.out).slice(0, 5), lossesOf(plain.out).slice(0, 5));
  assert.ok(summary.best!.accuracy > 0.8, `the student learns the task from the teacher's probabilities alone (${summary.best!.accuracy})`);
});

test("a distilled run resumes exactly with the same teachers, and refuses to resume when a teacher's files changed", async () => {
  const teacherRun = tinyConfig(tmp(), { epochs: 2 });
  await train(teacherRun);
  const teacher = join(teacherRun.out, "best");
  const distill = { teachers: [teacher], alpha: 0.5, temperature: 2 };

  const whole = tinyConfig(tmp(), { seed: 9, epochs: 3, distill });
  await train(whole);
  const interrupted = tinyConfig(tmp(), { seed: 9, epochs: 3, distill, saveEvery: 10, maxSteps: 20 });
  await train(interrupted);
  await train({ ...interrupted, maxSteps: 0 }, { resume: true });
  assert.deepEqual(lossesOf(interrupted.out), lossesOf(whole.out), "the resumed run logs the uninterrupted run's losses");

  const stopped = tinyConfig(tmp(), { seed: 9, epochs: 3, distill, saveEvery: 10, maxSteps: 20 });
  await train(stopped);
  const weights = join(teacher, "model.safetensors");
  const bytes = readFileSync(weights);
  bytes[bytes.length - 1] ^= 1; // one bit of the teacher's last weight: its soft targets are no longer the ones trained on
  writeFileSync(weights, bytes);
  await assert.rejects(train({ ...stopped, maxSteps: 0 }, { resume: true }),
    (e: unknown) => e instanceof ConfigError && /--resume: the configuration differs .*the teachers' settings and files must match/.test(e.message));
});
