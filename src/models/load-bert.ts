/**
 * Loading a Hugging Face BERT folder, as `save_pretrained` writes it: config.json, model.safetensors (or the
 * shards of model.safetensors.index.json), vocab.txt or tokenizer.json, and tokenizer_config.json. Also loads
 * folders written by `exportHfFolder` (their `"tsformer"` object) and tsformer training checkpoints.
 * Files are untrusted: every refusal is one line naming the file, the tensor or the config field, and what to do.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { CheckpointError, ConfigError, ShapeError, formatShape } from "../errors.ts";
import { recoverDirectory } from "../io/atomic.ts";
import { fromHfBertName, toHfBertName } from "../io/names.ts";
import { type StoredTensor, oneLine, readSafetensorsFile } from "../io/safetensors.ts";
import { SHARD_INDEX_FILE, readShardedSafetensors } from "../io/sharded.ts";
import { checkArangeBuffer } from "../io/state.ts";
import type { NamedArray } from "../nn/module.ts";
import { loadCheckpoint, readTensors } from "../train/checkpoint.ts";
import { BertTokenizer } from "../text/wordpiece.ts";
import { Vocabulary } from "../text/vocab.ts";
import { BertModel } from "./bert.ts";
import { type BertConfig, parseBertConfig } from "./bert-config.ts";
import { bertConfigFor } from "./export.ts";

/** The tokenizer settings of a BERT folder (tokenizer_config.json's fields, in tsformer's spelling). */
export interface BertTokenizerSettings {
  doLowerCase: boolean;
  /** null: strip accents exactly when lower-casing (HF's default). */
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
}

/** A loaded model folder. */
export interface LoadedBert {
  model: BertModel;
  tokenizer: BertTokenizer;
  config: BertConfig;
  dir: string;
  /** The tokenizer's settings, as read (what `exportHfFolder` writes back). */
  tokenizerSettings: BertTokenizerSettings;
  /** Longest input in tokens, [CLS]/[SEP] included: max_position_embeddings, or tokenizer_config's model_max_length when smaller. */
  maxLength: number;
}

/** Options of `loadBert`. */
export interface LoadBertOptions {
  /** Accept NaN and ±Infinity in the weights (default false: refused, naming the tensor). */
  allowNonFinite?: boolean;
}

/** The folder's config.json, parsed; `raw` keeps every field. */
interface ConfigFile { path: string; raw: Record<string, unknown> }

/** Where the weights are. */
type WeightsLocation = { kind: "single" | "sharded"; path: string };

const errno = (e: unknown): string => (typeof e === "object" && e !== null && "code" in e ? String(e.code) : String(e));

/** Reads a JSON object file; `missing` says what to do when it does not exist. */
function readJsonObject(path: string, missing: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CheckpointError(errno(e) === "ENOENT" ? `${path}: not found; ${missing}` : `${path}: cannot read the file (${errno(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${oneLine((e as Error).message.split(', "')[0])}); save the file again`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new CheckpointError(`${path}: expected a JSON object`);
  return json as Record<string, unknown>;
}

/** Checks the folder exists and is a folder. */
function checkFolder(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new CheckpointError(`${dir}: no such folder; a BERT model folder holds config.json, model.safetensors and vocab.txt (what save_pretrained writes)`);
  }
  if (!isDir) throw new CheckpointError(`${dir}: is a file, not a folder; pass the folder that holds config.json, model.safetensors and vocab.txt`);
}

function readConfig(dir: string): ConfigFile {
  const path = join(dir, "config.json");
  return { path, raw: readJsonObject(path, "a BERT model folder needs the config.json that save_pretrained writes next to the weights") };
}

/** The Python line that converts a folder's weights to safetensors, for the class its config names. */
function convertCommand(dir: string, config: ConfigFile, fromTf = false): string {
  const arch = Array.isArray(config.raw.architectures) ? config.raw.architectures[0] : undefined;
  const cls = typeof arch === "string" && /^[A-Za-z]\w*$/.test(arch) ? arch : "AutoModel";
  const d = dir.replaceAll("'", "\\'");
  return `python -c "from transformers import ${cls}; ${cls}.from_pretrained('${d}'${fromTf ? ", from_tf=True" : ""}).save_pretrained('${d}', safe_serialization=True)"`;
}

