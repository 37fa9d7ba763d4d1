/**
 * The `bert_train` fixture family (test/fixtures/README.md §9): Hugging Face folders of
 * BertForSequenceClassification and BertForMaskedLM with logits, loss and every parameter's gradient. A case
 * loads the folder with `loadBertSync` (the MLM head with its decoder tied to the word embeddings), checks the
 * inputs exactly (bert-inputs.ts), then, in training semantics with dropout off (the model's eval mode with
 * gradients recorded), computes the logits and the loss of case.json's conventions — mean cross-entropy over the
 * rows, or over the labelled positions for the masked LM — and its backward, fused and step by step, comparing
 * every stored tensor at its stored tolerance. For a classification case it also computes every attribution
 * reference (`attribution.*`, `grad.attentions.*`; src/explain) explaining each row's stored label. A stored tensor
 * that is not computed fails the case.
 */
import { ConfigError } from "../errors.ts";
import { fromHfBertName, hfBertTiedName } from "../io/names.ts";
import { loadBertSync } from "../models/load-bert.ts";
import { Trace } from "../nn/trace.ts";
import { reshape } from "../tensor/ops/layout.ts";
import { indexTensor } from "../tensor/tensor.ts";
import { crossEntropy } from "../train/losses.ts";
import { attributionTensors } from "./attributions.ts";
import { intTensor, modelInputs } from "./bert.ts";
import { IGNORE_INDEX, checkBertInputs } from "./bert-inputs.ts";
import { compareWith, configString, loadCase, passes, runCaseFolders, uncovered } from "./fixture.ts";
import type { CaseResult, Comparison } from "./types.ts";

/** The architectures this family has, as case.json `config.architecture` names them. */
const ARCHITECTURES = ["BertForSequenceClassification", "BertForMaskedLM"] as const;

/** case.json's sizes that config.json must have given the loader (read from case.json, never assumed). */
const SIZE_FIELDS = [
  ["hidden_size", "hiddenSize"], ["num_hidden_layers", "numHiddenLayers"], ["num_attention_heads", "numAttentionHeads"],
  ["intermediate_size", "intermediateSize"], ["vocab_size", "vocabSize"],
] as const;

/** Runs one case folder. */
export function runBertTrainCase(dir: string): CaseResult {
  const c = loadCase(dir);
  const architecture = configString(c, "architecture", "");
  if (!(ARCHITECTURES as readonly string[]).includes(architecture)) {
    throw new ConfigError(`${c.name}: config.architecture ${JSON.stringify(architecture)} is not one of ${ARCHITECTURES.join(", ")}`);
  }
  const masked = architecture === "BertForMaskedLM";
  const loaded = loadBertSync(dir, { mlmHead: masked });
  const model = loaded.model;
  const compared: Comparison[] = [];
  const covered = new Set<string>();
  const exact = (name: string, same: boolean): void => void compared.push({ name, worst: same ? 0 : Infinity });
  const check = (name: string, actual: ArrayLike<number> | undefined, label = name): void => {
    const expected = c.tensors.get(name);
    if (!expected) return;
    compared.push(compareWith(label, actual, expected));
    covered.add(name);
  };

  exact("architecture", loaded.architecture === architecture);
  for (const [field, ours] of SIZE_FIELDS) if (field in c.config) exact(`config.${field}`, c.config[field] === loaded.config[ours]);
  if (typeof c.config.num_labels === "number") exact("config.num_labels", c.config.num_labels === loaded.config.labels?.length);
  for (const x of checkBertInputs(c, loaded.tokenizer, loaded.config.labels)) {
    compared.push(x);
    covered.add(x.name);
  }

  const { ids, tokenTypeIds, attentionMask } = modelInputs(c);
  const labelsT = intTensor(c, "labels");
  const labels = indexTensor(Int32Array.from(labelsT.data), [labelsT.data.length]);
  const params = model.stateDict();
  for (const mode of ["fused", "traced"] as const) {
    const suffix = mode === "traced" ? " [step-by-step]" : "";
    for (const p of params.values()) p.grad = null;
    const out = model.forward(ids, { attentionMask, tokenTypeIds, trace: mode === "traced" ? new Trace() : undefined });
    const logits = masked ? model.maskedLmLogits(out.lastHiddenState) : out.logits;
    if (!logits) throw new ConfigError(`${c.name}: ${loaded.dir} has no classification head (classifier.*) for a BertForSequenceClassification case`);
    const vocab = logits.shape[logits.rank - 1];
    // Masked LM: mean over the positions whose label is not IGNORE_INDEX; classification: mean over the rows.
    const loss = crossEntropy(masked ? reshape(logits, [labels.data.length, vocab]) : logits, labels, { ignoreIndex: IGNORE_INDEX });
    loss.backward();
    check("logits", logits.data, `logits${suffix}`);
    check("loss", loss.data, `loss${suffix}`);
    for (const t of c.tensors.values()) {
      if (t.role !== "grad" || !t.of) continue;
      const ours = fromHfBertName(t.of) ?? hfBertTiedName(t.of);
      const p = ours === null ? undefined : params.get(ours);
      // A parameter the loss does not reach has gradient zero (PyTorch leaves it None).
      if (p) check(t.name, p.grad?.data ?? new Float32Array(p.size), `${t.name}${suffix}`);
    }
  }
  if (!masked) {
    const targets = Int32Array.from(labels.data);
    for (const [name, values] of attributionTensors(model, { ids, tokenTypeIds, attentionMask, targets })) check(name, values);
  }
  const rest = uncovered(c, covered);
  compared.push(...rest.compared);
  return { case: c.name, op: c.op, passed: passes(compared), compared, ...(rest.error ? { error: rest.error } : {}) };
}

/** Runs every case of a `bert_train` fixture folder (its index.json); a case that throws becomes a failed result. */
export function runBertTrainFixtures(dir: string): CaseResult[] {
  return runCaseFolders(dir, runBertTrainCase);
}
