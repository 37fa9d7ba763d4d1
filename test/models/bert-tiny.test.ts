/** The real BERT-tiny (SST-2) checkpoint: its encoder, pooler and classifier reproduce the reference forward pass. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { floatTensors } from "../../src/io/state.ts";
import { mapHfBertState } from "../../src/io/names.ts";
import { readSafetensorsFile } from "../../src/io/safetensors.ts";
import { BertModel } from "../../src/models/bert.ts";
import { parseBertConfig } from "../../src/models/bert-config.ts";
import { Trace } from "../../src/nn/trace.ts";
import { Tensor, noGrad } from "../../src/tensor/index.ts";
import { assertClose } from "../helpers.ts";

const DIR = "models/bert-tiny-sst2-encoder";

interface Expected {
  embedding_output: number[][];
  independent_numpy_forward: { last_hidden_state: number[][]; pooled: number[]; logits: number[]; layer0_self_attention_context_row0: number[] };
  [notebook: string]: unknown;
}

test("BERT-tiny: embedding_output through 2 layers, pooler and classifier matches within 1e-4", async () => {
  const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, "utf8")) as Expected;
  const config = parseBertConfig({
    vocab_size: 30522, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 512,
    hidden_act: "gelu", max_position_embeddings: 512, layer_norm_eps: 1e-12, id2label: { 0: "negative", 1: "positive" },
  });
  const model = new BertModel(config);
  const file = await readSafetensorsFile(`${DIR}/model.safetensors`);
  const state = mapHfBertState(floatTensors(file.tensors).floats, "model.safetensors");
  assert.equal(state.size, 36);
  const own = model.stateDict();
  for (const name of state.keys()) assert.ok(own.has(name), `${name} is a model parameter`);
  model.loadStateDict(state, { strict: false }); // the checkpoint ships without the embedding tables
  const x0 = new Tensor(Float32Array.from(expected.embedding_output.flat()), [1, 10, 128]);
  const trace = new Trace();
  const out = noGrad(() => {
    const encoded = model.encoder.forward(x0, { trace });
    return model.head({ lastHiddenState: encoded.output, hiddenStates: [x0, ...encoded.layerOutputs], attentions: [] });
  });
  const ref = expected.independent_numpy_forward;
  assertClose(out.lastHiddenState.data, ref.last_hidden_state.flat(), 1e-4, 0, "last_hidden_state");
  assertClose(out.poolerOutput.data, ref.pooled, 1e-4, 0, "pooled");
  assertClose(out.logits!.data, ref.logits, 1e-4, 0, "logits");
  assert.ok(out.logits!.data[0] > out.logits!.data[1], "predicts class 0 (negative), the gold label");
  // the authors' printed layer-0 attention context (4 decimals): rows 0,1,2,7,8,9, first and last 3 values
  const context = trace.get("layers.0.self_attn.context")!.data;
  assertClose(context.subarray(0, 128), ref.layer0_self_attention_context_row0, 1e-4, 0, "context row 0");
  const notebookKey = Object.keys(expected).find((k) => k.startsWith("from_original_notebook"))!;
  const notebook = expected[notebookKey] as Record<string, unknown>;
  const printed = notebook["layer0_self_attention_context_rows_0_1_2_7_8_9_first3_last3"] as Record<string, number[][]>;
  for (const [row, [first, last]] of Object.entries(printed)) {
    const r = context.subarray(Number(row) * 128, (Number(row) + 1) * 128);
    assertClose([...r.subarray(0, 3), ...r.subarray(125)], [...first, ...last], 6e-5, 0, `printed context row ${row}`);
  }
});
