/**
 * Which parameters train, and how fast: freezing (the embeddings, the bottom N encoder layers) and layer-wise
 * learning-rate decay (Clark et al. 2020, ELECTRA §A; Sun et al. 2019, "How to Fine-Tune BERT"). Both work on
 * tsformer parameter names, so they apply to every encoder model (BERT folders, tsformer checkpoints).
 */
import { ConfigError } from "../errors.ts";
import type { Module } from "../nn/module.ts";
import type { NamedParameter } from "./optim.ts";

/** The embedding tables and their LayerNorm (tsformer names). */
const EMBEDDING_PARAMETER = /^(embedding|positions|token_types|embedding_norm)\./;
const ENCODER_LAYER = /^encoder\.layers\.(\d+)\./;

/**
 * How deep a parameter sits: 0 for the embeddings, i + 1 for encoder layer i, numLayers + 1 for everything above
 * the layers (a final LayerNorm, the pooler, task heads).
 */
export function parameterDepth(name: string, numLayers: number): number {
  if (EMBEDDING_PARAMETER.test(name)) return 0;
  const layer = ENCODER_LAYER.exec(name);
  return layer ? Number(layer[1]) + 1 : numLayers + 1;
}

/** The learning-rate factor of a parameter under layer-wise decay: decay^(numLayers + 1 − depth), so the head gets 1. */
export function layerDecayScale(name: string, numLayers: number, decay: number): number {
  return decay ** (numLayers + 1 - parameterDepth(name, numLayers));
}

/** What `trainableParameters` should hold back and how to scale the rest. */
export interface ParameterGroupOptions {
  /** Keep the embedding tables and their LayerNorm as they are. */
  freezeEmbeddings?: boolean;
  /** Keep encoder layers 0 … freezeLayers − 1 as they are. */
  freezeLayers?: number;
  /** Layer-wise learning-rate decay factor in (0, 1]; 1 (default) gives every parameter the same rate. */
  layerDecay?: number;
}

/** The parameters an optimizer should update, each with its learning-rate factor, and the names of the frozen ones. */
export interface ParameterGroups {
  trainable: NamedParameter[];
  frozen: string[];
}

/**
 * Splits a model's parameters into trainable (with their layer-decay factor) and frozen ones. Frozen parameters
 * stop requiring gradients, so backward skips them (no wasted work on a 30k × d embedding table) and the optimizer
 * never sees them: they stay bit-identical.
 */
export function trainableParameters(model: Module, numLayers: number, options: ParameterGroupOptions = {}): ParameterGroups {
  const freezeLayers = options.freezeLayers ?? 0;
  const decay = options.layerDecay ?? 1;
  if (!Number.isInteger(freezeLayers) || freezeLayers < 0 || freezeLayers > numLayers) {
    throw new ConfigError(`--freeze-layers ${freezeLayers}: the model has ${numLayers} encoder layers; give 0 to ${numLayers}`);
  }
  if (!(decay > 0 && decay <= 1)) throw new ConfigError(`--layer-decay ${decay} must be in (0, 1]`);
  const trainable: NamedParameter[] = [];
  const frozen: string[] = [];
  const seen = new Set<unknown>();
  for (const [name, param] of model.namedParameters()) {
    if (seen.has(param)) continue; // a tied tensor (the MLM decoder is the embedding table) is updated once
    seen.add(param);
    const depth = parameterDepth(name, numLayers);
    const isFrozen = (options.freezeEmbeddings === true && depth === 0) || (depth >= 1 && depth <= freezeLayers);
    param.requiresGrad = !isFrozen;
    if (isFrozen) frozen.push(name);
    else trainable.push({ name, param, lrScale: layerDecayScale(name, numLayers, decay) });
  }
  return { trainable, frozen };
}
