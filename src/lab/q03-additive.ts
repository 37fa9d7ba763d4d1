/** Q03: dot-product against additive attention — time and memory against n and d, FLOP counts, accuracy. */
import { MultiHeadAttention } from "../nn/attention.ts";
import { noGrad } from "../tensor/autograd.ts";
import { randn } from "../tensor/creation.ts";
import { Rng } from "../tensor/random.ts";
import { lineChart } from "./charts.ts";
import { fitPowerLaw, fmt, pct, sig, targetMass } from "./metrics.ts";
import { copyPreviousTask } from "./tasks.ts";
import { attentionFlops, graphBytes, timeInterleaved } from "./timing.ts";
import { attentionOf, stepReaching, trainTokenTask } from "./train.ts";
import type { Claim, LabContext, Question, QuestionOutput } from "./types.ts";
import { byDefinition, byMeasurement, cond, type VerdictRule } from "./verdicts.ts";
import { numericGuess } from "./guess.ts";

type Scoring = "dot" | "additive";
const SCORINGS: Scoring[] = ["dot", "additive"];

/** Q03's verdict rules. */
const RULES = {
  // O(n·d) would mean exponents near 1 in n; an n × n × d tensor gives 2.
  complexity: {
    cases: [{ when: [cond("timings.additive_time_exponent_n", ">", 1.6), cond("additive_memory_exponent_n", ">", 1.6)], verdict: "refuted" }],
    otherwise: "nuanced",
  },
  // Slower by more than twice what the FLOPs explain: the gap is in how the work maps to the hardware.
  efficiency: {
    cases: [{ when: [cond("timings.time_ratio_over_flop_ratio", ">", 2)], verdict: "supported" }],
    otherwise: "nuanced",
  },
  expressiveness: {
    cases: [{ when: [cond("accuracy_gap_abs", "<=", 0.02)], verdict: "refuted" }],
    otherwise: "nuanced",
  },
} satisfies Record<string, VerdictRule>;

/** Forward time (interleaved medians, inference) and memory held for backward (training graph) of both scorings of one public attention layer. */
function measure(n: number, d: number, rng: Rng, quick: boolean): { scoring: Scoring; seconds: number; bytes: number; flops: number; scoreFlops: number }[] {
  const x = randn([1, n, d], rng);
  const layers = SCORINGS.map((scoring) => new MultiHeadAttention({ dModel: d, heads: 1, scoring, rng }));
  const times = timeInterleaved(layers.map((mha) => () => void noGrad(() => mha.forward(x))), quick ? 3 : 7, quick ? 0.5 : 3);
  return SCORINGS.map((scoring, i) => {
    const bytes = graphBytes(layers[i].forward(x).output); // parameters require gradients: the graph is kept
    const f = attentionFlops({ batch: 1, n, dModel: d, heads: 1, headDim: d, scoring });
    return { scoring, seconds: times[i], bytes, flops: f.total, scoreFlops: f.scores };
  });
}

