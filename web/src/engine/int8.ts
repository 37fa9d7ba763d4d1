/**
 * The explorer's int8 switch: the Linear layers a run uses quantized in the page (src/nn/quantize.ts: int8 weights
 * per output channel, activations quantized per row as they enter each product), and back to float32. A layer keeps
 * its int8 weights while the switch stays on, so only turning it on quantizes; its float32 weights never change, so
 * turning it off gives float32 again, bit for bit.
 */
import type { Module } from "../../../src/nn/module.ts";
import { dequantize, linearsOf, quantizeWeight } from "../../../src/nn/quantize.ts";

/**
 * Runs every Linear under `module` in int8 (`on`) or float32. A layer already in int8 keeps its weights; the others
 * are quantized as `quantizeDynamic` does, from their float32 weights. Returns the number of int8 matrices.
 */
export function setInt8(module: Module, on: boolean): number {
  if (!on) {
    dequantize(module);
    return 0;
  }
  const linears = linearsOf(module);
  for (const linear of linears) linear.quantized ??= quantizeWeight(linear.weight);
  return linears.length;
}

/** `f()` with every Linear under `modules` on its float32 weights; their int8 weights are put back afterwards. */
export function withFloat32<T>(modules: readonly Module[], f: () => T): T {
  const linears = [...new Set(modules.flatMap(linearsOf))];
  const int8 = linears.map((linear) => linear.quantized);
  for (const linear of linears) linear.quantized = null;
  try {
    return f();
  } finally {
    linears.forEach((linear, i) => (linear.quantized = int8[i]));
  }
}
