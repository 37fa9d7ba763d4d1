/**
 * The benchmark's workloads (issue 5; W4 and W4-tiny, BERT fine-tuning steps, from issue 12): their sizes, full and
 * `--quick`, the FLOP counts GFLOP/s are computed from, and the deterministic inputs every system receives.
 */
import { Rng } from "../src/tensor/random.ts";
import { type EncoderModelConfig, encoderConfig } from "../src/nn/model.ts";
import type { BertConfig } from "../src/models/bert-config.ts";

/** Workload names. */
export type WorkloadId = "W1" | "W2" | "W3" | "W4" | "W4-tiny" | "K1";

/** An encoder's shape and its input batch. */
export interface EncoderShape {
  layers: number;
  dModel: number;
  heads: number;
  dFF: number;
  vocab: number;
  batch: number;
  seq: number;
  activation: "gelu" | "relu";
  /** Pad the last 25 % of positions in every other row (the mask then matters). */
  padded: boolean;
}

/** A matrix product C (m×n) = A (m×k) · B (k×n). */
export interface GemmShape {
  m: number;
  n: number;
  k: number;
}

/**
 * A BERT fine-tuning step (W4, W4-tiny): BertModel with its pooler and a classifier, dropout on, cross-entropy,
 * AdamW with decoupled weight decay on every parameter but biases and LayerNorms (`decaysByDefault`).
 */
export interface BertTrainWorkload {
  id: "W4" | "W4-tiny";
  kind: "bert-train";
  title: string;
  shape: EncoderShape;
  labels: number;
  lr: number;
  weightDecay: number;
  /** BERT's hidden_dropout_prob: on the embeddings, the attention probabilities and every sub-layer output. */
  dropout: number;
  flops: number;
}

/** One workload: what runs, on what sizes, and its FLOP count. */
export type Workload =
  | { id: "W1" | "W2"; kind: "forward"; title: string; shape: EncoderShape; flops: number }
  | { id: "W3"; kind: "train"; title: string; shape: EncoderShape; labels: number; lr: number; flops: number }
  | BertTrainWorkload
  | { id: "K1"; kind: "gemm"; title: string; shape: GemmShape; flops: number };

/** The seed every system builds the same weights and inputs from. */
export const SEED = 20240605;

/** BERT's WordPiece vocabulary size: the embedding tables are realistic in memory, though their lookup costs no FLOPs. */
const VOCAB = 30522;

/** 2·m·n·k: one multiply and one add per term of every output element. */
export function gemmFlops(s: GemmShape): number {
  return 2 * s.m * s.n * s.k;
}

/**
 * FLOPs of an encoder forward pass, counting the matrix products only (elementwise ops, LayerNorm, softmax and the
 * embedding lookup are O(tokens·d) or O(batch·heads·n²) and left out). With T = batch·seq tokens, per layer:
 *   Q, K, V and output projections   4 × 2·T·d²
 *   feed-forward                     2 × 2·T·d·d_ff
 *   Q·Kᵀ and P·V over all heads      2 × 2·batch·seq²·d
 * Padded positions count: every system computes them.
 */
export function encoderForwardFlops(s: Pick<EncoderShape, "layers" | "dModel" | "dFF" | "batch" | "seq">): number {
  const t = s.batch * s.seq;
  const perLayer = 8 * t * s.dModel ** 2 + 4 * t * s.dModel * s.dFF + 4 * s.batch * s.seq ** 2 * s.dModel;
  return s.layers * perLayer;
}

/**
 * FLOPs of one training step: 3 × the forward's (the backward pass computes two products — the input's and the
 * weight's gradient — for each product of the forward), plus the classifier head's 3 × 2·batch·d·labels.
 * The optimizer's O(parameters) update is not counted.
 */
export function trainStepFlops(s: EncoderShape, labels: number): number {
  return 3 * encoderForwardFlops(s) + 3 * 2 * s.batch * s.dModel * labels;
}

/**
 * FLOPs of one BERT fine-tuning step: 3 × (the encoder's forward + the pooler's 2·batch·d² + the classifier's
 * 2·batch·d·labels), counted as `trainStepFlops` counts them. Dropout, the embedding sums and AdamW are not counted.
 */
export function bertTrainStepFlops(s: EncoderShape, labels: number): number {
  return 3 * (encoderForwardFlops(s) + 2 * s.batch * s.dModel ** 2 + 2 * s.batch * s.dModel * labels);
}

/** Positions every system of a training step processes per second (padding included, as in the FLOP counts). */
export function tokensPerSecond(s: Pick<EncoderShape, "batch" | "seq">, ms: number): number {
  return (s.batch * s.seq) / (ms / 1000);
}

function encoder(layers: number, dModel: number, heads: number, dFF: number, batch: number, seq: number, padded: boolean, vocab = VOCAB): EncoderShape {
  return { layers, dModel, heads, dFF, vocab, batch, seq, activation: "gelu", padded };
}

