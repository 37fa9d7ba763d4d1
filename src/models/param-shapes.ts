/**
 * Validate before allocating: the parameter shapes a config asks for, computed from the config alone, and their
 * comparison with the shapes a checkpoint's header declares. Loaders run this before building the model, so a
 * hostile config.json (`vocab_size: 1e12`, `num_hidden_layers: 2000`) is refused naming the field, its value and
 * what the file holds, while memory holds little more than the file.
 */
import { CheckpointError, ConfigError, ShapeError, formatShape } from "../errors.ts";
import { estimateActivationBytes, memoryLimit } from "../nn/memory.ts";
import type { EncoderModelConfig } from "../nn/model.ts";
import { oneLine } from "../io/safetensors.ts";
import { checkSizeLimit } from "./bert-config.ts";

/** One dimension of a parameter as a config sets it: the field with its value (for messages), and the size. */
export interface Dim { text: string; size: number }

/** How a config format names the encoder's sizes in messages (config.json's HF names, or a tsformer checkpoint's). */
export interface SizeFields {
  vocabSize: string;
  dModel: string;
  heads: string;
  dFF: string;
  numLayers: string;
  maxPositions: string;
  typeVocabSize: string;
}

/** A stored tensor under tsformer's name: the name in the file (for messages) and its declared shape. */
export interface StoredShape { file: string; shape: readonly number[] }

const dim = (field: string, size: number): Dim => ({ text: `${field} ${size}`, size });

/** Refuses sizes no model can have (see MAX_CONFIG_SIZE) before anything is compared or allocated, naming the field. */
export function checkSizeBounds(c: EncoderModelConfig, f: SizeFields, configPath: string): void {
  for (const key of ["vocabSize", "dModel", "heads", "dFF", "numLayers", "maxPositions", "typeVocabSize"] as const) checkSizeLimit(c[key], f[key], configPath);
}

/**
 * Every parameter of a TransformerEncoderModel with this config (tsformer names, as its `stateDict()` lists them)
 * and the config fields that give each dimension. Callers compare the layer count with the file first
 * (`checkLayerCount`), so a hostile count is never enumerated.
 */
export function encoderParameterShapes(c: EncoderModelConfig, f: SizeFields): Map<string, Dim[]> {
  const d = dim(f.dModel, c.dModel);
  const ff = dim(f.dFF, c.dFF);
  const a = c.attention ?? {};
  const headDim = a.headDim ?? c.dModel / c.heads;
  const inner = a.headDim === undefined ? d : { text: `${f.heads} ${c.heads} × attention.headDim ${headDim}`, size: c.heads * headDim };
  const out = new Map<string, Dim[]>();
  const linear = (name: string, rows: Dim, cols: Dim, bias = true): void => {
    out.set(`${name}.weight`, [rows, cols]);
    if (bias) out.set(`${name}.bias`, [rows]);
  };
  const norm = (name: string): void => {
    out.set(`${name}.weight`, [d]);
    out.set(`${name}.bias`, [d]);
  };
  out.set("embedding.weight", [dim(f.vocabSize, c.vocabSize), d]);
  if (c.positional === "learned") out.set("positions.weight", [dim(f.maxPositions, c.maxPositions), d]);
  if (c.typeVocabSize > 0) out.set("token_types.weight", [dim(f.typeVocabSize, c.typeVocabSize), d]);
  if (c.embeddingNorm) norm("embedding_norm");
  for (let i = 0; i < c.numLayers; i++) {
    const p = `encoder.layers.${i}.`;
    const bias = a.bias !== false;
    linear(`${p}self_attn.q_proj`, inner, d, bias);
    if (!a.shareQK) linear(`${p}self_attn.k_proj`, inner, d, bias);
    linear(`${p}self_attn.v_proj`, inner, d, bias);
    linear(`${p}self_attn.out_proj`, d, inner, bias);
    if (a.scoring === "additive") out.set(`${p}self_attn.additive_v`, [dim(f.heads, c.heads), { text: `head width ${headDim}`, size: headDim }]);
    linear(`${p}ffn.linear1`, ff, d);
    linear(`${p}ffn.linear2`, d, ff);
    if (c.layerNorm !== false) {
      norm(`${p}norm1`);
      norm(`${p}norm2`);
    }
  }
  if (c.finalNorm) norm("encoder.norm");
  return out;
}

/** The layers a checkpoint holds: one more than the largest `encoder.layers.{i}.` index among tsformer names (0 for none). */
export function storedLayerCount(names: Iterable<string>): number {
  let top = -1;
  for (const n of names) {
    const m = /^encoder\.layers\.(\d+)\./.exec(n);
    if (m) top = Math.max(top, Number(m[1]));
  }
  return top + 1;
}

/**
 * Compares the config's layer count with the file's before anything else, so that a hostile count is refused
 * without enumerating its parameters: more layers than stored is a CheckpointError naming the field and both counts.
 */
export function checkLayerCount(configLayers: number, field: string, stored: ReadonlyMap<string, StoredShape>, source: string, configPath: string): void {
  const have = storedLayerCount(stored.keys());
  if (configLayers > have) {
    throw new CheckpointError(`${source}: ${configPath} ${field} is ${configLayers} but the file has ${have} layer(s); the weights and config.json must come from the same checkpoint (set ${field} to ${have})`);
  }
}

/** A ShapeError naming the tensor, its shape, the config fields and the shape they give, when the two differ. */
export function checkShape(dims: readonly Dim[], t: StoredShape, source: string, configPath: string): void {
  if (dims.length === t.shape.length && dims.every((d, i) => d.size === t.shape[i])) return;
  const texts = [...new Set(dims.map((d) => d.text))];
  throw new ShapeError(`${source}: tensor '${oneLine(t.file)}' has shape ${formatShape(t.shape)} but ${configPath} ${texts.join(" and ")} ${texts.length > 1 ? "give" : "gives"} ${formatShape(dims.map((d) => d.size))}`);
}

/**
 * Checks every stored tensor against the expected shapes: a tensor the config has no place for is the error
 * `notInModel` makes; a shape that differs is `checkShape`'s error. Returns the expected parameters the file
 * lacks, for the caller to refuse or create.
 */
export function compareShapes(expected: ReadonlyMap<string, Dim[]>, stored: ReadonlyMap<string, StoredShape>, source: string, configPath: string,
  notInModel: (ours: string, file: string) => Error): string[] {
  for (const [ours, t] of stored) {
    const dims = expected.get(ours);
    if (!dims) throw notInModel(ours, t.file);
    checkShape(dims, t, source, configPath);
  }
  return [...expected.keys()].filter((n) => !stored.has(n));
}

/**
 * A sinusoidal position table is computed at load time, not read from the file, so no stored tensor bounds its
 * length: refuse a length whose single input could not run anyway (its activations alone over `memoryLimit()`).
 */
export function checkComputedPositions(c: EncoderModelConfig, field: string, configPath: string): void {
  if (c.positional !== "sinusoidal") return;
  const bytes = estimateActivationBytes({ batch: 1, n: c.maxPositions, dModel: c.dModel, dFF: c.dFF, heads: c.heads, numLayers: c.numLayers, keepsWeights: false, training: false });
  if (bytes > memoryLimit()) {
    throw new ConfigError(`${configPath}: ${field} is ${c.maxPositions}: one input that long would need an estimated ${(bytes / 1024 ** 3).toFixed(1)} GiB of activations, over the ${(memoryLimit() / 1024 ** 3).toFixed(1)} GiB memory limit (setMemoryLimit), so the sinusoidal table is not computed; give the longest input the model runs`);
  }
}
