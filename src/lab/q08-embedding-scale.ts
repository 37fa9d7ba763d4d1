/** Q08: why embeddings are multiplied by √d_model — initial scales against the positional encoding, training with and without, weight tying. */
import { Embedding, sinusoidalTable } from "../nn/embedding.ts";
import { xavierUniform } from "../nn/init.ts";
import { noGrad } from "../tensor/autograd.ts";
import { randn } from "../tensor/creation.ts";
import { matmul } from "../tensor/ops/linalg.ts";
import { softmax } from "../tensor/ops/nn.ts";
import { Rng } from "../tensor/random.ts";
import { barChart, lineChart } from "./charts.ts";
import { fmt, mean, meanRowMax, pct, sig, std } from "./metrics.ts";
import { twoRelationTask } from "./tasks.ts";
import { stepReaching, trainSeeds } from "./train.ts";
import type { Claim, LabContext, Question, QuestionOutput } from "./types.ts";
import { byDefinition, byMeasurement, cond, type VerdictRule } from "./verdicts.ts";
import { numericGuess } from "./guess.ts";

const VOCAB = 30522; // BERT's vocabulary

/** Q08's verdict rules. */
const RULES = {
  // Var · d is 1 when the variance is 1/d; Xavier's 2/(V + d) is far from it.
  xavier: {
    cases: [{ when: [cond("xavier_variance_times_d_minus_1_abs", ">", 0.5)], verdict: "refuted" }],
    otherwise: "nuanced",
  },
  // The arithmetic holds for the N(0, 1/d) initialisation (std 1 after ×√d); the premise is the nuance.
  arithmetic: {
    cases: [{ when: [cond("scaled_std_minus_1_abs", "<", 0.01)], verdict: "nuanced" }],
    otherwise: "refuted",
  },
} satisfies Record<string, VerdictRule>;

