/**
 * tsformer: the Transformer encoder in TypeScript. The public API: tensors and ops, layers, models,
 * tokenizers, checkpoint I/O and the fixture runner.
 */
export * from "./errors.ts";
export * from "./tensor/index.ts";
export { type Backend, type MatmulParams, type AttentionParams, type UnaryOp, type BinaryOp } from "./backend/backend.ts";
export { getBackend, setBackend, registerBackend, listBackends } from "./backend/registry.ts";
export { loadWasmBackend, useFastestBackend, wasmThreads, detectFeatures, type WasmBackendOptions, type LoadedWasmBackend } from "./backend/wasm/index.ts";
export * from "./nn/index.ts";
export { setMemoryLimit, memoryLimit, estimateActivationBytes, type ActivationShape } from "./nn/memory.ts";
export { setFiniteChecks, finiteChecksEnabled } from "./tensor/checks.ts";
export { BertModel, BertPooler, type BertOutput } from "./models/bert.ts";
export { parseBertConfig, bertEncoderConfig, toHfBertConfigJson, type BertConfig } from "./models/bert-config.ts";
export { meanPool, clsPool, maxPool, pool, l2Normalize, cosineSimilarity, type Pooling } from "./models/pooling.ts";
export * from "./text/index.ts";
export { parseSafetensors, serializeSafetensors, readSafetensorsFile, writeSafetensorsFile, type StoredTensor, type StoredTensorInput, type SafetensorsDType } from "./io/safetensors.ts";
export { readShardedSafetensors } from "./io/sharded.ts";
export { writeFileAtomic, writeDirectoryAtomic } from "./io/atomic.ts";
export { fromHfBertName, toHfBertName, mapHfBertState, fromTorchEncoderState, toTorchEncoderState, fromTorchMultiheadAttentionState } from "./io/names.ts";
export { loadIntoModule } from "./io/load.ts";
export { runParity } from "./parity/runner.ts";
export type { CaseResult, Comparison } from "./parity/types.ts";
export { loadBert, loadBertSync, type LoadedBert, type BertTokenizerSettings } from "./models/load-bert.ts";
export { encodeTexts, embedTexts, sentenceEmbeddings, textSimilarity, type TextInput, type EmbedOptions } from "./models/embeddings.ts";
export { exportHfFolder, bertConfigFor, type ExportTokenizerSettings } from "./models/export.ts";
export { EncoderClassifier, type ClassifierConfig, type ClassifierOutput } from "./models/classifier.ts";
export { train, type TrainSummary, type TrainHooks } from "./train/trainer.ts";
export { resolveTrainConfig, type TrainConfig } from "./train/config.ts";
export { loadCheckpoint, saveCheckpoint, type LoadedClassifier } from "./train/checkpoint.ts";
export { evaluate, predict } from "./train/evaluate.ts";
export { crossEntropy, mseLoss } from "./train/losses.ts";
export { SGD, Adam, AdamW, clipGradNorm } from "./train/optim.ts";
export { noamSchedule, warmupDecaySchedule } from "./train/schedule.ts";
export { exportOnnx, writeOnnx } from "./io/onnx.ts";
