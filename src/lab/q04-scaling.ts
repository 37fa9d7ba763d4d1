/** Q04: why divide the scores by √d_k — score variance against d_k, softmax saturation, gradients, training, the notes' example. */
import { MultiHeadAttention } from "../nn/attention.ts";
import type { TransformerEncoderModel } from "../nn/model.ts";
import { Trace } from "../nn/trace.ts";
import { noGrad } from "../tensor/autograd.ts";
import { randn, tensor } from "../tensor/creation.ts";
import { mul, scale } from "../tensor/ops/elementwise.ts";
import { matmul } from "../tensor/ops/linalg.ts";
import { sum } from "../tensor/ops/reduce.ts";
import { softmax } from "../tensor/ops/nn.ts";
import { Rng } from "../tensor/random.ts";
import { barChart, lineChart } from "./charts.ts";
import { entropy, fitPowerLaw, fmt, meanRowMax, pct, sig, variance } from "./metrics.ts";
import { copyPreviousTask } from "./tasks.ts";
import { attentionOf, buildTokenModel, heldOutBatch, stepReaching, trainTokenTask } from "./train.ts";
import type { Claim, LabContext, Question, QuestionOutput } from "./types.ts";
import { byDefinition, byMeasurement, cond, type VerdictRule } from "./verdicts.ts";
import { numericGuess } from "./guess.ts";

/** Q04's verdict rules. */
const RULES = {
  // Var(q·k) ∝ d_k, and at the largest d_k the unscaled softmax is near one-hot while the scaled one is not.
  extremeSoftmax: {
    cases: [{ when: [cond("variance_exponent_minus_1_abs", "<", 0.15), cond("top_probability_unscaled", ">", 0.8), cond("top_probability_scaled", "<", 0.5)], verdict: "supported" }],
    otherwise: "nuanced",
  },
  gradients: {
    cases: [{ when: [cond("score_gradient_unscaled_over_scaled", "<", 1)], verdict: "nuanced" }],
    otherwise: "refuted",
  },
  t5: {
    cases: [{ when: [cond("t5_minus_scaled_accuracy_abs", "<=", 0.05), cond("t5_over_unscaled_initial_top_probability", "<", 1)], verdict: "supported" }],
    otherwise: "nuanced",
  },
} satisfies Record<string, VerdictRule>;

/** Statistics of softmax(q·K ⋅ s) over n keys for unit-variance q and keys, with and without s = 1/√d_k. */
function saturation(dk: number, n: number, samples: number, scaled: boolean, rng: Rng): { maxProb: number; entropy: number; gradScores: number; gradQ: number } {
  const q = randn([samples, 1, dk], rng).requireGrad();
  const k = randn([samples, n, dk], rng);
  const r = randn([samples, 1, n], rng); // a random upstream gradient dL/dp
  const scores = matmul(q, k, { transB: true });
  const s = scaled ? scale(scores, 1 / Math.sqrt(dk)) : scale(scores, 1);
  s.retainGrad();
  const p = softmax(s);
  sum(mul(p, r)).backward();
  const rowNorm = (t: Float32Array, width: number): number => {
    let acc = 0;
    for (let m = 0; m < samples; m++) {
      let sq = 0;
      for (let j = 0; j < width; j++) sq += t[m * width + j] ** 2;
      acc += Math.sqrt(sq);
    }
    return acc / samples;
  };
  let ent = 0;
  for (let m = 0; m < samples; m++) ent += entropy(p.data.subarray(m * n, (m + 1) * n));
  return { maxProb: meanRowMax(p), entropy: ent / samples, gradScores: rowNorm(s.grad!.data, n), gradQ: rowNorm(q.grad!.data, dk) };
}

const NOTES_EXAMPLE = [1, 2, 8, 2, 16];