async function run(ctx: LabContext): Promise<QuestionOutput> {
  const rng = new Rng(ctx.seed);
  const dims = ctx.quick ? [64, 512] : [64, 128, 256, 512, 1024];
  // 1. The scale of each initialisation, with and without ×√d, against the sinusoidal encoding's.
  const inits = dims.map((d) => {
    const table = sinusoidalTable(512, d);
    const pe = std(table);
    const peRms = Math.sqrt(mean(Array.from(table, (v) => v * v))); // sin² + cos² = 1 per pair: exactly √½
    const tsformer = std(new Embedding(VOCAB, d, { rng }).weight.data); // N(0, 1/d): tsformer and tensor2tensor
    const pytorch = std(new Embedding(VOCAB, d, { initStd: 1, rng }).weight.data); // nn.Embedding: N(0, 1)
    const xavier = std(xavierUniform([VOCAB, d], rng).data); // Xavier/Glorot on the (V, d) table
    const s = Math.sqrt(d);
    return { d, pe, peRms, tsformer, pytorch, xavier, scaled: { tsformer: tsformer * s, pytorch: pytorch * s, xavier: xavier * s } };
  });
  const d512 = inits.find((r) => r.d === 512)!;
  ctx.log("measured the initial scales");
  // 2. Training with and without ×√d_model, for the N(0, 1/d) and N(0, 1) initialisations (two-relation task: tokens and positions both matter).
  const task = twoRelationTask(10, 6);
  const steps = ctx.quick ? 100 : 700;
  const seeds = ctx.quick ? [ctx.seed] : [ctx.seed, ctx.seed + 1];
  const dModel = 64;
  const variants = [
    { key: "N(0, 1/d) × √d (tsformer default)", initStd: undefined as number | undefined, scale: true },
    { key: "N(0, 1/d), no factor", initStd: undefined, scale: false },
    { key: "N(0, 1) × √d", initStd: 1, scale: true },
    { key: "N(0, 1), no factor (PyTorch default)", initStd: 1, scale: false },
  ];
  const runs = variants.map((v) => {
    const { runs: rs, accuracies, accuracy } = trainSeeds({ task, steps, batch: ctx.quick ? 32 : 64, lr: 3e-3, evalPoints: 10, model: { dModel, heads: 4, dFF: 128, embeddingInitStd: v.initStd, scaleEmbedding: v.scale } }, seeds);
    ctx.log(`${v.key}: ${accuracies.map(pct).join(", ")}`);
    const embStd = (v.initStd ?? dModel ** -0.5) * (v.scale ? Math.sqrt(dModel) : 1);
    return { ...v, embStd, accuracy, accuracies, curve: rs[0].curve, s90: stepReaching(rs[0].curve, 0.9) };
  });
  const [base, noFactor, bigScaled, bigPlain] = runs;
  // 3. Weight tying (the paper, §3.4): logits = h·Eᵀ with the embedding matrix E as the output layer, h of unit variance.
  const tieD = 512;
  const h = randn([64, tieD], rng);
  const tying = [{ key: "N(0, 1/d)", initStd: undefined as number | undefined }, { key: "N(0, 1)", initStd: 1 }].map((t) => {
    const e = new Embedding(8192, tieD, { initStd: t.initStd, rng, paddingIdx: null });
    const logits = noGrad(() => matmul(h, e.weight.detach(), { transB: true }));
    return { key: t.key, logitStd: std(logits.data), maxProb: meanRowMax(softmax(logits)) };
  });
  const stepsText = (s: number | null): string => (s === null ? `>${steps}` : String(s));

  const claims: Claim[] = [
    {
      claim_zh: "Embedding matrix的初始化方法是Xavier初始化，这种方法的方差是1/embedding size",
      claim_en: "The embedding matrix is initialised with Xavier initialisation, whose variance is 1/embedding size.",
      guess: numericGuess({ en: `What is the variance of Xavier initialisation on a ${VOCAB} × 512 embedding table? (1/d would be ${fmt(1 / 512)}.)`, zh: `对 ${VOCAB} × 512 的嵌入表做 Xavier 初始化，方差是多少？（1/d 为 ${fmt(1 / 512)}。）`, answer: d512.xavier ** 2, closeness: "ratio", tolerance: 1.5 }),
      ...byMeasurement(RULES.xavier, { xavier_variance_times_d_minus_1_abs: Math.abs(d512.xavier ** 2 * 512 - 1) }),
      evidence: `Xavier on the (V, d) = (${VOCAB}, 512) table has variance 2/(V + d) = ${fmt(2 / (VOCAB + 512))} (measured ${fmt(d512.xavier ** 2)}, std ${fmt(d512.xavier)}), not 1/d = ${fmt(1 / 512)}: the vocabulary dominates the fan. PyTorch's nn.Embedding default is N(0, 1) (measured std ${fmt(d512.pytorch)}); variance 1/d is the N(0, d^-½) initialisation of tensor2tensor and tsformer (measured std ${fmt(d512.tsformer)} = 512^-½ = ${fmt(512 ** -0.5)}).`,
      evidence_zh: `对 (V, d) = (${VOCAB}, 512) 的词表矩阵做 Xavier 初始化，方差是 2/(V + d) = ${fmt(2 / (VOCAB + 512))}（实测 ${fmt(d512.xavier ** 2)}，标准差 ${fmt(d512.xavier)}），而不是 1/d = ${fmt(1 / 512)}：扇入扇出由词表大小主导。PyTorch nn.Embedding 的默认初始化是 N(0, 1)（实测标准差 ${fmt(d512.pytorch)}）；方差为 1/d 的是 tensor2tensor 和 tsformer 用的 N(0, d^-½)（实测标准差 ${fmt(d512.tsformer)} = 512^-½ = ${fmt(512 ** -0.5)}）。`,
    },
    {
      claim_zh: "因此乘以embedding size的开方会使得embedding matrix的方差是1，在这个scale下更有利于embedding matrix的收敛",
      claim_en: "So multiplying by √(embedding size) makes the embedding matrix's variance 1, a scale that helps the embedding matrix converge.",
      guess: numericGuess({ en: "After Xavier initialisation of the same table, what standard deviation does multiplying by √512 give?", zh: "同一张表做 Xavier 初始化后，乘以 √512 得到的标准差是多少？", answer: d512.scaled.xavier, closeness: "ratio", tolerance: 1.5 }),
      ...byDefinition("nuanced",
        "Half right by arithmetic: ×√d turns variance 1/d into 1, but not Xavier's 2/(V + d) or N(0, 1); the training and weight-tying numbers are reported, not used.",
        "算术上只对一半：×√d 把方差 1/d 变成 1，但 Xavier 的 2/(V + d) 和 N(0, 1) 不会变成 1；训练与权重共享的数字仅作报告，不参与判定。"),
      evidence: `×√d gives std 1 only for the N(0, 1/d) initialisation (measured ${fmt(d512.scaled.tsformer)} at d = 512, against the positional encoding's std ${fmt(d512.pe)} and root mean square ${fmt(d512.peRms)}); after Xavier it gives ${fmt(d512.scaled.xavier)} and after N(0, 1) ${fmt(d512.scaled.pytorch)}. What the scale sets is the balance of token against position: on a task needing both (d_model ${dModel}), N(0, 1/d) reached ${pct(base.accuracy)} with the factor and ${pct(noFactor.accuracy)} without (token std ${fmt(noFactor.embStd)} vs position ${fmt(inits[0].pe)}; 90% at step ${stepsText(base.s90)} vs ${stepsText(noFactor.s90)}${(base.s90 ?? steps + 1) > (noFactor.s90 ?? steps + 1) ? ": the factor did not speed up convergence here" : ""}), N(0, 1) ${pct(bigPlain.accuracy)} without and ${pct(bigScaled.accuracy)} with it (std ${fmt(bigScaled.embStd)}${bigScaled.accuracy < bigPlain.accuracy - 0.1 ? ": the scaled embeddings swamp the positions and training fails" : ""}). The paper's own reason is weight tying: the same matrix is the output layer, where N(0, 1/d) keeps logits at std ${fmt(tying[0].logitStd)} (N(0, 1): ${fmt(tying[1].logitStd)}, top softmax probability ${fmt(tying[1].maxProb)} against ${fmt(tying[0].maxProb)}), so the input side needs ×√d.`,
      evidence_zh: `只有 N(0, 1/d) 初始化乘以 √d 后标准差才是 1（d = 512 实测 ${fmt(d512.scaled.tsformer)}，位置编码标准差 ${fmt(d512.pe)}、均方根 ${fmt(d512.peRms)}）；Xavier 初始化乘完是 ${fmt(d512.scaled.xavier)}，N(0, 1) 乘完是 ${fmt(d512.scaled.pytorch)}。这个缩放决定的是词与位置的相对比重：在两者都需要的任务上（d_model ${dModel}），N(0, 1/d) 加上因子达到 ${pct(base.accuracy)}，不加为 ${pct(noFactor.accuracy)}（词向量标准差 ${fmt(noFactor.embStd)}，位置编码 ${fmt(inits[0].pe)}；达到 90% 分别在第 ${stepsText(base.s90)} 与 ${stepsText(noFactor.s90)} 步）；${(base.s90 ?? steps + 1) > (noFactor.s90 ?? steps + 1) ? "这里乘上因子并没有加快收敛；" : ""}N(0, 1) 不加为 ${pct(bigPlain.accuracy)}，加上为 ${pct(bigScaled.accuracy)}（标准差 ${fmt(bigScaled.embStd)}${bigScaled.accuracy < bigPlain.accuracy - 0.1 ? "：放大后的词向量淹没了位置信息，训练失败" : ""}）。论文自己的理由是权重共享：同一个矩阵也是输出层，N(0, 1/d) 让 logits 标准差保持在 ${fmt(tying[0].logitStd)}（N(0, 1) 为 ${fmt(tying[1].logitStd)}，softmax 最大概率 ${fmt(tying[1].maxProb)}，对比 ${fmt(tying[0].maxProb)}），所以输入端需要 ×√d。`,
    },
    {
      claim_zh: "因为是embedding size的开方乘以embedding matrix，并不是embedding size的开方直接乘以原方差，总之，得出1是没有问题的",
      claim_en: "Because √(embedding size) multiplies the embedding matrix, not the variance directly, the result is indeed 1.",
      ...byMeasurement(RULES.arithmetic, { scaled_std_minus_1_abs: Math.abs(d512.scaled.tsformer - 1) }),
      evidence: `The arithmetic is right — scaling a matrix by √d scales its variance by d, so 1/d becomes 1 (measured std ${inits.map((r) => `${fmt(r.scaled.tsformer, 4)} at d = ${r.d}`).join(", ")}) — but only under the premise of variance 1/d, which Xavier (${fmt(d512.scaled.xavier)}) and PyTorch's default (${fmt(d512.scaled.pytorch)}) do not give.`,
      evidence_zh: `算术是对的——矩阵乘以 √d，方差乘以 d，1/d 变成 1（实测标准差 ${inits.map((r) => `d = ${r.d} 时 ${fmt(r.scaled.tsformer, 4)}`).join("，")}）——但前提是方差为 1/d，而 Xavier（${fmt(d512.scaled.xavier)}）和 PyTorch 默认初始化（${fmt(d512.scaled.pytorch)}）都不满足。`,
    },
  ];

  return {
    claims,
    method_en: `**Scales.** For d ∈ {${dims.join(", ")}} and a ${VOCAB}-token table: the standard deviation of tsformer's \`Embedding\` at its default N(0, 1/d), at \`initStd: 1\` (PyTorch's nn.Embedding), and of the engine's Xavier-uniform initialiser on the (V, d) matrix, each without and with ×√d, against the std of the sinusoidal encoding over 512 positions. **Training.** Q01's two-relation task (the target depends on token identities at two positions chosen by position), a one-layer encoder (d_model ${dModel}, 4 heads) with \`embeddingInitStd\` ∈ {default, 1} × \`scaleEmbedding\` ∈ {true, false}, ${steps} AdamW steps${seeds.length > 1 ? `, seeds ${seeds.join(", ")}` : ""}. **Tying.** Logits h·Eᵀ of 64 unit-variance vectors against an 8192 × ${tieD} embedding matrix used as the output layer.`,
    method_zh: `**尺度。** 对 d ∈ {${dims.join(", ")}}、${VOCAB} 个词的词表：测 tsformer \`Embedding\` 默认 N(0, 1/d)、\`initStd: 1\`（PyTorch 的 nn.Embedding）以及引擎的 Xavier 均匀初始化在 (V, d) 矩阵上的标准差，分别乘与不乘 √d，并与 512 个位置的正弦位置编码的标准差比较。**训练。** Q01 的双关系任务（目标取决于按位置选出的两个位置上的词），单层编码器（d_model ${dModel}，4 个头），\`embeddingInitStd\` ∈ {默认, 1} × \`scaleEmbedding\` ∈ {true, false}，AdamW ${steps} 步${seeds.length > 1 ? `，种子 ${seeds.join("、")}` : ""}。**权重共享。** 把 8192 × ${tieD} 的词向量矩阵当作输出层，计算 64 个单位方差向量的 logits h·Eᵀ。`,
    tables: [
      { title_en: `Standard deviations at initialisation (V = ${VOCAB})`, title_zh: `初始化时的标准差（V = ${VOCAB}）`, columns: ["d", "PE std", "PE rms", "N(0,1/d)", "× √d", "N(0,1)", "× √d", "Xavier", "× √d"],
        rows: inits.map((r) => [r.d, fmt(r.pe), fmt(r.peRms), fmt(r.tsformer), fmt(r.scaled.tsformer), fmt(r.pytorch), fmt(r.scaled.pytorch), fmt(r.xavier), fmt(r.scaled.xavier)]) },
      { title_en: "Two-relation task", title_zh: "双关系任务", columns: ["embeddings", "token std at input", "accuracy", "step reaching 90%"],
        rows: runs.map((r) => [r.key, fmt(r.embStd), r.accuracies.map(pct).join(" / "), stepsText(r.s90)]) },
      { title_en: `Tied output layer (d = ${tieD})`, title_zh: `共享权重的输出层（d = ${tieD}）`, columns: ["embedding init", "logit std", "mean top softmax probability"],
        rows: tying.map((t) => [t.key, fmt(t.logitStd), fmt(t.maxProb)]) },
    ],
    charts: [
      lineChart({ name: "scales", title_en: "Embedding std with ×√d against the positional encoding", title_zh: "乘以 √d 后词向量标准差与位置编码",
        data: inits.flatMap((r) => [{ d: r.d, std: r.scaled.tsformer, what: "N(0,1/d) × √d" }, { d: r.d, std: r.scaled.pytorch, what: "N(0,1) × √d" }, { d: r.d, std: r.scaled.xavier, what: "Xavier × √d" }, { d: r.d, std: r.tsformer, what: "N(0,1/d), no factor" }, { d: r.d, std: r.pe, what: "positional encoding" }]),
        x: "d", y: "std", color: "what", xTitle: "d_model", yTitle: "standard deviation", xLog: true, yLog: true }),
      lineChart({ name: "training", title_en: "Two-relation task with and without ×√d_model", title_zh: "有无 ×√d_model 的训练曲线",
        data: runs.flatMap((r) => r.curve.map((p) => ({ step: p.step, accuracy: p.accuracy, embeddings: r.key }))), x: "step", y: "accuracy", color: "embeddings", xTitle: "step", yTitle: "held-out accuracy", yZero: true }),
      barChart({ name: "tying", title_en: "Logit std with the embedding as the output layer", title_zh: "词向量矩阵作输出层时的 logits 标准差",
        data: tying.map((t) => ({ init: t.key, std: t.logitStd })), x: "init", y: "std", xTitle: "embedding initialisation", yTitle: "logit std" }),
    ],
    metrics: {
      vocab: VOCAB,
      scales: inits.map((r) => ({ d: r.d, positional: sig(r.pe), positional_rms: sig(r.peRms), tsformer: sig(r.tsformer), tsformer_scaled: sig(r.scaled.tsformer), pytorch: sig(r.pytorch), pytorch_scaled: sig(r.scaled.pytorch), xavier: sig(r.xavier), xavier_scaled: sig(r.scaled.xavier) })),
      training: runs.map((r) => ({ embeddings: r.key, token_std: sig(r.embStd), accuracy: sig(r.accuracy), accuracies: r.accuracies.map((a) => sig(a)), step_to_90: r.s90, curve: r.curve.map((p) => ({ step: p.step, accuracy: sig(p.accuracy) })) })),
      tying: tying.map((t) => ({ init: t.key, d: tieD, logit_std: sig(t.logitStd), top_probability: sig(t.maxProb) })),
    },
  };
}

/** Q08. */
export const q08: Question = {
  id: "q08",
  title: "Multiplying embeddings by √d_model",
  question_zh: "Q08：为何在获取输入词向量后，需要对矩阵乘以embedding size的开方？",
  question_en: "Q08: Why is the embedding matrix multiplied by √(embedding size) after the lookup?",
  rules: RULES,
  run,
};