async function run(ctx: LabContext): Promise<QuestionOutput> {
  const rng = new Rng(ctx.seed);
  const ns = ctx.quick ? [32, 64, 128] : [32, 64, 128, 256, 512];
  const ds = ctx.quick ? [16, 32, 64] : [16, 32, 64, 128, 256];
  const dFixed = 32;
  const nFixed = ctx.quick ? 64 : 128;
  // Warm up at the largest size first, so the kernels' memory has grown before any timing.
  measure(ns[ns.length - 1], dFixed, rng, true);
  const byN = ns.flatMap((n) => measure(n, dFixed, rng, ctx.quick).map((m) => ({ n, d: dFixed, ...m })));
  const byD = ds.flatMap((d) => measure(nFixed, d, rng, ctx.quick).map((m) => ({ n: nFixed, d, ...m })));
  ctx.log("timed both scorings");
  const fit = (rows: typeof byN, s: Scoring, key: "n" | "d", y: "seconds" | "bytes" | "scoreFlops"): number => {
    const r = rows.filter((x) => x.scoring === s).slice(-3); // the three largest sizes: the asymptotic regime
    return fitPowerLaw(r.map((x) => x[key]), r.map((x) => x[y])).exponent;
  };
  const exponents = (s: Scoring): Record<string, number> => ({
    time_n: fit(byN, s, "n", "seconds"), time_d: fit(byD, s, "d", "seconds"),
    memory_n: fit(byN, s, "n", "bytes"), memory_d: fit(byD, s, "d", "bytes"),
    score_flops_n: fit(byN, s, "n", "scoreFlops"), score_flops_d: fit(byD, s, "d", "scoreFlops"),
  });
  const exps: Record<Scoring, Record<string, number>> = { dot: exponents("dot"), additive: exponents("additive") };
  const at = (s: Scoring, n: number): (typeof byN)[number] => byN.find((r) => r.scoring === s && r.n === n)!;
  const nBig = ns[ns.length - 1];
  const timeRatio = at("additive", nBig).seconds / at("dot", nBig).seconds;
  const memRatio = at("additive", nBig).bytes / at("dot", nBig).bytes;

  // Accuracy: copy the previous token, both scorings.
  const task = copyPreviousTask(12, 16);
  const steps = ctx.quick ? 80 : 400;
  const acc = SCORINGS.map((scoring) => {
    const r = trainTokenTask({ task, steps, batch: ctx.quick ? 32 : 64, lr: 3e-3, seed: ctx.seed, evalPoints: 20, model: { dModel: 64, heads: 4, dFF: 128, attention: { scoring } } });
    const w = attentionOf(r.model, r.evalBatch)[0];
    const relevant = Math.max(...targetMass(w, (i) => Math.max(0, i - 1)));
    ctx.log(`${scoring}: ${pct(r.accuracy)}`);
    return { scoring, s90: stepReaching(r.curve, 0.9), accuracy: r.accuracy, accuracies: [r.accuracy], relevant, parameters: r.parameters, curve: r.curve, seconds: r.seconds };
  });
  const [dotAcc, addAcc] = acc;
  const stepsText = (x: number | null): string => (x === null ? `>${steps}` : String(x));
  const flopRatio = at("additive", nBig).flops / at("dot", nBig).flops;
  const eAdd = exps.additive;

  const claims: Claim[] = [
    {
      claim_zh: "点乘是O(n^2 * d)，n是序列长度，d是向量维度，加法则是O(n * d)",
      claim_en: "Dot-product attention is O(n²·d) and additive attention O(n·d).",
      guess: numericGuess({ en: `With d fixed at ${dFixed}, the memory additive attention keeps for the backward pass grows as n^p. What is p?`, zh: `d 固定为 ${dFixed} 时，加法注意力为反向传播保留的内存按 n^p 增长。p 是多少？`, answer: eAdd.memory_n, tolerance: 0.25 }),
      ...byMeasurement(RULES.complexity, { "timings.additive_time_exponent_n": eAdd.time_n, additive_memory_exponent_n: eAdd.memory_n }),
      evidence: `Both are O(n²·d): every query–key pair needs a d-dimensional comparison either way (score FLOPs grow as n^${fmt(eAdd.score_flops_n)}·d^${fmt(eAdd.score_flops_d)} for both); measured on the public layer (d = ${dFixed}), additive time grows as n^${fmt(eAdd.time_n)} and its memory held for backward as n^${fmt(eAdd.memory_n)}, because it materialises an n × n × d tensor of tanh values (${fmt(at("additive", nBig).bytes / 2 ** 20)} MiB at n = ${nBig}, against ${fmt(at("dot", nBig).bytes / 2 ** 20)} MiB for dot-product).`,
      evidence_zh: `两者都是 O(n²·d)：无论哪种，每一对查询–键都要做一次 d 维的比较（两者的打分 FLOPs 都按 n^${fmt(eAdd.score_flops_n)}·d^${fmt(eAdd.score_flops_d)} 增长）；在公开的注意力层上实测（d = ${dFixed}），加法注意力的时间按 n^${fmt(eAdd.time_n)}、为反向传播保留的内存按 n^${fmt(eAdd.memory_n)} 增长，因为它要生成 n × n × d 的 tanh 张量（n = ${nBig} 时 ${fmt(at("additive", nBig).bytes / 2 ** 20)} MiB，点乘为 ${fmt(at("dot", nBig).bytes / 2 ** 20)} MiB）。`,
    },
    {
      claim_zh: "实际应用中，n通常比d大很多，因此他们的计算复杂度差异不大",
      claim_en: "In practice n is much larger than d, so their complexities differ little.",
      guess: numericGuess({ en: `At n = ${nBig}, d = ${dFixed}, how many times the FLOPs of dot-product scoring does additive scoring count?`, zh: `n = ${nBig}、d = ${dFixed} 时，加法打分的计算量（FLOPs）是点乘打分的多少倍？`, answer: flopRatio, unit: "×", closeness: "ratio", tolerance: 1.25 }),
      ...byDefinition("nuanced",
        "Judged on the argument: both scorings are O(n²·d) by their formulas, so the reason given (n ≫ d) is wrong whatever is measured; the measured gap is reported, not used.",
        "按论证判断：由公式可知两者都是 O(n²·d)，所以给出的理由（n 远大于 d）无论实测如何都不成立；实测差距仅作报告，不参与判定。"),
      evidence: `Right conclusion, wrong reason: both are O(n²·d) — the additive layer counts ×${fmt(flopRatio)} the FLOPs of the dot-product layer at n = ${nBig}, d = ${dFixed} — whereas by the notes' own figures the ratio O(n²d)/O(nd) = n would grow with n. In practice the gap is large anyway: ×${fmt(timeRatio)} the time and ×${fmt(memRatio)} the memory held for backward.`,
      evidence_zh: `结论对、理由错：两者都是 O(n²·d)——n = ${nBig}、d = ${dFixed} 时加法层的 FLOPs 是点乘层的 ×${fmt(flopRatio)}——而按笔记自己的数字，O(n²d)/O(nd) = n 会随 n 增大。实际差距依然很大：时间 ×${fmt(timeRatio)}，反向传播保留的内存 ×${fmt(memRatio)}。`,
    },
    {
      claim_zh: "计算效率方面，点乘可以通过矩阵乘法一次性计算两个向量的相似度，从而提高效率，而加法操作需要对向量每个分量分别计算",
      claim_en: "For efficiency, dot products compute all similarities at once with a matrix multiplication, while addition must work on every component separately.",
      guess: numericGuess({ en: `At n = ${nBig}, how many times the forward time of dot-product attention does additive attention take (this machine)?`, zh: `n = ${nBig} 时，加法注意力的前向时间是点乘注意力的多少倍（本机实测）？`, answer: timeRatio, unit: "×", closeness: "ratio", tolerance: 2, fromTimings: true }),
      ...byMeasurement(RULES.efficiency, { "timings.time_ratio_over_flop_ratio": timeRatio / flopRatio }),
      evidence: `Dot-product scores are one matrix product QKᵀ (here inside one fused SIMD kernel); additive scores need an elementwise add, a tanh and a multiply-and-sum over an n × n × d tensor written to memory. With only ×${fmt(flopRatio)} the FLOPs, the additive layer took ×${fmt(timeRatio)} the time at n = ${nBig} (×${fmt(at("additive", ns[0]).seconds / at("dot", ns[0]).seconds)} at n = ${ns[0]}): the efficiency gap is in how the work maps to hardware (matrix products vs memory-bound elementwise passes), as the notes say.`,
      evidence_zh: `点乘的分数是一次矩阵乘法 QKᵀ（这里在一个融合的 SIMD 内核里完成）；加法的分数要在写入内存的 n × n × d 张量上逐元素相加、tanh、再乘 v 求和。FLOPs 只多 ×${fmt(flopRatio)}，n = ${nBig} 时耗时却是 ×${fmt(timeRatio)}（n = ${ns[0]} 时 ×${fmt(at("additive", ns[0]).seconds / at("dot", ns[0]).seconds)}）：效率差距来自计算如何映射到硬件（矩阵乘法对比受内存带宽限制的逐元素运算），正如笔记所说。`,
    },
    {
      claim_zh: "表达能力方面，点乘可以捕捉Q向量和K向量的相似度，从而让模型关注与查询向量最相关的部分，而加法会导致模型关注不太相关的信息",
      claim_en: "Dot products capture the similarity of q and k and focus on the most relevant parts, while addition makes the model attend to less relevant information.",
      guess: numericGuess({ en: `What held-out accuracy does additive attention reach on copy-the-previous-token in ${steps} steps?`, zh: `加法注意力在 ${steps} 步内于“复制前一个词”任务上的留出准确率是多少？`, answer: 100 * addAcc.accuracy, unit: "%", tolerance: 5 }),
      ...byMeasurement(RULES.expressiveness, { accuracy_gap_abs: Math.abs(dotAcc.accuracy - addAcc.accuracy) }),
      evidence: `On copy-the-previous-token (${steps} steps), additive attention reached ${pct(addAcc.accuracy)} against ${pct(dotAcc.accuracy)} for dot-product (90% at step ${stepsText(addAcc.s90)} vs ${stepsText(dotAcc.s90)}), and its best head put ${fmt(addAcc.relevant)} of its attention on the relevant position i−1 (dot-product: ${fmt(dotAcc.relevant)}). ${Math.abs(dotAcc.accuracy - addAcc.accuracy) <= 0.02 ? "Additive scoring (Bahdanau et al. 2015) is a one-hidden-layer network of q and k, at least as expressive; it does not attend to less relevant tokens." : "Here additive scoring trained more slowly; the gap is in optimisation speed within this budget, not a measured bias towards irrelevant tokens."}`,
      evidence_zh: `在“复制前一个词”任务上（${steps} 步），加法注意力达到 ${pct(addAcc.accuracy)}，点乘 ${pct(dotAcc.accuracy)}（达到 90% 分别在第 ${stepsText(addAcc.s90)} 与 ${stepsText(dotAcc.s90)} 步），加法注意力最好的头在相关位置 i−1 上的注意力为 ${fmt(addAcc.relevant)}（点乘 ${fmt(dotAcc.relevant)}）。${Math.abs(dotAcc.accuracy - addAcc.accuracy) <= 0.02 ? "加法打分（Bahdanau 等 2015）是 q、k 的单隐层网络，表达能力不弱，并不会关注不相关的词。" : "这里加法注意力训练得更慢；差距在于本预算内的优化速度，而不是测到了偏向无关词的倾向。"}`,
    },
  ];

  const ms = (s: number): string => fmt(s * 1000);
  const mib = (b: number): string => fmt(b / 2 ** 20);
  return {
    claims,
    method_en: `The public \`MultiHeadAttention\` layer with one head, \`scoring: "dot"\` (softmax(QKᵀ/√d)) or \`scoring: "additive"\` (e_ij = vᵀ tanh(W_Q x_i + W_K x_j), Bahdanau). Time: median forward time (inference) for n ∈ {${ns.join(", ")}} at d = ${dFixed}, and d ∈ {${ds.join(", ")}} at n = ${nFixed}, batch 1. Memory: bytes the training graph keeps for the backward pass (every intermediate tensor reachable from the output through autograd, plus the probabilities the fused dot-product kernel keeps). Exponents: least-squares slopes in log-log over the three largest sizes. FLOPs counted from the shapes (multiply-add = 2; tanh = 1). Accuracy: a one-layer, 4-head, d_model 64 encoder on copy-the-previous-token (n = 12, V = 16), ${steps} AdamW steps.`,
    method_zh: `使用公开的 \`MultiHeadAttention\` 层（单头），\`scoring: "dot"\`（softmax(QKᵀ/√d)）或 \`scoring: "additive"\`（e_ij = vᵀ tanh(W_Q x_i + W_K x_j)，Bahdanau）。时间：d = ${dFixed} 时 n ∈ {${ns.join(", ")}}、n = ${nFixed} 时 d ∈ {${ds.join(", ")}} 的前向时间中位数（推理，batch 1）。内存：训练计算图为反向传播保留的字节数（从输出经自动求导图可达的所有中间张量，加上融合点乘内核保存的注意力概率）。指数：对最大的三个规模在双对数坐标上做最小二乘。FLOPs 按形状计算（乘加 = 2，tanh = 1）。准确率：单层 4 头 d_model 64 编码器学习“复制前一个词”（n = 12，V = 16），AdamW ${steps} 步。`,
    tables: [
      { title_en: `Against n (d = ${dFixed})`, title_zh: `随 n 变化（d = ${dFixed}）`, columns: ["n", "dot ms", "additive ms", "dot MiB held", "additive MiB held", "dot FLOPs", "additive FLOPs"],
        rows: ns.map((n) => [n, ms(at("dot", n).seconds), ms(at("additive", n).seconds), mib(at("dot", n).bytes), mib(at("additive", n).bytes), fmt(at("dot", n).flops, 3), fmt(at("additive", n).flops, 3)]) },
      { title_en: `Against d (n = ${nFixed})`, title_zh: `随 d 变化（n = ${nFixed}）`, columns: ["d", "dot ms", "additive ms", "dot MiB held", "additive MiB held"],
        rows: ds.map((d) => { const r = (s: Scoring): (typeof byD)[number] => byD.find((x) => x.scoring === s && x.d === d)!; return [d, ms(r("dot").seconds), ms(r("additive").seconds), mib(r("dot").bytes), mib(r("additive").bytes)]; }) },
      { title_en: "Fitted exponents (three largest sizes)", title_zh: "拟合指数（最大的三个规模）", columns: ["scoring", "time ∝ n^k", "time ∝ d^k", "memory ∝ n^k", "memory ∝ d^k", "score FLOPs ∝ n^k", "score FLOPs ∝ d^k"],
        rows: SCORINGS.map((s) => [s, fmt(exps[s].time_n), fmt(exps[s].time_d), fmt(exps[s].memory_n), fmt(exps[s].memory_d), fmt(exps[s].score_flops_n), fmt(exps[s].score_flops_d)]) },
      { title_en: "Copy-previous task", title_zh: "“复制前一个词”任务", columns: ["scoring", "parameters", "accuracy", "step reaching 90%", "best head's mass on i−1"],
        rows: acc.map((a) => [a.scoring, a.parameters, a.accuracies.map(pct).join(" / "), stepsText(a.s90), fmt(a.relevant)]) },
    ],
    charts: [
      lineChart({ name: "time-vs-n", title_en: `Forward time against n (d = ${dFixed})`, title_zh: "前向时间随 n 的变化",
        data: byN.map((r) => ({ n: r.n, ms: r.seconds * 1000, scoring: r.scoring })), x: "n", y: "ms", color: "scoring", xTitle: "sequence length n", yTitle: "ms", xLog: true, yLog: true }),
      lineChart({ name: "time-vs-d", title_en: `Forward time against d (n = ${nFixed})`, title_zh: "前向时间随 d 的变化",
        data: byD.map((r) => ({ d: r.d, ms: r.seconds * 1000, scoring: r.scoring })), x: "d", y: "ms", color: "scoring", xTitle: "width d", yTitle: "ms", xLog: true, yLog: true }),
      lineChart({ name: "memory-vs-n", title_en: "Memory held for backward against n", title_zh: "反向传播所需内存随 n 的变化",
        data: byN.map((r) => ({ n: r.n, MiB: r.bytes / 2 ** 20, scoring: r.scoring })), x: "n", y: "MiB", color: "scoring", xTitle: "sequence length n", yTitle: "MiB", xLog: true, yLog: true }),
      lineChart({ name: "training-curves", title_en: "Copy-previous task: held-out accuracy while training", title_zh: "“复制前一个词”训练曲线",
        data: acc.flatMap((a) => a.curve.map((p) => ({ step: p.step, accuracy: p.accuracy, scoring: a.scoring }))), x: "step", y: "accuracy", color: "scoring", xTitle: "step", yTitle: "held-out accuracy", yZero: true }),
    ],
    metrics: {
      flops_by_n: ns.map((n) => ({ n, d: dFixed, dot: at("dot", n).flops, additive: at("additive", n).flops })),
      memory_held_bytes: [...byN, ...byD].map((r) => ({ scoring: r.scoring, n: r.n, d: r.d, bytes: r.bytes })),
      memory_exponents: Object.fromEntries(SCORINGS.map((s) => [s, { n: sig(exps[s].memory_n, 3), d: sig(exps[s].memory_d, 3) }])),
      memory_ratio_additive_over_dot: sig(memRatio, 3),
      score_flop_exponents: Object.fromEntries(SCORINGS.map((s) => [s, { n: sig(exps[s].score_flops_n), d: sig(exps[s].score_flops_d) }])),
      accuracy: acc.map((a) => ({ scoring: a.scoring, parameters: a.parameters, accuracy: sig(a.accuracy), accuracies: a.accuracies.map((x) => sig(x)), step_to_90: a.s90, relevant_mass: sig(a.relevant), curve: a.curve.map((p) => ({ step: p.step, accuracy: sig(p.accuracy) })) })),
      timings: {
        by_n: byN.map((r) => ({ scoring: r.scoring, n: r.n, d: r.d, seconds: sig(r.seconds, 3) })),
        by_d: byD.map((r) => ({ scoring: r.scoring, n: r.n, d: r.d, seconds: sig(r.seconds, 3) })),
        time_exponents: Object.fromEntries(SCORINGS.map((s) => [s, { n: sig(exps[s].time_n, 3), d: sig(exps[s].time_d, 3) }])),
        time_ratio_additive_over_dot: sig(timeRatio, 3),
        train_s: acc.map((a) => ({ scoring: a.scoring, seconds: sig(a.seconds, 3) })),
      },
    },
  };
}

/** Q03. */
export const q03: Question = {
  id: "q03",
  title: "Dot-product against additive attention",
  question_zh: "Q03：Transformer计算attention的时候为什么选择点乘而不是加法？两者计算复杂度和效果上有什么区别？",
  question_en: "Q03: Why does the Transformer compute attention with dot products rather than addition? How do they differ in complexity and results?",
  rules: RULES,
  run,
};
