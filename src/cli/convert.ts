/**
 * `tsformer convert <input> <output> --dtype f16|bf16|f32`: a safetensors file, or a model folder, with its float
 * tensors stored in another precision (src/io/convert.ts). A folder's other files are copied unchanged.
 */
import type { Command } from "commander";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

const DTYPES = { f32: "F32", f16: "F16", bf16: "BF16" } as const;

/** The `--dtype` value as a storage type; anything else is a one-line error listing the choices. */
function storageOf(value: string): (typeof DTYPES)[keyof typeof DTYPES] {
  const dtype = (DTYPES as Record<string, (typeof DTYPES)[keyof typeof DTYPES] | undefined>)[value.toLowerCase()];
  if (!dtype) throw new ConfigError(`--dtype ${value}: expected one of ${Object.keys(DTYPES).join(", ")}`);
  return dtype;
}

/** Registers the command. */
export function registerConvert(program: Command): void {
  program
    .command("convert")
    .description("store a checkpoint's float tensors as f16, bf16 or f32: a .safetensors file, or a model folder (its other files copied)")
    .argument("<input>", "a .safetensors file or a model folder with model.safetensors")
    .argument("<output>", "the file or folder to write (replaced atomically)")
    .requiredOption("--dtype <type>", "f16 (half the size; values beyond ±65504 refused), bf16 or f32")
    .option("--json", "one JSON object: the input, output, dtype, bytes before and after and the rounding error")
    .action(async (input: string, output: string, options: { dtype: string; json?: boolean }) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const dtype = storageOf(options.dtype);
        const { readSafetensorsFile, serializeSafetensors } = await import("../io/safetensors.ts");
        const { convertFloatTensors } = await import("../io/convert.ts");
        const { writeDirectoryAtomic, writeFileAtomic } = await import("../io/atomic.ts");
        const isFolder = statSync(input, { throwIfNoEntry: false })?.isDirectory() ?? false;
        const file = isFolder ? join(input, "model.safetensors") : input;
        if (isFolder && !statSync(file, { throwIfNoEntry: false })?.isFile()) {
          throw new ConfigError(`${input}: no model.safetensors in the folder (sharded or PyTorch .bin checkpoints cannot be converted)`);
        }
        const contents = await readSafetensorsFile(file);
        const { tensors, report } = convertFloatTensors(contents, dtype, file);
        const bytes = serializeSafetensors(tensors, contents.metadata);
        const before = statSync(file).size;
        if (isFolder) {
          const files: Record<string, Uint8Array | string> = {};
          for (const name of readdirSync(input)) {
            if (name !== "model.safetensors" && statSync(join(input, name)).isFile()) files[name] = readFileSync(join(input, name));
          }
          files["model.safetensors"] = bytes;
          await writeDirectoryAtomic(output, files);
        } else {
          await writeFileAtomic(output, bytes);
        }
        if (options.json) {
          printJsonLine({ input, output, dtype, bytesBefore: before, bytesAfter: bytes.length, ...report });
          return;
        }
        const n = (x: number): string => x.toLocaleString("en-US");
        process.stdout.write(`${output}: ${report.floatTensors} of ${report.tensors} tensors (${n(report.parameters)} values) stored as ${dtype}; ${n(before)} → ${n(bytes.length)} bytes\n`);
        process.stdout.write(`largest rounding error ${report.maxAbsError.toPrecision(3)} (${report.maxAbsErrorTensor || "none"}); at most ${report.maxScaledError.toPrecision(3)} of a tensor's largest value\n`);
      }, { computes: false });
    });
}
