/**
 * Runners for the PyTorch op fixtures (test/fixtures/pytorch): each builds the op or module a case names,
 * from the case's config and parameters, and returns what it computed under the fixture's names.
 */
import { ConfigError } from "../errors.ts";
import { type EncoderLayerOptions, EncoderLayer } from "../nn/encoder.ts";
import { sinusoidalTable } from "../nn/embedding.ts";
import { fromHfAttentionMask, fromTorchKeyPaddingMask, combinedMask, type AttentionMask } from "../nn/masks.ts";
import { MultiHeadAttention } from "../nn/attention.ts";
import { TransformerEncoderModel, encoderConfig } from "../nn/model.ts";
import type { Module, NamedArray } from "../nn/module.ts";
import { Trace } from "../nn/trace.ts";
import { fromHfBertName } from "../io/names.ts";
import { type Activation, activation } from "../tensor/ops/elementwise.ts";
import { layerNorm, scaledDotProductAttention, softmax } from "../tensor/ops/nn.ts";
import { Tensor, indexTensor } from "../tensor/tensor.ts";
import { type FixtureCase, configBool, configNumber, configString, floatTensor } from "./fixture.ts";

/** What a runner computed: tensors by fixture name, the leaf behind each gradient, and the loss's output. */
export interface OpRun {
  computed: Map<string, ArrayLike<number>>;
  /** Fixture tensor name → our tensor whose `.grad` is dL/d(that tensor). */
  leaves: Map<string, Tensor>;
  /** The tensor the case's loss multiplies by R. */
  lossOutput: Tensor | null;
}

/** "fused": the fast path (fused attention kernel). "traced": every step as its own op, recorded. */
export type RunMode = "fused" | "traced";

type Runner = (c: FixtureCase, mode: RunMode) => OpRun;

function leaf(c: FixtureCase, name: string): Tensor {
  const t = floatTensor(c, name);
  return new Tensor(Float32Array.from(t.data), t.shape, c.loss !== null);
}

function keyMask(c: FixtureCase): AttentionMask | null {
  const kpm = c.tensors.get("key_padding_mask");
  if (kpm) return fromTorchKeyPaddingMask(kpm.data, kpm.shape);
  const am = c.tensors.get("attention_mask");
  return am ? fromHfAttentionMask(am.data, am.shape) : null;
}

/** Loads fixture parameters into a module through a renaming function, strictly (every parameter must be given). */
function loadParams(c: FixtureCase, module: Module, rename: (fixtureName: string) => string, run: OpRun): void {
  const state = new Map<string, NamedArray>();
  const ours = module.stateDict();
  for (const t of c.tensors.values()) {
    if (t.role !== "param") continue;
    const name = rename(t.name);
    state.set(name, floatTensor(c, t.name));
    const p = ours.get(name);
    if (p) run.leaves.set(t.name, p);
  }
  module.loadStateDict(state, { source: c.name });
}

const MHA_NAMES: Record<string, string> = {
  W_Q: "q_proj.weight", b_Q: "q_proj.bias", W_K: "k_proj.weight", b_K: "k_proj.bias",
  W_V: "v_proj.weight", b_V: "v_proj.bias", W_O: "out_proj.weight", b_O: "out_proj.bias",
};

/** encoder_layer fixture parameter names (attn.W_Q, ff.W_1, norm1.gamma, …) → EncoderLayer names. */
function layerParamName(name: string): string {
  if (name.startsWith("attn.")) {
    const n = MHA_NAMES[name.slice(5)];
    if (n) return `self_attn.${n}`;
  }
  const ff = /^ff\.([Wb])_([12])$/.exec(name);
  if (ff) return `ffn.linear${ff[2]}.${ff[1] === "W" ? "weight" : "bias"}`;
  const norm = /^(norm[12])\.(gamma|beta)$/.exec(name);
  if (norm) return `${norm[1]}.${norm[2] === "gamma" ? "weight" : "bias"}`;
  throw new ConfigError(`encoder layer: unknown parameter '${name}'`);
}

function emptyRun(): OpRun {
  return { computed: new Map(), leaves: new Map(), lossOutput: null };
}

const softmaxCase: Runner = (c) => {
  const run = emptyRun();
  const x = leaf(c, "x");
  run.leaves.set("x", x);
  run.lossOutput = softmax(x);
  run.computed.set("y", run.lossOutput.data);
  return run;
};