/** Finds the weights: model.safetensors, else the shard index; pickle and TF-only folders are refused with the fix. */
function locateWeights(dir: string, config: ConfigFile): WeightsLocation {
  const single = join(dir, "model.safetensors");
  if (existsSync(single)) return { kind: "single", path: single };
  const index = join(dir, SHARD_INDEX_FILE);
  if (existsSync(index)) return { kind: "sharded", path: index };
  if (existsSync(join(dir, "pytorch_model.bin")) || existsSync(join(dir, "pytorch_model.bin.index.json"))) {
    throw new CheckpointError(`${dir}: has pytorch_model.bin but no model.safetensors; tsformer does not read pickle files because unpickling runs arbitrary code. Convert it once with: ${convertCommand(dir, config)}`);
  }
  if (existsSync(join(dir, "tf_model.h5"))) {
    throw new CheckpointError(`${dir}: has only TensorFlow weights (tf_model.h5); convert them to model.safetensors with: ${convertCommand(dir, config, true)}`);
  }
  throw new CheckpointError(`${dir}: no model.safetensors (nor ${SHARD_INDEX_FILE}); put the checkpoint's weights in the folder (download model.safetensors, or save_pretrained(..., safe_serialization=True))`);
}

/** A read failure made actionable: a truncated file says so, a missing shard says the index names it. */
function explainReadError(e: unknown, where: WeightsLocation): never {
  if (!(e instanceof CheckpointError)) throw e;
  if (/runs past the end of the file|too short for the 8-byte header/.test(e.message)) {
    throw new CheckpointError(`${e.message}; the file is truncated (an interrupted download or copy?): download or save it again`, { cause: e });
  }
  if (where.kind === "sharded" && /\(ENOENT\)/.test(e.message)) {
    throw new CheckpointError(`${e.message}; ${SHARD_INDEX_FILE} names this shard: download every shard it lists`, { cause: e });
  }
  throw e;
}

/** Reads the weights synchronously (the fixture runner is synchronous); shards are checked as readShardedSafetensors does. */
function readWeightsSync(where: WeightsLocation): Map<string, StoredTensor> {
  try {
    if (where.kind === "single") return readTensors(where.path);
    const map = readJsonObject(where.path, "").weight_map;
    if (typeof map !== "object" || map === null || Array.isArray(map) || Object.keys(map).length === 0) {
      throw new CheckpointError(`${where.path}: "weight_map" is missing, empty or not an object`);
    }
    const shards = new Map<string, Map<string, StoredTensor>>();
    const out = new Map<string, StoredTensor>();
    for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
      // The index is untrusted: a shard must be a plain file name inside the folder.
      if (typeof shard !== "string" || shard === "" || shard === "." || shard === ".." || /[/\\\0]|^[A-Za-z]:/.test(shard)) {
        throw new CheckpointError(`${where.path}: tensor '${oneLine(name)}' names shard ${oneLine(JSON.stringify(shard))}, which is not a plain file name inside the folder`);
      }
      let tensors = shards.get(shard);
      if (!tensors) shards.set(shard, (tensors = readTensors(join(dirname(where.path), shard))));
      const t = tensors.get(name);
      if (!t) throw new CheckpointError(`${where.path}: tensor '${oneLine(name)}' is mapped to shard '${oneLine(shard)}', which does not contain it`);
      out.set(name, t);
    }
    return out;
  } catch (e) {
    explainReadError(e, where);
  }
}

/** Reads the weights without blocking (for the CLI and library users). */
async function readWeights(where: WeightsLocation): Promise<Map<string, StoredTensor>> {
  try {
    if (where.kind === "single") return (await readSafetensorsFile(where.path)).tensors;
    return await readShardedSafetensors(dirname(where.path));
  } catch (e) {
    explainReadError(e, where);
  }
}

/** A tokenizer_config.json field that must be a boolean (or null where allowed) when present. */
function boolField(tc: Record<string, unknown>, key: string, path: string, nullable = false): boolean | null | undefined {
  const v = tc[key];
  if (v === undefined || typeof v === "boolean" || (nullable && v === null)) return v as boolean | null | undefined;
  throw new ConfigError(`${path}: field "${key}" is ${JSON.stringify(v)}; expected true or false${nullable ? " (or null)" : ""}`);
}

