import assert from "node:assert/strict";
import { test } from "node:test";
import { Tensor, noGrad, ops, tensor } from "../../src/tensor/index.ts";

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

/** An op whose backward returns `grads(g)` for its inputs, as a custom op may (the same array for several inputs). */
function customOp(inputs: Tensor[], grads: (g: Float32Array) => (Float32Array | null)[]): Tensor {
  return new Tensor(new Float32Array(inputs[0].size), inputs[0].shape, true, { op: "custom", inputs, backward: grads });
}

test("an op that passes its incoming gradient to two inputs: each input's gradient stays its own", () => {
  // add(a, b) returns its gradOutput for both inputs; a also gets 3 from mul, b nothing more: d/da = 1 + 3, d/db = 1.
  const a = tensor([1, 2]).requireGrad();
  const b = tensor([5, 7]).requireGrad();
  const loss = () => ops.sum(ops.add(ops.add(a, b), ops.scale(a, 3)));
  loss().backward();
  assert.deepEqual([...a.grad!.data], [4, 4]);
  assert.deepEqual([...b.grad!.data], [1, 1]);
  assert.notEqual(a.grad!.data, b.grad!.data, "two leaves never share one gradient array");
  loss().backward(); // accumulating into one would add twice into the other
  assert.deepEqual([...a.grad!.data], [8, 8]);
  assert.deepEqual([...b.grad!.data], [2, 2]);
});

test("intermediate tensors that received the same gradient array accumulate into copies, not into each other", () => {
  // u = 2x and v = 3y both get add's gradOutput; u then also gets 10 from a second path, v does not.
  const x = tensor([1, 1]).requireGrad();
  const y = tensor([1, 1]).requireGrad();
  const u = ops.scale(x, 2);
  const v = ops.scale(y, 3);
  const loss = ops.sum(ops.add(ops.add(u, v), ops.scale(u, 10)));
  loss.backward();
  assert.deepEqual([...x.grad!.data], [22, 22]); // (1 + 10) · 2
  assert.deepEqual([...y.grad!.data], [3, 3]); // 1 · 3
});

test("one fresh array returned for two inputs (and for the same input twice) is copied before anything is added", () => {
  const a = tensor([1, 2]).requireGrad();
  const b = tensor([3, 4]).requireGrad();
  // The custom op hands one new array to both inputs; a gets 5 more from a second path.
  const twin = customOp([a, b], (g) => {
    const shared = Float32Array.from(g, (v) => 2 * v);
    return [shared, shared];
  });
  ops.sum(ops.add(twin, ops.scale(a, 5))).backward();
  assert.deepEqual([...a.grad!.data], [7, 7]);
  assert.deepEqual([...b.grad!.data], [2, 2]);
  assert.notEqual(a.grad!.data, b.grad!.data);
  // The same input twice, given gradOutput itself both times: its gradient is the sum, 2g.
  const c = tensor([1, 1]).requireGrad();
  ops.sum(customOp([c, c], (g) => [g, g])).backward();
  assert.deepEqual([...c.grad!.data], [2, 2]);
});

test("the caller's seed gradient is never adopted or written into", () => {
  const a = tensor([1, 2]).requireGrad();
  const b = tensor([3, 4]).requireGrad();
  const seed = new Float32Array([1, 1]);
  const y = ops.add(a, b);
  y.backward(seed);
  y.backward(seed);
  assert.deepEqual([...seed], [1, 1]);
  assert.notEqual(a.grad!.data, seed);
  assert.deepEqual([...a.grad!.data], [2, 2]);
  assert.deepEqual([...b.grad!.data], [2, 2]);
});
