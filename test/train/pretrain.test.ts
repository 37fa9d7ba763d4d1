/** Masked-LM pretraining: it learns, writes BertForMaskedLM folders, resumes exactly, and refuses bad text. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readSafetensorsFile } from "../../src/io/safetensors.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import { reshape } from "../../src/tensor/ops/layout.ts";
import { Rng } from "../../src/tensor/index.ts";
import { indexTensor } from "../../src/tensor/tensor.ts";
import { resolveTrainConfig } from "../../src/train/config.ts";
import { readDataset } from "../../src/train/data.ts";
import { crossEntropy } from "../../src/train/losses.ts";
import { BERT_MASKING, maskVocabulary } from "../../src/train/mlm-data.ts";
import { MaskedLmTask } from "../../src/train/mlm-task.ts";
import { pretrain } from "../../src/train/pretrain.ts";
import { fineTuneSetup } from "../../src/train/setup.ts";
import { train } from "../../src/train/trainer.ts";
import { tinyPretrainConfig, writeTinyCorpus } from "./pretrain-tiny.ts";
import { writeTinyData } from "./tiny.ts";

interface Line { type: string; step: number; loss?: number; dev_loss?: number; dev_accuracy?: number }
const metrics = (out: string): Line[] => readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Line);
const stepLosses = (out: string): number[] => metrics(out).filter((m) => m.type === "step").map((m) => m.loss!);
const tmp = (): string => mkdtempSync(join(tmpdir(), "tsformer-pretrain-"));

test("a tiny BERT learns the tiny corpus; best/ is a BertForMaskedLM folder that loads, and --init-from fine-tunes it", async () => {
  const config = tinyPretrainConfig(tmp(), { epochs: 6 });
  const summary = await pretrain(config);
  const epochs = metrics(config.out).filter((m) => m.type === "epoch");
  assert.equal(epochs.length, 6);
  assert.ok(epochs[5].dev_loss! < epochs[0].dev_loss! - 0.4, `held-out loss ${epochs.map((e) => e.dev_loss!.toFixed(2)).join(" → ")}`);
  assert.ok(summary.best !== null && summary.best.accuracy > 0.15, `masked-token accuracy ${summary.best?.accuracy}`);
  assert.ok(summary.corpus.tokens > 1000 && summary.corpus.heldOutSequences > 0);
  const best = join(config.out, "best");
  const configJson = JSON.parse(readFileSync(join(best, "config.json"), "utf8")) as { architectures: string[]; tsformer?: unknown };
  assert.deepEqual(configJson.architectures, ["BertForMaskedLM"]);
  assert.equal(configJson.tsformer, undefined, "plain BERT: transformers reads it as is");
  const names = [...(await readSafetensorsFile(join(best, "model.safetensors"))).tensors.keys()];
  for (const n of ["cls.predictions.bias", "cls.predictions.transform.dense.weight", "cls.predictions.transform.LayerNorm.weight", "bert.embeddings.word_embeddings.weight"]) {
    assert.ok(names.includes(n), `${n} is saved`);
  }
  assert.ok(!names.some((n) => n.includes("pooler") || n.includes("decoder.weight")), "no pooler, decoder tied (not saved)");
  const loaded = await loadBert(best);
  assert.equal(loaded.architecture, "BertForMaskedLM");
  assert.ok(loaded.model.mlmHead !== null);
  const record = JSON.parse(readFileSync(join(best, "training.json"), "utf8")) as { heldout_mlm_loss: number };
  assert.equal(record.heldout_mlm_loss, summary.best!.loss);
  // the folder fine-tunes as a classifier
  const data = writeTinyData(join(tmp(), "data"));
  const fine = await train(resolveTrainConfig({ initFrom: best, data, out: join(tmp(), "ft"), epochs: 1, tokenizer: { maxLength: 16 } }));
  assert.ok(fine.steps > 0 && fine.best !== null);
  // the ablation: the same architecture, vocabulary and tokenizer from BERT's random initialisation
  const trainSet = readDataset(data.train);
  const reinit = await fineTuneSetup(resolveTrainConfig({ initFrom: best, reinit: true, data, out: join(tmp(), "scratch") }), trainSet, new Rng(3));
  const pretrained = await fineTuneSetup(resolveTrainConfig({ initFrom: best, data, out: join(tmp(), "kept") }), trainSet, new Rng(3));
  assert.ok(reinit.notes.some((n) => n.startsWith("reinit:")));
  const a = reinit.model.stateDict();
  const b = pretrained.model.stateDict();
  assert.deepEqual([...a.keys()], [...b.keys()]);
  assert.equal(reinit.vocab.toText(), pretrained.vocab.toText());
  const words = a.get("embedding.weight")!.data;
  const std = Math.sqrt(words.reduce((sum, w) => sum + w * w, 0) / words.length);
  assert.ok(Math.abs(std - 0.02) < 0.002, `N(0, 0.02²) embeddings, std ${std}`);
  assert.notDeepEqual([...words.slice(0, 64)], [...b.get("embedding.weight")!.data.slice(0, 64)]);
  assert.ok([...a.get("embedding_norm.weight")!.data].every((w) => w === 1));
  assert.throws(() => resolveTrainConfig({ reinit: true, data, tokenizer: { maxLength: 16 } }), /reinit applies to --init-from only/);
});

test("the loss at the chosen positions equals cross-entropy over full logits with the others ignored", () => {
  return (async () => {
    const config = tinyPretrainConfig(tmp(), { epochs: 1, maxSteps: 2 });
    await pretrain(config);
    const { model, tokenizer } = await loadBert(join(config.out, "last"));
    const seqs = [[2, ...tokenizer.convertTokensToIds(tokenizer.tokenize("the cat saw the river again .")), 3], [2, ...tokenizer.convertTokensToIds(tokenizer.tokenize("a dog helped her friend .")), 3]];
    const task = new MaskedLmTask(model, seqs, null, { batchSize: 2, seed: 1, masking: { ...BERT_MASKING, probability: 0.4 }, vocab: maskVocabulary(tokenizer.vocab) });
    model.eval();
    const [batch] = task.batches(0);
    const fast = task.loss(batch);
    const out = model.forward(batch.ids, { attentionMask: batch.attentionMask });
    const logits = model.maskedLmLogits(out.lastHiddenState);
    const [b, n, v] = logits.shape;
    const full = crossEntropy(reshape(logits, [b * n, v]), indexTensor(batch.labels.data, [b * n]));
    assert.ok(Math.abs(fast.loss.item() - full.item()) < 1e-5, `${fast.loss.item()} vs ${full.item()}`);
    assert.equal(fast.counted, [...batch.labels.data].filter((l) => l !== -100).length);
    // dynamic masking: another epoch masks other positions, the same epoch the same ones
    assert.deepEqual([...task.batches(0)[0].labels.data], [...batch.labels.data]);
    assert.notDeepEqual([...task.batches(1)[0].ids.data, ...task.batches(2)[0].ids.data], [...batch.ids.data, ...batch.ids.data]);
  })();
});

test("resuming from a mid-epoch checkpoint gives exactly the uninterrupted loss curve", async () => {
  const whole = tinyPretrainConfig(tmp(), { epochs: 2 });
  await pretrain(whole);
  const partDir = tmp();
  const first = tinyPretrainConfig(partDir, { epochs: 2, maxSteps: 7, saveEvery: 7 });
  assert.equal((await pretrain(first)).steps, 7);
  await pretrain(tinyPretrainConfig(partDir, { epochs: 2 }), { resume: true });
  assert.deepEqual(stepLosses(first.out), stepLosses(whole.out));
  assert.deepEqual(metrics(first.out).filter((m) => m.type === "epoch").map((m) => m.dev_loss), metrics(whole.out).filter((m) => m.type === "epoch").map((m) => m.dev_loss));
  await assert.rejects(pretrain(tinyPretrainConfig(partDir, { epochs: 2, batchSize: 4 }), { resume: true }), /configuration differs from the run saved/);
});

test("bad text: empty and binary files and text without context are one-line errors naming the file", async () => {
  const dir = tmp();
  const cases: [string, string | Uint8Array, RegExp][] = [
    ["empty.txt", "\n\n", /empty.txt: the corpus file is empty/],
    ["weights.bin", Uint8Array.from([1, 0, 2]), /weights.bin: not a text file/],
    ["words.txt", "apple\nbanana\n\ncherry\n", /words.txt: no line has more than one token/],
  ];
  for (const [name, content, error] of cases) {
    const path = join(dir, name);
    writeFileSync(path, content);
    await assert.rejects(pretrain(tinyPretrainConfig(dir, { data: { text: [writeTinyCorpus(join(dir, "ok")), path] } })), error);
  }
});

test("the same seed gives the same run", async () => {
  const a = tinyPretrainConfig(tmp(), { epochs: 1 });
  const b = tinyPretrainConfig(tmp(), { epochs: 1 });
  await pretrain(a);
  await pretrain(b);
  assert.deepEqual(stepLosses(a.out), stepLosses(b.out));
});

test("--init-from continues pretraining a folder on new text: its vocabulary and weights, a new head when it has none", async () => {
  const first = tinyPretrainConfig(tmp(), { epochs: 6 });
  await pretrain(first);
  const best = join(first.out, "best");
  const next = tinyPretrainConfig(tmp(), { initFrom: best, epochs: 1, model: { dModel: 64 } });
  let notes: string[] = [];
  const summary = await pretrain(next, { onStart: (i) => (notes = i.notes) });
  assert.ok(notes.some((n) => n.startsWith(`weights, vocabulary and tokenizer: ${best} (BertForMaskedLM)`)), notes.join("\n"));
  const out = await loadBert(join(next.out, "best"));
  assert.equal(out.tokenizer.vocab.toText(), readFileSync(join(best, "vocab.txt"), "utf8"));
  assert.equal(out.config.hiddenSize, 16, "sizes come from the folder, not the config");
  // the run starts from the folder's weights: its first losses are those of a trained model, not of a fresh one
  const scratch = tinyPretrainConfig(tmp(), { epochs: 1 });
  await pretrain(scratch);
  assert.ok(stepLosses(next.out)[0] < stepLosses(scratch.out)[0] - 0.5, `${stepLosses(next.out)[0]} vs ${stepLosses(scratch.out)[0]}`);
  assert.ok(summary.steps > 0);
  // a classifier folder has no masked-LM head: a new one
  const data = writeTinyData(join(tmp(), "data"));
  const classifier = await train(resolveTrainConfig({ initFrom: best, data, out: join(tmp(), "ft"), epochs: 1, tokenizer: { maxLength: 16 } }));
  const fromClassifier = tinyPretrainConfig(tmp(), { initFrom: join(classifier.out, "best"), epochs: 1 });
  await pretrain(fromClassifier, { onStart: (i) => (notes = i.notes) });
  assert.ok(notes.some((n) => n.startsWith("masked-LM head: new")), notes.join("\n"));
});
