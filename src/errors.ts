/**
 * The errors tsformer throws on bad input. Each carries a one-line message that says what is wrong
 * and, where it helps, what to do; the CLI prints `message` alone (the stack only with `--debug`).
 */

/** Base class: every error the library raises on purpose. */
export class TsformerError extends Error {
  override name = "TsformerError";
}

/** A tensor has the wrong shape; the message names the tensor and both shapes. */
export class ShapeError extends TsformerError {
  override name = "ShapeError";
}

/** A checkpoint, safetensors or vocabulary file is malformed or does not fit the model. */
export class CheckpointError extends TsformerError {
  override name = "CheckpointError";
}

/** A configuration (model config, CLI option, case.json) cannot be run. */
export class ConfigError extends TsformerError {
  override name = "ConfigError";
}

/** A data file (training text, labels) is malformed; the message names the file and line. */
export class DataError extends TsformerError {
  override name = "DataError";
}

/** Formats a shape the way PyTorch prints it: `[2, 3, 4]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** A request would need more memory (or time) than the configured limit; the message gives the figures. */
export class ResourceError extends TsformerError {
  override name = "ResourceError";
}
