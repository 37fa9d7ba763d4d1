/** The shapes a config asks for, computed without building the model, are exactly the built model's parameters. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encoderParameterShapes, type SizeFields } from "../../src/models/param-shapes.ts";
import { type EncoderModelConfig, TransformerEncoderModel, encoderConfig } from "../../src/nn/model.ts";

const FIELDS: SizeFields = { vocabSize: "v", dModel: "d", heads: "h", dFF: "f", numLayers: "l", maxPositions: "p", typeVocabSize: "t" };

const configs: [string, Partial<EncoderModelConfig>][] = [
  ["BERT-like", { positional: "learned", typeVocabSize: 2, embeddingNorm: true, activation: "gelu" }],
  ["the paper's encoder, pre-LN with a final norm", { normFirst: true, finalNorm: true }],
  ["lab switches: head width, shared W_Q/W_K, additive scoring, no biases", { attention: { headDim: 5, shareQK: true, scoring: "additive", bias: false } }],
  ["no LayerNorm, no positions", { layerNorm: false, positional: "none" }],
];

for (const [what, partial] of configs) {
  test(`parameter shapes from the config alone: ${what}`, () => {
    const config = encoderConfig({ vocabSize: 37, dModel: 12, heads: 3, dFF: 20, numLayers: 2, maxPositions: 9, ...partial });
    const expected = encoderParameterShapes(config, FIELDS);
    const built = new TransformerEncoderModel(config).stateDict();
    assert.deepEqual([...expected.keys()].sort(), [...built.keys()].sort());
    for (const [name, t] of built) assert.deepEqual(expected.get(name)!.map((d) => d.size), [...t.shape], name);
  });
}
