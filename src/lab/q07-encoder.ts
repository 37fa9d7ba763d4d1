/** Q07: the encoder step by step on a trained classifier, LayerNorm's statistics, and gradients by depth with and without residuals and LayerNorm. */
import { maskFromLengths } from "../nn/masks.ts";
import { Trace } from "../nn/trace.ts";
import { noGrad } from "../tensor/autograd.ts";
import { Rng } from "../tensor/random.ts";
import { Tensor, indexTensor } from "../tensor/tensor.ts";
import { encodeText } from "../train/evaluate.ts";
import { crossEntropy } from "../train/losses.ts";
import { barChart, lineChart } from "./charts.ts";
import { fmt, gradNorm, mean, pct, rowStats, sig, std, tensorStats } from "./metrics.ts";
import { shippedClassifier } from "./shipped-model.ts";
import { copyPreviousTask, sampleBatch } from "./tasks.ts";
import { buildTokenModel, logitsOf, trainTokenTask } from "./train.ts";
import type { Claim, LabContext, Question, QuestionOutput } from "./types.ts";
import { byDefinition, byMeasurement, cond, type VerdictRule } from "./verdicts.ts";
import { numericGuess } from "./guess.ts";

/** Q07's verdict rules. */
const RULES = {
  // x0 is the sum to float32 rounding; without positions reversal only permutes the outputs; with them it changes them.
  positions: {
    cases: [{ when: [cond("x0_sum_max_gap", "<", 1e-5), cond("reversal_diff_without_positions", "<", 1e-4), cond("reversal_diff_with_positions", ">", 1e-2)], verdict: "supported" }],
    otherwise: "nuanced",
  },
  // First/last gradient ratios: without residuals (and no LayerNorm) ≥ 10× smaller; without residuals but with LayerNorm smaller than post-LN.
  residual: {
    cases: [{ when: [cond("gradient_ratio_neither_over_residual_only", "<", 0.1), cond("gradient_ratio_layernorm_only_over_post_ln", "<", 1)], verdict: "supported" }],
    otherwise: "nuanced",
  },
  // The output per token has mean ≈ 0 and std ≈ 1, and LayerNorm alone lifts the gradient ratio ≥ 10×.
  layerNorm: {
    cases: [{ when: [cond("layernorm_output_mean_abs", "<", 0.1), cond("layernorm_output_std_minus_1_abs", "<", 0.1), cond("gradient_ratio_layernorm_only_over_neither", ">", 10)], verdict: "supported" }],
    otherwise: "nuanced",
  },
} satisfies Record<string, VerdictRule>;

/** Q01's example sentence (the one `tsformer demo` runs). */
const SENTENCE = "The animal didn't cross the street because it was too tired";

/** The Q07 steps of layer 0 (and the embedding steps), as [label, trace name]. */
const STEPS: [string, string][] = [
  ["1 embedding lookup", "embedding.lookup"],
  ["  × √d_model (Q08)", "embedding.scaled"],
  ["2 positional encoding", "positions"],
  ["  embedding + positions", "x0"],
  ["3 multi-head attention (after W_O)", "encoder.layers.0.sa_out"],
  ["4 residual: x + attention", "encoder.layers.0.residual1"],
  ["5 LayerNorm", "encoder.layers.0.h1"],
  ["6 FFN", "encoder.layers.0.ff_out"],
  ["7 residual: h1 + FFN", "encoder.layers.0.residual2"],
  ["7 LayerNorm (layer output)", "encoder.layers.0.output"],
];

/** Kinds of deep stacks compared. */
const STACKS = [
  { key: "post-LN (residual + LayerNorm)", residual: true, layerNorm: true, normFirst: false },
  { key: "pre-LN (residual + LayerNorm)", residual: true, layerNorm: true, normFirst: true },
  { key: "residual, no LayerNorm", residual: true, layerNorm: false, normFirst: false },
  { key: "LayerNorm, no residual", residual: false, layerNorm: true, normFirst: false },
  { key: "neither", residual: false, layerNorm: false, normFirst: false },
];

