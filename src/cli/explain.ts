/**
 * `tsformer explain --model DIR "text"`: why a classifier predicts what it does, by five attribution methods side by
 * side (src/explain), as a terminal heat map of per-token scores or, with `--json`, everything explainText computes.
 */
import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import { MASK_HEADS_HELP, loadClassifier } from "./evaluate.ts";
import { tokenHeatmap, useColor } from "./format.ts";
import { intOption } from "./model-option.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";

/** The command's options. */
interface ExplainFlags {
  model?: string;
  pair?: string;
  method?: string;
  target?: string;
  steps?: string;
  maskHeads?: string;
  maxLength?: string;
  json?: boolean;
}

/** What each method's column is called in the heat map. */
const TITLES: Record<string, string> = {
  rollout: "rollout", norm: "‖αf(x)‖", "grad-attention": "grad×attn", "input-x-gradient": "input×grad", "integrated-gradients": "integ.grad",
};

/** Registers the command. */
export function registerExplain(program: Command): void {
  program
    .command("explain")
    .description("token relevance for a classifier's prediction: attention rollout, norm-based, gradient × attention, input × gradient, integrated gradients")
    .argument("<text>", "the text to explain")
    .option("--model <dir>", "a classifier folder (default: the shipped model)")
    .option("--pair <text>", "a second text, encoded as [CLS] text [SEP] pair [SEP]")
    .option("--method <list>", "comma-separated: rollout, norm, grad-attention, input-x-gradient, integrated-gradients (default: all)")
    .option("--target <label>", "the class explained, by name or index (default: the predicted one)")
    .option("--steps <n>", "integrated gradients' midpoint steps", "32")
    .option("--mask-heads <list>", MASK_HEADS_HELP)
    .option("--max-length <n>", "longest input in tokens, [CLS]/[SEP] included (default: the model's limit)")
    .option("--json", "one JSON object: tokens, probabilities, per-method scores, the maps, per-layer norms, head importance")
    .action(async (text: string, flags: ExplainFlags) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const loaded = await loadClassifier(flags.model);
        const [{ EXPLAIN_METHODS, explainText }, { parseHeadList }] = await Promise.all([import("../explain/explain.ts"), import("../explain/heads.ts")]);
        const methods = flags.method === undefined ? [...EXPLAIN_METHODS] : flags.method.split(",").map((m) => m.trim());
        for (const m of methods) if (!(EXPLAIN_METHODS as readonly string[]).includes(m)) throw new ConfigError(`--method ${m}: choose from ${EXPLAIN_METHODS.join(", ")}`);
        const { numLayers, heads } = loaded.model.config;
        const e = explainText(loaded, flags.pair === undefined ? text : [text, flags.pair], {
          methods: methods as (typeof EXPLAIN_METHODS)[number][],
          target: flags.target,
          steps: intOption("--steps", flags.steps, 1, 4096),
          maskedHeads: flags.maskHeads === undefined ? undefined : parseHeadList(flags.maskHeads, numLayers, heads),
          maxLength: intOption("--max-length", flags.maxLength, 2, loaded.config.maxPositionEmbeddings, " (config.json max_position_embeddings)"),
        });
        if (flags.json) {
          printJsonLine(e);
          return;
        }
        const probs = e.labels.map((l, i) => `${l} ${e.probabilities[i].toFixed(3)}`).join(", ");
        process.stdout.write(`prediction: ${e.predicted} (${probs}); explaining the logit of "${e.target}"\n\n`);
        process.stdout.write(`${tokenHeatmap(e.tokens, e.methods.map((m) => ({ title: TITLES[m.method], scores: m.scores, signed: m.signed })), useColor())}\n`);
        if (e.integratedGradients) {
          const ig = e.integratedGradients;
          process.stdout.write(`\nintegrated gradients: ${ig.steps} steps; Σ IG vs logit(text) − logit(zero embeddings) = ${(ig.target - ig.baseline).toFixed(4)}: completeness gap ${(100 * ig.completenessGap).toFixed(2)} %\n`);
        }
        process.stdout.write("signed columns: + for the explained class, − against it; shades: signed columns by |value| against the column's largest, the others from the column's smallest to its largest\n");
      });
    });
}
