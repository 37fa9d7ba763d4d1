/**
 * The attribution references of a `bert_train` sequence-classification case (fixtures README §9,
 * case.json `conventions["attribution.*"]`): every explanation of src/explain computed on the case's inputs,
 * explaining each row's stored label, under the names the fixture stores them.
 */
import { type ExplainBatch, type ExplainableModel, gradientPass } from "../explain/backprop.ts";
import { attentionRollout, gradientAttentionRelevance, normContributions } from "../explain/attention-flow.ts";
import { inputTimesGradient, integratedGradients } from "../explain/input-attribution.ts";
import { HeadImportanceAccumulator } from "../explain/heads.ts";

/** Fixture name → our values, for every attribution tensor a case can store (integrated gradients: 32 steps). */
export function attributionTensors(model: ExplainableModel, batch: ExplainBatch): Map<string, ArrayLike<number>> {
  const out = new Map<string, ArrayLike<number>>();
  const [rows, n] = batch.ids.shape;
  const pass = gradientPass(model, batch);
  out.set("attribution.rollout", attentionRollout(pass.attentions).data);
  pass.attentionGrads.forEach((g, l) => out.set(`grad.attentions.${l}`, g));
  out.set("attribution.grad_attention", gradientAttentionRelevance(pass.attentions, pass.attentionGrads).data);
  model.encoder.layers.items.forEach((layer, l) => {
    const norms = normContributions(pass.attentions[l], pass.values[l], layer.selfAttn.outProj.weight);
    out.set(`attribution.norm.${l}`, norms.perHead);
    out.set(`attribution.norm_sum.${l}`, norms.summed);
  });
  const ixg = inputTimesGradient(pass.wordEmbeddings, pass.wordEmbeddingGrads, rows, n);
  out.set("attribution.input_x_gradient", ixg.norm.data);
  out.set("attribution.input_x_gradient_sum", ixg.signed.data);
  const ig = integratedGradients(model, batch, { steps: 32, full: pass });
  out.set("attribution.integrated_gradients", ig.data);
  out.set("attribution.logit_target", ig.target);
  out.set("attribution.logit_target_baseline", ig.baseline);
  const heads = new HeadImportanceAccumulator(model);
  heads.add(batch);
  out.set("attribution.head_importance", heads.result().data);
  return out;
}