/** The workloads, at the issues' sizes or (quick) at tiny ones for a smoke run. */
export function workloads(quick: boolean): Workload[] {
  const w1 = quick ? encoder(2, 32, 4, 64, 4, 16, true, 100) : encoder(6, 384, 12, 1536, 8, 128, true);
  const w2 = quick ? encoder(2, 48, 4, 96, 1, 16, false, 100) : encoder(12, 768, 12, 3072, 1, 128, false);
  const w3 = quick ? encoder(1, 16, 2, 32, 4, 8, false, 100) : encoder(2, 128, 4, 512, 32, 64, false);
  // W4: the shape of all-MiniLM-L6-v2; W4-tiny: of BERT-tiny (google/bert_uncased_L-2_H-128_A-2).
  const w4 = quick ? encoder(2, 32, 4, 64, 4, 16, true, 100) : encoder(6, 384, 12, 1536, 16, 64, true);
  const w4tiny = quick ? encoder(1, 16, 2, 32, 4, 8, true, 100) : encoder(2, 128, 2, 512, 32, 64, true);
  const k1 = quick ? { m: 64, n: 64, k: 64 } : { m: 1024, n: 1024, k: 1024 };
  const size = (s: EncoderShape): string => `${s.layers} layers, d ${s.dModel}, ${s.heads} heads, ff ${s.dFF}, batch ${s.batch} × ${s.seq}`;
  return [
    { id: "W1", kind: "forward", title: `forward, ${size(w1)}, GELU, post-LN, 25 % padding in half the rows`, shape: w1, flops: encoderForwardFlops(w1) },
    { id: "W2", kind: "forward", title: `forward, ${size(w2)}`, shape: w2, flops: encoderForwardFlops(w2) },
    { id: "W3", kind: "train", title: `training step, ${size(w3)}, mean pooling, cross-entropy, Adam`, shape: w3, labels: 2, lr: 1e-4, flops: trainStepFlops(w3, 2) },
    bertTrain("W4", `BERT fine-tuning step, MiniLM-shaped: ${size(w4)}, vocabulary ${w4.vocab}`, w4),
    bertTrain("W4-tiny", `BERT fine-tuning step, BERT-tiny-shaped: ${size(w4tiny)}, vocabulary ${w4tiny.vocab}`, w4tiny),
    { id: "K1", kind: "gemm", title: `sgemm ${k1.m}×${k1.k} · ${k1.k}×${k1.n}`, shape: k1, flops: gemmFlops(k1) },
  ];
}

function bertTrain(id: BertTrainWorkload["id"], size: string, shape: EncoderShape): BertTrainWorkload {
  const title = `${size}, 25 % padding in half the rows; pooler, 2-label classifier, dropout 0.1, cross-entropy, AdamW (decay 0.01)`;
  return { id, kind: "bert-train", title, shape, labels: 2, lr: 1e-4, weightDecay: 0.01, dropout: 0.1, flops: bertTrainStepFlops(shape, 2) };
}

/** The BertConfig of a BERT workload: Hugging Face's defaults (512 positions, 2 token types, GELU, LayerNorm ε 1e-12). */
export function bertConfig(w: BertTrainWorkload): BertConfig {
  const s = w.shape;
  return {
    vocabSize: s.vocab, hiddenSize: s.dModel, numHiddenLayers: s.layers, numAttentionHeads: s.heads, intermediateSize: s.dFF,
    hiddenAct: s.activation, maxPositionEmbeddings: 512, typeVocabSize: 2, layerNormEps: 1e-12, padTokenId: 0,
    hiddenDropoutProb: w.dropout, labels: Array.from({ length: w.labels }, (_, i) => `c${i}`),
  };
}

/** The tsformer model config of an encoder workload: sinusoidal positions, post-LN, no dropout. */
export function modelConfig(s: EncoderShape, maxPositions = Math.max(512, s.seq)): EncoderModelConfig {
  return encoderConfig({
    vocabSize: s.vocab, dModel: s.dModel, heads: s.heads, dFF: s.dFF, numLayers: s.layers, maxPositions,
    activation: s.activation, normFirst: false, dropout: 0, positional: "sinusoidal",
  });
}

/** Real tokens per row: all of them, or 75 % in every odd row when the workload is padded. */
export function rowLengths(s: EncoderShape): number[] {
  return Array.from({ length: s.batch }, (_, b) => (s.padded && b % 2 === 1 ? Math.ceil(s.seq * 0.75) : s.seq));
}

/** The batch every system gets: token ids (0 = padding), the mask (1 = real token) and, for training, labels. */
export interface EncoderInputs {
  ids: Int32Array;
  mask: Uint8Array;
  labels: Int32Array;
}

/** Deterministic inputs of an encoder workload. */
export function encoderInputs(s: EncoderShape, labels = 2): EncoderInputs {
  const rng = new Rng(SEED + 1);
  const lengths = rowLengths(s);
  const ids = new Int32Array(s.batch * s.seq);
  const mask = new Uint8Array(s.batch * s.seq);
  for (let b = 0; b < s.batch; b++) {
    for (let j = 0; j < lengths[b]; j++) {
      ids[b * s.seq + j] = 1 + rng.int(s.vocab - 1);
      mask[b * s.seq + j] = 1;
    }
  }
  const y = Int32Array.from({ length: s.batch }, () => rng.int(labels));
  return { ids, mask, labels: y };
}

/** Deterministic K1 operands, uniform in [−1, 1). */
export function gemmInputs(s: GemmShape): { a: Float32Array; b: Float32Array } {
  const rng = new Rng(SEED + 2);
  const a = Float32Array.from({ length: s.m * s.k }, () => 2 * rng.uniform() - 1);
  const b = Float32Array.from({ length: s.k * s.n }, () => 2 * rng.uniform() - 1);
  return { a, b };
}
