/**
 * The `bert_model` fixture family (test/fixtures/README.md §7): each case is a Hugging Face BERT folder plus
 * reference tensors. A case loads the folder with `loadBertSync`, checks the inputs exactly (text → tokens, and
 * for rows built from ids, tokens → ids; bert-inputs.ts), then runs the model twice — fused attention and step by
 * step (with a Trace) — and compares every stored tensor at its stored tolerance. A stored tensor that was not
 * computed counts as a failed comparison.
 */
import { ConfigError } from "../errors.ts";
import { loadBertSync } from "../models/load-bert.ts";
import { l2Normalize, meanPool } from "../models/pooling.ts";
import type { AttentionMask } from "../nn/masks.ts";
import { Trace } from "../nn/trace.ts";
import { noGrad } from "../tensor/autograd.ts";
import { type IndexTensor, indexTensor } from "../tensor/tensor.ts";
import { checkBertInputs } from "./bert-inputs.ts";
import { type FixtureCase, type FixtureTensor, compareWith, loadCase, passes, runCaseFolders, uncovered } from "./fixture.ts";
import type { CaseResult, Comparison } from "./types.ts";

/** A stored integer tensor of the case, or an error naming it. */
export function intTensor(c: FixtureCase, name: string): FixtureTensor {
  const t = c.tensors.get(name);
  if (!t) throw new ConfigError(`${c.name}: tensor '${name}' is missing from case.json`);
  return t;
}

/** The model inputs of a case, from its stored tensors. */
export function modelInputs(c: FixtureCase): { ids: IndexTensor; tokenTypeIds: IndexTensor; attentionMask: AttentionMask } {
  const idsT = intTensor(c, "input_ids");
  const shape = idsT.shape;
  return {
    ids: indexTensor(Int32Array.from(idsT.data), shape),
    tokenTypeIds: indexTensor(Int32Array.from(intTensor(c, "token_type_ids").data), shape),
    attentionMask: { shape, data: Uint8Array.from(intTensor(c, "attention_mask").data) },
  };
}

/** Runs one case folder. */
export function runBertModelCase(dir: string): CaseResult {
  const c = loadCase(dir);
  const loaded = loadBertSync(dir);
  const compared: Comparison[] = [];
  const covered = new Set<string>();
  const check = (name: string, actual: ArrayLike<number> | undefined, label = name): void => {
    const expected = c.tensors.get(name);
    if (!expected) return;
    compared.push(compareWith(label, actual, expected));
    covered.add(name);
  };

  // The inputs, exactly; the model below runs on the stored ids, so the two checks stay separate.
  for (const x of checkBertInputs(c, loaded.tokenizer, loaded.config.labels)) {
    compared.push(x);
    covered.add(x.name);
  }
  const { ids, tokenTypeIds, attentionMask } = modelInputs(c);
  const layers = loaded.config.numHiddenLayers;

  for (const mode of ["fused", "traced"] as const) {
    const suffix = mode === "traced" ? " [step-by-step]" : "";
    const trace = mode === "traced" ? new Trace() : undefined;
    const out = noGrad(() => loaded.model.forward(ids, { attentionMask, tokenTypeIds, needWeights: true, trace }));
    const pooled = noGrad(() => meanPool(out.lastHiddenState, attentionMask));
    const computed = new Map<string, ArrayLike<number> | undefined>([
      ["embedding_output", out.hiddenStates[0].data],
      ["last_hidden_state", out.lastHiddenState.data],
      ["pooler_output", out.poolerOutput.data],
      ["mean_pooled", pooled.data],
      ["mean_pooled_normalized", noGrad(() => l2Normalize(pooled)).data],
      ["logits", out.logits?.data],
    ]);
    for (let l = 0; l < layers; l++) {
      computed.set(`layer_output.${l}`, out.hiddenStates[l + 1]?.data);
      computed.set(`attentions.${l}`, out.attentions[l]?.data);
    }
    if (trace) {
      computed.set("intermediate.embeddings_sum", trace.get("embeddings_sum")?.data);
      // Post-LN (BERT): h1 = LayerNorm(x + attention), HF's attention.output of the layer.
      for (let l = 0; l < layers; l++) computed.set(`intermediate.layer.${l}.attention_output`, trace.get(`encoder.layers.${l}.h1`)?.data);
    }
    for (const [name, actual] of computed) check(name, actual, name + suffix);
  }
  const rest = uncovered(c, covered);
  compared.push(...rest.compared);
  return { case: c.name, op: c.op, passed: passes(compared), compared, ...(rest.error ? { error: rest.error } : {}) };
}

/** Runs every case of a `bert_model` fixture folder (its index.json); a case that throws becomes a failed result. */
export function runBertModelFixtures(dir: string): CaseResult[] {
  return runCaseFolders(dir, runBertModelCase);
}
