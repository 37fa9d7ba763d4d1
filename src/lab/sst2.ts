/**
 * SST-2 for the lab: the shipped sentences, tokenized with a compact WordPiece vocabulary (cached per process),
 * and a small classifier trained with the project's own batching, AdamW and evaluation.
 */
import { shippedPath } from "../io/shipped.ts";
import { EncoderClassifier } from "../models/classifier.ts";
import type { EncoderModelConfig } from "../nn/model.ts";
import { encoderConfig } from "../nn/model.ts";
import { Rng } from "../tensor/random.ts";
import { compactVocabulary } from "../text/compact-vocab.ts";
import { Vocabulary } from "../text/vocab.ts";
import { BertTokenizer } from "../text/wordpiece.ts";
import { type EncodedExample, collate, epochBatches } from "../train/batching.ts";
import type { AttentionMask } from "../nn/masks.ts";
import { noGrad } from "../tensor/autograd.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { readDataset } from "../train/data.ts";
import { encodeText, evaluate } from "../train/evaluate.ts";
import { crossEntropy } from "../train/losses.ts";
import { AdamW, clipGradNorm } from "../train/optim.ts";
import { warmupDecaySchedule } from "../train/schedule.ts";

/** SST-2, encoded. */
export interface Sst2 {
  train: EncodedExample[];
  dev: EncodedExample[];
  vocab: Vocabulary;
  tokenizer: BertTokenizer;
  maxLength: number;
}

let cached: Sst2 | null = null;

/** Loads and encodes data/sst2 (train 6920, dev 872) with a vocabulary cut from the shipped BERT one (pieces used ≥ 2 times). */
export function loadSst2(): Sst2 {
  if (cached) return cached;
  const maxLength = 48;
  const train = readDataset(shippedPath("data/sst2/stsa.binary.train"));
  const dev = readDataset(shippedPath("data/sst2/stsa.binary.dev"), { labels: train.labels });
  const base = Vocabulary.fromFile(shippedPath("models/bert-tiny-sst2-encoder/vocab.txt"));
  const vocab = compactVocabulary(base, train.examples.map((e) => e.text), { doLowerCase: true, minFrequency: 2 });
  const tokenizer = new BertTokenizer(vocab, { doLowerCase: true });
  const encode = (examples: { text: string; label: number }[]): EncodedExample[] =>
    examples.map((e) => ({ ids: encodeText(tokenizer, e.text, maxLength), label: e.label }));
  cached = { train: encode(train.examples), dev: encode(dev.examples), vocab, tokenizer, maxLength };
  return cached;
}

/** Options of `trainSst2`. */
export interface Sst2RunOptions {
  encoder: Partial<Omit<EncoderModelConfig, "vocabSize" | "padId">>;
  epochs: number;
  /** Use only the first this many training sentences (all when omitted). */
  trainLimit?: number;
  /** Evaluate on only the first this many dev sentences (all 872 when omitted). */
  devLimit?: number;
  batchSize?: number;
  lr?: number;
  seed: number;
}

/** A trained SST-2 classifier and its dev accuracy. */
export interface Sst2RunResult {
  model: EncoderClassifier;
  accuracy: number;
  loss: number;
  steps: number;
  seconds: number;
}

/** Trains a small classifier on SST-2 (mean pooling, dropout 0.1) and evaluates it on the dev set. */
export function trainSst2(o: Sst2RunOptions): Sst2RunResult {
  const started = performance.now();
  const data = loadSst2();
  const train = o.trainLimit ? data.train.slice(0, o.trainLimit) : data.train;
  const rng = new Rng(o.seed);
  const encoder = encoderConfig({
    dModel: 64, heads: 4, dFF: 128, numLayers: 1, maxPositions: data.maxLength, dropout: 0.1, activation: "gelu", ...o.encoder,
    vocabSize: data.vocab.size, padId: data.vocab.padId,
  });
  const model = new EncoderClassifier({ encoder, pooling: "mean", labels: ["0", "1"] }, rng);
  const named = model.namedParameters().map(([name, param]) => ({ name, param }));
  const optimizer = new AdamW(named, { lr: o.lr ?? 1e-3, weightDecay: 0.01 });
  const batchSize = o.batchSize ?? 32;
  const perEpoch = Math.ceil(train.length / batchSize);
  const total = perEpoch * o.epochs;
  const schedule = warmupDecaySchedule({ peak: o.lr ?? 1e-3, warmup: Math.round(total / 10), total, decay: "linear" });
  let step = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    model.train();
    for (const batch of epochBatches(train, batchSize, o.seed, epoch, data.vocab.padId)) {
      const { logits } = model.forward(batch.ids, { attentionMask: batch.attentionMask });
      const loss = crossEntropy(logits, batch.labels);
      optimizer.zeroGrad();
      loss.backward();
      clipGradNorm(model.parameters(), 1);
      optimizer.lr = schedule(++step);
      optimizer.step();
    }
  }
  model.eval();
  const result = evaluate(model, o.devLimit ? data.dev.slice(0, o.devLimit) : data.dev);
  return { model, accuracy: result.accuracy, loss: result.loss, steps: step, seconds: (performance.now() - started) / 1000 };
}

/** Layer-0 attention probabilities of a classifier on the first `count` dev sentences, with their real-token mask. */
export function devAttention(model: EncoderClassifier, count: number): { weights: Tensor; real: AttentionMask; uniformDiagonal: number } {
  const data = loadSst2();
  const batch = collate(data.dev.slice(0, count), data.vocab.padId);
  const out = noGrad(() => model.forward(batch.ids, { attentionMask: batch.attentionMask, needWeights: true }));
  // Uniform attention over a sentence of L real tokens puts 1/L on each key, the diagonal included.
  const lengths = data.dev.slice(0, count).map((e) => e.ids.length);
  const uniformDiagonal = lengths.length / lengths.reduce((s, l) => s + l, 0);
  return { weights: out.attentions[0], real: batch.attentionMask, uniformDiagonal };
}