async function run(ctx: LabContext): Promise<QuestionOutput> {
  const rng = new Rng(ctx.seed);
  const dks = ctx.quick ? [4, 16, 64, 256, 1024] : [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
  const samples = ctx.quick ? 2000 : 10000;
  // 1. Variance of q·k for q, k ~ N(0, I): the engine's matmul on random vectors.
  const varRows = dks.map((dk) => {
    const dots = noGrad(() => sum(mul(randn([samples, dk], rng), randn([samples, dk], rng)), 1));
    const v = variance(dots.data);
    return { dk, unscaled: v, scaled: v / dk };
  });
  const fitUnscaled = fitPowerLaw(dks, varRows.map((r) => r.unscaled));
  const fitScaled = fitPowerLaw(dks, varRows.map((r) => r.scaled));
  ctx.log(`variance exponent ${fitUnscaled.exponent.toFixed(3)} (scaled ${fitScaled.exponent.toFixed(3)})`);
  // 2. Softmax saturation and gradients over n = 16 keys.
  const nKeys = 16;
  const satSamples = ctx.quick ? 400 : 1000;
  const satDks = dks.filter((dk) => dk <= 1024); // keys are (samples, n, d_k): keep the largest tensor near 10⁷ values
  const satRows = satDks.map((dk) => ({ dk, with: saturation(dk, nKeys, satSamples, true, rng), without: saturation(dk, nKeys, satSamples, false, rng) }));
  const big = satRows[satRows.length - 1];
  const at = (dk: number): (typeof satRows)[number] => satRows.find((r) => r.dk === dk) ?? big;
  // 3. Training at a large d_k: scaled, unscaled, unscaled with T5-style initialisation (W_Q × d_k^-½).
  const headDim = ctx.quick ? 128 : 512;
  const task = copyPreviousTask(12, 16);
  const steps = ctx.quick ? 100 : 600;
  const variants = [
    { key: "scaled 1/√d_k", scale: undefined as number | undefined, t5: false },
    { key: "unscaled", scale: 1, t5: false },
    { key: "unscaled + T5 init", scale: 1, t5: true },
  ];
  const prepare = (t5: boolean) => (m: TransformerEncoderModel): void => {
    if (!t5) return;
    // T5 folds 1/√d_k into W_Q's initialisation instead of the forward pass.
    const w = m.encoder.layers.items[0].selfAttn.qProj.weight;
    for (let i = 0; i < w.size; i++) w.data[i] /= Math.sqrt(headDim);
  };
  const modelOf = (v: (typeof variants)[number]) => ({ dModel: 64, heads: 1, dFF: 128, attention: { headDim, scale: v.scale } });
  const runs = variants.map((v) => {
    const r = trainTokenTask({ task, steps, batch: ctx.quick ? 32 : 64, lr: 2e-3, seed: ctx.seed, evalPoints: 15, model: modelOf(v), prepare: prepare(v.t5) });
    ctx.log(`${v.key}: accuracy ${pct(r.accuracy)} in ${r.seconds.toFixed(1)} s`);
    return { ...v, run: r };
  });
  // The top attention probability of each variant at initialisation, on the held-out batch.
  const initStats = variants.map((v) => {
    const { model } = buildTokenModel(task, modelOf(v), ctx.seed, prepare(v.t5));
    return { key: v.key, maxProb: meanRowMax(attentionOf(model, heldOutBatch(task, ctx.seed, 64))[0]) };
  });
  // 4. The notes' example.
  const ex = tensor(NOTES_EXAMPLE);
  const exScaled = NOTES_EXAMPLE.map((x) => x / 8);
  const pBefore = Array.from(softmax(ex).data);
  const pAfter = Array.from(softmax(tensor(exScaled)).data);
  const varBefore = variance(NOTES_EXAMPLE);
  const varAfter = variance(exScaled);
  // 5. The shape of QKᵀ in a d_model = 512, h = 8 layer on a 10-token input.
  const mha = new MultiHeadAttention({ dModel: 512, heads: 8, rng: new Rng(ctx.seed) });
  const trace = new Trace();
  noGrad(() => mha.forward(randn([1, 10, 512], rng), { trace }));
  const scoresShape = [...trace.get("scores_raw")!.shape];
  const qShape = [...trace.get("q")!.shape];

  const [accScaled, accUnscaled, accT5] = runs.map((r) => r.run.accuracy);
  const s90 = runs.map((r) => stepReaching(r.run.curve, 0.9));
  const stepsText = (s: number | null): string => (s === null ? `not within ${steps}` : String(s));
  const stepsTextZh = (s: number | null): string => (s === null ? `${steps} 步内未达到` : `${s} 步`);
  const dkBig = big.dk;
  const ratio = varBefore / varAfter;

  const claims: Claim[] = [
    {
      claim_zh: "防止因维度过大导致数值过大，使softmax函数输出过于极端",
      claim_en: "Scaling keeps large dimensions from producing large values that make the softmax output extreme.",
      guess: numericGuess({ en: `Over ${nKeys} random keys at d_k = ${dkBig}, without ÷√d_k, what is the largest softmax probability on average? (Uniform: ${fmt(1 / nKeys)}.)`, zh: `d_k = ${dkBig}、${nKeys} 个随机键、不除以 √d_k 时，softmax 的最大概率平均是多少？（均匀：${fmt(1 / nKeys)}。）`, answer: big.without.maxProb, tolerance: 0.1 }),
      ...byMeasurement(RULES.extremeSoftmax, { variance_exponent_minus_1_abs: Math.abs(fitUnscaled.exponent - 1), top_probability_unscaled: big.without.maxProb, top_probability_scaled: big.with.maxProb }),
      evidence: `Var(q·k) for unit-variance q, k grows as d_k^${fitUnscaled.exponent.toFixed(3)} (R² ${fitUnscaled.r2.toFixed(4)}; Var = ${fmt(varRows.find((r) => r.dk === 64)?.unscaled ?? NaN)} at d_k = 64), and ÷√d_k flattens it to d_k^${fitScaled.exponent.toFixed(3)}; over ${nKeys} keys the top softmax probability at d_k = ${dkBig} is ${fmt(big.without.maxProb)} unscaled (entropy ${fmt(big.without.entropy)} nats) against ${fmt(big.with.maxProb)} scaled (entropy ${fmt(big.with.entropy)}; uniform = ${fmt(Math.log(nKeys))}).`,
      evidence_zh: `单位方差的 q、k，其点积方差按 d_k^${fitUnscaled.exponent.toFixed(3)} 增长（R² ${fitUnscaled.r2.toFixed(4)}），除以 √d_k 后变为 d_k^${fitScaled.exponent.toFixed(3)}；${nKeys} 个键时，d_k = ${dkBig} 未缩放的 softmax 最大概率为 ${fmt(big.without.maxProb)}（熵 ${fmt(big.without.entropy)}），缩放后为 ${fmt(big.with.maxProb)}（熵 ${fmt(big.with.entropy)}，均匀分布为 ${fmt(Math.log(nKeys))}）。`,
    },
    {
      claim_zh: "避免梯度消失或梯度爆炸",
      claim_en: "Scaling avoids vanishing or exploding gradients.",
      guess: numericGuess({ en: `Without scaling, by what factor does the gradient reaching the scores shrink from d_k = 4 to d_k = ${dkBig}?`, zh: `不缩放时，传到分数处的梯度从 d_k = 4 到 d_k = ${dkBig} 缩小多少倍？`, answer: at(4).without.gradScores / big.without.gradScores, unit: "×", closeness: "ratio", tolerance: 1.5 }),
      ...byMeasurement(RULES.gradients, { score_gradient_unscaled_over_scaled: big.without.gradScores / big.with.gradScores }),
      evidence: `Only "vanishing" holds, and only at the scores: without scaling the gradient reaching the scores falls from ${fmt(at(4).without.gradScores)} at d_k = 4 to ${fmt(big.without.gradScores)} at d_k = ${dkBig} (scaled: ${fmt(big.with.gradScores)}); the gradient on q does not vanish (${fmt(big.without.gradQ)} unscaled vs ${fmt(big.with.gradQ)} scaled) and nothing explodes. ${accUnscaled < accScaled - 0.02 ? `What saturation does is freeze the attention pattern: at d_k = ${headDim} the unscaled model reached ${pct(accUnscaled)} against ${pct(accScaled)} scaled` : `In training at d_k = ${headDim} saturation cost time, not the result: the unscaled model reached ${pct(accUnscaled)} against ${pct(accScaled)} scaled, later`} (90% at step ${stepsText(s90[1])} vs ${stepsText(s90[0])}; Adam rescales small gradients per parameter).`,
      evidence_zh: `只有“梯度消失”成立，而且只发生在分数处：不缩放时传到分数的梯度从 d_k = 4 的 ${fmt(at(4).without.gradScores)} 降到 d_k = ${dkBig} 的 ${fmt(big.without.gradScores)}（缩放后 ${fmt(big.with.gradScores)}）；q 上的梯度并未消失（未缩放 ${fmt(big.without.gradQ)}，缩放 ${fmt(big.with.gradQ)}），也没有梯度爆炸。${accUnscaled < accScaled - 0.02 ? `饱和的真正后果是注意力模式被“冻结”：d_k = ${headDim} 时不缩放的模型只达到 ${pct(accUnscaled)}，缩放的达到 ${pct(accScaled)}` : `在 d_k = ${headDim} 的训练中，饱和耽误的是时间而不是结果：不缩放的模型达到 ${pct(accUnscaled)}，缩放的 ${pct(accScaled)}，但更晚`}（达到 90% 分别在 ${stepsTextZh(s90[1])} 与 ${stepsTextZh(s90[0])}；Adam 会按参数放大小梯度）。`,
    },
    {
      claim_zh: "从公式看来，Q和K进行点乘的结果尺寸是嵌入维度乘以嵌入维度，而Transformer的嵌入维度是512",
      claim_en: "By the formula, the product of Q and K is (embedding size × embedding size), and the Transformer's embedding size is 512.",
      guess: numericGuess({ en: "In a d_model = 512, 8-head layer on 10 tokens, how many scores does one head's QKᵀ hold?", zh: "d_model = 512、8 个头的层处理 10 个词时，一个头的 QKᵀ 有多少个分数？", answer: scoresShape[2] * scoresShape[3], tolerance: 0 }),
      ...byDefinition("refuted",
        "By the shapes of the product: Q (n × d_k) times Kᵀ (d_k × n) is n × n for every d_model; the traced shape only illustrates it.",
        "由矩阵乘积的形状决定：Q（n × d_k）乘 Kᵀ（d_k × n）得到 n × n，与 d_model 无关；追踪到的形状只是示例。"),
      evidence: `In a d_model = 512, h = 8 layer on 10 tokens the traced Q per head is [${qShape.join(", ")}] and QKᵀ is [${scoresShape.join(", ")}]: one n × n matrix per head (${scoresShape[2] * scoresShape[3]} scores), never 512 × 512 (262144); the d that matters is d_k = 64, whose √ is the 8 of the notes' own example.`,
      evidence_zh: `d_model = 512、h = 8 的层处理 10 个词时，追踪到每个头的 Q 形状为 [${qShape.join(", ")}]，QKᵀ 为 [${scoresShape.join(", ")}]：每个头一个 n × n 矩阵（${scoresShape[2] * scoresShape[3]} 个分数），而不是 512 × 512（262144）；起作用的是 d_k = 64，其平方根正是笔记例子里的 8。`,
    },
    {
      claim_zh: "假设本来是【1，2，8，2，16】的数据，dk的平方根是8，就变成了【0.125，0.25，1，0.25，2】，他们的方差一下就小了很多",
      claim_en: "If the scores were [1, 2, 8, 2, 16] and √d_k = 8, they become [0.125, 0.25, 1, 0.25, 2], and their variance is much smaller.",
      guess: numericGuess({ en: "Dividing the scores [1, 2, 8, 2, 16] by 8 shrinks their variance by what factor?", zh: "把分数 [1, 2, 8, 2, 16] 除以 8，方差缩小多少倍？", answer: ratio, unit: "×", closeness: "ratio", tolerance: 1.1 }),
      ...byDefinition("supported",
        "Arithmetic: [1, 2, 8, 2, 16] ÷ 8 is [0.125, 0.25, 1, 0.25, 2], and dividing by 8 divides the variance by 64; the computed figures only illustrate it.",
        "算术：[1, 2, 8, 2, 16] ÷ 8 = [0.125, 0.25, 1, 0.25, 2]，除以 8 使方差缩小 64 倍；计算结果只是示例。"),
      evidence: `The arithmetic is right ([${exScaled.join(", ")}]); the variance drops from ${fmt(varBefore, 4)} to ${fmt(varAfter, 4)}, a factor of ${fmt(ratio, 3)} = d_k (not √d_k), and the softmax goes from [${pBefore.map((p) => fmt(p, 3)).join(", ")}] (top ${fmt(pBefore[4], 5)}) to [${pAfter.map((p) => fmt(p, 3)).join(", ")}] (top ${fmt(pAfter[4], 3)}).`,
      evidence_zh: `算术正确（[${exScaled.join(", ")}]）；方差从 ${fmt(varBefore, 4)} 降到 ${fmt(varAfter, 4)}，缩小 ${fmt(ratio, 3)} 倍，即 d_k 倍（不是 √d_k 倍）；softmax 从 [${pBefore.map((p) => fmt(p, 3)).join(", ")}]（最大 ${fmt(pBefore[4], 5)}）变为 [${pAfter.map((p) => fmt(p, 3)).join(", ")}]（最大 ${fmt(pAfter[4], 3)}）。`,
    },
    {
      claim_zh: "比如使用更好的初始化，类似于google的T5模型，在初始化阶段就解决了这个问题",
      claim_en: "Better initialisation, as in Google's T5, solves the problem at initialisation instead.",
      ...byMeasurement(RULES.t5, { t5_minus_scaled_accuracy_abs: Math.abs(accT5 - accScaled), t5_over_unscaled_initial_top_probability: initStats[2].maxProb / initStats[1].maxProb }),
      evidence: `Unscaled attention with W_Q initialised ${fmt(Math.sqrt(headDim), 3)}× smaller starts with a top attention probability of ${fmt(initStats[2].maxProb)} (scaled ${fmt(initStats[0].maxProb)}, plain unscaled ${fmt(initStats[1].maxProb)}) and reaches ${pct(accT5)} against ${pct(accScaled)} for the scaled model (90% at step ${stepsText(s90[2])} vs ${stepsText(s90[0])}).`,
      evidence_zh: `不缩放、但把 W_Q 初始化缩小 ${fmt(Math.sqrt(headDim), 3)} 倍时，初始注意力最大概率为 ${fmt(initStats[2].maxProb)}（缩放模型 ${fmt(initStats[0].maxProb)}，普通不缩放 ${fmt(initStats[1].maxProb)}），最终准确率 ${pct(accT5)}，缩放模型 ${pct(accScaled)}（达到 90% 分别在 ${stepsTextZh(s90[2])} 与 ${stepsTextZh(s90[0])}）。`,
    },
  ];

  const varTable = varRows.map((r) => [r.dk, fmt(r.unscaled, 4), fmt(r.scaled, 4)]);
  const satTable = satRows.map((r) => [r.dk, fmt(r.without.maxProb), fmt(r.with.maxProb), fmt(r.without.entropy), fmt(r.with.entropy), fmt(r.without.gradScores), fmt(r.with.gradScores)]);
  return {
    claims,
    method_en: `**Variance.** ${samples} pairs of q, k ~ N(0, I) per d_k ∈ {${dks.join(", ")}}, dot products by the engine's ops; a least-squares line through (ln d_k, ln Var) gives the exponent. **Saturation.** For each d_k ∈ {${satDks.join(", ")}}, ${satSamples} queries against ${nKeys} random keys: the softmax's top probability and entropy, and the gradient norms reaching the scores and q for a random upstream gradient (autograd), with and without ×1/√d_k. **Training.** A one-layer encoder (d_model 64, one head of d_k = ${headDim}) learns the copy-previous-token task (n = 12, V = 16) for ${steps} AdamW steps, three ways: the default scale 1/√d_k, scale = 1, and scale = 1 with W_Q's initial weights divided by √d_k (T5's recipe). **Example.** The notes' scores [1, 2, 8, 2, 16] ÷ 8 through the engine's softmax. **Shape.** A d_model = 512, h = 8 attention layer traced on 10 tokens.`,
    method_zh: `**方差。** 对每个 d_k ∈ {${dks.join(", ")}} 取 ${samples} 对 q、k ~ N(0, I)，用引擎算点积；对 (ln d_k, ln 方差) 做最小二乘拟合得到指数。**饱和。** 对每个 d_k ∈ {${satDks.join(", ")}} 取 ${satSamples} 个查询、${nKeys} 个随机键：softmax 最大概率与熵，以及随机上游梯度下传到分数和 q 的梯度范数（自动求导），分别比较有无 ×1/√d_k。**训练。** 单层编码器（d_model 64，一个 d_k = ${headDim} 的头）学习“复制前一个词”任务（n = 12，V = 16），AdamW 训练 ${steps} 步，三种设置：默认缩放 1/√d_k、scale = 1、scale = 1 且 W_Q 初始权重除以 √d_k（T5 的做法）。**例子。** 笔记中的分数 [1, 2, 8, 2, 16] ÷ 8 经过引擎的 softmax。**形状。** 在 10 个词上追踪 d_model = 512、h = 8 的注意力层。`,
    tables: [
      { title_en: "Variance of q·k", title_zh: "q·k 的方差", columns: ["d_k", "Var(q·k)", "Var(q·k/√d_k)"], rows: varTable },
      { title_en: `Softmax over ${nKeys} keys: top probability, entropy (nats), gradient norm at the scores`, title_zh: `${nKeys} 个键的 softmax：最大概率、熵、分数处梯度范数`, columns: ["d_k", "max p (unscaled)", "max p (scaled)", "entropy (unscaled)", "entropy (scaled)", "‖∂L/∂s‖ unscaled", "‖∂L/∂s‖ scaled"], rows: satTable },
      { title_en: `Training at d_k = ${headDim} (copy-previous, ${steps} steps)`, title_zh: `d_k = ${headDim} 的训练（复制前一词，${steps} 步）`, columns: ["variant", "initial max attention p", "final accuracy", "final loss", "step reaching 90%"], rows: runs.map((r, i) => [r.key, fmt(initStats[i].maxProb), pct(r.run.accuracy), fmt(r.run.loss), stepsText(s90[i])]) },
      { title_en: "The notes' example", title_zh: "笔记中的例子", columns: ["", "scores", "variance", "softmax"], rows: [
        ["before ÷8", `[${NOTES_EXAMPLE.join(", ")}]`, fmt(varBefore, 4), `[${pBefore.map((p) => fmt(p, 3)).join(", ")}]`],
        ["after ÷8", `[${exScaled.join(", ")}]`, fmt(varAfter, 4), `[${pAfter.map((p) => fmt(p, 3)).join(", ")}]`],
      ] },
      { title_en: "Shapes in a d_model = 512, h = 8 layer, n = 10", title_zh: "d_model = 512、h = 8、n = 10 时的形状", columns: ["tensor", "shape"], rows: [["Q per head", `[${qShape.join(", ")}]`], ["QKᵀ (scores_raw)", `[${scoresShape.join(", ")}]`]] },
    ],
    charts: [
      lineChart({
        name: "variance-vs-dk", title_en: `Var(q·k) ∝ d_k^${fitUnscaled.exponent.toFixed(2)}; ÷√d_k keeps it at 1`, title_zh: "点积方差随 d_k 线性增长，缩放后恒为 1",
        data: varRows.flatMap((r) => [{ d_k: r.dk, variance: r.unscaled, scores: "q·k" }, { d_k: r.dk, variance: r.scaled, scores: "q·k / √d_k" }]),
        x: "d_k", y: "variance", color: "scores", xTitle: "d_k", yTitle: "variance", xLog: true, yLog: true,
      }),
      lineChart({
        name: "softmax-max-prob", title_en: `Top softmax probability over ${nKeys} keys`, title_zh: "softmax 最大概率",
        data: satRows.flatMap((r) => [{ d_k: r.dk, p: r.without.maxProb, scores: "unscaled" }, { d_k: r.dk, p: r.with.maxProb, scores: "scaled" }]),
        x: "d_k", y: "p", color: "scores", xTitle: "d_k", yTitle: "mean max probability", xLog: true,
      }),
      lineChart({
        name: "score-gradient", title_en: "Gradient norm reaching the scores", title_zh: "传到注意力分数的梯度范数",
        data: satRows.flatMap((r) => [{ d_k: r.dk, g: r.without.gradScores, scores: "unscaled" }, { d_k: r.dk, g: r.with.gradScores, scores: "scaled" }]),
        x: "d_k", y: "g", color: "scores", xTitle: "d_k", yTitle: "‖∂L/∂scores‖", xLog: true, yLog: true,
      }),
      lineChart({
        name: "training-large-dk", title_en: `Copy-previous task at d_k = ${headDim}`, title_zh: `d_k = ${headDim} 时的训练曲线`,
        data: runs.flatMap((r) => r.run.curve.map((p) => ({ step: p.step, accuracy: p.accuracy, variant: r.key }))),
        x: "step", y: "accuracy", color: "variant", xTitle: "step", yTitle: "held-out accuracy", yZero: true,
      }),
      barChart({
        name: "notes-example", title_en: "Softmax of [1, 2, 8, 2, 16] before and after ÷8", title_zh: "笔记例子：除以 8 前后的 softmax",
        data: NOTES_EXAMPLE.flatMap((x, i) => [{ score: `${i}: ${x}`, p: pBefore[i], when: "before ÷8" }, { score: `${i}: ${x}`, p: pAfter[i], when: "after ÷8" }]),
        x: "score", y: "p", color: "when", xTitle: "score", yTitle: "probability",
      }),
    ],
    metrics: {
      variance: varRows.map((r) => ({ d_k: r.dk, unscaled: sig(r.unscaled), scaled: sig(r.scaled) })),
      variance_exponent: sig(fitUnscaled.exponent), variance_exponent_r2: sig(fitUnscaled.r2), scaled_variance_exponent: sig(fitScaled.exponent),
      saturation: satRows.map((r) => ({ d_k: r.dk, unscaled: mapSig(r.without), scaled: mapSig(r.with) })),
      training: runs.map((r, i) => ({ variant: r.key, d_k: headDim, accuracy: sig(r.run.accuracy), loss: sig(r.run.loss), step_to_90: s90[i], initial_max_prob: sig(initStats[i].maxProb), curve: r.run.curve.map((p) => ({ step: p.step, accuracy: sig(p.accuracy), loss: sig(p.loss) })) })),
      notes_example: { scores: NOTES_EXAMPLE, scaled: exScaled, variance_before: sig(varBefore), variance_after: sig(varAfter), variance_ratio: sig(ratio), softmax_before: pBefore.map((p) => sig(p)), softmax_after: pAfter.map((p) => sig(p)) },
      shapes: { q_per_head: qShape, scores: scoresShape, d_model: 512, heads: 8, n: 10 },
      timings: { training_s: runs.map((r) => ({ variant: r.key, seconds: sig(r.run.seconds, 3) })) },
    },
  };
}

function mapSig(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, sig(v)]));
}

/** Q04. */
export const q04: Question = {
  id: "q04",
  title: "Scaling the scores by 1/√d_k",
  question_zh: "Q04：为什么在进行softmax之前要对attention进行scaled（为什么除以dk的平方根）？",
  question_en: "Q04: Why are the attention scores scaled before the softmax (why divide by √d_k)?",
  rules: RULES,
  run,
};

