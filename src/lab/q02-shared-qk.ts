/** Q02: separate W_Q and W_K against one shared matrix — symmetry of the scores, self-attention, and a directional task. */
import { Trace } from "../nn/trace.ts";
import { noGrad } from "../tensor/autograd.ts";
import type { TransformerEncoderModel } from "../nn/model.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { barChart, heatmapChart, lineChart } from "./charts.ts";
import { diagonalMass, fmt, mean, meanAttentionMap, pct, scoreSymmetry, sig, targetMass } from "./metrics.ts";
import { type TaskBatch, copyPreviousTask } from "./tasks.ts";
import { buildTokenModel, heldOutBatch, stepReaching, trainSeeds } from "./train.ts";
import type { Claim, LabContext, Question, QuestionOutput } from "./types.ts";
import { byMeasurement, cond, holds, type VerdictRule } from "./verdicts.ts";
import { numericGuess } from "./guess.ts";

/** The conditions that both a rule and the evidence text read: one definition of each threshold. */
const ACCURACY_GAP = cond("accuracy_separate_minus_shared", ">", 0.02);
const SLOWER = cond("steps_to_90_shared_over_separate", ">=", 1.5);
const SELF_AT_INIT = cond("init_self_attention_shared_over_separate", ">", 1.5);

/** Q02's verdict rules. */
const RULES = {
  complexRelations: {
    cases: [
      { when: [cond("accuracy_separate_minus_shared", ">", 0.1)], verdict: "supported" },
      { when: [ACCURACY_GAP], verdict: "nuanced" },
      // Sharing that only slows learning down is a limit too, if a softer one.
      { when: [SLOWER], verdict: "nuanced" },
    ],
    otherwise: "refuted",
  },
  selfCorrelation: {
    cases: [
      { when: [SELF_AT_INIT, cond("trained_self_attention_shared_over_separate", ">", 1.5), cond("shared_accuracy_over_chance", "<", 2)], verdict: "supported" },
      { when: [SELF_AT_INIT], verdict: "nuanced" },
    ],
    otherwise: "refuted",
  },
} satisfies Record<string, VerdictRule>;

/** Layer-0 attention diagnostics: symmetry of QKᵀ, self-attention and mass on the previous position. */
function diagnose(model: TransformerEncoderModel, batch: TaskBatch): { symmetry: number; diagonal: number; previous: number; weights: Tensor } {
  const trace = new Trace();
  const out = noGrad(() => model.forward(batch.ids, { trace, needWeights: true }));
  const w = out.attentions[0];
  return {
    symmetry: scoreSymmetry(trace.get("encoder.layers.0.self_attn.scores_raw")!),
    diagonal: mean(diagonalMass(w)),
    previous: mean(targetMass(w, (i) => Math.max(0, i - 1))),
    weights: w,
  };
}

