#!/usr/bin/env node
/** The `tsformer` command line: parses arguments and calls the library; one file per command. */
import { setFlagsFromString } from "node:v8";
import { Command } from "commander";
import { registerDemo } from "./demo.ts";
import { registerInspect } from "./inspect.ts";
import { registerConvert } from "./convert.ts";
import { registerParity } from "./parity.ts";
import { registerTrain } from "./train.ts";
import { registerPretrain } from "./pretrain.ts";
import { registerClassify, registerEval } from "./evaluate.ts";
import { registerAttention } from "./attention.ts";
import { registerEmbed } from "./embed.ts";
import { registerSimilarity } from "./similarity.ts";
import { registerLab } from "./lab.ts";
import { registerServe } from "./serve.ts";
import { registerExportOnnx } from "./export-onnx.ts";
import { registerFillMask } from "./fill-mask.ts";
import { registerExplain } from "./explain.ts";
import { registerHeads } from "./heads.ts";

// Relaxed SIMD (fused multiply-add, ≈ 10–15 % faster matmul) ships behind this flag in Node 20's V8; newer
// engines have it on. It must be set before the kernels are compiled.
setFlagsFromString("--experimental-wasm-relaxed-simd");

const program = new Command();
program
  .name("tsformer")
  .description("The Transformer encoder in TypeScript: run, train and look inside, exact to PyTorch.")
  .option("--debug", "print stack traces with errors")
  .option("--backend <name>", "kernels: auto (wasm where it loads, else reference), wasm or reference", "auto")
  .option("--threads <n>", "threads for the wasm backend (default: every core)");

registerParity(program);
registerInspect(program);
registerConvert(program);
registerDemo(program);
registerTrain(program);
registerPretrain(program);
registerEval(program);
registerClassify(program);
registerEmbed(program);
registerSimilarity(program);
registerAttention(program);
registerLab(program);
registerServe(program);
registerExportOnnx(program);
registerFillMask(program);
registerExplain(program);
registerHeads(program);

await program.parseAsync(process.argv);