const layerNormCase: Runner = (c) => {
  const run = emptyRun();
  const [x, gamma, beta] = ["x", "gamma", "beta"].map((n) => leaf(c, n));
  ["x", "gamma", "beta"].forEach((n, i) => run.leaves.set(n, [x, gamma, beta][i]));
  const rows = x.size / x.shape[x.rank - 1];
  const stats = { mean: new Float32Array(rows), rstd: new Float32Array(rows) };
  run.lossOutput = layerNorm(x, gamma, beta, configNumber(c, "eps"), stats);
  run.computed.set("y", run.lossOutput.data);
  run.computed.set("intermediate.mean", stats.mean);
  run.computed.set("intermediate.rstd", stats.rstd);
  return run;
};

const activationsCase: Runner = (c) => {
  const run = emptyRun();
  const names: [string, Activation][] = [["relu", "relu"], ["gelu_erf", "gelu"], ["gelu_tanh", "gelu_tanh"]];
  for (const [fixtureName, act] of names) {
    const x = new Tensor(Float32Array.from(floatTensor(c, "x").data), floatTensor(c, "x").shape, true);
    const y = activation(act, x);
    y.backward(new Float32Array(y.size).fill(1)); // the element-wise derivative, through autograd
    run.computed.set(fixtureName, y.data);
    run.computed.set(`d_${fixtureName}`, x.grad!.data);
  }
  return run;
};

const positionalCase: Runner = (c) => {
  const run = emptyRun();
  run.computed.set("pe", sinusoidalTable(configNumber(c, "max_len"), configNumber(c, "d")));
  return run;
};

const sdpaCase: Runner = (c) => {
  const run = emptyRun();
  const [q, k, v] = ["q", "k", "v"].map((n) => leaf(c, n));
  ["q", "k", "v"].forEach((n, i) => run.leaves.set(n, [q, k, v][i]));
  const mask = keyMask(c);
  const causal = configBool(c, "causal", false);
  const r = scaledDotProductAttention(q, k, v, {
    scale: configNumber(c, "scale"), keyMask: mask, causal, needWeights: true, needScores: true,
  });
  run.lossOutput = r.output;
  run.computed.set("output", r.output.data);
  run.computed.set("attn_weights", r.weights!.data);
  run.computed.set("intermediate.scores", r.scores!.data);
  run.computed.set("intermediate.combined_mask", combinedMask(mask, q.shape[2], k.shape[2], causal, q.shape[0]).data);
  return run;
};

const mhaCase: Runner = (c, mode) => {
  const run = emptyRun();
  const self = c.tensors.has("x");
  const query = leaf(c, self ? "x" : "query");
  run.leaves.set(self ? "x" : "query", query);
  const memory = self ? query : leaf(c, "memory");
  if (!self) run.leaves.set("memory", memory);
  const mha = new MultiHeadAttention({
    dModel: configNumber(c, "d_model"), heads: configNumber(c, "heads"), bias: configBool(c, "bias", true),
  });
  loadParams(c, mha, (n) => MHA_NAMES[n] ?? n, run);
  const trace = mode === "traced" ? new Trace() : undefined;
  const r = mha.forward(query, { memory, attentionMask: keyMask(c), needWeights: true, trace });
  run.lossOutput = r.output;
  run.computed.set("attn_output", r.output.data);
  run.computed.set("attn_weights", r.weights!.data);
  if (trace) {
    for (const n of ["q_proj", "k_proj", "v_proj", "context"]) run.computed.set(`intermediate.${n}`, trace.get(n)!.data);
  }
  return run;
};

function encoderLayerOptions(c: FixtureCase, dModelKey: string, headsKey: string, dFFKey: string): EncoderLayerOptions {
  return {
    dModel: configNumber(c, dModelKey), heads: configNumber(c, headsKey), dFF: configNumber(c, dFFKey),
    activation: configString(c, "activation", configString(c, "hidden_act", "relu")) as Activation,
    normFirst: configBool(c, "norm_first", false), layerNormEps: configNumber(c, "layer_norm_eps", 1e-5),
  };
}

/** Records a layer's intermediates under the fixture's names (trace names → fixture names). */
function layerIntermediates(run: OpRun, trace: Trace | undefined, names: Record<string, string>): void {
  if (!trace) return;
  for (const [ours, theirs] of Object.entries(names)) run.computed.set(theirs, trace.get(ours)!.data);
}

