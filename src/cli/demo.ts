/**
 * `tsformer demo`: the shipped BERT-tiny (SST-2) encoder on its reference sentence, step by step — the
 * encoder's steps with shapes and statistics, the attention of every head, and the sentiment prediction.
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadIntoModule } from "../io/load.ts";
import { fromHfBertName } from "../io/names.ts";
import { readSafetensorsFile } from "../io/safetensors.ts";
import { BertModel } from "../models/bert.ts";
import { parseBertConfig } from "../models/bert-config.ts";
import { Trace } from "../nn/trace.ts";
import { softmax } from "../tensor/ops/nn.ts";
import { Tensor, noGrad } from "../tensor/index.ts";
import { heatmap, shapeText, stats } from "./format.ts";
import { type GlobalOptions, runCommand } from "./run.ts";
import { shippedPath } from "./paths.ts";

/** BERT-tiny's architecture (google/bert_uncased_L-2_H-128_A-2) with the SST-2 head. */
const BERT_TINY = {
  vocab_size: 30522, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 512,
  hidden_act: "gelu", max_position_embeddings: 512, layer_norm_eps: 1e-12, id2label: { 0: "negative", 1: "positive" },
};

/** Registers the command. */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("run the shipped BERT-tiny SST-2 encoder on its reference sentence and show every step")
    .option("--weights <file>", "a safetensors file with BERT-tiny's encoder weights (default: the shipped one)")
    .action(async (options: { weights?: string }) => {
      await runCommand(program.opts<GlobalOptions>(), async () => {
        const dir = shippedPath("models/bert-tiny-sst2-encoder");
        const weights = options.weights ?? join(dir, "model.safetensors");
        const model = new BertModel(parseBertConfig(BERT_TINY));
        const file = await readSafetensorsFile(weights);
        // The shipped file has no embedding tables (see its README): the demo starts from the recorded embedding output.
        loadIntoModule(model, file.tensors, { rename: fromHfBertName, strict: false, source: weights });
        const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as { embedding_output: number[][]; input_ids: number[] };
        const vocab = readFileSync(join(dir, "vocab.txt"), "utf8").split("\n");
        const tokens = expected.input_ids.map((id) => vocab[id]);
        const n = tokens.length;
        const x0 = new Tensor(Float32Array.from(expected.embedding_output.flat()), [1, n, 128]);
        const trace = new Trace();
        const out = noGrad(() => {
          const encoded = model.encoder.forward(x0, { trace, needWeights: true });
          return { ...model.head({ lastHiddenState: encoded.output, hiddenStates: [x0, ...encoded.layerOutputs], attentions: encoded.attentions }) };
        });
        const w = (s: string): void => void process.stdout.write(`${s}\n`);
        w(`BERT-tiny fine-tuned on SST-2: ${model.config.numLayers} layers, ${model.config.heads} heads of d_k = ${model.config.dModel / model.config.heads}, d_model ${model.config.dModel}, d_ff ${model.config.dFF}`);
        w(`tokens: ${tokens.join(" ")}\n`);
        const rows: [string, Tensor][] = [["embedding output (recorded, LayerNorm'd)", x0]];
        for (let l = 0; l < model.config.numLayers; l++) {
          const p = `layers.${l}.`;
          for (const [label, name] of [["Q per head", "self_attn.q"], ["scores QKᵀ/√d_k", "self_attn.scores"], ["softmax", "self_attn.weights"],
            ["concat heads", "self_attn.context"], ["W_O", "self_attn.output"], ["residual + LayerNorm", "h1"], ["FFN (GELU)", "ff_out"], ["residual + LayerNorm", "output"]]) {
            rows.push([`layer ${l}  ${label}`, trace.get(p + name)!]);
          }
        }
        w(`${"step".padEnd(38)}${"shape".padEnd(18)}${"mean".padStart(9)}${"std".padStart(9)}`);
        for (const [label, t] of rows) {
          const s = stats(t);
          w(`${label.padEnd(38)}${shapeText(t).padEnd(18)}${s.mean.toFixed(3).padStart(9)}${s.std.toFixed(3).padStart(9)}`);
        }
        out.attentions.forEach((a, l) => {
          for (let h = 0; h < model.config.heads; h++) {
            w(`\nattention, layer ${l} head ${h} (row = query, shade = probability)`);
            w(heatmap(a.data.subarray(h * n * n, (h + 1) * n * n), n, n, tokens, tokens));
          }
        });
        const probs = softmax(out.logits!).data;
        const labels = model.bertConfig.labels!;
        const best = probs[0] >= probs[1] ? 0 : 1;
        w(`\nprediction: ${labels[best]} (p = ${probs[best].toFixed(3)})`);
      });
    });
}