/** The vocabulary (vocab.txt, else tokenizer.json) and settings (tokenizer_config.json overrides tokenizer.json's normalizer, as HF does). */
function loadTokenizer(dir: string, config: BertConfig): { tokenizer: BertTokenizer; settings: BertTokenizerSettings; modelMaxLength: number | null } {
  const tcPath = join(dir, "tokenizer_config.json");
  const tc = existsSync(tcPath) ? readJsonObject(tcPath, "") : {};
  const expected: Record<string, string> = { unk_token: "[UNK]", cls_token: "[CLS]", sep_token: "[SEP]", pad_token: "[PAD]", mask_token: "[MASK]" };
  for (const [key, token] of Object.entries(expected)) {
    const v = tc[key];
    // AddedToken objects carry the text in "content".
    const text = typeof v === "object" && v !== null && "content" in v ? (v as { content: unknown }).content : v;
    if (text !== undefined && text !== null && text !== token) {
      throw new ConfigError(`${tcPath}: field "${key}" is ${JSON.stringify(text)}; tsformer's BERT tokenizer uses ${token}`);
    }
  }
  if (tc.do_basic_tokenize === false) throw new ConfigError(`${tcPath}: field "do_basic_tokenize" is false; tsformer's BERT tokenizer always runs the basic (punctuation, case) stage`);
  if (Array.isArray(tc.never_split) && tc.never_split.length > 0) throw new ConfigError(`${tcPath}: field "never_split" lists tokens; tsformer's BERT tokenizer does not support never_split`);
  const lower = boolField(tc, "do_lower_case", tcPath);
  const strip = boolField(tc, "strip_accents", tcPath, true);
  const chinese = boolField(tc, "tokenize_chinese_chars", tcPath);
  const vocabPath = join(dir, "vocab.txt");
  const jsonPath = join(dir, "tokenizer.json");
  let vocab: Vocabulary;
  let settings: BertTokenizerSettings;
  if (existsSync(vocabPath)) {
    vocab = Vocabulary.fromFile(vocabPath);
    settings = { doLowerCase: lower ?? true, stripAccents: strip ?? null, tokenizeChineseChars: chinese ?? true };
  } else if (existsSync(jsonPath)) {
    vocab = Vocabulary.fromTokenizerJsonFile(jsonPath);
    const n = vocab.normalizer;
    settings = { doLowerCase: lower ?? n?.lowercase ?? true, stripAccents: strip !== undefined ? strip : (n?.stripAccents ?? null), tokenizeChineseChars: chinese ?? n?.handleChineseChars ?? true };
  } else {
    throw new CheckpointError(`${dir}: no vocab.txt or tokenizer.json; save the tokenizer into the folder too (tokenizer.save_pretrained('${dir}'))`);
  }
  if (vocab.size > config.vocabSize) {
    throw new CheckpointError(`${vocab.source}: ${vocab.size} tokens but config.json vocab_size is ${config.vocabSize}, so ids from ${config.vocabSize} on have no embedding; use the vocabulary the model was trained with`);
  }
  const tokenizer = new BertTokenizer(vocab, { ...settings, ...(vocab.maxInputCharsPerWord !== null ? { maxInputCharsPerWord: vocab.maxInputCharsPerWord } : {}) });
  // HF writes a huge sentinel (1e30) when a tokenizer has no length limit.
  const mml = tc.model_max_length;
  const modelMaxLength = typeof mml === "number" && Number.isInteger(mml) && mml > 0 && mml < 1e9 ? mml : null;
  return { tokenizer, settings, modelMaxLength };
}

/** One dimension of a parameter as config.json sets it: the text naming the field, and the size. */
type Dim = { text: string; size: number };

