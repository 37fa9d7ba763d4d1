/** Layers: modules that own parameters under PyTorch-style names, built only from the op API. */
export { Module, ModuleList, type NamedArray, type LoadOptions } from "./module.ts";
export { Trace } from "./trace.ts";
export { Linear, type LinearOptions } from "./linear.ts";
export { LayerNorm, Dropout } from "./layernorm.ts";
export { Embedding, SinusoidalPositionalEncoding, LearnedPositionalEmbedding, sinusoidalTable } from "./embedding.ts";
export * from "./masks.ts";
export { MultiHeadAttention, type MultiHeadAttentionOptions, type AttentionCall, type AttentionOutput, type Scoring } from "./attention.ts";
export { FeedForward, type FeedForwardOptions } from "./feedforward.ts";
export { EncoderLayer, Encoder, type EncoderLayerOptions, type EncoderOptions, type EncoderCall, type EncoderOutput } from "./encoder.ts";
export { TransformerEncoderModel, encoderConfig, type EncoderModelConfig, type ModelCall, type ModelOutput } from "./model.ts";
