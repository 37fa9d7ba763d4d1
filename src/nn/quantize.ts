/**
 * Dynamic int8 quantization for inference (README "int8 inference"): every Linear's weight becomes int8 per output
 * channel, symmetric; its input is quantized per row on the fly to 7-bit unsigned; the product is an exact int32
 * sum, dequantized in a float32 epilogue with the bias. Embeddings, LayerNorm, softmax and attention stay float32.
 * int8 is a property of a Linear's weights, not a new model class: `quantizeDynamic(model)` sets `linear.quantized`
 * and everything above `nn` is unchanged. The arithmetic is src/backend/reference/matmul-int8.ts.
 */
import { ShapeError, formatShape } from "../errors.ts";
import type { QuantizedWeight } from "../backend/backend.ts";
import { quantizeWeightData } from "../backend/reference/matmul-int8.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Linear } from "./linear.ts";
import type { Module } from "./module.ts";

export type { QuantizedWeight } from "../backend/backend.ts";
export { quantizeRowsU7, roundHalfEven, type QuantizedRows } from "../backend/reference/matmul-int8.ts";

/** What `quantizeDynamic` did. */
export interface QuantizationSummary {
  /** Linear layers now running in int8. */
  linears: number;
  /** Weights quantized (the product of each layer's sizes, summed). */
  parameters: number;
  /** Bytes of the int8 weights against the float32 ones they replace (values only). */
  int8Bytes: number;
  float32Bytes: number;
}

/**
 * A (out, in) weight quantized per output row j: scale = max_k |W[j, k]| / 127 (1 for an all-zero row),
 * values = clamp(roundHalfEven(W / scale), −127, 127), columnSums[j] = Σ_k values[j, k].
 */
export function quantizeWeight(weight: Tensor): QuantizedWeight {
  if (weight.rank !== 2) throw new ShapeError(`quantizeWeight: the weight must be (out, in), got ${formatShape(weight.shape)}`);
  const [outFeatures, inFeatures] = weight.shape;
  return quantizeWeightData(weight.data, outFeatures, inFeatures);
}

/** Every Linear in a module tree, each once (a layer shared by two parents, such as W_Q = W_K, counts once). */
export function linearsOf(model: Module): Linear[] {
  const found = new Set<Linear>();
  const visit = (m: Module): void => {
    if (m instanceof Linear) found.add(m);
    for (const [, child] of m.namedChildren()) visit(child);
  };
  visit(model);
  return [...found];
}

/**
 * Quantizes every Linear of `model` (a BertModel, a classifier, any Module tree) from its current float32 weight:
 * `linear.quantized = quantizeWeight(linear.weight)`. Forward passes then run in int8 (inference only: under
 * recorded gradients they throw). Quantizing again re-reads the float32 weights, which stay in the model.
 */
export function quantizeDynamic(model: Module): QuantizationSummary {
  const summary: QuantizationSummary = { linears: 0, parameters: 0, int8Bytes: 0, float32Bytes: 0 };
  for (const linear of linearsOf(model)) {
    linear.quantized = quantizeWeight(linear.weight);
    const size = linear.weight.size;
    summary.linears++;
    summary.parameters += size;
    summary.int8Bytes += size;
    summary.float32Bytes += 4 * size;
  }
  return summary;
}

/** Whether any Linear of `model` runs in int8. */
export function isQuantized(model: Module): boolean {
  return linearsOf(model).some((l) => l.quantized !== null);
}

/** Puts every Linear of `model` back on its float32 weight. */
export function dequantize(model: Module): void {
  for (const linear of linearsOf(model)) linear.quantized = null;
}
