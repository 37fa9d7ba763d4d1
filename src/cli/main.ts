#!/usr/bin/env node
/** The `tsformer` command line: parses arguments and calls the library; one file per command. */
import { Command } from "commander";
import { registerDemo } from "./demo.ts";
import { registerInspect } from "./inspect.ts";
import { registerParity } from "./parity.ts";
import { registerTrain } from "./train.ts";
import { registerClassify, registerEval } from "./evaluate.ts";
import { registerAttention } from "./attention.ts";
import { registerEmbed } from "./embed.ts";
import { registerSimilarity } from "./similarity.ts";

const program = new Command();
program
  .name("tsformer")
  .description("The Transformer encoder in TypeScript: run, train and look inside, exact to PyTorch.")
  .option("--debug", "print stack traces with errors")
  .option("--backend <name>", "kernel backend (reference)");

registerParity(program);
registerInspect(program);
registerDemo(program);
registerTrain(program);
registerEval(program);
registerClassify(program);
registerEmbed(program);
registerSimilarity(program);
registerAttention(program);

await program.parseAsync(process.argv);
