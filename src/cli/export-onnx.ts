/**
 * `tsformer export-onnx --model DIR --out FILE.onnx [--seq-len N] [--batch N] [--token-type-ids] [--quantize int8]`: writes a model
 * folder (anything `loadBert` reads: a Hugging Face BERT folder, what `tsformer train` writes, an older tsformer
 * checkpoint) as an ONNX graph for onnxruntime.
 */
import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import { intOption, quantizeOption } from "./model-option.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

/** The command's options. */
interface ExportOnnxOptions {
  model?: string;
  out?: string;
  seqLen?: string;
  batch?: string;
  tokenTypeIds?: boolean;
  quantize?: string;
  json?: boolean;
}

/** Registers the command. */
export function registerExportOnnx(program: Command): void {
  program
    .command("export-onnx")
    .description("write a model folder as an ONNX graph (inputs input_ids, attention_mask; outputs last_hidden_state, logits)")
    .option("--model <dir>", "a tsformer classifier checkpoint or a Hugging Face BERT folder")
    .option("--out <file>", "the .onnx file to write")
    .option("--seq-len <n>", "fix the sequence length (default: a dynamic axis)")
    .option("--batch <n>", "fix the batch size (default: a dynamic axis)")
    .option("--token-type-ids", "add a token_type_ids input (models with token types; default: type 0 everywhere)")
    .option("--quantize <dtype>", "int8: every Linear as int8 weights with per-row int8 activations (MatMulInteger; default: float32)")
    .option("--json", "print {out, bytes, inputs, outputs, nodes}")
    .action(async (options: ExportOnnxOptions) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        // Checked here rather than with requiredOption, so the error has the one-line `tsformer: …` form.
        if (!options.model) throw new ConfigError("--model DIR is required: a tsformer checkpoint or a Hugging Face BERT folder");
        if (!options.out) throw new ConfigError("--out FILE.onnx is required: where to write the graph");
        const seqLen = intOption("--seq-len", options.seqLen, 1);
        const batch = intOption("--batch", options.batch, 1);
        const quantize = quantizeOption(options.quantize);
        const { loadBert } = await import("../models/load-bert.ts"); // on use: the CLI starts without the engine
        const { model } = await loadBert(options.model, { mlmHead: false });
        const { writeOnnx } = await import("../models/onnx-export.ts"); // loaded on use: other commands never pay for protobufjs
        const r = await writeOnnx(model, options.out, { seqLen, batch, tokenTypeIds: options.tokenTypeIds, quantize, metadata: { source: options.model } });
        if (options.json) {
          printJsonLine({ out: options.out, bytes: r.bytes.length, inputs: r.inputs, outputs: r.outputs, nodes: r.nodes });
          return;
        }
        const mib = (r.bytes.length / 2 ** 20).toFixed(1);
        process.stdout.write(`wrote ${options.out}: ${mib} MiB, ${r.nodes} nodes, opset 17${quantize ? ", int8 Linear layers" : ""}; inputs ${r.inputs.join(", ")}; outputs ${r.outputs.join(", ")}\n`);
      });
    });
}
