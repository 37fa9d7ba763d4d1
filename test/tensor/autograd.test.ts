import assert from "node:assert/strict";
import { test } from "node:test";
import { noGrad, ops, tensor } from "../../src/tensor/index.ts";

test("gradients of a small expression match the hand derivative", () => {
  const x = tensor([1, 2, 3]).requireGrad();
  const y = tensor([4, 5, 6]).requireGrad();
  const loss = ops.sum(ops.mul(ops.add(x, y), x)); // Σ (x + y)·x → d/dx = 2x + y, d/dy = x
  loss.backward();
  assert.deepEqual([...x.grad!.data], [6, 9, 12]);
  assert.deepEqual([...y.grad!.data], [1, 2, 3]);
});

test("noGrad records nothing", () => {
  const x = tensor([1, 2]).requireGrad();
  const y = noGrad(() => ops.scale(x, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
});