const encoderLayerCase: Runner = (c, mode) => {
  const run = emptyRun();
  const x = leaf(c, "x");
  run.leaves.set("x", x);
  const layer = new EncoderLayer(encoderLayerOptions(c, "d_model", "heads", "d_ff"));
  loadParams(c, layer, layerParamName, run);
  const trace = mode === "traced" ? new Trace() : undefined;
  const r = layer.forward(x, { attentionMask: keyMask(c), needWeights: true, trace });
  run.lossOutput = r.output;
  run.computed.set("output", r.output.data);
  run.computed.set("intermediate.attn_weights", r.weights!.data);
  layerIntermediates(run, trace, {
    sa_out: "intermediate.sa_out", h1: "intermediate.h1", "ffn.act": "intermediate.ff_act", ff_out: "intermediate.ff_out",
  });
  return run;
};

const bertLayerCase: Runner = (c, mode) => {
  const run = emptyRun();
  const x = leaf(c, "hidden_states");
  run.leaves.set("hidden_states", x);
  const layer = new EncoderLayer({ ...encoderLayerOptions(c, "hidden_size", "num_attention_heads", "intermediate_size"), normFirst: false });
  // HF BertLayer names, mapped through the same table the checkpoint loader uses.
  loadParams(c, layer, (n) => {
    const ours = fromHfBertName(`encoder.layer.0.${n}`);
    if (!ours) throw new ConfigError(`bert_layer: unknown parameter '${n}'`);
    return ours.replace(/^encoder\.layers\.0\./, "");
  }, run);
  const trace = mode === "traced" ? new Trace() : undefined;
  const r = layer.forward(x, { attentionMask: keyMask(c), needWeights: true, trace });
  run.lossOutput = r.output;
  run.computed.set("output", r.output.data);
  run.computed.set("intermediate.attention_probs", r.weights!.data);
  layerIntermediates(run, trace, {
    "self_attn.context": "intermediate.context", h1: "intermediate.attention_output", "ffn.act": "intermediate.intermediate_act",
  });
  return run;
};

const encoderStackCase: Runner = (c, mode) => {
  const run = emptyRun();
  const ids = c.tensors.get("ids")!;
  const [batch, n] = ids.shape;
  const numLayers = configNumber(c, "num_layers");
  const model = new TransformerEncoderModel(encoderConfig({
    vocabSize: configNumber(c, "vocab"), dModel: configNumber(c, "d_model"), heads: configNumber(c, "heads"),
    dFF: configNumber(c, "d_ff"), numLayers, maxPositions: n, positional: "sinusoidal",
    scaleEmbedding: configBool(c, "scale_embedding", true), activation: configString(c, "activation", "relu") as Activation,
    normFirst: configBool(c, "norm_first", false), layerNormEps: configNumber(c, "layer_norm_eps", 1e-5), dropout: 0,
    finalNorm: configBool(c, "final_norm", false), padId: configNumber(c, "pad_id", 0),
  }));
  loadParams(c, model, (name) => {
    if (name === "embedding") return "embedding.weight";
    const m = /^layer(\d+)\.(.*)$/.exec(name);
    if (!m) throw new ConfigError(`encoder_stack: unknown parameter '${name}'`);
    return `encoder.layers.${m[1]}.${layerParamName(m[2])}`;
  }, run);
  const trace = new Trace();
  const out = model.forward(indexTensor(ids.data, [batch, n]), { attentionMask: keyMask(c), trace: mode === "traced" ? trace : undefined });
  const x0 = out.hiddenStates[0].retainGrad();
  run.leaves.set("x0", x0);
  run.lossOutput = out.lastHiddenState;
  run.computed.set("output", out.lastHiddenState.data);
  run.computed.set("intermediate.x0", x0.data);
  run.computed.set("pe", sinusoidalTable(n, configNumber(c, "d_model")));
  for (let l = 0; l < numLayers; l++) run.computed.set(`intermediate.layer${l}_out`, out.hiddenStates[l + 1].data);
  return run;
};

/** Every op of the PyTorch fixtures, and whether it has a separate step-by-step (traced) path worth checking. */
export const PYTORCH_RUNNERS: Record<string, { run: Runner; traced: boolean }> = {
  softmax: { run: softmaxCase, traced: false },
  layer_norm: { run: layerNormCase, traced: false },
  activations: { run: activationsCase, traced: false },
  positional_encoding: { run: positionalCase, traced: false },
  scaled_dot_product_attention: { run: sdpaCase, traced: false },
  multi_head_attention: { run: mhaCase, traced: true },
  encoder_layer: { run: encoderLayerCase, traced: true },
  encoder_stack: { run: encoderStackCase, traced: true },
  bert_layer: { run: bertLayerCase, traced: true },
};
