/** Q01: why several heads — accuracy, per-head entropy and self-attention at equal width, the cost of heads, and whether a trained model needs all of them. */
import { MultiHeadAttention } from "../nn/attention.ts";
import { noGrad } from "../tensor/autograd.ts";
import { randn } from "../tensor/creation.ts";
import { Rng } from "../tensor/random.ts";
import { barChart, heatmapChart, lineChart } from "./charts.ts";
import { diagonalMass, fmt, headEntropies, mean, meanAttentionMap, pct, sig, targetMass } from "./metrics.ts";
import { PRUNING_RULE, headPruning } from "./q01-pruning.ts";
import { devAttention, trainSst2 } from "./sst2.ts";
import { twoRelationTask } from "./tasks.ts";
import { attentionFlops, timeInterleaved } from "./timing.ts";
import { attentionOf, buildTokenModel, heldOutBatch, trainSeeds } from "./train.ts";
import type { Claim, LabContext, Question, QuestionOutput } from "./types.ts";
import { byMeasurement, cond, type VerdictRule } from "./verdicts.ts";
import { numericGuess } from "./guess.ts";

const HEADS = [1, 2, 4, 8];

/** Q01's verdict rules. */
const RULES = {
  subspaces: {
    cases: [
      { when: [cond("two_relation_gain", ">", 0.05), cond("two_head_split", ">", 0.5), cond("sst2_gain", ">", 0.02)], verdict: "supported" },
      { when: [cond("two_relation_gain", ">", 0.05)], verdict: "nuanced" },
    ],
    otherwise: "refuted",
  },
  selfAttention: {
    cases: [
      { when: [cond("one_head_self_attention_over_uniform", ">", 2), cond("one_head_self_attention_over_multi_head", ">", 1.5)], verdict: "supported" },
      { when: [cond("sst2_one_head_self_attention_over_uniform", ">", 2), cond("sst2_one_head_self_attention_over_multi_head", ">", 1.5)], verdict: "nuanced" },
    ],
    otherwise: "refuted",
  },
  parallel: {
    cases: [{ when: [cond("flops_max_over_min", "<=", 1), cond("timings.forward_8_heads_over_1_head", ">=", 0.8)], verdict: "refuted" }],
    otherwise: "nuanced",
  },
  pruning: PRUNING_RULE,
} satisfies Record<string, VerdictRule>;

