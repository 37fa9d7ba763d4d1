/**
 * `tsformer attention --model DIR "text"`: the attention probabilities of every head (or of `--layer L --head H`),
 * as terminal heat maps (row = query token, shade = probability) or, with `--json`, with the tokens.
 */
import type { Command } from "commander";
import { heatmap } from "./format.ts";
import { type GlobalOptions, printJsonLine, runCommand } from "./run.ts";
import { type ModelOptions, addModelOptions, intOption, loadModelOption, maxLengthOption } from "./model-option.ts";

/** The command's options. */
interface AttentionOptions extends ModelOptions {
  pair?: string;
  layer?: string;
  head?: string;
  json?: boolean;
}

/** Registers the command. */
export function registerAttention(program: Command): void {
  addModelOptions(program.command("attention"))
    .description("per-head attention probabilities of a text: terminal heat maps, or JSON with the tokens")
    .argument("<text>", "the text (one sentence or more)")
    .option("--pair <text>", "a second text, encoded as [CLS] text [SEP] pair [SEP]")
    .option("--layer <l>", "only this layer (0-based)")
    .option("--head <h>", "only this head (0-based)")
    .option("--json", "one JSON object: {tokens, attentions: [{layer, head, weights: n×n rows}]}")
    .action(async (text: string, options: AttentionOptions) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const loaded = await loadModelOption(options);
        const { numHiddenLayers: layers, numAttentionHeads: heads } = loaded.config;
        const layer = intOption("--layer", options.layer, 0, layers - 1, ` (the model has ${layers} layers)`);
        const head = intOption("--head", options.head, 0, heads - 1, ` (the model has ${heads} heads)`);
        const input = options.pair === undefined ? text : ([text, options.pair] as const);
        const maxLength = maxLengthOption(loaded, options, [input]);
        const { encodeTexts } = await import("../models/embeddings.ts"); // on use: the CLI starts without the engine
        const { encoding, output } = encodeTexts(loaded, [input], { needWeights: true, maxLength });
        const tokens = encoding.rows[0].tokens;
        const n = tokens.length;
        const picked: { layer: number; head: number; weights: Float32Array }[] = [];
        for (let l = 0; l < layers; l++) {
          if (layer !== undefined && l !== layer) continue;
          for (let h = 0; h < heads; h++) {
            if (head !== undefined && h !== head) continue;
            picked.push({ layer: l, head: h, weights: output.attentions[l].data.subarray(h * n * n, (h + 1) * n * n) });
          }
        }
        if (options.json) {
          const rows = (w: Float32Array): number[][] => Array.from({ length: n }, (_, i) => Array.from(w.subarray(i * n, (i + 1) * n)));
          printJsonLine({ tokens, attentions: picked.map((p) => ({ layer: p.layer, head: p.head, weights: rows(p.weights) })) });
          return;
        }
        process.stdout.write(`tokens: ${tokens.join(" ")}\n`);
        for (const p of picked) {
          process.stdout.write(`\nattention, layer ${p.layer} head ${p.head} (row = query, shade = probability)\n`);
          process.stdout.write(`${heatmap(p.weights, n, n, tokens, tokens)}\n`);
        }
      });
    });
}
