/**
 * Fine-tuning pretrained folders (`--init-from`): it learns, the output is a Hugging Face folder that loads back
 * exactly, the head is kept or made new as documented, contradicting settings are refused, frozen parameters stay
 * bit-identical and layer-wise decay scales the rates as documented.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, DataError } from "../../src/errors.ts";
import { parseSafetensors } from "../../src/io/safetensors.ts";
import { exportHfFolder } from "../../src/models/export.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { indexTensor } from "../../src/tensor/tensor.ts";
import { readDataset } from "../../src/train/data.ts";
import { encodeText, evaluate } from "../../src/train/evaluate.ts";
import { layerDecayScale, parameterDepth } from "../../src/train/param-groups.ts";
import { train } from "../../src/train/trainer.ts";
import { BERT_PLAIN, BERT_SEQCLS, fineTuneConfig, writeSentimentData } from "./fine-tune-task.ts";

const tmp = (): string => mkdtempSync(join(tmpdir(), "tsformer-ft-"));

/** Accuracy of a loaded folder on a labelled file whose labels are the head's names. */
async function accuracyOf(dir: string, file: string): Promise<number> {
  const loaded = await loadBert(dir);
  const data = readDataset(file, { labels: loaded.config.labels! });
  const examples = data.examples.map((e) => ({ ids: encodeText(loaded.tokenizer, e.text, loaded.maxLength), label: e.label }));
  return evaluate(loaded.model, examples).accuracy;
}

test("fine-tuning a BertModel folder reaches 100 % train accuracy and saves a Hugging Face folder that loads back exactly", async () => {
  // Without dropout the random fixture BERT memorises the 48 sentences within 6 of these 12 epochs (measured).
  const config = fineTuneConfig(tmp(), BERT_PLAIN, { epochs: 12, optimizer: { name: "adamw", lr: 5e-3 }, model: { dropout: 0 } });
  const notes: string[] = [];
  await train(config, { onStart: (i) => notes.push(...i.notes) });
  assert.ok(notes.some((n) => /new classifier for 2 labels \(negative, positive\): the folder has none/.test(n)), notes.join("\n"));
  assert.equal(await accuracyOf(join(config.out, "last"), config.data.train), 1, "train accuracy of the final model");
  const best = join(config.out, "best");

  const hf = JSON.parse(readFileSync(join(best, "config.json"), "utf8")) as Record<string, unknown>;
  assert.deepEqual(hf.architectures, ["BertForSequenceClassification"]);
  assert.deepEqual(hf.id2label, { 0: "negative", 1: "positive" });
  assert.deepEqual(hf.label2id, { negative: 0, positive: 1 });
  assert.equal(hf.model_type, "bert");
  assert.equal(hf.tsformer, undefined, "a fine-tuned BERT stays plain BERT");
  const keys = [...parseSafetensors(readFileSync(join(best, "model.safetensors"))).tensors.keys()];
  assert.ok(keys.includes("bert.pooler.dense.weight") && keys.includes("classifier.weight"));
  assert.ok(keys.every((k) => k.startsWith("bert.") || k.startsWith("classifier.")), keys.join(", "));
  assert.equal(readFileSync(join(best, "vocab.txt"), "utf8"), readFileSync(join(BERT_PLAIN, "vocab.txt"), "utf8"));
  for (const file of ["optimizer.safetensors", "trainer_state.json"]) assert.ok(existsSync(join(config.out, "last", file)), file);

  // Round trip: loadBert → exportHfFolder → loadBert gives the same logits, bit for bit.
  const a = await loadBert(best);
  const copy = join(tmp(), "copy");
  await exportHfFolder(copy, a.model, a.tokenizer.vocab, { ...a.tokenizerSettings, maxLength: a.maxLength });
  const b = await loadBert(copy);
  const encoded = a.tokenizer.encode("the movie was wonderful", null).inputIds;
  const ids = indexTensor(encoded, [1, encoded.length]);
  const la = noGrad(() => a.model.forward(ids).logits!.data);
  const lb = noGrad(() => b.model.forward(ids).logits!.data);
  assert.deepEqual([...lb], [...la]);
});

