/** Between files and modules: float tensors of a safetensors file as a name → array map, and back. */
import { CheckpointError, formatShape } from "../errors.ts";
import type { NamedArray } from "../nn/module.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { StoredTensor, StoredTensorInput } from "./safetensors.ts";

/**
 * The floating-point tensors of a file as NamedArrays (F16/BF16/F64 already widened or narrowed to f32 by the
 * reader). Integer tensors are buffers such as BERT's `position_ids`, never parameters: they are returned
 * separately so a loader can check or ignore them.
 */
export function floatTensors(tensors: ReadonlyMap<string, StoredTensor>): { floats: Map<string, NamedArray>; others: StoredTensor[] } {
  const floats = new Map<string, NamedArray>();
  const others: StoredTensor[] = [];
  for (const [name, t] of tensors) {
    if (t.data instanceof Float32Array) floats.set(name, { shape: t.shape, data: t.data });
    else others.push(t);
  }
  return { floats, others };
}

/** Checks an integer buffer such as `embeddings.position_ids` equals 0, 1, 2, … (what BertModel would use). */
export function checkArangeBuffer(t: StoredTensor, source: string): void {
  const data = t.data;
  for (let i = 0; i < data.length; i++) {
    if (Number(data[i]) !== i % (t.shape[t.shape.length - 1] ?? 1)) {
      throw new CheckpointError(`${source}: buffer '${t.name}' ${formatShape(t.shape)} is not 0, 1, 2, … at index ${i}; custom position ids are not supported`);
    }
  }
}

/** Module parameters (name → tensor) as safetensors inputs, F32. */
export function toStoredInputs(state: ReadonlyMap<string, Tensor | NamedArray>): StoredTensorInput[] {
  return [...state].map(([name, t]) => ({ name, shape: [...t.shape], data: Float32Array.from(t.data), dtype: "F32" }));
}
