/**
 * The `bert_model` fixture family (test/fixtures/README.md §7): each case is a Hugging Face BERT folder plus
 * reference tensors. A case loads the folder with `loadBertSync`, tokenizes the case's texts and compares the
 * ids exactly, then runs the model twice — fused attention and step by step (with a Trace) — and compares every
 * stored tensor at its stored tolerance. A stored tensor that was not computed counts as a failed comparison.
 */
import { join } from "node:path";
import { loadBertSync } from "../models/load-bert.ts";
import { l2Normalize, meanPool } from "../models/pooling.ts";
import type { AttentionMask } from "../nn/masks.ts";
import { Trace } from "../nn/trace.ts";
import { noGrad } from "../tensor/autograd.ts";
import { indexTensor } from "../tensor/tensor.ts";
import type { BatchInput } from "../text/wordpiece.ts";
import { type FixtureCase, type FixtureTensor, compareWith, loadCase, readIndex } from "./fixture.ts";
import type { CaseResult, Comparison } from "./types.ts";

/** A stored integer tensor of the case, or an error naming it. */
function intTensor(c: FixtureCase, name: string): FixtureTensor {
  const t = c.tensors.get(name);
  if (!t) throw new Error(`${c.name}: tensor '${name}' is missing from case.json`);
  return t;
}

/** The case's `inputs` as tokenizer inputs, with their expected tokens. */
function caseInputs(c: FixtureCase): { inputs: BatchInput[]; tokens: string[][] } {
  const raw = c.raw.inputs;
  if (!Array.isArray(raw) || raw.length === 0) throw new Error(`${c.name}: case.json has no "inputs"`);
  const inputs: BatchInput[] = [];
  const tokens: string[][] = [];
  for (const [i, x] of (raw as Record<string, unknown>[]).entries()) {
    if (typeof x.text !== "string") throw new Error(`${c.name}: inputs[${i}].text is not a string`);
    inputs.push({ text: x.text, textPair: typeof x.text_pair === "string" ? x.text_pair : null });
    tokens.push(Array.isArray(x.tokens) ? (x.tokens as string[]) : []);
  }
  return { inputs, tokens };
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

  // Text → ids: exact, against the stored inputs (the model below runs on the stored ids, so the two checks stay separate).
  const { inputs, tokens } = caseInputs(c);
  const encoding = loaded.tokenizer.encodeBatch(inputs, { padding: "longest" });
  const sameTokens = JSON.stringify(encoding.rows.map((r) => r.tokens)) === JSON.stringify(tokens);
  compared.push({ name: "tokens", worst: sameTokens ? 0 : Infinity });
  check("input_ids", encoding.inputIds);
  check("token_type_ids", encoding.tokenTypeIds);
  check("attention_mask", encoding.attentionMask);
  check("lengths", encoding.rows.map((r) => r.attentionMask.reduce((a, b) => a + b, 0)));

  const idsT = intTensor(c, "input_ids");
  const shape = idsT.shape;
  const ids = indexTensor(Int32Array.from(idsT.data), shape);
  const tokenTypeIds = indexTensor(Int32Array.from(intTensor(c, "token_type_ids").data), shape);
  const attentionMask: AttentionMask = { shape, data: Uint8Array.from(intTensor(c, "attention_mask").data) };
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
  const missing = [...c.tensors.values()].filter((t) => t.role !== "input" && !covered.has(t.name));
  for (const t of missing) compared.push({ name: t.name, worst: Infinity });
  const error = missing.length > 0 ? `not computed: ${missing.map((t) => t.name).join(", ")}` : undefined;
  return { case: c.name, op: c.op, passed: compared.every((x) => x.worst <= 1), compared, ...(error ? { error } : {}) };
}

/** Runs every case of a `bert_model` fixture folder (its index.json); a case that throws becomes a failed result. */
export function runBertModelFixtures(dir: string): CaseResult[] {
  return readIndex(dir).cases.map((entry) => {
    try {
      return runBertModelCase(join(dir, entry.dir));
    } catch (e) {
      return { case: entry.name, op: entry.op, passed: false, compared: [], error: e instanceof Error ? e.message.split("\n")[0] : String(e) };
    }
  });
}