async function run(ctx: LabContext): Promise<QuestionOutput> {
  const task = copyPreviousTask(12, 16);
  const n = task.n;
  const steps = ctx.quick ? 100 : 400;
  const seeds = ctx.quick ? [ctx.seed] : [ctx.seed, ctx.seed + 1, ctx.seed + 2];
  const heads = [1, 4];
  const rows = heads.flatMap((h) => [false, true].map((shareQK) => {
    const model = { dModel: 64, heads: h, dFF: 128, attention: { shareQK } };
    const init = diagnose(buildTokenModel(task, model, seeds[0]).model, heldOutBatch(task, seeds[0], 64));
    const { runs, accuracies, accuracy } = trainSeeds({ task, steps, batch: ctx.quick ? 32 : 64, lr: 3e-3, evalPoints: 10, model }, seeds);
    const trained = diagnose(runs[0].model, runs[0].evalBatch);
    const key = `${h} head${h > 1 ? "s" : ""}, ${shareQK ? "shared W_Q = W_K" : "separate W_Q, W_K"}`;
    ctx.log(`${key}: ${accuracies.map(pct).join(", ")}`);
    // Steps to 90% held-out accuracy, averaged over seeds (the budget when a seed never gets there).
    const reached = runs.map((r) => stepReaching(r.curve, 0.9));
    const s90 = mean(reached.map((s) => s ?? steps));
    const s90Text = `${reached.every((s) => s !== null) ? "" : "≥ "}${fmt(s90)}`;
    return { h, shareQK, key, init, trained, s90, s90Text, accuracy, accuracies, parameters: runs[0].parameters, curve: runs[0].curve };
  }));
  const sep = rows.filter((r) => !r.shareQK);
  const sh = rows.filter((r) => r.shareQK);
  const accSep = mean(sep.map((r) => r.accuracy));
  const accSh = mean(sh.map((r) => r.accuracy));
  const initDiagSep = mean(sep.map((r) => r.init.diagonal));
  const initDiagSh = mean(sh.map((r) => r.init.diagonal));
  const trDiagSep = mean(sep.map((r) => r.trained.diagonal));
  const trDiagSh = mean(sh.map((r) => r.trained.diagonal));
  const symSh = Math.min(...sh.map((r) => Math.min(r.init.symmetry, r.trained.symmetry)));
  const symSepTrained = mean(sep.map((r) => r.trained.symmetry));
  const uniform = 1 / n;
  const prevSep = mean(sep.map((r) => r.trained.previous));
  const prevSh = mean(sh.map((r) => r.trained.previous));
  const s90Sep = mean(sep.map((r) => r.s90));
  const s90Sh = mean(sh.map((r) => r.s90));
  const s90Of = (rs: typeof rows): string => `${rs.every((r) => !r.s90Text.startsWith("≥")) ? "" : "≥ "}${fmt(mean(rs.map((r) => r.s90)))}`;
  const gap = accSep - accSh;
  const limited = holds(ACCURACY_GAP, gap);
  const stepsRatio = s90Sh / s90Sep;
  const slower = holds(SLOWER, stepsRatio);
  const initSelfRatio = initDiagSh / initDiagSep;
  const selfAtInit = holds(SELF_AT_INIT, initSelfRatio);

  const claims: Claim[] = [
    {
      claim_zh: "若使用同一个权重矩阵，则可能会限制模型在捕捉复杂关系上的能力",
      claim_en: "Using one weight matrix for Q and K may limit the model's ability to capture complex relations.",
      guess: numericGuess({ en: `With one matrix for both (W_Q = W_K), what held-out accuracy does the model reach on output-the-previous-token? (Chance: ${pct(1 / task.vocab)}.)`, zh: `Q、K 共用一个矩阵（W_Q = W_K）时，模型在“输出前一个词”任务上的留出准确率是多少？（随机猜测：${pct(1 / task.vocab)}。）`, answer: 100 * accSh, unit: "%", tolerance: 5 }),
      ...byMeasurement(RULES.complexRelations, { accuracy_separate_minus_shared: gap, steps_to_90_shared_over_separate: stepsRatio }),
      evidence: `With W_Q = W_K the score matrix is exactly symmetric (⟨S, Sᵀ⟩/⟨S, S⟩ = ${symSh.toFixed(6)}; ${fmt(symSepTrained)} for separate matrices after training), but softmax normalises each row on its own, so the attention need not be symmetric. On output-the-previous-token, separate matrices reached ${pct(accSep)} and shared ones ${pct(accSh)} (mean over ${heads.join("/")} heads${seeds.length > 1 ? ` and ${seeds.length} seeds` : ""}), with ${fmt(prevSep)} vs ${fmt(prevSh)} of the attention on position i−1; 90% accuracy came at step ${s90Of(sep)} vs ${s90Of(sh)}${limited ? "" : slower ? ": sharing slowed learning rather than capping it" : ": no measurable limit on this relation"}.`,
      evidence_zh: `W_Q = W_K 时分数矩阵严格对称（⟨S, Sᵀ⟩/⟨S, S⟩ = ${symSh.toFixed(6)}；训练后独立矩阵为 ${fmt(symSepTrained)}），但 softmax 对每一行单独归一化，注意力本身不必对称。在“输出前一个词”任务上，独立矩阵达到 ${pct(accSep)}，共享矩阵 ${pct(accSh)}（${heads.join("/")} 头${seeds.length > 1 ? `、${seeds.length} 个种子` : ""}平均），在位置 i−1 上的注意力分别为 ${fmt(prevSep)} 与 ${fmt(prevSh)}；达到 90% 准确率分别在第 ${s90Of(sep)} 与 ${s90Of(sh)} 步${limited ? "" : slower ? "：共享矩阵让学习变慢，而不是设了上限" : "：在这个关系上没有可测的限制"}。`,
    },
    {
      claim_zh: "注意力计算就相当于每个输入项与自身进行比较，注意力权重会更多地倾向于自我相关，捕捉不了全局依赖关系",
      claim_en: "Attention then amounts to comparing each item with itself: the weights lean towards self-correlation and miss global dependencies.",
      guess: numericGuess({ en: `At initialisation, how much attention does a position give itself when W_Q = W_K? (Uniform: ${fmt(uniform)}.)`, zh: `W_Q = W_K 时，初始化阶段一个位置分给自己的注意力是多少？（均匀：${fmt(uniform)}。）`, answer: initDiagSh, tolerance: 0.1 }),
      ...byMeasurement(RULES.selfCorrelation, {
        init_self_attention_shared_over_separate: initSelfRatio, trained_self_attention_shared_over_separate: trDiagSh / trDiagSep, shared_accuracy_over_chance: accSh * task.vocab,
      }),
      evidence: selfAtInit
        ? `Shared matrices do favour the own position, since S_ii = ‖q_i‖²: self-attention ${fmt(initDiagSh)} at initialisation against ${fmt(initDiagSep)} for separate ones (uniform ${fmt(uniform)}), and ${fmt(trDiagSh)} against ${fmt(trDiagSep)} after training; but "cannot capture global dependencies" overstates it — the shared models still reached ${pct(accSh)} (chance ${pct(1 / task.vocab)}) on a task that is all about another position, with ${fmt(prevSh)} of their attention on i−1.`
        : `Shared matrices did not favour the own position: self-attention ${fmt(initDiagSh)} at initialisation against ${fmt(initDiagSep)} for separate ones (uniform ${fmt(uniform)}), ${fmt(trDiagSh)} against ${fmt(trDiagSep)} after training.`,
      evidence_zh: selfAtInit
        ? `共享矩阵确实偏向自身位置，因为 S_ii = ‖q_i‖²：初始化时自注意 ${fmt(initDiagSh)}，独立矩阵为 ${fmt(initDiagSep)}（均匀 ${fmt(uniform)}）；训练后分别为 ${fmt(trDiagSh)} 与 ${fmt(trDiagSep)}。但“捕捉不了全局依赖”言过其实——在一个完全依赖另一位置的任务上，共享模型仍达到 ${pct(accSh)}（随机猜测 ${pct(1 / task.vocab)}），把 ${fmt(prevSh)} 的注意力放在 i−1 上。`
        : `共享矩阵并没有偏向自身：初始化时自注意 ${fmt(initDiagSh)}，独立矩阵 ${fmt(initDiagSep)}（均匀 ${fmt(uniform)}），训练后 ${fmt(trDiagSh)} 与 ${fmt(trDiagSep)}。`,
    },
  ];

  const heat = (r: (typeof rows)[number], label: string): { query: number; key: number; p: number; model: string }[] =>
    meanAttentionMap(r.trained.weights, 0, 32).map((p, k) => ({ query: Math.floor(k / n), key: k % n, p: sig(p, 3), model: label }));
  const one = rows.filter((r) => r.h === 1);
  return {
    claims,
    method_en: `Task: output the token at position i−1 (n = ${n}, V = 16; position 0 unscored) — a directional relation to another position. A one-layer encoder (d_model 64, d_ff 128) with h ∈ {${heads.join(", ")}} heads, once with separate W_Q, W_K (the default) and once with \`attention: { shareQK: true }\` (one matrix for both), trained ${steps} AdamW steps${seeds.length > 1 ? ` with seeds ${seeds.join(", ")}` : ""}. On 64 (init) or 256 (trained) held-out sequences: the symmetry ⟨S, Sᵀ⟩/⟨S, S⟩ of each head's score matrix S = QKᵀ (traced as \`scores_raw\`; 1 = symmetric), the self-attention a_ii and the mass on i−1.`,
    method_zh: `任务：输出位置 i−1 的词（n = ${n}，V = 16；位置 0 不计分）——一个指向另一位置的有方向关系。单层编码器（d_model 64，d_ff 128），h ∈ {${heads.join(", ")}}，分别用默认的独立 W_Q、W_K 和 \`attention: { shareQK: true }\`（同一矩阵），AdamW 训练 ${steps} 步${seeds.length > 1 ? `，种子 ${seeds.join("、")}` : ""}。在留出序列（初始化 64 条，训练后 256 条）上测：每个头分数矩阵 S = QKᵀ（追踪项 \`scores_raw\`）的对称度 ⟨S, Sᵀ⟩/⟨S, S⟩（1 = 对称）、自注意 a_ii 和 i−1 上的注意力。`,
    tables: [
      { title_en: "Shared vs separate W_Q, W_K", title_zh: "共享与独立的 W_Q、W_K", columns: ["model", "parameters", "accuracy", "steps to 90%", "symmetry (init)", "symmetry (trained)", "a_ii (init)", "a_ii (trained)", "mass on i−1 (trained)"],
        rows: rows.map((r) => [r.key, r.parameters, r.accuracies.map(pct).join(" / "), r.s90Text, fmt(r.init.symmetry, 4), fmt(r.trained.symmetry, 4), fmt(r.init.diagonal), fmt(r.trained.diagonal), fmt(r.trained.previous)]) },
    ],
    charts: [
      barChart({ name: "accuracy", title_en: "Copy-previous-token accuracy", title_zh: "“复制前一个词”准确率",
        data: rows.map((r) => ({ heads: `${r.h}`, accuracy: r.accuracy, W: r.shareQK ? "shared" : "separate" })), x: "heads", y: "accuracy", color: "W", xTitle: "heads", yTitle: "held-out accuracy" }),
      barChart({ name: "self-attention", title_en: "Self-attention a_ii at initialisation and after training", title_zh: "初始化与训练后的自注意 a_ii",
        data: rows.flatMap((r) => [{ model: `${r.h}h ${r.shareQK ? "shared" : "separate"}`, a_ii: r.init.diagonal, when: "init" }, { model: `${r.h}h ${r.shareQK ? "shared" : "separate"}`, a_ii: r.trained.diagonal, when: "trained" }]),
        x: "model", y: "a_ii", color: "when", xTitle: "model", yTitle: "attention on own position" }),
      lineChart({ name: "training-curves", title_en: "Held-out accuracy while training", title_zh: "训练曲线",
        data: rows.flatMap((r) => r.curve.map((p) => ({ step: p.step, accuracy: p.accuracy, model: `${r.h}h ${r.shareQK ? "shared" : "separate"}` }))),
        x: "step", y: "accuracy", color: "model", xTitle: "step", yTitle: "held-out accuracy", yZero: true }),
      heatmapChart({ name: "attention-1-head", title_en: "Trained 1-head attention (mean of 32 sequences)", title_zh: "训练后单头注意力（32 条序列平均）",
        data: [...heat(one[0], "separate"), ...heat(one[1], "shared")], x: "key", y: "query", value: "p", facet: "model", xTitle: "key position", yTitle: "query position" }),
    ],
    metrics: {
      task: task.name, uniform_self_attention: sig(uniform),
      runs: rows.map((r) => ({ heads: r.h, share_qk: r.shareQK, parameters: r.parameters, accuracy: sig(r.accuracy), accuracies: r.accuracies.map((a) => sig(a)),
        symmetry_init: sig(r.init.symmetry, 6), symmetry_trained: sig(r.trained.symmetry, 6), self_attention_init: sig(r.init.diagonal), self_attention_trained: sig(r.trained.diagonal), steps_to_90: sig(r.s90), previous_mass_trained: sig(r.trained.previous),
        curve: r.curve.map((p) => ({ step: p.step, accuracy: sig(p.accuracy) })) })),
    },
  };
}

/** Q02. */
export const q02: Question = {
  id: "q02",
  title: "Separate W_Q and W_K",
  question_zh: "Q02：Transformer为什么Q和K使用不同的权重矩阵生成？为什么不能使用同一个值进行自身的点乘？",
  question_en: "Q02: Why are Q and K made with different weight matrices? Why not take the dot product of one projection with itself?",
  rules: RULES,
  run,
};
