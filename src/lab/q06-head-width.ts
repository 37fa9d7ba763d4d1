/** Q06: why each head works in d_model/h dimensions — parameters, FLOPs, time, accuracy at equal budget, and W_O's role. */
import { MultiHeadAttention } from "../nn/attention.ts";
import type { TransformerEncoderModel } from "../nn/model.ts";
import { noGrad } from "../tensor/autograd.ts";
import { randn } from "../tensor/creation.ts";
import { Rng } from "../tensor/random.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { barChart, lineChart } from "./charts.ts";
import { fmt, pct, sig } from "./metrics.ts";
import { twoRelationTask } from "./tasks.ts";
import { attentionFlops, timeInterleaved } from "./timing.ts";
import { trainSeeds } from "./train.ts";
import type { Claim, LabContext, Question, QuestionOutput } from "./types.ts";
import { byDefinition, byMeasurement, cond, type VerdictRule } from "./verdicts.ts";
import { numericGuess } from "./guess.ts";

/** Q06's verdict rules. */
const RULES = {
  // "Rise a lot": more than ×4 at h = 8 (the rise is ×h for parameters of Q, K, V and FLOPs of the products).
  withoutReduction: {
    cases: [{ when: [cond("parameters_full_over_reduced_8_heads", ">", 4), cond("flops_full_over_reduced_8_heads", ">", 4)], verdict: "supported" }],
    otherwise: "nuanced",
  },
  fusesHeads: {
    cases: [{ when: [cond("learned_minus_identity_w_o_accuracy", ">", 0.03)], verdict: "supported" }],
    otherwise: "nuanced",
  },
} satisfies Record<string, VerdictRule>;

/** Sets W_O to the identity (bias 0) and returns it to be frozen: the heads are concatenated and passed on unmixed. */
function identityOutProj(model: TransformerEncoderModel): Tensor[] {
  const proj = model.encoder.layers.items[0].selfAttn.outProj;
  const [out, inn] = proj.weight.shape;
  proj.weight.data.fill(0);
  for (let i = 0; i < Math.min(out, inn); i++) proj.weight.data[i * inn + i] = 1;
  proj.bias?.data.fill(0);
  return proj.bias ? [proj.weight, proj.bias] : [proj.weight];
}

