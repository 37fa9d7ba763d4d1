/**
 * `tsformer heads`: how much each attention head matters (Michel et al. 2019's |∂L/∂ξ|) over a labelled file or one
 * text, and with `--prune` their experiment: remove heads, least important first, and measure accuracy each time.
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import type { HeadImportance, PruningStep } from "../explain/heads.ts";
import { loadClassifier } from "./evaluate.ts";
import { intOption } from "./model-option.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

/** The command's options. */
interface HeadsFlags {
  model?: string;
  data?: string;
  target?: string;
  prune?: boolean;
  pruneStep?: string;
  svg?: string;
  json?: boolean;
}

/** The importance grid as text: a row per layer, a column per head, each value normalised by the largest too. */
function importanceTable(imp: HeadImportance): string {
  const max = Math.max(...imp.data, 1e-30);
  const lines = [`layer  ${Array.from({ length: imp.heads }, (_, h) => `head ${h}`.padEnd(16)).join("")}`];
  for (let l = 0; l < imp.layers; l++) {
    const cells = Array.from({ length: imp.heads }, (_, h) => {
      const v = imp.data[l * imp.heads + h];
      return `${v.toExponential(2)} (${(v / max).toFixed(2)})`.padEnd(16);
    });
    lines.push(`${String(l).padEnd(5)}  ${cells.join("")}`);
  }
  return lines.join("\n");
}

/** The pruning curve as an SVG line chart (Vega-Lite, as the lab draws its charts). */
async function pruningSvg(curve: readonly PruningStep[], total: number): Promise<string> {
  const { lineChart, renderSvg } = await import("../lab/charts.ts");
  const data = curve.map((s) => ({ heads_removed: s.masked.length, percent_removed: 100 * s.fraction, accuracy: 100 * s.accuracy }));
  return renderSvg(lineChart({
    name: "pruning", title_en: `Accuracy as heads are removed, least important first (${total} heads)`, title_zh: "按重要性从低到高移除注意力头后的准确率",
    data, x: "percent_removed", y: "accuracy", xTitle: "heads removed (%)", yTitle: "accuracy (%)",
  }).spec);
}

/** Registers the command. */
export function registerHeads(program: Command): void {
  program
    .command("heads")
    .description("head importance |∂L/∂ξ| (Michel et al. 2019) over a labelled file or one text; --prune: accuracy as heads are removed")
    .argument("[text]", "one text (its importance is taken at --target, default the predicted class); or give --data")
    .option("--model <dir>", "a classifier folder (default: the shipped model)")
    .option("--data <file>", "labelled data, as for tsformer eval: importance averaged over it")
    .option("--target <label>", "with a text: the label the loss is taken at (default: the predicted one)")
    .option("--prune", "with --data: mask heads in order of importance and report accuracy after each step")
    .option("--prune-step <n>", "heads removed per step (default: 1, or a tenth of the heads for models with more than 24)")
    .option("--svg <file>", "with --prune: also write the pruning curve as an SVG chart")
    .option("--json", "one JSON object: {importance: layers × heads, examples, curve?}")
    .action(async (text: string | undefined, flags: HeadsFlags) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        if ((text === undefined) === (flags.data === undefined)) throw new ConfigError("give either a text or --data FILE (a labelled file), not both");
        if (flags.prune && !flags.data) throw new ConfigError("--prune needs --data FILE: accuracy is measured on labelled data");
        if (flags.svg && !flags.prune) throw new ConfigError("--svg draws the pruning curve: add --prune");
        const loaded = await loadClassifier(flags.model);
        const { numLayers, heads } = loaded.model.config;
        const total = numLayers * heads;
        const step = intOption("--prune-step", flags.pruneStep, 1, total) ?? (total > 24 ? Math.round(total / 10) : 1);
        let importance: HeadImportance;
        let curve: PruningStep[] | null = null;
        if (flags.data) {
          const [{ readDatasetForClasses }, { encodeText }, { datasetHeadImportance, datasetPruningCurve }] = await Promise.all([
            import("../train/data.ts"), import("../train/evaluate.ts"), import("../explain/dataset.ts"),
          ]);
          const data = readDatasetForClasses(flags.data, loaded.labels);
          const examples = data.examples.map((e) => ({ ids: encodeText(loaded.tokenizer, e.text, loaded.maxLength), label: e.label }));
          importance = datasetHeadImportance(loaded.model, examples);
          if (flags.prune) curve = datasetPruningCurve(loaded.model, examples, importance, step);
        } else {
          const { explainText } = await import("../explain/explain.ts");
          const e = explainText(loaded, text!, { methods: [], target: flags.target });
          importance = { layers: numLayers, heads, data: Float64Array.from(e.headImportance), examples: 1 };
        }
        if (flags.svg && curve) writeFileSync(flags.svg, await pruningSvg(curve, total));
        if (flags.json) {
          const rows = Array.from({ length: numLayers }, (_, l) => Array.from(importance.data.subarray(l * heads, (l + 1) * heads)));
          printJsonLine({ importance: rows, examples: importance.examples, ...(curve ? { curve: curve.map((s) => ({ masked: s.masked.map((h) => `${h.layer}:${h.head}`), fraction: s.fraction, accuracy: s.accuracy })) } : {}) });
          return;
        }
        process.stdout.write(`head importance |∂L/∂ξ| over ${importance.examples} example(s) (in brackets: relative to the largest)\n${importanceTable(importance)}\n`);
        if (curve) {
          process.stdout.write("\nheads removed  accuracy  last removed\n");
          for (const s of curve) {
            const last = s.masked.slice(-step).map((h) => `${h.layer}:${h.head}`).join(",") || "—";
            process.stdout.write(`${`${s.masked.length}/${total}`.padEnd(13)}  ${(100 * s.accuracy).toFixed(2).padStart(6)} %  ${last}\n`);
          }
          if (flags.svg) process.stdout.write(`chart: ${flags.svg}\n`);
        }
      });
    });
}
