/**
 * Writing tsformer checkpoints: one folder holding
 *   config.json        architecture, labels, tokenizer settings (format "tsformer", version 1)
 *   model.safetensors  the parameters, F32, under PyTorch-style names (see src/io/names.ts)
 *   vocab.txt          the WordPiece vocabulary, line i = token id i
 * and, for checkpoints a training run can resume from, trainer_state.json and optimizer.safetensors. Reading them
 * is src/models/tsformer-checkpoint.ts (`loadCheckpoint`: the model layer's one loader needs it).
 * Saving writes a complete sibling folder, fsyncs it and renames it into place: a crash at any point leaves the
 * previous checkpoint or the new one, never a mix (see src/io/atomic.ts).
 */
import { writeDirectoryAtomic } from "../io/atomic.ts";
import { serializeSafetensors } from "../io/safetensors.ts";
import { toStoredInputs } from "../io/state.ts";
import type { EncoderClassifier } from "../models/classifier.ts";
import type { CheckpointConfig, TokenizerSettings } from "../models/tsformer-checkpoint.ts";
import type { Vocabulary } from "../text/vocab.ts";

/** The files of a checkpoint folder, ready to write (extra files: the trainer's state). */
export function checkpointFiles(model: EncoderClassifier, vocab: Vocabulary, tokenizer: TokenizerSettings,
  extra: Record<string, Uint8Array | string> = {}, dataLabels?: string[]): Record<string, Uint8Array | string> {
  const config: CheckpointConfig = {
    format: "tsformer", version: 1, architecture: "EncoderClassifier", classifier: model.classifierConfig, tokenizer,
    ...(dataLabels ? { dataLabels } : {}),
  };
  return {
    "config.json": `${JSON.stringify(config, null, 2)}\n`,
    "model.safetensors": serializeSafetensors(toStoredInputs(model.stateDict()), { format: "pt", producer: "tsformer" }),
    "vocab.txt": vocab.toText(),
    ...extra,
  };
}

/** Saves a classifier checkpoint atomically. */
export async function saveCheckpoint(dir: string, model: EncoderClassifier, vocab: Vocabulary, tokenizer: TokenizerSettings,
  extra: Record<string, Uint8Array | string> = {}, dataLabels?: string[]): Promise<void> {
  await writeDirectoryAtomic(dir, checkpointFiles(model, vocab, tokenizer, extra, dataLabels));
}