test("the folder's head is kept when it knows the data's labels, made new when not; --head keep refuses unknown labels and leaves no output", async () => {
  const kept: string[] = [];
  const dir = tmp();
  await train(fineTuneConfig(dir, BERT_SEQCLS, { epochs: 1 }), { onStart: (i) => kept.push(...i.notes) });
  assert.ok(kept.some((n) => /kept the folder's classifier/.test(n)), kept.join("\n"));
  const hf = JSON.parse(readFileSync(join(dir, "run", "best", "config.json"), "utf8")) as { id2label: Record<string, string> };
  assert.deepEqual(hf.id2label, { 0: "negative", 1: "neutral", 2: "positive" }, "a kept head keeps its three labels");

  const other = tmp();
  const data = writeSentimentData(join(other, "data-yes-no"), ["no", "yes"]);
  const fresh: string[] = [];
  await train(fineTuneConfig(other, BERT_SEQCLS, { epochs: 1, data }), { onStart: (i) => fresh.push(...i.notes) });
  assert.ok(fresh.some((n) => /new classifier for 2 labels \(no, yes\): its labels \(negative, neutral, positive\) differ/.test(n)), fresh.join("\n"));

  const refused = tmp();
  const config = fineTuneConfig(refused, BERT_SEQCLS, { head: "keep", data });
  await assert.rejects(train(config), (e: Error) => e instanceof DataError && /label\(s\) no, yes unknown to the kept head/.test(e.message) && !e.message.includes("\n"));
  assert.ok(!existsSync(config.out), "no partial output folder");
});

test("settings that contradict the folder are refused with both values; an empty training file leaves no output", async () => {
  const dir = tmp();
  await assert.rejects(train(fineTuneConfig(dir, BERT_PLAIN, { model: { dModel: 64 } })),
    (e: Error) => e instanceof ConfigError && /--d-model 64 contradicts .*config\.json hidden_size 32/.test(e.message));
  await assert.rejects(train(fineTuneConfig(dir, BERT_PLAIN, { model: { numLayers: 4 } })),
    (e: Error) => e instanceof ConfigError && /--layers 4 contradicts .*num_hidden_layers 2/.test(e.message));
  await assert.rejects(train(fineTuneConfig(dir, BERT_PLAIN, { tokenizer: { maxLength: 41 } })),
    (e: Error) => e instanceof ConfigError && /--max-length 41 is above the position table .*max_position_embeddings 40/.test(e.message));
  await assert.rejects(train(fineTuneConfig(dir, BERT_PLAIN, { tokenizer: { doLowerCase: false } })),
    (e: Error) => e instanceof ConfigError && /do_lower_case true/.test(e.message));
  assert.ok(!existsSync(join(dir, "run")), "no partial output folder");

  const empty = join(dir, "empty.tsv");
  writeFileSync(empty, "");
  await assert.rejects(train(fineTuneConfig(dir, BERT_PLAIN, { data: { train: empty, dev: undefined } })), (e: Error) => e instanceof DataError && /no examples/.test(e.message));
  assert.ok(!existsSync(join(dir, "run")));
});

test("--freeze-embeddings and --freeze-layers leave those weights bit-identical; the rest trains", async () => {
  const config = fineTuneConfig(tmp(), BERT_PLAIN, { epochs: 1, freeze: { embeddings: true, layers: 1 } });
  let trainable = 0;
  await train(config, { onStart: (i) => (trainable = i.trainableParameters) });
  const before = (await loadBert(BERT_PLAIN)).model.stateDict();
  const after = (await loadBert(join(config.out, "last"))).model.stateDict();
  let frozenCount = 0;
  for (const [name, t] of before) {
    const same = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(after.get(name)!.data.buffer, after.get(name)!.data.byteOffset, after.get(name)!.data.byteLength));
    const frozen = parameterDepth(name, 2) <= 1;
    if (frozen) frozenCount += t.size;
    assert.equal(same, frozen, `${name}: ${frozen ? "frozen but changed" : "trainable but unchanged"}`);
  }
  const total = [...after.values()].reduce((n, t) => n + t.size, 0);
  assert.equal(trainable, total - frozenCount);
});

test("--layer-decay scales each parameter's rate by decay^(L+1−depth): the first AdamW step moves weights by lr × that factor", async () => {
  assert.equal(layerDecayScale("classifier.weight", 2, 0.5), 1);
  assert.equal(layerDecayScale("pooler.dense.weight", 2, 0.5), 1);
  assert.equal(layerDecayScale("encoder.layers.1.ffn.linear1.weight", 2, 0.5), 0.5);
  assert.equal(layerDecayScale("encoder.layers.0.norm1.bias", 2, 0.5), 0.25);
  assert.equal(layerDecayScale("embedding.weight", 2, 0.5), 0.125);
  assert.equal(layerDecayScale("embedding_norm.weight", 2, 0.5), 0.125);

  const lr = 1e-3;
  const config = fineTuneConfig(tmp(), BERT_PLAIN, {
    layerDecay: 0.5, maxSteps: 1, optimizer: { name: "adamw", lr, weightDecay: 0 }, schedule: { name: "constant", warmup: 0, warmupRatio: 0 },
    model: { dropout: 0 }, head: "auto",
  });
  await train(config);
  const before = (await loadBert(BERT_PLAIN)).model.stateDict();
  const after = (await loadBert(join(config.out, "last"))).model.stateDict();
  for (const name of ["encoder.layers.1.ffn.linear1.weight", "encoder.layers.0.self_attn.q_proj.weight", "embedding_norm.weight", "pooler.dense.weight"]) {
    const a = after.get(name)!.data;
    const b = before.get(name)!.data;
    let largest = 0;
    for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i] - b[i]));
    // Adam's first step is lr·g/(|g| + eps) per element: lr × scale wherever the gradient is far above eps.
    const expected = lr * layerDecayScale(name, 2, 0.5);
    assert.ok(Math.abs(largest - expected) <= 1e-3 * expected + 1e-8, `${name}: largest step ${largest}, expected ${expected}`);
  }
});

test("--resume after an interrupted fine-tuning run gives the same loss curve as an uninterrupted one", async () => {
  const curve = (out: string): number[] => readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n")
    .map((l) => JSON.parse(l) as { type: string; loss: number }).filter((m) => m.type === "step").map((m) => m.loss);
  const whole = fineTuneConfig(tmp(), BERT_PLAIN, { epochs: 2 });
  await train(whole);
  const dir = tmp();
  await train(fineTuneConfig(dir, BERT_PLAIN, { epochs: 2, maxSteps: 7, saveEvery: 1 }));
  const resumed = fineTuneConfig(dir, BERT_PLAIN, { epochs: 2 });
  await train(resumed, { resume: true });
  assert.equal(curve(whole.out).length, 12);
  assert.deepEqual(curve(resumed.out), curve(whole.out));
});
