/**
 * The explorer's int8 switch: the loaded model's Linear layers quantized in the page with `quantizeDynamic` (int8
 * weights per output channel, activations quantized per row as they enter each product), and back to float32.
 * Quantized weights are kept, so turning the switch again costs nothing; the model's float32 weights never change.
 */
import { Linear } from "../../../src/nn/linear.ts";
import type { Module } from "../../../src/nn/module.ts";
import { type QuantizedWeight, dequantize, quantizeDynamic } from "../../../src/nn/quantize.ts";

/** Every Linear under `module` (Q/K/V, W_O, the FFN's two, pooler, classifier…), each once. */
function linearsOf(module: Module): Set<Linear> {
  const found = new Set<Linear>();
  const visit = (m: Module): void => {
    if (m instanceof Linear) found.add(m);
    for (const [, child] of m.namedChildren()) visit(child);
  };
  visit(module);
  return found;
}

/** Quantized weights by layer, made once per Linear. */
export type Int8Cache = WeakMap<Linear, QuantizedWeight>;

/**
 * Runs every Linear under `module` in int8 (`on`) or float32. The first time a module is switched on it is quantized
 * with `quantizeDynamic`; later switches reuse those weights. Returns the number of int8 matrices.
 */
export function setInt8(module: Module, on: boolean, cache: Int8Cache): number {
  if (!on) {
    dequantize(module);
    return 0;
  }
  const linears = [...linearsOf(module)];
  if (linears.some((linear) => !cache.has(linear))) {
    quantizeDynamic(module);
    for (const linear of linears) if (linear.quantized) cache.set(linear, linear.quantized);
  }
  for (const linear of linears) linear.quantized = cache.get(linear) ?? null;
  return linears.length;
}
