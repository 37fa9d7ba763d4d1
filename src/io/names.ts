/**
 * Name maps: how other libraries name the encoder's tensors, mapped to tsformer's names (and back).
 * tsformer's own scheme follows PyTorch's `nn.TransformerEncoder` with W_Q/W_K/W_V kept separate:
 *   encoder.layers.{i}.self_attn.{q,k,v,out}_proj.{weight,bias}, encoder.layers.{i}.ffn.linear{1,2}.*,
 *   encoder.layers.{i}.norm{1,2}.*, embedding.weight, positions.weight, token_types.weight, embedding_norm.*,
 *   and for BERT's heads pooler.dense.*, classifier.*, mlm_head.{dense,norm}.*, mlm_head.bias.
 * Only this file knows other schemes.
 */
import { CheckpointError, formatShape } from "../errors.ts";
import type { NamedArray } from "../nn/module.ts";

/** One renaming rule; `{i}` matches a layer index. */
type Rule = readonly [theirs: string, ours: string];

/** Hugging Face BertModel names (without the `bert.` prefix) → tsformer names. */
const HF_BERT_RULES: readonly Rule[] = [
  ["embeddings.word_embeddings.weight", "embedding.weight"],
  ["embeddings.position_embeddings.weight", "positions.weight"],
  ["embeddings.token_type_embeddings.weight", "token_types.weight"],
  ["embeddings.LayerNorm.weight", "embedding_norm.weight"],
  ["embeddings.LayerNorm.bias", "embedding_norm.bias"],
  ["encoder.layer.{i}.attention.self.query.", "encoder.layers.{i}.self_attn.q_proj."],
  ["encoder.layer.{i}.attention.self.key.", "encoder.layers.{i}.self_attn.k_proj."],
  ["encoder.layer.{i}.attention.self.value.", "encoder.layers.{i}.self_attn.v_proj."],
  ["encoder.layer.{i}.attention.output.dense.", "encoder.layers.{i}.self_attn.out_proj."],
  ["encoder.layer.{i}.attention.output.LayerNorm.", "encoder.layers.{i}.norm1."],
  ["encoder.layer.{i}.intermediate.dense.", "encoder.layers.{i}.ffn.linear1."],
  ["encoder.layer.{i}.output.dense.", "encoder.layers.{i}.ffn.linear2."],
  ["encoder.layer.{i}.output.LayerNorm.", "encoder.layers.{i}.norm2."],
  ["pooler.dense.", "pooler.dense."],
  ["classifier.", "classifier."],
  // BertForMaskedLM's head; its decoder is tied to embedding.weight, so `cls.predictions.decoder.*` are copies (HF_BERT_TIED).
  ["cls.predictions.transform.dense.", "mlm_head.dense."],
  ["cls.predictions.transform.LayerNorm.", "mlm_head.norm."],
  ["cls.predictions.bias", "mlm_head.bias"],
  // Not BERT: the final LayerNorm of a pre-LN tsformer encoder, exported under a BERT-style name (see models/export.ts).
  ["encoder.LayerNorm.", "encoder.norm."],
];

/** Hugging Face tensors tsformer ignores: buffers and the next-sentence head of pre-training. */
const HF_IGNORED = [/^embeddings\.position_ids$/, /^cls\.seq_relationship\./];

/** Stored copies of tied parameters (BertForMaskedLM's decoder) → the tsformer parameter each must equal. */
const HF_BERT_TIED: readonly Rule[] = [
  ["cls.predictions.decoder.weight", "embedding.weight"],
  ["cls.predictions.decoder.bias", "mlm_head.bias"],
];

function compile(pattern: string): RegExp {
  const escaped = pattern.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace("\\{i\\}", "{i}");
  return new RegExp(`^${escaped.replace("{i}", "(\\d+)")}`);
}

function rename(name: string, rules: readonly Rule[], from: 0 | 1): string | null {
  for (const rule of rules) {
    const m = compile(rule[from]).exec(name);
    if (m) {
      const target = rule[1 - from].replace("{i}", m[1] ?? "");
      return target + name.slice(m[0].length);
    }
  }
  return null;
}

/** A HF name without the `bert.` prefix of task models and with TF-era `gamma`/`beta` spelled `weight`/`bias`. */
function bareHfName(name: string): string {
  const n = name.startsWith("bert.") ? name.slice(5) : name;
  return n.replace(/\.gamma$/, ".weight").replace(/\.beta$/, ".bias");
}