async function run(ctx: LabContext): Promise<QuestionOutput> {
  const rng = new Rng(ctx.seed);
  // 1. Cost of one layer: d_k = d_model/h against d_k = d_model.
  const cost = { batch: 4, n: ctx.quick ? 64 : 128, dModel: ctx.quick ? 128 : 256 };
  const x = randn([cost.batch, cost.n, cost.dModel], rng);
  const heads = [1, 2, 4, 8];
  const built = heads.flatMap((h) => (["reduced", "full"] as const).map((kind) => {
    const headDim = kind === "reduced" ? cost.dModel / h : cost.dModel;
    return { h, kind, headDim, mha: new MultiHeadAttention({ dModel: cost.dModel, heads: h, headDim, rng }) };
  }));
  const times = timeInterleaved(built.map((b) => () => void noGrad(() => b.mha.forward(x))), ctx.quick ? 5 : 15, ctx.quick ? 3 : 30);
  const layers = built.map(({ h, kind, headDim, mha }, i) => {
    const out = noGrad(() => mha.forward(x)).output;
    return { h, kind, headDim, parameters: mha.parameterCount(), flops: attentionFlops({ ...cost, heads: h, headDim }).total, seconds: times[i], outShape: [...out.shape], woShape: [...mha.outProj.weight.shape] };
  });
  ctx.log("timed the layers");
  const layer = (h: number, kind: "reduced" | "full"): (typeof layers)[number] => layers.find((l) => l.h === h && l.kind === kind)!;
  const l8r = layer(8, "reduced");
  const l8f = layer(8, "full");
  // 2. Accuracy on the two-relation task at (nearly) equal attention parameters, and without reduction.
  const task = twoRelationTask(10, 6);
  const steps = ctx.quick ? 100 : 600;
  const seeds = ctx.quick ? [ctx.seed] : [ctx.seed, ctx.seed + 1];
  const variants = [
    { key: "4 heads × d_k 16 (d_model 64)", model: { dModel: 64, heads: 4 }, identity: false },
    { key: "1 head × d_k 64 (d_model 64)", model: { dModel: 64, heads: 1 }, identity: false },
    { key: "4 heads × d_k 32 (d_model 32)", model: { dModel: 32, heads: 4, attention: { headDim: 32 } }, identity: false },
    { key: "4 heads × d_k 64 (d_model 64, no reduction)", model: { dModel: 64, heads: 4, attention: { headDim: 64 } }, identity: false },
    { key: "4 heads × d_k 16, W_O = identity (frozen)", model: { dModel: 64, heads: 4 }, identity: true },
  ];
  const runs = variants.map((v) => {
    const { runs: rs, accuracies, accuracy } = trainSeeds({ task, steps, batch: ctx.quick ? 32 : 64, lr: 3e-3, evalPoints: 10, model: { dFF: 128, ...v.model }, prepare: v.identity ? identityOutProj : undefined }, seeds);
    const attn = rs[0].model.encoder.layers.items[0].selfAttn;
    ctx.log(`${v.key}: ${accuracies.map(pct).join(", ")}`);
    return { ...v, accuracy, accuracies, parameters: rs[0].parameters, attentionParameters: attn.parameterCount() - (v.identity ? attn.outProj.parameterCount() : 0), curve: rs[0].curve };
  });
  const [reduced, single, narrow, noReduction, identity] = runs;

  const claims: Claim[] = [
    {
      claim_zh: "将原有的高维空间转换成低维并进行拼接，形成了同样维度的输出，这样丰富了特性信息，还降低了计算量",
      claim_en: "Projecting into lower dimensions and concatenating gives an output of the same size, enriches the features and lowers the computation.",
      ...byDefinition("nuanced",
        "By the shapes: h heads of d_model/h have the parameters and FLOPs of one head of d_model and 1/h of h full-width heads, so \"lowers the computation\" holds against one baseline only; the measured accuracies are reported, not used.",
        "由形状决定：h 个 d_model/h 维的头，参数与 FLOPs 等于一个 d_model 维的头、是 h 个全宽头的 1/h，所以“降低计算量”只对其中一种比较成立；实测准确率仅作报告，不参与判定。"),
      evidence: `The output keeps d_model (shape [${l8r.outShape.join(", ")}]) and compute is lower only relative to h full-width heads (${fmt(l8r.flops, 3)} vs ${fmt(l8f.flops, 3)} FLOPs at h = 8); against one full-width head it is the same (${fmt(layer(1, "reduced").flops, 3)} FLOPs, ${layer(1, "reduced").parameters} parameters). As for "richer features", on a task needing two relations per position 4 heads of 16 reached ${pct(reduced.accuracy)} against ${pct(single.accuracy)} for one head of 64 with the same ${reduced.attentionParameters} attention parameters.`,
      evidence_zh: `输出保持 d_model（形状 [${l8r.outShape.join(", ")}]）；计算量只是相对于 h 个全宽头更低（h = 8 时 ${fmt(l8r.flops, 3)} 对 ${fmt(l8f.flops, 3)} FLOPs），与一个全宽单头相同（${fmt(layer(1, "reduced").flops, 3)} FLOPs，${layer(1, "reduced").parameters} 个参数）。至于“丰富特征”：在每个位置需要两种关系的任务上，同样 ${reduced.attentionParameters} 个注意力参数，4 个 16 维的头达到 ${pct(reduced.accuracy)}，一个 64 维的头为 ${pct(single.accuracy)}。`,
    },
    {
      claim_zh: "如果不降低维度，模型的参数数量和计算复杂度会上升很多",
      claim_en: "Without the reduction, the parameter count and the computation would rise a lot.",
      guess: numericGuess({ en: `At d_model ${cost.dModel} with 8 heads, how many times the parameters do heads of width d_model need, against heads of width d_model/8?`, zh: `d_model ${cost.dModel}、8 个头时，每个头宽 d_model 的参数量是每个头宽 d_model/8 的多少倍？`, answer: l8f.parameters / l8r.parameters, unit: "×", closeness: "ratio", tolerance: 1.25 }),
      ...byMeasurement(RULES.withoutReduction, { parameters_full_over_reduced_8_heads: l8f.parameters / l8r.parameters, flops_full_over_reduced_8_heads: l8f.flops / l8r.flops }),
      evidence: `At d_model ${cost.dModel}, n ${cost.n}, 8 heads of d_k = d_model need ×${fmt(l8f.parameters / l8r.parameters)} the parameters (${l8f.parameters} vs ${l8r.parameters}), ×${fmt(l8f.flops / l8r.flops)} the FLOPs and took ×${fmt(l8f.seconds / l8r.seconds)} the forward time of 8 heads of d_model/8 — it grows linearly with h; on the two-relation task the ×4 wider heads reached ${pct(noReduction.accuracy)} against ${pct(reduced.accuracy)}.`,
      evidence_zh: `d_model ${cost.dModel}、n ${cost.n} 时，8 个 d_k = d_model 的头所需参数是 8 个 d_model/8 维头的 ×${fmt(l8f.parameters / l8r.parameters)}（${l8f.parameters} 对 ${l8r.parameters}），FLOPs ×${fmt(l8f.flops / l8r.flops)}，前向时间 ×${fmt(l8f.seconds / l8r.seconds)}——随 h 线性增长；在双关系任务上，宽 4 倍的头达到 ${pct(noReduction.accuracy)}，降维的为 ${pct(reduced.accuracy)}。`,
    },
    {
      claim_zh: "我们应该保持输入输出一致，多头注意力的输入和输出都要和其他层（比如FFNN）匹配",
      claim_en: "Input and output must stay consistent: multi-head attention's input and output must match the other layers (e.g. the FFN).",
      ...byDefinition("refuted",
        "By the layer's definition: W_O maps h·d_v to d_model whatever d_v is, so matching the other layers does not need the per-head reduction; the traced shapes only illustrate it.",
        "由层的定义决定：无论 d_v 取多少，W_O 都把 h·d_v 映射到 d_model，所以与其他层匹配并不需要每个头降维；追踪到的形状只是示例。"),
      evidence: `Matching sizes is W_O's job, not the per-head reduction's: with d_k = d_v = d_model and 8 heads, W_O is [${l8f.woShape.join(", ")}] (out × in) and the layer still returns [${l8f.outShape.join(", ")}], the same shape as the reduced layer; such a layer trains fine in an encoder (${pct(noReduction.accuracy)} on the two-relation task).`,
      evidence_zh: `让尺寸匹配是 W_O 的工作，而不是每个头降维的原因：d_k = d_v = d_model、8 个头时 W_O 为 [${l8f.woShape.join(", ")}]（输出 × 输入），该层输出仍是 [${l8f.outShape.join(", ")}]，与降维的层形状相同；这样的层在编码器中也能正常训练（双关系任务 ${pct(noReduction.accuracy)}）。`,
    },
    {
      claim_zh: "降维操作并不只是简单的降维，而是把多头信息融合在一起，提取各个头的共同特征，这有助于提高模型的表达能力",
      claim_en: "The reduction is not just a reduction: it fuses the heads' information and extracts their common features, which helps expressiveness.",
      guess: numericGuess({ en: `On the two-relation task, what accuracy does the model reach with W_O replaced by a frozen identity (no mixing of heads)? (With a learned W_O: ${pct(reduced.accuracy)}.)`, zh: `在双关系任务上，把 W_O 换成固定的单位矩阵（不混合各头）后准确率是多少？（学习的 W_O：${pct(reduced.accuracy)}。）`, answer: 100 * identity.accuracy, unit: "%", tolerance: 5 }),
      ...byMeasurement(RULES.fusesHeads, { learned_minus_identity_w_o_accuracy: reduced.accuracy - identity.accuracy }),
      evidence: `What fuses the heads is W_O: replacing it by a frozen identity (heads concatenated and passed on unmixed) gave ${pct(identity.accuracy)} against ${pct(reduced.accuracy)} with a learned W_O on the two-relation task${reduced.accuracy - identity.accuracy > 0.03 ? "" : ": here the FFN after attention did the mixing instead"}.`,
      evidence_zh: `把各头融合在一起的是 W_O：把它换成冻结的单位矩阵（各头拼接后不混合直接传下去），双关系任务准确率为 ${pct(identity.accuracy)}，可学习的 W_O 为 ${pct(reduced.accuracy)}${reduced.accuracy - identity.accuracy > 0.03 ? "" : "：这里注意力之后的 FFN 替代完成了混合"}。`,
    },
    {
      claim_zh: "其实就是再使用一个Wo权重矩阵(h*d_v, d_model)，和拼接后的输出相乘，进行线性变换",
      claim_en: "It is done with one more weight matrix W_O of shape (h·d_v, d_model), multiplied with the concatenated output.",
      ...byDefinition("nuanced",
        "By the shapes: W_O is (h·d_v, d_model) as the notes say, but with d_v = d_model/h it is square, so it mixes the heads and reduces nothing.",
        "由形状决定：W_O 确如笔记所说是 (h·d_v, d_model)，但 d_v = d_model/h 时它是方阵，只混合各头，并不降维。"),
      evidence: `The matrix is right (h·d_v → d_model; stored [${l8r.woShape.join(", ")}] as out × in), but with the paper's d_v = d_model/h it is square — ${cost.dModel} × ${cost.dModel} — so it mixes the heads and reduces nothing; the reduction happened earlier, in W_Q, W_K, W_V (d_model → d_model/h per head).`,
      evidence_zh: `矩阵本身没错（h·d_v → d_model；按 输出 × 输入 存为 [${l8r.woShape.join(", ")}]），但按论文 d_v = d_model/h 时它是方阵——${cost.dModel} × ${cost.dModel}——只负责混合各头，并不降维；降维发生在前面的 W_Q、W_K、W_V（每个头 d_model → d_model/h）。`,
    },
  ];

  return {
    claims,
    method_en: `**Cost.** One public \`MultiHeadAttention\` layer (d_model ${cost.dModel}, n ${cost.n}, batch ${cost.batch}) with h ∈ {${heads.join(", ")}} heads, either \`headDim\` = d_model/h (the default) or \`headDim\` = d_model (no reduction): parameter count, FLOPs from the shapes, median forward time. **Accuracy.** Q01's two-relation task (n = 10, V = 6, 36 classes), one encoder layer, ${steps} AdamW steps${seeds.length > 1 ? `, seeds ${seeds.join(", ")}` : ""}: 4 heads of d_k 16 vs 1 head of 64 (same attention parameters) vs 4 full-width heads at d_model 32 (same attention parameters, narrower model) vs 4 heads of 64 (no reduction, ×4 attention parameters), and 4 heads of 16 with W_O set to the identity and frozen.`,
    method_zh: `**代价。** 一个公开的 \`MultiHeadAttention\` 层（d_model ${cost.dModel}，n ${cost.n}，batch ${cost.batch}），h ∈ {${heads.join(", ")}}，\`headDim\` 取 d_model/h（默认）或 d_model（不降维）：参数量、按形状计算的 FLOPs、前向时间中位数。**准确率。** Q01 的双关系任务（n = 10，V = 6，36 类），单层编码器，AdamW ${steps} 步${seeds.length > 1 ? `，种子 ${seeds.join("、")}` : ""}：4 个 16 维头、1 个 64 维头（注意力参数相同）、d_model 32 下 4 个全宽头（注意力参数相同、模型更窄）、4 个 64 维头（不降维，注意力参数 ×4），以及 W_O 设为单位矩阵并冻结的 4 个 16 维头。`,
    tables: [
      { title_en: "One attention layer: reduced against full-width heads", title_zh: "单个注意力层：降维与全宽头", columns: ["heads", "d_k", "parameters", "FLOPs", "forward ms", "W_O shape (out × in)"],
        rows: layers.filter((l) => l.h > 1 || l.kind === "reduced").map((l) => [l.h, l.headDim, l.parameters, fmt(l.flops, 3), fmt(l.seconds * 1000), `[${l.woShape.join(", ")}]`]) },
      { title_en: "Two-relation task", title_zh: "双关系任务", columns: ["model", "attention parameters (trainable)", "all trainable parameters", "accuracy"],
        rows: runs.map((r) => [r.key, r.attentionParameters, r.parameters, r.accuracies.map(pct).join(" / ")]) },
    ],
    charts: [
      lineChart({ name: "parameters-by-heads", title_en: "Attention parameters against heads", title_zh: "注意力参数随头数的变化",
        data: layers.map((l) => ({ heads: l.h, parameters: l.parameters, d_k: l.kind === "reduced" ? "d_model/h" : "d_model" })), x: "heads", y: "parameters", color: "d_k", xTitle: "heads", yTitle: "parameters", xOrdinal: true, yLog: true }),
      lineChart({ name: "time-by-heads", title_en: "Forward time against heads", title_zh: "前向时间随头数的变化",
        data: layers.map((l) => ({ heads: l.h, ms: l.seconds * 1000, d_k: l.kind === "reduced" ? "d_model/h" : "d_model" })), x: "heads", y: "ms", color: "d_k", xTitle: "heads", yTitle: "forward ms", xOrdinal: true, yLog: true }),
      barChart({ name: "accuracy", title_en: "Two-relation task accuracy", title_zh: "双关系任务准确率",
        data: runs.map((r) => ({ model: r.key, accuracy: r.accuracy })), x: "model", y: "accuracy", xTitle: "model", yTitle: "held-out accuracy" }),
    ],
    metrics: {
      layers: layers.map((l) => ({ heads: l.h, d_k: l.headDim, parameters: l.parameters, flops: l.flops, output_shape: l.outShape, w_o_shape: l.woShape })),
      two_relation: runs.map((r) => ({ model: r.key, attention_parameters: r.attentionParameters, parameters: r.parameters, accuracy: sig(r.accuracy), accuracies: r.accuracies.map((a) => sig(a)), curve: r.curve.map((p) => ({ step: p.step, accuracy: sig(p.accuracy) })) })),
      narrow_model_accuracy: sig(narrow.accuracy),
      timings: { forward_s: layers.map((l) => ({ heads: l.h, d_k: l.headDim, seconds: sig(l.seconds, 3) })) },
    },
  };
}

/** Q06. */
export const q06: Question = {
  id: "q06",
  title: "Reducing each head to d_model/h",
  question_zh: "Q06：为什么在进行多头注意力的时候需要对每个head进行降维？",
  question_en: "Q06: Why is each head reduced to a lower dimension in multi-head attention?",
  rules: RULES,
  run,
};
