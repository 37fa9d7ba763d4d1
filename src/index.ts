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
export { quantizeDynamic, quantizeWeight, quantizeRowsU7, isQuantized, dequantize, type QuantizedWeight, type QuantizedRows, type QuantizationSummary } from "./nn/quantize.ts";
export { setMemoryLimit, memoryLimit, estimateActivationBytes, type ActivationShape } from "./nn/memory.ts";
export { setFiniteChecks, finiteChecksEnabled } from "./tensor/checks.ts";
export { BertModel, BertPooler, type BertOutput, type BertModelOptions } from "./models/bert.ts";
export { BertLMPredictionHead } from "./models/masked-lm.ts";
export { parseBertConfig, bertEncoderConfig, toHfBertConfigJson, type BertConfig } from "./models/bert-config.ts";
export { meanPool, clsPool, maxPool, pool, l2Normalize, cosineSimilarity, type Pooling } from "./models/pooling.ts";
export * from "./text/index.ts";
export {
  parseSafetensors, serializeSafetensors, readSafetensorsFile, readSafetensorsFileSync, writeSafetensorsFile, openSafetensors, openSafetensorsFile,
  type StoredTensor, type StoredTensorInput, type SafetensorsDType, type SafetensorsView, type TensorInfo,
} from "./io/safetensors.ts";
export { readShardedSafetensors, openShardedSafetensors } from "./io/sharded.ts";
export { convertFloatTensors, F16_MAX, type FloatStorage, type ConversionReport } from "./io/convert.ts";
export { writeFileAtomic, writeDirectoryAtomic } from "./io/atomic.ts";
export { fromHfBertName, toHfBertName, hfBertTiedName, mapHfBertState, fromTorchEncoderState, toTorchEncoderState, fromTorchMultiheadAttentionState } from "./io/names.ts";
export { loadIntoModule } from "./io/load.ts";
export { runParity } from "./parity/runner.ts";
export type { CaseResult, Comparison } from "./parity/types.ts";
export { loadBert, loadBertSync, type LoadedBert, type LoadBertOptions, type BertArchitecture, type BertTokenizerSettings } from "./models/load-bert.ts";
export { encodeTexts, embedTexts, sentenceEmbeddings, textSimilarity, type TextInput, type EmbedOptions } from "./models/embeddings.ts";
export { fillMask, fillMaskPipeline, decodeLikeHf, readHfDecodeSettings, requireMaskedLmHead, FILL_MASK_TOP_K, type FillMaskCandidate, type FillMaskOptions, type HfDecodeSettings } from "./models/fill-mask.ts";
export { exportHfFolder, bertConfigFor, type ExportTokenizerSettings } from "./models/export.ts";
export { EncoderClassifier, type ClassifierConfig, type ClassifierOutput } from "./models/classifier.ts";
export { train, fineTune, type TrainSummary, type TrainHooks, type TrainOptions } from "./train/trainer.ts";
export type { CheckpointInfo, EpochInfo, StepInfo } from "./train/loop.ts";
export { trainableParameters, layerDecayScale, parameterDepth, type ParameterGroups, type ParameterGroupOptions } from "./train/param-groups.ts";
export { readDataset, readDatasetForClasses, type Dataset, type Example } from "./train/data.ts";
export { resolveTrainConfig, type TrainConfig } from "./train/config.ts";
export { pretrain, type PretrainSummary, type PretrainHooks, type PretrainOptions, type CorpusReport } from "./train/pretrain.ts";
export { resolvePretrainConfig, type PretrainConfig } from "./train/pretrain-config.ts";
export { readCorpusFile, packSequences, maskTokens, maskVocabulary, BERT_MASKING, type MaskingOptions, type MaskedSequence } from "./train/mlm-data.ts";
export { saveCheckpoint } from "./train/checkpoint.ts";
export { loadCheckpoint, type LoadedClassifier } from "./models/tsformer-checkpoint.ts";
export { evaluate, predict, encodeText, type ClassifierModel, type EvalResult } from "./train/evaluate.ts";
export { crossEntropy, softCrossEntropy, mseLoss } from "./train/losses.ts";
export { teacherTargets, type DistillSettings, type TeacherTargets } from "./train/distill.ts";
export { SGD, Adam, AdamW, clipGradNorm } from "./train/optim.ts";
export { noamSchedule, warmupDecaySchedule } from "./train/schedule.ts";
export { exportOnnx, writeOnnx } from "./models/onnx-export.ts";
export { explainText, targetClass, EXPLAIN_METHODS, type ExplainMethod, type ExplainOptions, type MethodScores, type TextExplanation } from "./explain/explain.ts";
export { gradientPass, targetLogitSeed, crossEntropySeed, wordEmbeddingLookup, type ExplainBatch, type ExplainableModel, type GradientPass, type GradientPassOptions } from "./explain/backprop.ts";
export { attentionRollout, normContributions, gradientAttentionRelevance, type TokenMaps, type NormContributions } from "./explain/attention-flow.ts";
export { inputTimesGradient, integratedGradients, type InputTimesGradient, type IntegratedGradients, type TokenScores } from "./explain/input-attribution.ts";
export { parseHeadList, headMaskGates, headMaskVectors, headsByImportance, pruningCurve, HeadImportanceAccumulator, type HeadRef, type HeadImportance, type PruningStep } from "./explain/heads.ts";
export { datasetHeadImportance, datasetPruningCurve } from "./explain/dataset.ts";