/** The config.json fields that give each dimension of a parameter (tsformer name), or null for an unknown name. */
function dimsOf(ours: string, c: BertConfig, labels: Dim): Dim[] | null {
  const H = { text: `hidden_size ${c.hiddenSize}`, size: c.hiddenSize };
  const I = { text: `intermediate_size ${c.intermediateSize}`, size: c.intermediateSize };
  const pick = (rows: Dim, cols: Dim): Dim[] => (ours.endsWith(".weight") ? [rows, cols] : [rows]);
  if (ours === "embedding.weight") return [{ text: `vocab_size ${c.vocabSize}`, size: c.vocabSize }, H];
  if (ours === "positions.weight") return [{ text: `max_position_embeddings ${c.maxPositionEmbeddings}`, size: c.maxPositionEmbeddings }, H];
  if (ours === "token_types.weight") return [{ text: `type_vocab_size ${c.typeVocabSize}`, size: c.typeVocabSize }, H];
  if (/norm\d?\.(weight|bias)$/.test(ours)) return [H];
  if (/self_attn\.(q|k|v|out)_proj\./.test(ours) || ours.startsWith("pooler.dense.")) return pick(H, H);
  if (ours.includes(".ffn.linear1.")) return pick(I, H);
  if (ours.includes(".ffn.linear2.")) return pick(H, I);
  if (ours.startsWith("classifier.")) return pick(labels, H);
  return null;
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

/**
 * Maps a checkpoint's tensors to tsformer names, checks every shape against config.json (errors name the tensor
 * and the fields), and returns the loaded model. Ignores `embeddings.position_ids` (checked to be arange) and the
 * `cls.*` pre-training heads; `classifier.*` makes it a sequence classifier.
 */
function checkedBertModel(parsed: BertConfig, file: ConfigFile, tensors: Map<string, StoredTensor>, source: string, options: LoadBertOptions): BertModel {
  const raw = file.raw;
  const state = new Map<string, NamedArray>();
  const fileName = new Map<string, string>();
  const unknown: string[] = [];
  for (const [name, t] of tensors) {
    const bare = name.startsWith("bert.") ? name.slice(5) : name;
    if (bare === "embeddings.position_ids") {
      checkArangeBuffer(t, source);
      continue;
    }
    if (bare === "embeddings.token_type_ids" && !(t.data instanceof Float32Array)) continue; // a buffer some versions saved
    if (bare.startsWith("cls.")) continue; // pre-training heads (masked LM, next sentence), which BertModel ignores
    const ours = fromHfBertName(name);
    if (ours === null) {
      unknown.push(name);
      continue;
    }
    if (!(t.data instanceof Float32Array)) throw new CheckpointError(`${source}: tensor '${oneLine(name)}' is ${t.dtype}; BERT parameters are floating point (F32, F16, BF16, F64)`);
    const first = fileName.get(ours);
    if (first !== undefined) throw new CheckpointError(`${source}: tensors '${oneLine(first)}' and '${oneLine(name)}' are the same parameter; keep one`);
    state.set(ours, { shape: t.shape, data: t.data });
    fileName.set(ours, name);
  }
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 4).map((n) => `'${oneLine(n)}'`).join(", ");
    throw new CheckpointError(`${source}: tensors that are not part of a BERT model: ${shown}${unknown.length > 4 ? ` and ${unknown.length - 4} more` : ""}; tsformer runs BertModel and BertForSequenceClassification checkpoints`);
  }
  const hasClassifier = state.has("classifier.weight") || state.has("classifier.bias");
  const archs = raw.architectures;
  if (hasClassifier && !parsed.tsformer && Array.isArray(archs) && archs.length > 0 && !archs.includes("BertForSequenceClassification")) {
    throw new ConfigError(`${file.path}: field "architectures" is ${oneLine(JSON.stringify(archs))}; the only classifier head tsformer runs is BertForSequenceClassification's (logits from the pooled [CLS])`);
  }
  // Without id2label, HF uses num_labels (default 2) and names the classes LABEL_0, LABEL_1, ….
  const numLabels = typeof raw.num_labels === "number" && Number.isInteger(raw.num_labels) && raw.num_labels > 0 ? raw.num_labels : 2;
  const labels = hasClassifier ? (parsed.labels ?? Array.from({ length: numLabels }, (_, i) => `LABEL_${i}`)) : null;
  const labelDim = { text: parsed.labels ? `id2label (${labels?.length} labels)` : `num_labels ${numLabels}${raw.num_labels === undefined ? " (HF's default without id2label)" : ""}`, size: labels?.length ?? 0 };
  const config: BertConfig = { ...parsed, labels };
  const model = new BertModel(config);
  const own = model.stateDict();
  for (const [ours, t] of state) {
    const p = own.get(ours);
    const file = fileName.get(ours) as string;
    if (!p) throw notInModel(ours, file, config, source);
    const dims = dimsOf(ours, config, labelDim);
    if (dims && (dims.length !== t.shape.length || dims.some((d, i) => d.size !== t.shape[i]))) {
      const texts = [...new Set(dims.map((d) => d.text))];
      throw new ShapeError(`${source}: tensor '${oneLine(file)}' has shape ${formatShape(t.shape)} but config.json ${texts.join(" and ")} ${texts.length > 1 ? "give" : "gives"} ${formatShape(dims.map((d) => d.size))}`);
    }
  }
  const missing = [...own.keys()].filter((n) => !state.has(n));
  if (missing.length > 0) {
    const prefixed = [...tensors.keys()].some((n) => n.startsWith("bert."));
    const shown = missing.slice(0, 3).map((n) => `'${toHfBertName(n, prefixed) ?? n}'`).join(", ");
    const layers = [...state.keys()].map((n) => /^encoder\.layers\.(\d+)\./.exec(n)?.[1]).filter((i) => i !== undefined).map(Number);
    const top = layers.length > 0 ? Math.max(...layers) + 1 : 0;
    const hint = top < config.numHiddenLayers ? `config.json num_hidden_layers is ${config.numHiddenLayers} but the file has ${top} layer(s)` : "the file is incomplete or comes from another model";
    throw new CheckpointError(`${source}: missing ${missing.length} tensor(s) the model needs: ${shown}${missing.length > 3 ? " …" : ""}; ${hint}`);
  }
  model.loadStateDict(state, { source, allowNonFinite: options.allowNonFinite });
  return model;
}

