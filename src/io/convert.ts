/**
 * Storing a checkpoint's floating-point tensors in another precision: F16 or BF16 halve a model's file (the
 * loaders widen them back to f32), F32 undoes that. Integer tensors (BERT's `position_ids`) and the metadata are
 * kept as they are. Rounding is to nearest even, as PyTorch's `tensor.half()` and `tensor.bfloat16()` round.
 */
import { CheckpointError, formatShape } from "../errors.ts";
import { f32BitsToBF16, f32BitsToF16, halfTable } from "./half-float.ts";
import { type SafetensorsContents, type StoredTensorInput, isFloatDType } from "./safetensors.ts";

/** The precisions a float tensor can be stored in. */
export type FloatStorage = "F32" | "F16" | "BF16";

/** What a conversion did, for the user to judge the loss of precision. */
export interface ConversionReport {
  tensors: number;
  /** Floating-point tensors (the ones converted) and their elements. */
  floatTensors: number;
  parameters: number;
  /** Largest |stored − original| over every element, and that tensor's name. */
  maxAbsError: number;
  maxAbsErrorTensor: string;
  /** Largest |stored − original| / max|original| of a tensor: the error against the tensor's scale. */
  maxScaledError: number;
}

/** The largest finite F16 value; anything larger in magnitude would be stored as ±infinity. */
export const F16_MAX = 65504;

const scratchBits = new Uint32Array(1);
const scratchFloat = new Float32Array(scratchBits.buffer);

/** The f32 with bit pattern `bits` as `dtype` stores it, widened back to f32 (the value a loader will see). */
function storedValue(bits: number, dtype: "F16" | "BF16"): number {
  if (dtype === "F16") return halfTable()[f32BitsToF16(bits)];
  scratchBits[0] = f32BitsToBF16(bits) << 16; // bf16 is the top half of an f32
  return scratchFloat[0];
}

/**
 * The tensors of `contents` with every float tensor marked to be written as `dtype` (serializeSafetensors does the
 * rounding), and the rounding error that will cause. Throws a CheckpointError naming the tensor, index and value
 * when an F16 conversion would turn a finite value into infinity (|x| > 65504); `source` names the file.
 */
export function convertFloatTensors(contents: SafetensorsContents, dtype: FloatStorage, source: string): { tensors: StoredTensorInput[]; report: ConversionReport } {
  const report: ConversionReport = { tensors: 0, floatTensors: 0, parameters: 0, maxAbsError: 0, maxAbsErrorTensor: "", maxScaledError: 0 };
  const tensors: StoredTensorInput[] = [];
  for (const t of contents.tensors.values()) {
    report.tensors++;
    if (!isFloatDType(t.dtype) || !(t.data instanceof Float32Array)) {
      tensors.push({ name: t.name, shape: t.shape, data: t.data, dtype: t.dtype });
      continue;
    }
    const data = t.data;
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    const rounds = dtype !== "F32"; // the values are f32 already: an F32 target stores them exactly
    let scale = 0;
    let worst = 0;
    for (let i = 0; rounds && i < data.length; i++) {
      const x = data[i];
      if (dtype === "F16" && Math.abs(x) > F16_MAX && Number.isFinite(x)) {
        throw new CheckpointError(`${source}: tensor '${t.name}' ${formatShape(t.shape)} holds ${x} at index ${i}, beyond F16's range (±${F16_MAX}): convert it to BF16 instead`);
      }
      if (!Number.isFinite(x)) continue;
      scale = Math.max(scale, Math.abs(x));
      worst = Math.max(worst, Math.abs(storedValue(bits[i], dtype) - x));
    }
    report.floatTensors++;
    report.parameters += data.length;
    if (worst > report.maxAbsError) {
      report.maxAbsError = worst;
      report.maxAbsErrorTensor = t.name;
    }
    if (scale > 0) report.maxScaledError = Math.max(report.maxScaledError, worst / scale);
    tensors.push({ name: t.name, shape: t.shape, data, dtype });
  }
  return { tensors, report };
}
