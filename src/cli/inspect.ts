/** `tsformer inspect <file.safetensors>`: the tensors of a file (name, dtype, shape, parameters) and the total. */
import type { Command } from "commander";
import { basename } from "node:path";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

/** Registers the command. */
export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("list the tensors of a safetensors file: name, dtype, shape, parameters, and the total")
    .argument("<file>", "a .safetensors file")
    .option("--json", "one JSON object: {file, metadata, tensors: [{name, dtype, shape, parameters}], total}")
    .action(async (file: string, options: { json?: boolean }) => {
      // No backend: inspect computes nothing, so it loads no kernels (neither wasm and its threads nor the reference).
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const { openSafetensorsFile } = await import("../io/safetensors.ts"); // on use: the CLI starts without it
        const { metadata, infos } = await openSafetensorsFile(file); // the header alone: no tensor data is read
        const rows = [...infos.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, parameters: t.shape.reduce((a, b) => a * b, 1) }));
        const byName = new Intl.Collator("en", { numeric: true }); // one collator: localeCompare with options builds one per call
        rows.sort((a, b) => byName.compare(a.name, b.name));
        const total = rows.reduce((n, r) => n + r.parameters, 0);
        if (options.json) {
          printJsonLine({ file, metadata, tensors: rows, total });
          return;
        }
        const nameWidth = Math.max(4, ...rows.map((r) => r.name.length));
        const shapeOf = (s: number[]): string => `[${s.join(", ")}]`;
        const shapeWidth = Math.max(5, ...rows.map((r) => shapeOf(r.shape).length));
        const line = (a: string, b: string, c: string, d: string): string => `${a.padEnd(nameWidth)}  ${b.padEnd(5)}  ${c.padEnd(shapeWidth)}  ${d.padStart(12)}\n`;
        process.stdout.write(line("name", "dtype", "shape", "parameters"));
        for (const r of rows) process.stdout.write(line(r.name, r.dtype, shapeOf(r.shape), r.parameters.toLocaleString("en-US")));
        process.stdout.write(`${rows.length} tensors, ${total.toLocaleString("en-US")} parameters in ${basename(file)}\n`);
      }, { computes: false });
    });
}