async function run(ctx: LabContext): Promise<QuestionOutput> {
  const dModel = 64;
  const seeds = ctx.quick ? [ctx.seed] : [ctx.seed, ctx.seed + 1];
  const task = twoRelationTask(10, 6);
  const n = task.n;
  const steps = ctx.quick ? 100 : 700;
  // 1. The two-relation task: y_i = V·x_{i−1} + x_{n−1−i}, at d_model 64 for every head count.
  const synthetic = HEADS.map((h) => {
    const { runs, accuracies, accuracy } = trainSeeds({ task, steps, batch: ctx.quick ? 32 : 64, lr: 3e-3, evalPoints: 10, model: { dModel, heads: h, dFF: 128 } }, seeds);
    const w = attentionOf(runs[0].model, runs[0].evalBatch)[0];
    const init = attentionOf(buildTokenModel(task, { dModel, heads: h, dFF: 128 }, seeds[0]).model, heldOutBatch(task, seeds[0], 64))[0];
    const prev = targetMass(w, (i) => task.sources(i, n)[0]);
    const mirror = targetMass(w, (i) => task.sources(i, n)[1]);
    ctx.log(`two-relation task, ${h} head(s): ${accuracies.map(pct).join(", ")}`);
    return {
      h, accuracy, accuracies, parameters: runs[0].parameters,
      entropy: headEntropies(w), diagonal: diagonalMass(w), diagonalInit: mean(diagonalMass(init)), prev, mirror,
      curve: runs[0].curve, weights: w, seconds: mean(runs.map((r) => r.seconds)),
    };
  });
  // 2. SST-2 at d_model 64, same head counts.
  const sstEpochs = ctx.quick ? 1 : 3;
  const sstLimit = ctx.quick ? 640 : undefined;
  const sst = HEADS.map((h) => {
    const r = trainSst2({ encoder: { dModel, heads: h, dFF: 128 }, epochs: sstEpochs, trainLimit: sstLimit, devLimit: ctx.quick ? 200 : undefined, seed: ctx.seed });
    const a = devAttention(r.model, 200);
    ctx.log(`SST-2, ${h} head(s): dev accuracy ${pct(r.accuracy)}`);
    return { h, accuracy: r.accuracy, entropy: headEntropies(a.weights, a.real), diagonal: diagonalMass(a.weights, a.real), uniform: a.uniformDiagonal, parameters: r.model.parameterCount() };
  });
  // 3. Cost: one attention layer of fixed width with 1…16 heads (same FLOPs), forward time.
  const cost = { batch: 4, n: ctx.quick ? 64 : 128, dModel: ctx.quick ? 128 : 256 };
  const rng = new Rng(ctx.seed);
  const x = randn([cost.batch, cost.n, cost.dModel], rng);
  const layers = [1, 2, 4, 8, 16].map((h) => ({ h, mha: new MultiHeadAttention({ dModel: cost.dModel, heads: h, rng }) }));
  const times = timeInterleaved(layers.map((l) => () => void noGrad(() => l.mha.forward(x))), ctx.quick ? 5 : 25, ctx.quick ? 2 : 20);
  const timing = layers.map(({ h, mha }, i) => ({ h, seconds: times[i], flops: attentionFlops({ ...cost, heads: h, headDim: cost.dModel / h }).total, parameters: mha.parameterCount() }));

  const uniform = 1 / n;
  const s1 = synthetic[0];
  const multi = synthetic.slice(1);
  const bestMulti = multi.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  const sst1 = sst[0];
  const sstBest = sst.slice(1).reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  const synGap = bestMulti.accuracy - s1.accuracy;
  const sstGap = sstBest.accuracy - sst1.accuracy;
  const h2 = synthetic[1];
  // In the two-head model, does one head take the previous token and the other the mirror position?
  const split = Math.max(h2.prev[0] + h2.mirror[1], h2.prev[1] + h2.mirror[0]) / 2;
  const t1 = timing[0].seconds;
  const t8 = timing.find((t) => t.h === 8)!.seconds;
  const flopsSpread = Math.max(...timing.map((t) => t.flops)) / Math.min(...timing.map((t) => t.flops));
  const sstDiag1 = mean(sst1.diagonal);
  const sstDiagMulti = mean(sst.slice(1).map((s) => mean(s.diagonal)));
  const synDiag1 = s1.diagonal[0];
  const synDiagMulti = mean(multi.map((s) => mean(s.diagonal)));

  const claims: Claim[] = [
    {
      claim_zh: "在不同的子空间中同时捕捉输入序列中的多样化信息",
      claim_en: "Multi-head attention captures diverse information in different subspaces at the same time.",
      guess: numericGuess({ en: `On a task where every position needs two relations (the previous token and the mirror position), what held-out accuracy does a model with one head reach, at the same d_model and parameter count as the multi-head ones?`, zh: `在每个位置都需要两种关系（前一个词、镜像位置）的任务上，单头模型（与多头模型 d_model、参数量相同）在留出数据上的准确率是多少？`, answer: 100 * s1.accuracy, unit: "%", tolerance: 5 }),
      ...byMeasurement(RULES.subspaces, { two_relation_gain: synGap, two_head_split: split, sst2_gain: sstGap }),
      evidence: `On a task needing two relations per position (previous token and mirror position), one head reached ${pct(s1.accuracy)} and ${bestMulti.h} heads ${pct(bestMulti.accuracy)} at the same d_model ${dModel} and the same ${s1.parameters} parameters; with 2 heads each head took one relation (mean mass ${fmt(split)} on its own relation's position, uniform = ${fmt(uniform)}). On SST-2 the head count barely mattered: ${sst.map((s) => `${s.h}h ${pct(s.accuracy)}`).join(", ")}.`,
      evidence_zh: `在每个位置需要两种关系（前一个词、镜像位置）的任务上，同样 d_model ${dModel}、同样 ${s1.parameters} 个参数，单头达到 ${pct(s1.accuracy)}，${bestMulti.h} 头达到 ${pct(bestMulti.accuracy)}；两头模型中每个头各负责一种关系（在各自目标位置上的平均注意力 ${fmt(split)}，均匀为 ${fmt(uniform)}）。在 SST-2 上头数几乎没有影响：${sst.map((s) => `${s.h} 头 ${pct(s.accuracy)}`).join("，")}。`,
    },
    {
      claim_zh: "单个头的话，在处理某个词时，会将很多注意力分给自己，缺乏对其他有关联的词的关注",
      claim_en: "With a single head, a word gives much of its attention to itself and too little to the related words.",
      guess: numericGuess({ en: `What share of its attention does the trained single head put on the query's own position? (Uniform attention would give ${fmt(uniform)}.)`, zh: `训练后的单头把多少注意力放在查询自身的位置上？（均匀注意力为 ${fmt(uniform)}。）`, answer: synDiag1, tolerance: 0.05 }),
      ...byMeasurement(RULES.selfAttention, {
        one_head_self_attention_over_uniform: synDiag1 / uniform, one_head_self_attention_over_multi_head: synDiag1 / synDiagMulti,
        sst2_one_head_self_attention_over_uniform: sstDiag1 / sst1.uniform, sst2_one_head_self_attention_over_multi_head: sstDiag1 / sstDiagMulti,
      }),
      evidence: `The trained single head put ${fmt(synDiag1)} of its attention on the query's own position (uniform ${fmt(uniform)}; ${fmt(s1.diagonalInit)} at initialisation; multi-head models ${fmt(synDiagMulti)} on average) and ${fmt(s1.prev[0] + s1.mirror[0])} on the two related positions; on SST-2 the single head's self-attention was ${fmt(sstDiag1)} against ${fmt(sstDiagMulti)} for 2–8 heads (uniform ${fmt(sst1.uniform)}). What limits one head is that a softmax must split one distribution between both relations, not self-attention.`,
      evidence_zh: `训练后的单头在查询自身位置上的注意力为 ${fmt(synDiag1)}（均匀为 ${fmt(uniform)}；初始化时 ${fmt(s1.diagonalInit)}；多头模型平均 ${fmt(synDiagMulti)}），在两个相关位置上共 ${fmt(s1.prev[0] + s1.mirror[0])}；SST-2 上单头的自注意力为 ${fmt(sstDiag1)}，2–8 头为 ${fmt(sstDiagMulti)}（均匀 ${fmt(sst1.uniform)}）。单头的真正限制是一个 softmax 只能把一个分布分给两种关系，而不是“注意自己”。`,
    },
    {
      claim_zh: "便于并行计算，提高了训练效率",
      claim_en: "Multiple heads make parallel computation easier and improve training efficiency.",
      guess: numericGuess({ en: `At the same d_model (${cost.dModel}), how many times the FLOPs of one head do 8 heads cost?`, zh: `d_model 相同（${cost.dModel}）时，8 个头的计算量（FLOPs）是 1 个头的多少倍？`, answer: timing.find((t) => t.h === 8)!.flops / timing[0].flops, unit: "×", closeness: "ratio", tolerance: 1.2 }),
      ...byMeasurement(RULES.parallel, { flops_max_over_min: flopsSpread, "timings.forward_8_heads_over_1_head": t8 / t1 }),
      evidence: `At d_model ${cost.dModel}, n ${cost.n}, batch ${cost.batch}, every head count from 1 to 16 costs the same ${fmt(timing[0].flops, 4)} FLOPs and ${timing[0].parameters} parameters; the measured forward time (interleaved medians) was ${fmt(t1 * 1000)} ms with 1 head and ${fmt(t8 * 1000)} ms with 8 (×${fmt(t8 / t1)}). One wide head is one bigger matrix product, just as parallel; differences in time come from how the kernels tile matrices of different shapes. Heads buy expressiveness at equal cost, not speed.`,
      evidence_zh: `在 d_model ${cost.dModel}、n ${cost.n}、batch ${cost.batch} 时，1 到 16 个头的计算量都是 ${fmt(timing[0].flops, 4)} FLOPs、${timing[0].parameters} 个参数；实测前向时间（交替测量的中位数）1 头 ${fmt(t1 * 1000)} ms，8 头 ${fmt(t8 * 1000)} ms（×${fmt(t8 / t1)}）。一个同宽的单头就是一次更大的矩阵乘法，同样可以并行；时间上的差别来自内核对不同形状矩阵的分块方式。多头是在相同代价下换取表达能力，而不是速度。`,
    },
  ];

  // 4. Past the notes: does the trained model need all its heads (Michel et al.'s pruning)?
  const pruning = headPruning(ctx);
  claims.push(pruning.claim);

  const heatData = [0, 1].flatMap((head) => meanAttentionMap(h2.weights, head, 32).map((p, k) => ({ query: Math.floor(k / n), key: k % n, p: sig(p, 3), head: `head ${head}` })));
  return {
    claims,
    method_en: `**Two-relation task.** Random tokens (n = ${n}, V = 6); the target at position i is the pair (x_{i−1}, x_{n−1−i}) as one of 36 classes, so every position needs two other positions chosen by different rules. A one-layer encoder (d_model ${dModel}, d_ff 128, d_k = ${dModel}/h) with h ∈ {1, 2, 4, 8} — the same ${s1.parameters} parameters for every h — trained ${steps} AdamW steps on fresh batches${seeds.length > 1 ? `, seeds ${seeds.join(" and ")} averaged` : ""}; accuracy on 256 held-out sequences. Attention diagnostics on the held-out set: per-head entropy, diagonal mass a_ii (self-attention) and mass on the two source positions. **SST-2.** The same encoder as a mean-pooled classifier, ${sstEpochs} epoch(s) on ${sstLimit ?? "all 6920"} training sentences, dev accuracy (872) and the attention statistics on 200 dev sentences. **Cost.** One MultiHeadAttention layer (d_model ${cost.dModel}, n ${cost.n}, batch ${cost.batch}) with 1–16 heads: FLOPs counted from the shapes and the median forward time.\n\n${pruning.method_en}`,
    method_zh: `**双关系任务。** 随机词序列（n = ${n}，V = 6）；位置 i 的目标是 (x_{i−1}, x_{n−1−i}) 这一对（36 类），每个位置都需要按两种不同规则选出的两个位置。单层编码器（d_model ${dModel}，d_ff 128，d_k = ${dModel}/h），h ∈ {1, 2, 4, 8}，参数量都相同（${s1.parameters}），AdamW 训练 ${steps} 步${seeds.length > 1 ? `，种子 ${seeds.join("、")} 取平均` : ""}；在 256 条留出序列上测准确率，并统计每个头的注意力熵、对角线质量 a_ii（自注意）和两个来源位置上的注意力。**SST-2。** 同样的编码器加平均池化做分类，训练 ${sstEpochs} 轮（${sstLimit ?? "全部 6920"} 句），报告开发集（872 句）准确率和 200 句上的注意力统计。**代价。** 一个 MultiHeadAttention 层（d_model ${cost.dModel}，n ${cost.n}，batch ${cost.batch}）用 1–16 个头：按形状计算 FLOPs，测前向时间中位数。\n\n${pruning.method_zh}`,
    tables: [
      { title_en: "Two-relation task", title_zh: "双关系任务", columns: ["heads", "d_k", "parameters", "accuracy", "entropy per head (nats)", "self-attention a_ii per head", "a_ii at init", "mass on x_{i−1} per head", "mass on x_{n−1−i} per head"],
        rows: synthetic.map((s) => [s.h, dModel / s.h, s.parameters, pct(s.accuracy), s.entropy.map((v) => fmt(v)).join(" "), s.diagonal.map((v) => fmt(v)).join(" "), fmt(s.diagonalInit), s.prev.map((v) => fmt(v)).join(" "), s.mirror.map((v) => fmt(v)).join(" ")]) },
      { title_en: "SST-2", title_zh: "SST-2", columns: ["heads", "parameters", "dev accuracy", "mean entropy", "mean self-attention a_ii", "uniform a_ii"],
        rows: sst.map((s) => [s.h, s.parameters, pct(s.accuracy), fmt(mean(s.entropy)), fmt(mean(s.diagonal)), fmt(s.uniform)]) },
      { title_en: "Cost of one attention layer", title_zh: "一个注意力层的代价", columns: ["heads", "d_k", "parameters", "FLOPs", "forward ms"],
        rows: timing.map((t) => [t.h, cost.dModel / t.h, t.parameters, fmt(t.flops, 4), fmt(t.seconds * 1000)]) },
      ...pruning.tables,
    ],
    charts: [
      barChart({ name: "accuracy-by-heads", title_en: "Accuracy by head count (equal d_model and parameters)", title_zh: "不同头数的准确率（d_model 与参数量相同）",
        data: [...synthetic.map((s) => ({ heads: String(s.h), accuracy: s.accuracy, task: "two-relation" })), ...sst.map((s) => ({ heads: String(s.h), accuracy: s.accuracy, task: "SST-2 dev" }))],
        x: "heads", y: "accuracy", color: "task", xTitle: "heads", yTitle: "accuracy" }),
      lineChart({ name: "training-curves", title_en: "Two-relation task: held-out accuracy while training", title_zh: "双关系任务训练曲线",
        data: synthetic.flatMap((s) => s.curve.map((p) => ({ step: p.step, accuracy: p.accuracy, heads: `${s.h}` }))),
        x: "step", y: "accuracy", color: "heads", xTitle: "step", yTitle: "held-out accuracy", yZero: true }),
      barChart({ name: "self-attention", title_en: "Self-attention a_ii (mean over heads) vs uniform", title_zh: "自注意 a_ii（各头平均）与均匀基线",
        data: [...synthetic.map((s) => ({ heads: String(s.h), mass: mean(s.diagonal), where: "two-relation" })), ...sst.map((s) => ({ heads: String(s.h), mass: mean(s.diagonal), where: "SST-2" })), { heads: "uniform", mass: uniform, where: "two-relation" }, { heads: "uniform", mass: sst1.uniform, where: "SST-2" }],
        x: "heads", y: "mass", color: "where", xTitle: "heads", yTitle: "attention on own position" }),
      heatmapChart({ name: "two-heads", title_en: "The 2-head model: each head takes one relation", title_zh: "两头模型：每个头负责一种关系",
        data: heatData, x: "key", y: "query", value: "p", facet: "head", xTitle: "key position", yTitle: "query position" }),
      lineChart({ name: "cost-by-heads", title_en: "Forward time of one attention layer (same FLOPs)", title_zh: "注意力层前向时间（FLOPs 相同）",
        data: timing.map((t) => ({ heads: t.h, ms: t.seconds * 1000 })), x: "heads", y: "ms", xTitle: "heads", yTitle: "forward time (ms)", xOrdinal: true, yZero: true }),
      ...pruning.charts,
    ],
    metrics: {
      two_relation: synthetic.map((s) => ({ heads: s.h, parameters: s.parameters, accuracy: sig(s.accuracy), accuracies: s.accuracies.map((a) => sig(a)), entropy: s.entropy.map((v) => sig(v)), self_attention: s.diagonal.map((v) => sig(v)), self_attention_init: sig(s.diagonalInit), mass_previous: s.prev.map((v) => sig(v)), mass_mirror: s.mirror.map((v) => sig(v)) })),
      uniform_self_attention: sig(uniform),
      sst2: sst.map((s) => ({ heads: s.h, parameters: s.parameters, accuracy: sig(s.accuracy), entropy: s.entropy.map((v) => sig(v)), self_attention: s.diagonal.map((v) => sig(v)), uniform_self_attention: sig(s.uniform) })),
      cost: timing.map((t) => ({ heads: t.h, flops: t.flops, parameters: t.parameters })),
      ...pruning.metrics,
      timings: { forward_s: timing.map((t) => ({ heads: t.h, seconds: sig(t.seconds, 3) })), train_s: synthetic.map((s) => ({ heads: s.h, seconds: sig(s.seconds, 3) })) },
    },
  };
}

/** Q01. */
export const q01: Question = {
  id: "q01",
  title: "Why several attention heads",
  question_zh: "Q01：Transformer为什么使用多头注意力机制？为什么不只用一个头？",
  question_en: "Q01: Why does the Transformer use multi-head attention? Why not a single head?",
  rules: RULES,
  run,
};