/**
 * A Hugging Face BERT tensor name → tsformer's, or null for tensors tsformer ignores or that are not parameters
 * (buffers, the next-sentence head, the tied decoder copies of `hfBertTiedName`). Accepts the `bert.` prefix of
 * task models (BertForSequenceClassification …) and TF-era `gamma`/`beta` LayerNorm names.
 */
export function fromHfBertName(name: string): string | null {
  return isIgnoredHfBertName(name) ? null : rename(bareHfName(name), HF_BERT_RULES, 0);
}

/** For a stored copy of a tied parameter (`cls.predictions.decoder.weight` / `.bias`): the tsformer parameter it must equal; else null. */
export function hfBertTiedName(name: string): string | null {
  const n = bareHfName(name);
  return HF_BERT_TIED.find(([theirs]) => theirs === n)?.[1] ?? null;
}

/** Whether a HF BERT tensor is one tsformer ignores on purpose (a buffer, the next-sentence head). */
export function isIgnoredHfBertName(name: string): boolean {
  const n = bareHfName(name);
  return HF_IGNORED.some((re) => re.test(n));
}

/**
 * A tsformer name → its Hugging Face name. With `prefixed` (task models: BertForSequenceClassification,
 * BertForMaskedLM) the encoder's names get `bert.`; the heads (`classifier.*`, `cls.*`) never do.
 */
export function toHfBertName(name: string, prefixed = false): string | null {
  const hf = rename(name, HF_BERT_RULES, 1);
  if (hf === null) return null;
  return prefixed && !hf.startsWith("classifier.") && !hf.startsWith("cls.") ? `bert.${hf}` : hf;
}

/** Renames a whole HF BERT state dict to tsformer names (tied decoder copies skipped); unknown names are an error naming them. */
export function mapHfBertState(state: ReadonlyMap<string, NamedArray>, source: string): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  const unknown: string[] = [];
  for (const [name, t] of state) {
    if (isIgnoredHfBertName(name) || hfBertTiedName(name) !== null) continue;
    const ours = fromHfBertName(name);
    if (ours === null) unknown.push(name);
    else out.set(ours, t);
  }
  if (unknown.length > 0) {
    throw new CheckpointError(`${source}: tensors that are not part of a BERT model: ${unknown.slice(0, 5).map((n) => `'${n}'`).join(", ")}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ""}`);
  }
  return out;
}

/** Rows [from, to) of a 2-D (or 1-D) array, as a new NamedArray. */
function rows(t: NamedArray, from: number, to: number): NamedArray {
  const cols = t.shape.length === 2 ? t.shape[1] : 1;
  const shape = t.shape.length === 2 ? [to - from, cols] : [to - from];
  return { shape, data: t.data.slice(from * cols, to * cols) };
}

const TORCH_LAYER = /^(.*?)layers\.(\d+)\.(.*)$/;

/** Splits a packed (3·d, d) `in_proj_weight` or (3·d) `in_proj_bias` into W_Q, W_K, W_V (PyTorch stacks them by rows). */
function splitInProj(name: string, t: NamedArray, into: Map<string, NamedArray>, prefix: string): void {
  const d = t.shape[0] / 3;
  const isWeight = name.endsWith("weight");
  if (!Number.isInteger(d) || (isWeight && (t.shape.length !== 2 || t.shape[1] !== d)) || (!isWeight && t.shape.length !== 1)) {
    throw new CheckpointError(`PyTorch state: '${name}' has shape ${formatShape(t.shape)}, expected ${isWeight ? "(3·d, d)" : "(3·d)"} packing [W_Q; W_K; W_V]`);
  }
  const kind = isWeight ? "weight" : "bias";
  into.set(`${prefix}q_proj.${kind}`, rows(t, 0, d));
  into.set(`${prefix}k_proj.${kind}`, rows(t, d, 2 * d));
  into.set(`${prefix}v_proj.${kind}`, rows(t, 2 * d, 3 * d));
}

