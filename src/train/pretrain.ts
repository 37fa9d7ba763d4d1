/**
 * `tsformer pretrain`: a BERT pretrained from random weights with the masked-LM objective on plain text (Devlin
 * et al. 2019, without next-sentence prediction, with dynamic masking as RoBERTa). The corpus is read, split into
 * training and held-out documents, tokenized with a vocabulary cut from the training text, packed and masked
 * (mlm-data.ts); the loop, checkpoints and exact resumption are loop.ts's. `best/` (lowest held-out MLM loss) and
 * `last/` are Hugging Face BertForMaskedLM folders (`initFrom` continues from a folder's weights on new text): `fill-mask` and `train --init-from` read them, and so does
 * Python `transformers` (`BertForMaskedLM.from_pretrained`).
 */
import { join } from "node:path";
import { DataError } from "../errors.ts";
import { BertModel, initBertWeights } from "../models/bert.ts";
import type { BertConfig } from "../models/bert-config.ts";
import { hfFolderFiles } from "../models/export.ts";
import { type LoadedBert, loadBert } from "../models/load-bert.ts";
import { Rng } from "../tensor/random.ts";
import { compactVocabulary } from "../text/compact-vocab.ts";
import { Vocabulary } from "../text/vocab.ts";
import { BertTokenizer } from "../text/wordpiece.ts";
import { type LoopHooks, type LoopSummary, readTrainerState, runTraining } from "./loop.ts";
import { type CorpusDocument, maskVocabulary, packSequences, readCorpusFile, tokenizeDocuments } from "./mlm-data.ts";
import { MaskedLmTask } from "./mlm-task.ts";
import { optimizerFromConfig } from "./optim.ts";
import { trainableParameters } from "./param-groups.ts";
import type { PretrainConfig } from "./pretrain-config.ts";
import { restoreWeights } from "./setup.ts";
import { scheduleFromConfig } from "./schedule.ts";

/** What the corpus steps found and how long they took (reported before the first step). */
export interface CorpusReport {
  files: number;
  documents: number;
  heldOutDocuments: number;
  sentences: number;
  /** Word pieces of the training text, without [CLS]/[SEP]. */
  tokens: number;
  sequences: number;
  heldOutSequences: number;
  vocabSize: number;
  /** Seconds spent reading, building the vocabulary, tokenizing and packing. */
  seconds: { read: number; vocabulary: number; tokenize: number; pack: number };
}

/** Hooks of `pretrain`. */
export interface PretrainHooks extends LoopHooks {
  /** `notes`: one line each on what was decided (weights and vocabulary from `initFrom`, a new head). */
  onStart?(info: { totalSteps: number; startStep: number; parameters: number; corpus: CorpusReport; notes: string[] }): void;
}

/** Options of `pretrain` besides the hooks. */
export interface PretrainOptions extends PretrainHooks {
  /** Continue the run saved in `<out>/last` exactly. */
  resume?: boolean;
}

/** The outcome of a pretraining run. */
export interface PretrainSummary extends LoopSummary {
  parameters: number;
  corpus: CorpusReport;
}

/** What `fingerprint` covers, for the refusal of a resume with other settings. */
const RESUME_FIELDS = "text, vocabulary, tokenizer, packing, masking, model, optimizer, schedule, batch size, seed, epochs and --init-from";

/** The parts of a config a resumed run must share with the original. */
function fingerprint(c: PretrainConfig): string {
  const { data, vocab, tokenizer, packing, masking, model, optimizer, schedule, batchSize, seed, clipNorm, epochs, initFrom, ema } = c;
  // ema only when on: runs saved before it existed keep their fingerprint
  return JSON.stringify({ pretrain: true, data, vocab, tokenizer, packing, masking, model, optimizer, schedule, batchSize, seed, clipNorm, epochs, initFrom, ...(ema > 0 ? { ema } : {}) });
}

/** Seconds since `start` (a performance.now() reading). */
function since(start: number): number {
  return (performance.now() - start) / 1000;
}

