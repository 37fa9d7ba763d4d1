/**
 * The weights check of a Hugging Face BERT checkpoint, done on the header alone (names, dtypes, shapes) before
 * the model is allocated: every tensor is mapped to a tsformer name, every shape compared with config.json (errors
 * name the tensor and the fields), the architecture recognised (BertModel, BertForSequenceClassification,
 * BertForMaskedLM), and what is absent decided (a new pooler) or refused. Then the model is built and the data
 * checked where only values can tell (the tied decoder, the position_ids buffer).
 */
import { CheckpointError, ConfigError } from "../errors.ts";
import { fromHfBertName, hfBertTiedName, isIgnoredHfBertName, toHfBertName } from "../io/names.ts";
import { type SafetensorsView, type TensorInfo, isFloatDType, oneLine } from "../io/safetensors.ts";
import { checkArangeBuffer } from "../io/state.ts";
import { assertFinite } from "../tensor/checks.ts";
import { Rng } from "../tensor/random.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { BERT_INITIALIZER_RANGE, BertModel } from "./bert.ts";
import { type BertConfig, bertEncoderConfig } from "./bert-config.ts";
import { initBertLinear } from "./masked-lm.ts";
import { type Dim, type SizeFields, type StoredShape, checkComputedPositions, checkLayerCount, checkShape, compareShapes, encoderParameterShapes } from "./param-shapes.ts";

/** What a checkpoint held: the Hugging Face class that saved it. */
export type BertArchitecture = "BertModel" | "BertForSequenceClassification" | "BertForMaskedLM";

/** config.json's names of the encoder's sizes. */
const HF_FIELDS: SizeFields = {
  vocabSize: "vocab_size", dModel: "hidden_size", heads: "num_attention_heads", dFF: "intermediate_size",
  numLayers: "num_hidden_layers", maxPositions: "max_position_embeddings", typeVocabSize: "type_vocab_size",
};

/** Where config.json is and what it holds, for messages and the fields BertConfig does not keep. */
export interface ConfigFile { path: string; raw: Record<string, unknown> }

/** The checked plan: what to build, which stored tensor fills each parameter, what to verify after reading, and the notes. */
export interface BertWeightsPlan {
  config: BertConfig;
  architecture: BertArchitecture;
  /** Build the masked-LM head (the checkpoint has one and the caller wants it). */
  mlmHead: boolean;
  /** tsformer parameter → the stored tensor's name. */
  files: Map<string, string>;
  /** Stored copies of tied parameters (the decoder) → the parameter each must equal. */
  tied: Map<string, string>;
  /** Integer `position_ids` buffers, checked to be 0, 1, 2, …. */
  buffers: string[];
  /** One line each: what was created or left out. */
  notes: string[];
}

/** Why a tensor of the file has no place in the model config.json describes. */
function notInModel(ours: string, file: string, c: BertConfig, source: string): CheckpointError {
  const layer = /^encoder\.layers\.(\d+)\./.exec(ours);
  const t = c.tsformer;
  const why = layer && Number(layer[1]) >= c.numHiddenLayers ? `belongs to layer ${layer[1]}, but config.json num_hidden_layers is ${c.numHiddenLayers}`
    : ours === "token_types.weight" ? "is a token-type table, but config.json type_vocab_size is 0"
    : ours === "positions.weight" && t ? `is a learned position table, but config.json tsformer.positional is "${t.positional}"`
    : ours.startsWith("embedding_norm.") && t ? "is an embedding LayerNorm, but config.json tsformer.embedding_norm is false"
    : ours.startsWith("pooler.") && t ? `belongs to the pooler, but config.json tsformer.pooling is "${t.pooling}" (no pooler)`
    : ours.startsWith("encoder.norm.") ? "is a final LayerNorm, which config.json does not ask for (tsformer.final_norm)"
    : "is not part of the model config.json describes";
  return new CheckpointError(`${source}: tensor '${oneLine(file)}' ${why}; the weights and config.json must come from the same checkpoint`);
}

