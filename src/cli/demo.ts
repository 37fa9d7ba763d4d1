/**
 * `tsformer demo ["sentence"]`: the shipped model on a sentence, step by step — the encoder's steps (Q07) with
 * shapes and statistics, every head's attention as a heat map, and the sentiment prediction.
 */
import type { Command } from "commander";
import type { EncoderModelConfig } from "../nn/model.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { loadClassifier } from "./evaluate.ts";
import { heatmap, shapeText, stats } from "./format.ts";
import { type GlobalOptions, runCommand } from "./run.ts";

/** Q01's example: "it" should attend to "animal". */
const DEMO_SENTENCE = "The animal didn't cross the street because it was too tired";

/** The rows of the step table: a label and the trace entry it shows (a step the model does not have is not traced). */
function steps(e: EncoderModelConfig): [string, string][] {
  const rows: [string, string][] = [
    ["1  embedding lookup", "embedding.lookup"],
    ["   × √d_model (Q08)", "embedding.scaled"],
  ];
  // BERT adds learned positions and token types, then normalises the sum; the notes' encoder adds sinusoids only.
  if (e.embeddingNorm) rows.push(["2  + positions, + token types", "embeddings_sum"], ["   LayerNorm", "x0"]);
  else rows.push([`2  + ${e.positional} positions`, "x0"]);
  for (let l = 0; l < e.numLayers; l++) {
    const p = `encoder.layers.${l}.`;
    rows.push(
      [`L${l} 3  Q per head (Q02, Q06)`, `${p}self_attn.q`],
      [`L${l}    scores QKᵀ (Q04)`, `${p}self_attn.scores_raw`],
      [`L${l}    ÷ √d_k`, `${p}self_attn.scores`],
      [`L${l}    softmax (Q05 mask)`, `${p}self_attn.weights`],
      [`L${l}    concat heads`, `${p}self_attn.context`],
      [`L${l}    W_O`, `${p}self_attn.output`],
      [`L${l} 4  + residual`, `${p}residual1`],
      [`L${l} 5  LayerNorm`, `${p}h1`],
      [`L${l} 6  FFN`, `${p}ff_out`],
      [`L${l} 7  + residual, LayerNorm`, `${p}output`],
    );
  }
  return rows;
}

/** Registers the command. */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("the shipped model on a sentence, step by step, with attention heat maps and the prediction")
    .argument("[sentence]", "the text to run", DEMO_SENTENCE)
    .option("--model <dir>", "a classifier folder: Hugging Face BertForSequenceClassification or tsformer's own (default: the shipped model)")
    .option("--layer <n>", "show only this layer's attention heads")
    .action(async (sentence: string, options: { model?: string; layer?: string }) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const [{ Trace }, { encodeText }, { maskFromLengths }, { softmax }, { indexTensor, noGrad }] = await Promise.all([
          import("../nn/trace.ts"), import("../train/evaluate.ts"), import("../nn/masks.ts"), import("../tensor/ops/nn.ts"), import("../tensor/index.ts"),
        ]); // on use: the CLI starts without the engine
        const { model, tokenizer, maxLength, labels } = await loadClassifier(options.model);
        const ids = encodeText(tokenizer, sentence, maxLength);
        const tokens = ids.map((id) => tokenizer.vocab.tokenOf(id));
        const n = ids.length;
        const trace = new Trace();
        const out = noGrad(() => model.forward(indexTensor(ids, [1, n]), { attentionMask: maskFromLengths([n], n), needWeights: true, trace }));
        const e = model.config;
        const w = (s: string): void => void process.stdout.write(`${s}\n`);
        w(`model: ${e.numLayers} layer(s), ${e.heads} heads of d_k = ${e.dModel / e.heads}, d_model ${e.dModel}, d_ff ${e.dFF}, ${e.positional} positions${e.scaleEmbedding ? ", embeddings × √d_model" : ""}, ${e.normFirst ? "pre" : "post"}-LN`);
        w(`tokens (${n}): ${tokens.join(" ")}\n`);
        w(`${"step".padEnd(30)}${"shape".padEnd(18)}${"mean".padStart(9)}${"std".padStart(9)}`);
        for (const [label, name] of steps(e)) {
          const t: Tensor | undefined = trace.get(name);
          if (!t) continue;
          const s = stats(t);
          w(`${label.padEnd(30)}${shapeText(t).padEnd(18)}${s.mean.toFixed(3).padStart(9)}${s.std.toFixed(3).padStart(9)}`);
        }
        out.attentions.forEach((a, l) => {
          if (options.layer !== undefined && Number(options.layer) !== l) return;
          for (let h = 0; h < e.heads; h++) {
            w(`\nattention, layer ${l} head ${h} (row = query, shade = probability)`);
            w(heatmap(a.data.subarray(h * n * n, (h + 1) * n * n), n, n, tokens, tokens));
          }
        });
        if (!out.logits) throw new Error("demo: the classifier gave no logits"); // loadClassifier checked for a head
        const probs = softmax(out.logits).data;
        const best = probs.indexOf(Math.max(...probs));
        w(`\nprediction: ${labels[best]} (p = ${probs[best].toFixed(3)})`);
      });
    });
}