async function run(ctx: LabContext): Promise<QuestionOutput> {
  // 1. One sentence through the classifier, step by step.
  const { model, tokenizer, maxLength, source } = shippedClassifier(ctx);
  const ids = encodeText(tokenizer, SENTENCE, maxLength);
  const n = ids.length;
  const idsT = indexTensor(ids, [1, n]);
  const trace = new Trace();
  noGrad(() => model.forward(idsT, { attentionMask: maskFromLengths([n], n), trace }));
  const steps = STEPS.filter(([, name]) => trace.get(name)).map(([label, name]) => {
    const t = trace.get(name)!;
    return { label, name, shape: [...t.shape], ...tensorStats(t) };
  });
  const x0 = trace.get("x0")!;
  const scaled = trace.get("embedding.scaled") ?? trace.get("embedding.lookup")!;
  const pos = trace.get("positions");
  const d = model.config.dModel;
  let sumGap = 0;
  if (pos) for (let i = 0; i < x0.size; i++) sumGap = Math.max(sumGap, Math.abs(x0.data[i] - scaled.data[i] - pos.data[i % (n * d)]));
  // Does position information matter? Reverse the tokens: without positions the outputs are just reversed (permutation-equivariant).
  const reversed = indexTensor([...ids].reverse(), [1, n]);
  const equivariance = (withPositions: boolean): number => noGrad(() => {
    const run1 = (t: typeof idsT): Tensor => model.encoder.forward(withPositions ? model.embed(t) : model.embedding.forward(t)).output;
    const a = run1(idsT);
    const b = run1(reversed);
    let m = 0;
    for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) m = Math.max(m, Math.abs(a.data[i * d + c] - b.data[(n - 1 - i) * d + c]));
    return m;
  });
  const eqWith = equivariance(true);
  const eqWithout = equivariance(false);
  // 2. LayerNorm: per-token statistics of its output, and of (output − β)/γ.
  const norm1 = model.encoder.layers.items[0].norm1!;
  const h1 = trace.get("encoder.layers.0.h1")!;
  const after = rowStats(h1);
  const xhat = h1.data.map((v, i) => (v - norm1.bias.data[i % d]) / norm1.weight.data[i % d]);
  const before = rowStats(new Tensor(xhat, h1.shape));
  // Per feature across tokens (what BatchNorm would normalise) LayerNorm promises nothing.
  const columns = Array.from({ length: d }, (_, c) => Array.from({ length: n }, (_, i) => h1.data[i * d + c]));
  const ln = {
    afterMeanAbs: mean(after.means.map(Math.abs)), afterStd: mean(after.stds), afterStdMin: Math.min(...after.stds), afterStdMax: Math.max(...after.stds),
    beforeMeanAbs: mean(before.means.map(Math.abs)), beforeStd: mean(before.stds),
    featureMeanAbs: mean(columns.map((col) => Math.abs(mean(col)))), featureStd: mean(columns.map((col) => std(col))),
    gammaMean: mean(norm1.weight.data), gammaStd: std(norm1.weight.data), betaMean: mean(norm1.bias.data), betaStd: std(norm1.bias.data),
  };
  // 3. Gradient norms by depth at initialisation, and a short training run, for each kind of stack.
  const depth = ctx.quick ? 6 : 12;
  const task = copyPreviousTask(16, 16);
  const trainSteps = ctx.quick ? 10 : 300;
  const batchSize = ctx.quick ? 16 : 32;
  const stacks = STACKS.map((s) => {
    const config = { numLayers: depth, residual: s.residual, layerNorm: s.layerNorm, normFirst: s.normFirst, finalNorm: s.normFirst && s.layerNorm };
    const { model: m, head } = buildTokenModel(task, config, ctx.seed);
    m.train();
    const batch = sampleBatch(task, new Rng(ctx.seed + 5), batchSize);
    crossEntropy(logitsOf(m, head, batch, task.classes), batch.targets).backward();
    const norms = m.encoder.layers.items.map((layer) => gradNorm(layer.parameters()));
    const r = trainTokenTask({ task, steps: trainSteps, batch: batchSize, lr: 1e-3, seed: ctx.seed, evalPoints: 6, model: config });
    ctx.log(`${s.key}: gradient ratio first/last ${fmt(norms[0] / norms[depth - 1])}, accuracy ${pct(r.accuracy)}`);
    return { ...s, norms, ratio: norms[0] / norms[depth - 1], accuracy: r.accuracy, loss: r.loss, curve: r.curve };
  });
  const st = (k: string): (typeof stacks)[number] => stacks.find((s) => s.key.startsWith(k))!;
  const post = st("post-LN");
  const resOnly = st("residual,");
  const lnOnly = st("LayerNorm,");
  const neither = st("neither");

  const claims: Claim[] = [
    {
      claim_zh: "第二步，位置编码，这是为了让模型识别出序列信息，把编码和词嵌入相加",
      claim_en: "Step two, positional encoding: added to the word embeddings so that the model can recognise the order.",
      guess: numericGuess({ en: "Without positional encodings, reverse the sentence, run the encoder and reverse the outputs back: what is the largest difference from the outputs of the original order?", zh: "去掉位置编码，把句子倒序输入编码器，再把输出倒回原顺序：与原顺序的输出最大相差多少？", answer: eqWithout, tolerance: 0.01 }),
      ...byMeasurement(RULES.positions, { x0_sum_max_gap: sumGap, reversal_diff_without_positions: eqWithout, reversal_diff_with_positions: eqWith }),
      evidence: `The trace shows x0 = embedding·√d_model + PE exactly (max gap ${fmt(sumGap)}; the ×√d_model of Q08 is a step the notes skip). Without the positions the encoder is blind to order: reversing the sentence just reverses the outputs (max difference ${fmt(eqWithout)}), whereas with them the outputs change by up to ${fmt(eqWith)}.`,
      evidence_zh: `追踪结果表明 x0 = 词嵌入·√d_model + 位置编码，完全相等（最大差 ${fmt(sumGap)}；笔记漏掉了 Q08 的 ×√d_model 这一步）。去掉位置编码后编码器对顺序是“盲”的：把句子倒过来，输出也只是倒过来（最大差 ${fmt(eqWithout)}）；有位置编码时输出最多变化 ${fmt(eqWith)}。`,
    },
    {
      claim_zh: "第四步，残差连接，多头自注意力的输出和其输入相加，实现跳跃连接，避免梯度消失，提高稳定性",
      claim_en: "Step four, the residual connection: attention's output is added to its input, a skip connection that avoids vanishing gradients and improves stability.",
      guess: numericGuess({ en: `In a ${depth}-layer stack at initialisation with neither residuals nor LayerNorm, what is the first layer's gradient norm divided by the last layer's?`, zh: `${depth} 层、既无残差也无 LayerNorm 的堆叠在初始化时，第一层梯度范数除以最后一层的结果是多少？`, answer: neither.ratio, closeness: "ratio", tolerance: 10 }),
      ...byMeasurement(RULES.residual, { gradient_ratio_neither_over_residual_only: neither.ratio / resOnly.ratio, gradient_ratio_layernorm_only_over_post_ln: lnOnly.ratio / post.ratio }),
      evidence: `In a ${depth}-layer stack at initialisation, the first layer's gradient norm over the last's is ${fmt(resOnly.ratio)} with residuals and ${fmt(neither.ratio)} without (no LayerNorm in either), and ${fmt(post.ratio)} against ${fmt(lnOnly.ratio)} with LayerNorm (post-LN vs no residual): without the skip path the gradient ${neither.ratio < 0.1 * resOnly.ratio ? "vanishes towards the first layers" : "still reaches the first layers"}${resOnly.ratio > 10 ? ` (with residuals but no LayerNorm it grows ×${fmt(resOnly.ratio)} towards the first layer instead: residuals alone do not make it stable)` : ""}. After ${trainSteps} steps on copy-previous: ${pct(post.accuracy)} (post-LN), ${pct(resOnly.accuracy)} (residual only), ${pct(lnOnly.accuracy)} (LayerNorm only), ${pct(neither.accuracy)} (neither).`,
      evidence_zh: `${depth} 层堆叠在初始化时，第一层与最后一层梯度范数之比：不用 LayerNorm 时有残差为 ${fmt(resOnly.ratio)}、无残差为 ${fmt(neither.ratio)}；用 LayerNorm 时 post-LN 为 ${fmt(post.ratio)}、无残差为 ${fmt(lnOnly.ratio)}：没有跳跃连接，梯度${neither.ratio < 0.1 * resOnly.ratio ? "在传向前面各层时消失" : "仍能传到前面各层"}${resOnly.ratio > 10 ? `（有残差但没有 LayerNorm 时，梯度反而向第一层放大 ×${fmt(resOnly.ratio)}：单靠残差并不稳定）` : ""}。在“复制前一个词”上训练 ${trainSteps} 步后：post-LN ${pct(post.accuracy)}，只有残差 ${pct(resOnly.accuracy)}，只有 LayerNorm ${pct(lnOnly.accuracy)}，都没有 ${pct(neither.accuracy)}。`,
    },
    {
      claim_zh: "第五步，层归一化，对残差后的输出进行归一化处理，使其有零均值和单位方差，同样是避免梯度消失，提高稳定性",
      claim_en: "Step five, LayerNorm: normalises the residual's output to zero mean and unit variance, likewise against vanishing gradients and for stability.",
      ...byMeasurement(RULES.layerNorm, { layernorm_output_mean_abs: ln.afterMeanAbs, layernorm_output_std_minus_1_abs: Math.abs(ln.afterStd - 1), gradient_ratio_layernorm_only_over_neither: lnOnly.ratio / neither.ratio }),
      evidence: `Per token (across the ${d} features), (output − β)/γ has |mean| ${fmt(ln.beforeMeanAbs)} and std ${fmt(ln.beforeStd)} exactly; the output itself, after the learned γ (mean ${fmt(ln.gammaMean)}, std ${fmt(ln.gammaStd)}) and β (mean ${fmt(ln.betaMean)}, std ${fmt(ln.betaStd)}), has |mean| ${fmt(ln.afterMeanAbs)} and std ${fmt(ln.afterStd)} (${fmt(ln.afterStdMin)}–${fmt(ln.afterStdMax)}) in this model — and per feature across tokens nothing is normalised (|mean| ${fmt(ln.featureMeanAbs)}, std ${fmt(ln.featureStd)}). For gradients, LayerNorm alone lifts the first/last gradient ratio of a residual-free ${depth}-layer stack from ${fmt(neither.ratio)} to ${fmt(lnOnly.ratio)}, and with residuals but no LayerNorm the stack reached ${pct(resOnly.accuracy)} against ${pct(post.accuracy)}.`,
      evidence_zh: `对每个词（跨 ${d} 个特征），(输出 − β)/γ 的 |均值| 为 ${fmt(ln.beforeMeanAbs)}、标准差 ${fmt(ln.beforeStd)}，严格成立；输出本身经过可学习的 γ（均值 ${fmt(ln.gammaMean)}，标准差 ${fmt(ln.gammaStd)}）和 β（均值 ${fmt(ln.betaMean)}，标准差 ${fmt(ln.betaStd)}）后，在这个模型中 |均值| ${fmt(ln.afterMeanAbs)}、标准差 ${fmt(ln.afterStd)}（${fmt(ln.afterStdMin)}–${fmt(ln.afterStdMax)}）；而对每个特征跨词来看并没有归一化（|均值| ${fmt(ln.featureMeanAbs)}，标准差 ${fmt(ln.featureStd)}）。对梯度而言，单独的 LayerNorm 就把无残差 ${depth} 层堆叠的首末层梯度比从 ${fmt(neither.ratio)} 提到 ${fmt(lnOnly.ratio)}；有残差无 LayerNorm 的堆叠训练到 ${pct(resOnly.accuracy)}，post-LN 为 ${pct(post.accuracy)}。`,
    },
    {
      claim_zh: "第六步，FFNN，一个简单的MLP，从前面提取到的特征中学习非线性的表示。第七步，再次残差连接和层归一化",
      claim_en: "Step six, the FFN, a simple MLP learning non-linear representations of the features; step seven, residual and LayerNorm again.",
      ...byDefinition("supported",
        "By the code: the post-LN encoder layer runs attention, +x, LayerNorm, FFN, +h1, LayerNorm in this order, which the trace shows.",
        "由代码决定：post-LN 编码器层按 注意力、+x、LayerNorm、FFN、+h1、LayerNorm 的顺序执行，追踪结果即显示了这一点。"),
      evidence: `The traced order of each post-LN layer is attention → +x → LayerNorm → FFN → +h1 → LayerNorm (${steps.filter((s) => s.name.startsWith("encoder")).map((s) => s.name.split(".").pop()).join(" → ")}), as the notes list; pre-LN stacks (LayerNorm before each sub-layer) reorder steps 5 and 7 and trained to ${pct(st("pre-LN").accuracy)} here against ${pct(post.accuracy)} for post-LN.`,
      evidence_zh: `追踪到的每个 post-LN 层的顺序是 注意力 → +x → LayerNorm → FFN → +h1 → LayerNorm（${steps.filter((s) => s.name.startsWith("encoder")).map((s) => s.name.split(".").pop()).join(" → ")}），与笔记一致；pre-LN（在每个子层之前做 LayerNorm）调换了第五、七步，这里训练到 ${pct(st("pre-LN").accuracy)}，post-LN 为 ${pct(post.accuracy)}。`,
    },
  ];

  return {
    claims,
    method_en: `**Step by step.** The classifier at ${source} (d_model ${d}, ${model.config.heads} heads, ${model.config.numLayers} layer(s)) on "${SENTENCE}" (${n} tokens) with a \`Trace\`: shape, mean and std after each step of layer 0. Position check: the encoder on the sentence and on its reverse, with and without the positional encoding. **LayerNorm.** Per-token mean and std of layer 0's first LayerNorm output, and of (output − β)/γ. **Depth.** ${depth}-layer encoders (d_model 64, 4 heads, d_ff 128, random initialisation) with the lab switches \`residual\` and \`layerNorm\` (and \`normFirst\`): the gradient norm of each layer's parameters for one batch of copy-previous (n = 16, V = 16), then ${trainSteps} AdamW steps (lr 1e-3, warmup).`,
    method_zh: `**逐步追踪。** 用 ${source} 的分类器（d_model ${d}，${model.config.heads} 个头，${model.config.numLayers} 层）处理句子 "${SENTENCE}"（${n} 个词），借助 \`Trace\` 记录第 0 层每一步之后的形状、均值和标准差。位置检验：编码器分别处理原句与倒序句，有无位置编码各一次。**LayerNorm。** 第 0 层第一个 LayerNorm 输出在每个词上的均值和标准差，以及 (输出 − β)/γ 的统计。**深度。** ${depth} 层编码器（d_model 64，4 个头，d_ff 128，随机初始化），用实验开关 \`residual\`、\`layerNorm\`（以及 \`normFirst\`）：在一批“复制前一个词”（n = 16，V = 16）上计算每层参数的梯度范数，然后 AdamW 训练 ${trainSteps} 步（lr 1e-3，带预热）。`,
    tables: [
      { title_en: "One sentence through the encoder", title_zh: "一个句子经过编码器", columns: ["step", "trace name", "shape", "mean", "std"],
        rows: steps.map((s) => [s.label, s.name, `[${s.shape.join(", ")}]`, fmt(s.mean), fmt(s.std)]) },
      { title_en: "LayerNorm statistics per token", title_zh: "LayerNorm 每个词的统计", columns: ["", "mean |mean|", "mean std"],
        rows: [["(output − β)/γ, per token", fmt(ln.beforeMeanAbs), fmt(ln.beforeStd)], ["output (after γ, β), per token", fmt(ln.afterMeanAbs), fmt(ln.afterStd)], ["output, per feature across tokens", fmt(ln.featureMeanAbs), fmt(ln.featureStd)]] },
      { title_en: `Gradient norms by depth (${depth} layers, at initialisation) and accuracy after ${trainSteps} steps`, title_zh: `按深度的梯度范数（${depth} 层，初始化时）与训练 ${trainSteps} 步后的准确率`, columns: ["stack", "first layer", "last layer", "first / last", "accuracy"],
        rows: stacks.map((s) => [s.key, fmt(s.norms[0]), fmt(s.norms[depth - 1]), fmt(s.ratio), pct(s.accuracy)]) },
    ],
    charts: [
      barChart({ name: "steps-std", title_en: "Std after each encoder step (layer 0)", title_zh: "编码器每一步之后的标准差（第 0 层）",
        data: steps.map((s) => ({ step: s.label.trim(), std: s.std })), x: "step", y: "std", xTitle: "step", yTitle: "std" }),
      lineChart({ name: "gradient-by-depth", title_en: `Gradient norm per layer, ${depth}-layer stack at initialisation`, title_zh: "每层梯度范数（初始化时）",
        data: stacks.flatMap((s) => s.norms.map((g, l) => ({ layer: l, norm: Math.max(g, 1e-12), stack: s.key }))), x: "layer", y: "norm", color: "stack", xTitle: "layer (0 = first)", yTitle: "‖∂L/∂θ_layer‖", yLog: true }),
      lineChart({ name: "deep-training", title_en: `${depth}-layer stacks learning copy-previous`, title_zh: `${depth} 层堆叠的训练曲线`,
        data: stacks.flatMap((s) => s.curve.map((p) => ({ step: p.step, accuracy: p.accuracy, stack: s.key }))), x: "step", y: "accuracy", color: "stack", xTitle: "step", yTitle: "held-out accuracy", yZero: true }),
    ],
    metrics: {
      model: source.startsWith("trained here") ? "trained here" : source, sentence: SENTENCE, tokens: n,
      steps: steps.map((s) => ({ step: s.label.trim(), trace: s.name, shape: s.shape, mean: sig(s.mean), std: sig(s.std) })),
      x0_gap: sig(sumGap), reversal_max_diff: { with_positions: sig(eqWith), without_positions: sig(eqWithout) },
      layer_norm: Object.fromEntries(Object.entries(ln).map(([k, v]) => [k, sig(v)])),
      depth, stacks: stacks.map((s) => ({ stack: s.key, gradient_norms: s.norms.map((g) => sig(g)), first_over_last: sig(s.ratio), accuracy: sig(s.accuracy), loss: sig(s.loss) })),
    },
  };
}

/** Q07. */
export const q07: Question = {
  id: "q07",
  title: "The encoder, step by step",
  question_zh: "Q07：讲一下Transformer的Encoder模块。",
  question_en: "Q07: Walk through the Transformer's encoder.",
  rules: RULES,
  run,
};