/** The parameters of the BERT heads present, with the fields that give their sizes. */
function headShapes(c: BertConfig, labels: Dim | null, mlm: boolean): Map<string, Dim[]> {
  const H = { text: `hidden_size ${c.hiddenSize}`, size: c.hiddenSize };
  const out = new Map<string, Dim[]>();
  if ((c.tsformer?.pooling ?? "pooler") === "pooler") out.set("pooler.dense.weight", [H, H]).set("pooler.dense.bias", [H]);
  if (labels) out.set("classifier.weight", [labels, H]).set("classifier.bias", [labels]);
  if (mlm) {
    out.set("mlm_head.dense.weight", [H, H]).set("mlm_head.dense.bias", [H]).set("mlm_head.norm.weight", [H]).set("mlm_head.norm.bias", [H]);
    out.set("mlm_head.bias", [{ text: `vocab_size ${c.vocabSize}`, size: c.vocabSize }]);
  }
  return out;
}

/** The one-line refusal of a checkpoint that lacks parameters the model needs. */
function missingError(missing: string[], prefixed: boolean, source: string, mlmHead: boolean): CheckpointError {
  const shown = missing.slice(0, 3).map((n) => `'${toHfBertName(n, prefixed) ?? n}'`).join(", ");
  const hint = mlmHead && missing.every((n) => n.startsWith("mlm_head.")) ? "the masked-LM head is incomplete; load with mlmHead: false to leave it out"
    : "the file is incomplete or comes from another model";
  return new CheckpointError(`${source}: missing ${missing.length} tensor(s) the model needs: ${shown}${missing.length > 3 ? " …" : ""}; ${hint}`);
}

/** A checkpoint's tensors sorted by what they are, under tsformer's names where they are parameters. */
interface SortedTensors {
  stored: Map<string, StoredShape>;
  /** Stored copy of a tied parameter → that parameter. */
  tied: Map<string, string>;
  buffers: string[];
  sawMlm: boolean;
  sawNsp: boolean;
}

/** Sorts the header's tensors: parameters (renamed), tied copies, buffers, ignored heads; unknown or non-float parameters are refused. */
function sortTensors(infos: ReadonlyMap<string, TensorInfo>, source: string, mlmHead: boolean): SortedTensors {
  const out: SortedTensors = { stored: new Map(), tied: new Map(), buffers: [], sawMlm: false, sawNsp: false };
  const unknown: string[] = [];
  for (const [name, t] of infos) {
    const bare = name.startsWith("bert.") ? name.slice(5) : name;
    if (bare === "embeddings.position_ids") {
      out.buffers.push(name);
      continue;
    }
    if (bare === "embeddings.token_type_ids" && !isFloatDType(t.dtype)) continue; // a buffer some versions saved
    if (isIgnoredHfBertName(name)) {
      out.sawNsp ||= bare.startsWith("cls.");
      continue;
    }
    out.sawMlm ||= bare.startsWith("cls.predictions.");
    if (bare.startsWith("cls.") && !mlmHead) continue;
    const tiedTo = hfBertTiedName(name);
    if (tiedTo !== null) {
      out.tied.set(name, tiedTo);
      continue;
    }
    const ours = fromHfBertName(name);
    if (ours === null) {
      unknown.push(name);
      continue;
    }
    if (!isFloatDType(t.dtype)) throw new CheckpointError(`${source}: tensor '${oneLine(name)}' is ${t.dtype}; BERT parameters are floating point (F32, F16, BF16, F64)`);
    const first = out.stored.get(ours);
    if (first !== undefined) throw new CheckpointError(`${source}: tensors '${oneLine(first.file)}' and '${oneLine(name)}' are the same parameter; keep one`);
    out.stored.set(ours, { file: name, shape: t.shape });
  }
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 4).map((n) => `'${oneLine(n)}'`).join(", ");
    throw new CheckpointError(`${source}: tensors that are not part of a BERT model: ${shown}${unknown.length > 4 ? ` and ${unknown.length - 4} more` : ""}; tsformer runs BertModel, BertForSequenceClassification and BertForMaskedLM checkpoints`);
  }
  return out;
}

