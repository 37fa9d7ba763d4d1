/**
 * The exponential moving average of the weights (`--ema`): its arithmetic, that evaluation and `best/` use it while
 * training continues from the raw weights, and that a run with it resumes exactly.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CheckpointError, ConfigError } from "../../src/errors.ts";
import { readSafetensorsFile } from "../../src/io/safetensors.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { resolveTrainConfig } from "../../src/train/config.ts";
import { train } from "../../src/train/trainer.ts";
import { WeightAverage } from "../../src/train/weight-average.ts";
import { lossesOf, tinyConfig } from "./tiny.ts";

const tmp = (): string => mkdtempSync(join(tmpdir(), "tsformer-ema-"));

test("the average follows shadow ← d·shadow + (1 − d)·weight with d ramped as min(decay, (1 + t) / (10 + t))", () => {
  const a = new Tensor(Float32Array.from([1, -2]), [2]);
  const b = new Tensor(Float32Array.from([4]), [1]);
  const average = new WeightAverage([a, b], 0.5);
  const expected = { a: [1, -2], b: [4] };
  const values = [[3, 0, 2], [5, 1, -1], [-1, 7, 0], [2, 2, 2]];
  values.forEach(([a0, a1, b0], t) => {
    a.data.set([a0, a1]);
    b.data.set([b0]);
    const d = Math.min(0.5, (1 + t) / (10 + t)); // 0.1, 0.18…, 0.25, 0.307…
    assert.equal(average.currentDecay(), d);
    average.update();
    expected.a = expected.a.map((s, i) => Math.fround(d * s + (1 - d) * [a0, a1][i]));
    expected.b = [Math.fround(d * expected.b[0] + (1 - d) * b0)];
  });
  const [sa, sb] = average.stateDict();
  assert.deepEqual([...sa.data], expected.a);
  assert.deepEqual([...sb.data], expected.b);
  assert.deepEqual([sa.name, sb.name], ["average.0", "average.1"]);
});

test("withAveraged swaps the average in and puts the weights back, also when the function throws", async () => {
  const w = new Tensor(Float32Array.from([0, 0]), [2]);
  const average = new WeightAverage([w], 0.9);
  w.data.set([10, 20]);
  average.update(); // d = 0.1: shadow = 0.9 · (10, 20)
  const seen = await average.withAveraged(() => [...w.data]);
  assert.deepEqual(seen, [9, 18]);
  assert.deepEqual([...w.data], [10, 20]);
  await assert.rejects(average.withAveraged(() => {
    throw new Error("evaluation failed");
  }), /evaluation failed/);
  assert.deepEqual([...w.data], [10, 20]);
});

test("a saved average for other weights is refused with the file named", () => {
  const average = new WeightAverage([new Tensor(new Float32Array(3), [3])], 0.9);
  assert.throws(() => average.loadStateDict(new Map([["average.0", new Float32Array(2)]]), 5, "run/last/weight_average.safetensors"),
    (e: unknown) => e instanceof CheckpointError && /run\/last\/weight_average\.safetensors: average\.0 holds 2 values, its weight 3/.test(e.message));
  assert.throws(() => average.loadStateDict(new Map(), 5, "f"), (e: unknown) => e instanceof CheckpointError && /0 tensors, the model 1/.test(e.message));
});

/** A folder's tensors by name. */
const tensorsOf = async (path: string): Promise<Map<string, Float32Array>> =>
  new Map([...(await readSafetensorsFile(path)).tensors].map(([name, t]) => [name, t.data as Float32Array]));

test("with --ema, best/ holds the averaged weights and last/ the raw ones beside the average", async () => {
  const config = tinyConfig(tmp(), { ema: 0.9, epochs: 1 }); // one epoch: best/ is that epoch's model
  await train(config);
  const best = await tensorsOf(join(config.out, "best", "model.safetensors"));
  const last = await tensorsOf(join(config.out, "last", "model.safetensors"));
  const average = await tensorsOf(join(config.out, "last", "weight_average.safetensors"));
  assert.ok(average.size > 0);
  for (const [name, shadow] of average) {
    const same = [...best].filter(([, data]) => data.length === shadow.length && data.every((v, i) => v === shadow[i]));
    assert.equal(same.length >= 1, true, `${name} is one of best/'s tensors`);
    const raw = last.get(same[0][0])!;
    assert.ok(raw.some((v, i) => v !== shadow[i]), `${same[0][0]}: last/ holds the raw weights, not the average`);
  }
});

test("training with --ema learns the tiny task and resumes exactly", async () => {
  const config = tinyConfig(tmp(), { ema: 0.9, epochs: 6 });
  const summary = await train(config);
  assert.ok(summary.best!.accuracy >= 0.9, `dev accuracy ${summary.best!.accuracy}`);

  const interrupted = tinyConfig(tmp(), { ema: 0.9, epochs: 6, saveEvery: 7, maxSteps: 7 });
  await train(interrupted);
  await train({ ...interrupted, maxSteps: 0 }, { resume: true });
  assert.deepEqual(lossesOf(interrupted.out), lossesOf(config.out));
  assert.deepEqual(await tensorsOf(join(interrupted.out, "best", "model.safetensors")), await tensorsOf(join(config.out, "best", "model.safetensors")));
  assert.deepEqual(await tensorsOf(join(interrupted.out, "last", "weight_average.safetensors")), await tensorsOf(join(config.out, "last", "weight_average.safetensors")));
});

test("resuming an --ema run whose last/ lost its average is refused, naming the file and what to do", async () => {
  const config = tinyConfig(tmp(), { ema: 0.9, epochs: 2, saveEvery: 3, maxSteps: 3 });
  await train(config);
  const path = join(config.out, "last", "weight_average.safetensors");
  rmSync(path);
  await assert.rejects(train({ ...config, maxSteps: 0 }, { resume: true }), (e: unknown) => e instanceof CheckpointError
    && e.message === `${path}: missing, so this --ema run cannot resume exactly; put the file back, or start a new run in another --out`);
});

test("an ema outside [0, 1) is refused in one line", () => {
  for (const ema of [-0.1, 1, Number.NaN, "0.9"]) {
    assert.throws(() => resolveTrainConfig({ data: { train: "x" }, ema }), (e: unknown) => e instanceof ConfigError && /ema must be a decay in \[0, 1\)/.test(e.message), String(ema));
  }
});