/** Splits documents into training and held-out ones: a seeded choice of `fraction` of them (at least one when > 0). */
function splitHeldOut(docs: CorpusDocument[], fraction: number, seed: number): { train: CorpusDocument[]; heldOut: CorpusDocument[] } {
  if (fraction === 0 || docs.length < 2) return { train: docs, heldOut: [] };
  const count = Math.min(docs.length - 1, Math.max(1, Math.round(fraction * docs.length)));
  const chosen = new Set(new Rng((seed ^ 0x484f4c44) >>> 0).shuffle(docs.map((_, i) => i)).slice(0, count));
  return { train: docs.filter((_, i) => !chosen.has(i)), heldOut: docs.filter((_, i) => chosen.has(i)) };
}

/** Refuses a file whose lines are all single tokens: masked-LM predicts a token from its context. */
function checkHasContext(path: string, docs: readonly CorpusDocument[], tokenizer: BertTokenizer): void {
  if (!docs.some((d) => d.some((line) => tokenizer.basicTokenize(line).length > 1))) {
    throw new DataError(`${path}: no line has more than one token; masked-LM pretraining predicts words from their context, so give running text, one sentence per line`);
  }
}

/** The BertConfig of a model pretrained from scratch (plain BERT: Python transformers reads it as is). */
function bertConfigOf(c: PretrainConfig, vocab: Vocabulary): BertConfig {
  const m = c.model;
  return {
    vocabSize: vocab.size, hiddenSize: m.dModel, numHiddenLayers: m.numLayers, numAttentionHeads: m.heads, intermediateSize: m.dFF,
    hiddenAct: m.activation, maxPositionEmbeddings: m.maxPositions ?? c.tokenizer.maxLength, typeVocabSize: 2, layerNormEps: m.layerNormEps,
    padTokenId: vocab.padId, hiddenDropoutProb: m.dropout, initializerRange: m.initializerRange, labels: null, tsformer: null,
  };
}

/**
 * Copies a loaded folder's weights into the model to pretrain further: its encoder and, when it has one, its
 * masked-LM head (else the head keeps BERT's initialisation). Returns what was done, one line each.
 */
function continueFrom(model: BertModel, pretrained: LoadedBert): string[] {
  const wanted = model.stateDict();
  const weights = new Map([...pretrained.model.stateDict()].filter(([name]) => wanted.has(name)));
  model.loadStateDict(weights, { strict: false, source: pretrained.dir });
  const notes = [`weights, vocabulary and tokenizer: ${pretrained.dir} (${pretrained.architecture}); model sizes from its config.json`];
  if (!pretrained.model.mlmHead) notes.push(`masked-LM head: new (BERT's initialisation): ${pretrained.dir} has none`);
  return notes;
}