/**
 * Checks a checkpoint's header against config.json and decides what to build; nothing of the model is allocated.
 * `mlmHead` false ignores `cls.*` altogether. Throws CheckpointError/ConfigError/ShapeError naming the tensor or field.
 */
export function planBertWeights(parsed: BertConfig, file: ConfigFile, infos: ReadonlyMap<string, TensorInfo>, source: string, mlmHead: boolean): BertWeightsPlan {
  const { stored, tied, buffers, sawMlm, sawNsp } = sortTensors(infos, source, mlmHead);
  // Old checkpoints may keep the output bias only as the decoder's (HF ties the two).
  const decoderBias = [...tied].find(([, ours]) => ours === "mlm_head.bias")?.[0];
  if (decoderBias !== undefined && !stored.has("mlm_head.bias")) {
    stored.set("mlm_head.bias", { file: decoderBias, shape: (infos.get(decoderBias) as TensorInfo).shape });
    tied.delete(decoderBias);
  }
  const hasClassifier = stored.has("classifier.weight") || stored.has("classifier.bias");
  const loadMlm = mlmHead && sawMlm;
  const architecture: BertArchitecture = hasClassifier ? "BertForSequenceClassification" : sawMlm ? "BertForMaskedLM" : "BertModel";
  const raw = file.raw;
  const archs = raw.architectures;
  if (hasClassifier && !parsed.tsformer && Array.isArray(archs) && archs.length > 0 && !archs.includes("BertForSequenceClassification")) {
    throw new ConfigError(`${file.path}: field "architectures" is ${oneLine(JSON.stringify(archs))}; the only classifier head tsformer runs is BertForSequenceClassification's (logits from the pooled [CLS])`);
  }
  // Without id2label, HF uses num_labels (default 2); the names LABEL_0, LABEL_1, … are made only once the stored head confirms the count.
  const numLabels = typeof raw.num_labels === "number" && Number.isInteger(raw.num_labels) && raw.num_labels > 0 ? raw.num_labels : 2;
  const labelCount = parsed.labels?.length ?? numLabels;
  const labelDim = hasClassifier ? { text: parsed.labels ? `id2label (${labelCount} labels)` : `num_labels ${numLabels}${raw.num_labels === undefined ? " (HF's default without id2label)" : ""}`, size: labelCount } : null;

  const encoder = bertEncoderConfig(parsed);
  checkLayerCount(parsed.numHiddenLayers, "num_hidden_layers", stored, source, "config.json");
  const expected = new Map([...encoderParameterShapes(encoder, HF_FIELDS), ...headShapes(parsed, labelDim, loadMlm)]);
  const missing = compareShapes(expected, stored, source, "config.json", (ours, name) => notInModel(ours, name, parsed, source));
  for (const [name, ours] of tied) checkShape(expected.get(ours) as Dim[], { file: name, shape: (infos.get(name) as TensorInfo).shape }, source, "config.json");
  const newPooler = missing.includes("pooler.dense.weight") && missing.includes("pooler.dense.bias");
  const stillMissing = newPooler ? missing.filter((n) => !n.startsWith("pooler.dense.")) : missing;
  if (stillMissing.length > 0) throw missingError(stillMissing, [...infos.keys()].some((n) => n.startsWith("bert.")), source, loadMlm);
  checkComputedPositions(encoder, "max_position_embeddings", file.path); // after the sizes it depends on are confirmed by the file

  const notes: string[] = [];
  if (newPooler) {
    const why = architecture === "BertForMaskedLM" ? "BertForMaskedLM checkpoint" : "saved with add_pooling_layer=False";
    notes.push(`${source}: no pooler (${why}): created a new one, initialised at random (N(0, ${parsed.initializerRange ?? BERT_INITIALIZER_RANGE}²) weights, zero bias)`);
  }
  if (sawMlm && !mlmHead) notes.push(`${source}: masked-LM head (cls.predictions.*) not loaded (mlmHead: false)`);
  if (sawNsp) notes.push(`${source}: next-sentence head (cls.seq_relationship.*) ignored`);
  const labels = hasClassifier ? (parsed.labels ?? Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`)) : null;
  const files = new Map([...stored].map(([ours, t]) => [ours, t.file]));
  return { config: { ...parsed, labels }, architecture, mlmHead: loadMlm, files, tied, buffers, notes };
}

/** The first index where two arrays differ (NaN equals NaN), or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

/**
 * An Rng for building a model whose weights a file is about to overwrite: while `placeholder` is on, every draw of
 * an initialiser is its distribution's centre (uniform 0.5, which every init maps to 0; normal 0), which skips
 * BERT-base's 110 M random samples (1.5 s of a 3.0 s build on the 2-core bench machine); initialisers see
 * `drawsCentres` and fill the centre without a loop of draws. Off, it is `Rng(seed)`, for
 * the parameters the file lacks (a new pooler) and for dropout in training: the placeholder draws consumed nothing.
 */
class PlaceholderRng extends Rng {
  placeholder = true;

  override get drawsCentres(): boolean {
    return this.placeholder;
  }

  override uniform(): number {
    return this.placeholder ? 0.5 : super.uniform();
  }

  override normal(): number {
    return this.placeholder ? 0 : super.normal();
  }
}

/**
 * Builds the model a plan describes and fills it from the file: each weight is read into its parameter (through
 * a 1 MiB buffer, no tensor-sized intermediate arrays), then the stored copies of tied parameters are compared with
 * them (tsformer ties the decoder to the word embeddings, as HF does) and every value is checked to be finite.
 */
export function buildBertModel(plan: BertWeightsPlan, view: SafetensorsView, source: string, allowNonFinite = false): BertModel {
  return view.withOpenFile(() => fillBertModel(plan, view, source, allowNonFinite)); // one descriptor per file for every read
}

/** `buildBertModel` inside the view's `withOpenFile`. */
function fillBertModel(plan: BertWeightsPlan, view: SafetensorsView, source: string, allowNonFinite: boolean): BertModel {
  for (const name of plan.buffers) checkArangeBuffer(view.read(name), source);
  const rng = new PlaceholderRng(0);
  const model = new BertModel(plan.config, rng, { mlmHead: plan.mlmHead });
  rng.placeholder = false;
  const params = model.stateDict();
  for (const [ours, name] of plan.files) view.readInto(name, (params.get(ours) as Tensor).data); // names and shapes matched by the plan
  for (const [name, ours] of plan.tied) {
    const copy = view.read(name).data as Float32Array;
    const original = (params.get(ours) as Tensor).data;
    const at = firstDifference(copy, original);
    if (at >= 0) {
      throw new CheckpointError(`${source}: tensor '${oneLine(name)}' differs from '${oneLine(plan.files.get(ours) as string)}' (at flat index ${at}: ${copy[at]} vs ${original[at]}); tsformer ties the decoder to them as BertForMaskedLM does, so save the checkpoint with tied weights, or load with mlmHead: false`);
    }
  }
  if (!allowNonFinite) {
    for (const [ours, p] of params) {
      if (plan.files.has(ours)) assertFinite(`${source}: tensor '${ours}'`, p.data, p.shape, "load with allowNonFinite to accept it");
    }
  }
  if (model.pooler && !plan.files.has("pooler.dense.weight")) initBertLinear(model.pooler.dense, plan.config.initializerRange ?? BERT_INITIALIZER_RANGE, rng);
  return model;
}