/** Builds the model and tokenizer from the parsed config and the weights' tensors. */
function assemble(dir: string, config: ConfigFile, tensors: Map<string, StoredTensor>, source: string, options: LoadBertOptions): LoadedBert {
  const model = checkedBertModel(parseBertConfig(config.raw, config.path), config, tensors, source, options);
  const bertConfig = model.bertConfig;
  const { tokenizer, settings, modelMaxLength } = loadTokenizer(dir, bertConfig);
  const maxLength = Math.min(bertConfig.maxPositionEmbeddings, modelMaxLength ?? Infinity);
  return { model, tokenizer, config: bertConfig, dir, tokenizerSettings: settings, maxLength };
}

/** A tsformer training checkpoint (config.json `"format": "tsformer"`), as the equivalent BertModel with a `tsformer` object. */
function fromTrainingCheckpoint(dir: string, options: LoadBertOptions): LoadedBert {
  const ckpt = loadCheckpoint(dir, options);
  const config = bertConfigFor(ckpt.model);
  const model = new BertModel(config);
  model.loadStateDict(ckpt.model.stateDict(), { source: join(dir, "model.safetensors") });
  const t = ckpt.config.tokenizer;
  const settings = { doLowerCase: t.doLowerCase, stripAccents: t.stripAccents, tokenizeChineseChars: ckpt.tokenizer.options.tokenizeChineseChars };
  return { model, tokenizer: ckpt.tokenizer, config, dir, tokenizerSettings: settings, maxLength: Math.min(t.maxLength, config.maxPositionEmbeddings) };
}

/**
 * Loads a Hugging Face BERT folder (BertModel, or BertForSequenceClassification with its `classifier.*` head),
 * a folder written by `exportHfFolder`, or a tsformer training checkpoint. Throws CheckpointError/ConfigError/ShapeError
 * with one-line messages naming the file, tensor or field.
 */
export async function loadBert(dir: string, options: LoadBertOptions = {}): Promise<LoadedBert> {
  // A folder left half-swapped by an interrupted exportHfFolder is repaired first; any other oddity is left to checkFolder.
  await recoverDirectory(dir).catch(() => undefined);
  checkFolder(dir);
  const config = readConfig(dir);
  if (config.raw.format === "tsformer") return fromTrainingCheckpoint(dir, options);
  const where = locateWeights(dir, config);
  return assemble(dir, config, await readWeights(where), where.path, options);
}

/** `loadBert`, synchronously (for the fixture runner); does not repair an interrupted export. */
export function loadBertSync(dir: string, options: LoadBertOptions = {}): LoadedBert {
  checkFolder(dir);
  const config = readConfig(dir);
  if (config.raw.format === "tsformer") return fromTrainingCheckpoint(dir, options);
  const where = locateWeights(dir, config);
  return assemble(dir, config, readWeightsSync(where), where.path, options);
}