/** Pretrains as the config says; with `resume`, continues the run saved in `<out>/last`. */
export async function pretrain(config: PretrainConfig, options: PretrainOptions = {}): Promise<PretrainSummary> {
  const state = options.resume ? await readTrainerState(config.out, fingerprint(config), RESUME_FIELDS) : null;
  const lastDir = join(config.out, "last");
  let t = performance.now();
  const perFile = config.data.text.map((path) => ({ path, docs: readCorpusFile(path) }));
  const split = splitHeldOut(perFile.flatMap((f) => f.docs), config.data.heldOutText ? 0 : config.data.heldOutFraction, config.seed);
  const heldOutDocs = config.data.heldOutText ? config.data.heldOutText.flatMap(readCorpusFile) : split.heldOut;
  const readSeconds = since(t);

  t = performance.now();
  const notes: string[] = [];
  // Continued pretraining (domain- or task-adaptive, Gururangan et al. 2020): the folder's vocabulary and tokenizer.
  const pretrained = config.initFrom ? await loadBert(config.initFrom) : null;
  const doLowerCase = pretrained ? pretrained.tokenizerSettings.doLowerCase : config.tokenizer.doLowerCase;
  const maxLength = Math.min(config.tokenizer.maxLength, pretrained?.config.maxPositionEmbeddings ?? Infinity);
  if (maxLength < config.tokenizer.maxLength) notes.push(`max length: ${maxLength} tokens, the position table of ${config.initFrom}`);
  const vocab = state ? Vocabulary.fromFile(join(lastDir, "vocab.txt"))
    : pretrained ? pretrained.tokenizer.vocab
    : config.vocab.file ? Vocabulary.fromFile(config.vocab.file)
    : compactVocabulary(Vocabulary.fromFile(config.vocab.base!), split.train.flat(), { doLowerCase, minFrequency: config.vocab.minFrequency, maxSize: config.vocab.maxSize });
  const masking = maskVocabulary(vocab);
  const tokenizer = pretrained?.tokenizer ?? new BertTokenizer(vocab, { doLowerCase, stripAccents: null });
  const vocabularySeconds = since(t);

  t = performance.now();
  for (const f of perFile) checkHasContext(f.path, f.docs, tokenizer);
  const trainTokens = tokenizeDocuments(split.train, tokenizer);
  const heldOutTokens = tokenizeDocuments(heldOutDocs, tokenizer);
  const tokenizeSeconds = since(t);

  t = performance.now();
  const pack = { maxLength, separator: config.packing.separator, clsId: vocab.clsId, sepId: vocab.sepId };
  const sequences = packSequences(trainTokens, pack);
  const heldOutSequences = packSequences(heldOutTokens, pack);
  const corpus: CorpusReport = {
    files: perFile.length, documents: split.train.length, heldOutDocuments: heldOutDocs.length,
    sentences: trainTokens.reduce((n, d) => n + d.length, 0), tokens: trainTokens.reduce((n, d) => n + d.reduce((m, s) => m + s.length, 0), 0),
    sequences: sequences.length, heldOutSequences: heldOutSequences.length, vocabSize: vocab.size,
    seconds: { read: readSeconds, vocabulary: vocabularySeconds, tokenize: tokenizeSeconds, pack: since(t) },
  };

  const rng = new Rng(config.seed);
  const bertConfig = pretrained ? { ...pretrained.config, labels: null, hiddenDropoutProb: config.model.dropout } : bertConfigOf(config, vocab);
  const model = new BertModel(bertConfig, rng, { mlmHead: true, pooler: false });
  initBertWeights(model, rng);
  if (pretrained) notes.push(...continueFrom(model, pretrained));
  const task = new MaskedLmTask(model, sequences, heldOutSequences, { batchSize: config.batchSize, seed: config.seed, masking: config.masking, vocab: masking });
  const groups = trainableParameters(model, model.config.numLayers);
  const optimizer = optimizerFromConfig(config.optimizer, groups.trainable);
  const plannedSteps = task.stepsPerEpoch * config.epochs;
  const totalSteps = config.maxSteps > 0 ? Math.min(plannedSteps, config.maxSteps) : plannedSteps;
  const schedule = scheduleFromConfig(config.schedule, config.optimizer.lr, plannedSteps, model.config.dModel);
  const tokenizerSettings = { ...(pretrained?.tokenizerSettings ?? { doLowerCase, stripAccents: null, tokenizeChineseChars: true }), maxLength };

  options.onStart?.({ totalSteps, startStep: state?.step ?? 0, parameters: model.parameterCount(), corpus, notes });
  const summary = await runTraining({
    out: config.out, model, task, optimizer, trainable: groups.trainable.map((p) => p.param), schedule, rng, settings: config, totalSteps,
    folderFiles: () => hfFolderFiles(model, vocab, tokenizerSettings),
    config, fingerprint: fingerprint(config), resumeFrom: state, hasHeldOut: heldOutSequences.length > 0,
    bestRecord: (best) => ({ epoch: best.epoch, step: best.step, heldout_mlm_loss: best.loss, heldout_masked_accuracy: best.accuracy, seed: config.seed }),
    restoreWeights: (dir) => restoreWeights(model, dir),
  }, options);
  return { ...summary, parameters: model.parameterCount(), corpus };
}
