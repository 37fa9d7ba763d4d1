/** Name maps: Hugging Face BERT and PyTorch nn.TransformerEncoder names ↔ tsformer's, both ways. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromHfBertName, fromTorchEncoderState, fromTorchMultiheadAttentionState, hfBertTiedName, mapHfBertState, toHfBertName, toTorchEncoderState } from "../../src/io/names.ts";
import type { NamedArray } from "../../src/nn/module.ts";
import { Encoder } from "../../src/nn/encoder.ts";
import { MultiHeadAttention } from "../../src/nn/attention.ts";
import { Rng } from "../../src/tensor/index.ts";
import { CheckpointError } from "../../src/errors.ts";

test("HF BERT names map to tsformer names and back, with prefix and legacy gamma/beta", () => {
  const pairs: [string, string][] = [
    ["embeddings.word_embeddings.weight", "embedding.weight"],
    ["bert.embeddings.position_embeddings.weight", "positions.weight"],
    ["embeddings.token_type_embeddings.weight", "token_types.weight"],
    ["embeddings.LayerNorm.gamma", "embedding_norm.weight"],
    ["bert.encoder.layer.11.attention.self.query.bias", "encoder.layers.11.self_attn.q_proj.bias"],
    ["encoder.layer.0.attention.output.dense.weight", "encoder.layers.0.self_attn.out_proj.weight"],
    ["encoder.layer.3.attention.output.LayerNorm.beta", "encoder.layers.3.norm1.bias"],
    ["encoder.layer.1.intermediate.dense.weight", "encoder.layers.1.ffn.linear1.weight"],
    ["encoder.layer.1.output.dense.bias", "encoder.layers.1.ffn.linear2.bias"],
    ["encoder.layer.1.output.LayerNorm.weight", "encoder.layers.1.norm2.weight"],
    ["bert.pooler.dense.weight", "pooler.dense.weight"],
    ["classifier.bias", "classifier.bias"],
    ["cls.predictions.transform.dense.weight", "mlm_head.dense.weight"],
    ["cls.predictions.transform.LayerNorm.gamma", "mlm_head.norm.weight"],
    ["cls.predictions.transform.LayerNorm.bias", "mlm_head.norm.bias"],
    ["cls.predictions.bias", "mlm_head.bias"],
  ];
  for (const [hf, ours] of pairs) assert.equal(fromHfBertName(hf), ours, hf);
  assert.equal(fromHfBertName("bert.embeddings.position_ids"), null);
  assert.equal(fromHfBertName("cls.seq_relationship.weight"), null, "the next-sentence head is ignored");
  assert.equal(fromHfBertName("cls.predictions.decoder.weight"), null, "the tied decoder is a copy, not a parameter");
  assert.equal(hfBertTiedName("cls.predictions.decoder.weight"), "embedding.weight");
  assert.equal(hfBertTiedName("cls.predictions.decoder.bias"), "mlm_head.bias");
  assert.equal(hfBertTiedName("cls.predictions.bias"), null);
  assert.equal(toHfBertName("encoder.layers.2.self_attn.k_proj.weight", true), "bert.encoder.layer.2.attention.self.key.weight");
  assert.equal(toHfBertName("classifier.weight", true), "classifier.weight");
  assert.equal(toHfBertName("mlm_head.norm.bias", true), "cls.predictions.transform.LayerNorm.bias", "heads never get the bert. prefix");
  assert.equal(toHfBertName("mlm_head.bias", true), "cls.predictions.bias");
  assert.throws(() => mapHfBertState(new Map([["decoder.weight", { shape: [1], data: new Float32Array(1) }]]), "m.safetensors"),
    (e: Error) => e instanceof CheckpointError && /m\.safetensors: tensors that are not part of a BERT model: 'decoder\.weight'/.test(e.message));
});

test("a PyTorch nn.TransformerEncoder state dict splits in_proj into W_Q/W_K/W_V and packs back exactly", () => {
  const encoder = new Encoder({ dModel: 6, heads: 3, dFF: 10, numLayers: 2, finalNorm: true, rng: new Rng(9) });
  const ours = new Map<string, NamedArray>([...encoder.stateDict()].map(([n, t]) => [`encoder.${n}`, { shape: t.shape, data: t.data }]));
  const torch = toTorchEncoderState(ours);
  assert.deepEqual([...torch.keys()].filter((k) => k.startsWith("layers.0.")).sort(), [
    "layers.0.linear1.bias", "layers.0.linear1.weight", "layers.0.linear2.bias", "layers.0.linear2.weight",
    "layers.0.norm1.bias", "layers.0.norm1.weight", "layers.0.norm2.bias", "layers.0.norm2.weight",
    "layers.0.self_attn.in_proj_bias", "layers.0.self_attn.in_proj_weight", "layers.0.self_attn.out_proj.bias", "layers.0.self_attn.out_proj.weight",
  ]);
  assert.deepEqual(torch.get("layers.1.self_attn.in_proj_weight")!.shape, [18, 6]);
  assert.ok(torch.has("norm.weight"));
  const back = fromTorchEncoderState(torch, { prefix: "encoder." });
  assert.deepEqual([...back.keys()].sort(), [...ours.keys()].sort());
  for (const [name, t] of ours) assert.deepEqual([...back.get(name)!.data], [...t.data], name);
  assert.throws(() => fromTorchEncoderState(new Map([["layers.0.self_attn.in_proj_weight", { shape: [7, 2], data: new Float32Array(14) }]])), /expected \(3·d, d\)/);
});

test("a PyTorch nn.MultiheadAttention state dict loads into MultiHeadAttention", () => {
  const d = 4;
  const inProj = { shape: [3 * d, d], data: Float32Array.from({ length: 3 * d * d }, (_, i) => i) };
  const state = fromTorchMultiheadAttentionState(new Map([
    ["in_proj_weight", inProj], ["in_proj_bias", { shape: [3 * d], data: Float32Array.from({ length: 3 * d }, (_, i) => i) }],
    ["out_proj.weight", { shape: [d, d], data: new Float32Array(d * d) }], ["out_proj.bias", { shape: [d], data: new Float32Array(d) }],
  ]));
  const mha = new MultiHeadAttention({ dModel: d, heads: 2 });
  mha.loadStateDict(state);
  assert.equal(mha.kProj.weight.data[0], d * d); // row d of the packed matrix starts W_K
  assert.deepEqual([...mha.vProj.bias!.data], [8, 9, 10, 11]);
});
