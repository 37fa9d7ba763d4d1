/**
 * Masks (Q05). tsformer has ONE mask convention in its public API:
 *
 *   AttentionMask — shape (batch, nKeys), 1 = a real token that is attended, 0 = padding that is not.
 *
 * This is what a tokenizer returns and what Hugging Face calls `attention_mask`. PyTorch's
 * `key_padding_mask` has the opposite polarity (True = padding); use the converters below, never a
 * hand-written `1 - mask`. Inside attention, masked scores become -∞ (selected, never multiplied: the
 * notes' "add a matrix of -∞" is NaN-prone, as 0 × -∞ = NaN), so masked keys get probability exactly 0.
 */
import { ShapeError, formatShape } from "../errors.ts";
import type { BoolTensor } from "../tensor/ops/nn.ts";
import { Tensor } from "../tensor/tensor.ts";

/** (batch, nKeys): 1 = real token (attended), 0 = padding (ignored). */
export type AttentionMask = BoolTensor;

function checkBinary(what: string, values: ArrayLike<number | boolean>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (v !== 0 && v !== 1) throw new ShapeError(`${what}: entries must be 0 or 1, found ${String(values[i])} at index ${i}`);
    out[i] = v;
  }
  return out;
}

function checkShape(what: string, shape: readonly number[], length: number): [number, number] {
  if (shape.length !== 2 || shape[0] * shape[1] !== length) {
    throw new ShapeError(`${what}: expected (batch, nKeys) for ${length} values, got ${formatShape(shape)}`);
  }
  return [shape[0], shape[1]];
}

/** A mask from sequence lengths: key j of row b is real iff j < lengths[b] (padding at the end). */
export function maskFromLengths(lengths: ArrayLike<number>, n: number): AttentionMask {
  const data = new Uint8Array(lengths.length * n);
  for (let b = 0; b < lengths.length; b++) {
    const len = lengths[b];
    if (!Number.isInteger(len) || len < 0 || len > n) throw new ShapeError(`maskFromLengths: length ${len} of row ${b} is not in 0…${n}`);
    data.fill(1, b * n, b * n + len);
  }
  return { shape: [lengths.length, n], data };
}

/** From Hugging Face's `attention_mask` (1 = real token): the same polarity, checked to be 0/1. */
export function fromHfAttentionMask(values: ArrayLike<number | boolean>, shape: readonly number[]): AttentionMask {
  const s = checkShape("fromHfAttentionMask", shape, values.length);
  return { shape: s, data: checkBinary("fromHfAttentionMask", values) };
}

/** From PyTorch's `key_padding_mask` (True/1 = padding, NOT attended): inverted. */
export function fromTorchKeyPaddingMask(values: ArrayLike<number | boolean>, shape: readonly number[]): AttentionMask {
  const s = checkShape("fromTorchKeyPaddingMask", shape, values.length);
  const padding = checkBinary("fromTorchKeyPaddingMask", values);
  return { shape: s, data: padding.map((v) => 1 - v) };
}

/** To PyTorch's `key_padding_mask` polarity (1 = padding). */
export function toTorchKeyPaddingMask(mask: AttentionMask): Uint8Array {
  return mask.data.map((v) => 1 - v);
}

/**
 * From an additive key mask as Hugging Face builds it, (batch, 1, 1, nKeys) or (batch, nKeys): 0 = attend,
 * a large negative number (≤ −1e4, e.g. finfo(float32).min) or −∞ = masked. Other values are soft biases that
 * a boolean mask cannot express: pass them to attention as `additiveMask` instead.
 */
export function fromAdditiveMask(additive: Tensor): AttentionMask {
  const [batch, nKeys] = [additive.shape[0], additive.shape[additive.rank - 1]];
  if (additive.size !== batch * nKeys) {
    throw new ShapeError(`fromAdditiveMask: expected (batch, 1, 1, nKeys) or (batch, nKeys), got ${formatShape(additive.shape)}`);
  }
  const data = new Uint8Array(additive.size);
  for (let i = 0; i < data.length; i++) {
    const v = additive.data[i];
    if (v === 0) data[i] = 1;
    else if (!(v <= -1e4)) throw new ShapeError(`fromAdditiveMask: value ${v} at index ${i} is neither 0 nor a masking value (≤ -1e4)`);
  }
  return { shape: [batch, nKeys], data };
}

/** An additive mask (batch, 1, 1, nKeys): 0 where attended, `value` where masked (HF's extended mask). */
export function toAdditiveMask(mask: AttentionMask, value = -Infinity): Tensor {
  const [batch, nKeys] = mask.shape;
  const data = new Float32Array(mask.data.length);
  for (let i = 0; i < data.length; i++) data[i] = mask.data[i] ? 0 : value;
  return new Tensor(data, [batch, 1, 1, nKeys]);
}

/**
 * The boolean "masked" matrix (batch, 1, nQ, nK) combining key padding and causality: 1 = hidden.
 * Without a key mask the batch size is `batch` (default 1, which broadcasts).
 */
export function combinedMask(mask: AttentionMask | null, nQ: number, nK: number, causal: boolean,
  batch = mask ? mask.shape[0] : 1): BoolTensor {
  const data = new Uint8Array(batch * nQ * nK);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < nQ; i++)
      for (let j = 0; j < nK; j++) {
        const hidden = (causal && j > i) || (mask !== null && mask.data[b * nK + j] === 0);
        data[(b * nQ + i) * nK + j] = hidden ? 1 : 0;
      }
  return { shape: [batch, 1, nQ, nK], data };
}