/** A PyTorch `nn.MultiheadAttention` state dict (in_proj_weight/bias, out_proj.*) → MultiHeadAttention names. */
export function fromTorchMultiheadAttentionState(state: ReadonlyMap<string, NamedArray>): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const [name, t] of state) {
    if (name === "in_proj_weight" || name === "in_proj_bias") splitInProj(name, t, out, "");
    else if (name === "out_proj.weight" || name === "out_proj.bias") out.set(name, t);
    else throw new CheckpointError(`PyTorch nn.MultiheadAttention state: unexpected tensor '${name}' (separate q/k/v_proj_weight, kdim ≠ embed_dim, is not supported)`);
  }
  return out;
}

/**
 * A PyTorch `nn.TransformerEncoder` (or single `nn.TransformerEncoderLayer` when `layer` is given) state dict →
 * tsformer names under `prefix` (e.g. "encoder."). The packed `self_attn.in_proj_weight` (3d, d) = [W_Q; W_K; W_V]
 * is split by rows into the three projections.
 */
export function fromTorchEncoderState(state: ReadonlyMap<string, NamedArray>, options: { prefix?: string; layer?: number } = {}): Map<string, NamedArray> {
  const prefix = options.prefix ?? "";
  const out = new Map<string, NamedArray>();
  for (const [name, t] of state) {
    let layerPrefix: string;
    let rest: string;
    if (options.layer !== undefined) {
      layerPrefix = `${prefix}layers.${options.layer}.`;
      rest = name;
    } else {
      const m = TORCH_LAYER.exec(name);
      if (!m) {
        if (/^norm\.(weight|bias)$/.test(name)) out.set(prefix + name, t);
        else throw new CheckpointError(`PyTorch encoder state: unexpected tensor '${name}'`);
        continue;
      }
      layerPrefix = `${prefix}layers.${m[2]}.`;
      rest = m[3];
    }
    if (rest === "self_attn.in_proj_weight" || rest === "self_attn.in_proj_bias") {
      splitInProj(name, t, out, `${layerPrefix}self_attn.`);
    } else if (/^self_attn\.out_proj\.(weight|bias)$/.test(rest) || /^norm[12]\.(weight|bias)$/.test(rest)) {
      out.set(layerPrefix + rest, t);
    } else if (/^linear[12]\.(weight|bias)$/.test(rest)) {
      out.set(`${layerPrefix}ffn.${rest}`, t);
    } else {
      throw new CheckpointError(`PyTorch encoder state: unexpected tensor '${name}'`);
    }
  }
  return out;
}

/**
 * tsformer encoder names (under `prefix`) → a PyTorch `nn.TransformerEncoder` state dict, packing W_Q, W_K, W_V
 * into `in_proj_weight`/`in_proj_bias`, so `torch.nn.TransformerEncoder(...).load_state_dict` accepts it.
 */
export function toTorchEncoderState(state: ReadonlyMap<string, NamedArray>, prefix = "encoder."): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  const re = new RegExp(`^${prefix.replace(/\./g, "\\.")}layers\\.(\\d+)\\.(.*)$`);
  for (const [name, t] of state) {
    if (name === `${prefix}norm.weight` || name === `${prefix}norm.bias`) {
      out.set(name.slice(prefix.length), t);
      continue;
    }
    const m = re.exec(name);
    if (!m) continue;
    const [, i, rest] = m;
    const pm = /^self_attn\.(q|k|v)_proj\.(weight|bias)$/.exec(rest);
    if (pm) {
      if (pm[1] !== "q") continue; // packed once, from q's turn
      const kind = pm[2];
      const parts = ["q", "k", "v"].map((p) => state.get(`${prefix}layers.${i}.self_attn.${p}_proj.${kind}`));
      if (parts.some((p) => !p)) throw new CheckpointError(`cannot pack layer ${i}: W_Q, W_K and W_V must all exist (shared W_Q/W_K has no PyTorch equivalent)`);
      const data = new Float32Array(parts.reduce((n, p) => n + p!.data.length, 0));
      let offset = 0;
      for (const p of parts) {
        data.set(p!.data, offset);
        offset += p!.data.length;
      }
      const shape = kind === "weight" ? [t.shape[0] * 3, t.shape[1]] : [t.shape[0] * 3];
      out.set(`layers.${i}.self_attn.in_proj_${kind}`, { shape, data });
    } else if (rest.startsWith("ffn.")) {
      out.set(`layers.${i}.${rest.slice(4)}`, t);
    } else {
      out.set(`layers.${i}.${rest}`, t);
    }
  }
  return out;
}
