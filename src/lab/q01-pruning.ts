/**
 * Q01, past the notes: are all heads needed once a model is trained? Michel et al. (2019) measure each head's
 * importance |∂L/∂ξ| and mask heads one by one, least important first. Here on the shipped classifier and the SST-2
 * dev sentences, with the reverse order (most important first) as the contrast that shows the ranking means something.
 */
import { readDatasetForClasses } from "../train/data.ts";
import { shippedPath } from "../io/shipped.ts";
import { datasetHeadImportance, datasetPruningCurve } from "../explain/dataset.ts";
import { type HeadImportance, type HeadRef, type PruningStep, headMaskGates, headsByImportance } from "../explain/heads.ts";
import { encodeText, evaluate } from "../train/evaluate.ts";
import { heatmapChart, lineChart } from "./charts.ts";
import { fmt, pct, sig } from "./metrics.ts";
import { shippedClassifier } from "./shipped-model.ts";
import type { Chart, Claim, LabContext, Table } from "./types.ts";
import { byMeasurement, cond, type VerdictRule } from "./verdicts.ts";
import { numericGuess } from "./guess.ts";

/** The rule: one head left costs < 1 point → refuted; most heads needed (≤ 1/8 removable within 1 point) and one head left costs > 2 points → supported. */
export const PRUNING_RULE = {
  cases: [
    { when: [cond("one_head_left_drop", "<", 0.01)], verdict: "refuted" },
    { when: [cond("prunable_fraction_within_1pt", "<=", 0.125), cond("one_head_left_drop", ">", 0.02)], verdict: "supported" },
  ],
  otherwise: "nuanced",
} satisfies VerdictRule;

/** What the pruning experiment adds to Q01's report. */
export interface PruningOutput {
  claim: Claim;
  tables: Table[];
  charts: Chart[];
  metrics: Record<string, unknown>;
  method_en: string;
  method_zh: string;
}

/** "0:1" for a head. */
const headName = (h: HeadRef): string => `${h.layer}:${h.head}`;

/** Runs the experiment (the importance pass and 2 × heads evaluations on the dev set). */
export function headPruning(ctx: LabContext): PruningOutput {
  const classifier = shippedClassifier(ctx);
  const { model, tokenizer, maxLength } = classifier;
  const dev = readDatasetForClasses(shippedPath("data/sst2/stsa.binary.dev"), classifier.dataLabels);
  const devLimit = ctx.quick ? 200 : dev.examples.length;
  const examples = dev.examples.slice(0, devLimit).map((e) => ({ ids: encodeText(tokenizer, e.text, maxLength), label: e.label }));
  const { numLayers, heads } = model.config;
  const total = numLayers * heads;
  const importance: HeadImportance = datasetHeadImportance(model, examples);
  const ranked = datasetPruningCurve(model, examples, importance);
  // The contrast: the same number of heads removed, most important first.
  const reverse = headsByImportance(importance).reverse();
  const reversed: PruningStep[] = ranked.map((s) => {
    const masked = reverse.slice(0, s.masked.length);
    return { masked, fraction: s.fraction, accuracy: evaluate(model, examples, 64, { headGates: headMaskGates(masked, numLayers, heads) }).accuracy };
  });
  const base = ranked[0].accuracy;
  const last = ranked[ranked.length - 1];
  const within = ranked.filter((s) => s.accuracy >= base - 0.01);
  const prunable = within[within.length - 1].fraction;
  const half = ranked.find((s) => s.masked.length >= total / 2)!;
  const halfReverse = reversed.find((s) => s.masked.length >= total / 2)!;
  ctx.log(`head pruning: ${pct(base)} with all ${total} heads, ${pct(last.accuracy)} with one left; ${pct(prunable)} of heads removable within 1 point`);

  const measured = { one_head_left_drop: base - last.accuracy, prunable_fraction_within_1pt: prunable };
  const order = headsByImportance(importance).map(headName).join(", ");
  const claim: Claim = {
    claim_zh: "若只使用一个注意力头，模型可能无法充分提取多种复杂的关系",
    claim_en: "With a single attention head, the model may not capture enough of the many complex relations.",
    guess: numericGuess({ en: `The shipped classifier scores ${pct(base)} on SST-2 dev with all ${total} heads. What does it score with only its most important head left?`, zh: `随附分类器用全部 ${total} 个头在 SST-2 开发集上为 ${pct(base)}。只留下最重要的一个头时是多少？`, answer: 100 * last.accuracy, unit: "%", tolerance: 3 }),
    ...byMeasurement(PRUNING_RULE, measured),
    evidence: `The shipped classifier (${classifier.source}, ${total} heads) scores ${pct(base)} on ${examples.length} SST-2 dev sentences. Masking heads in order of importance |∂L/∂ξ| (least important first: ${order}), ${pct(prunable)} of the heads go within 1 point, half of them cost ${fmt(100 * (base - half.accuracy), 2)} points (${fmt(100 * (base - halfReverse.accuracy), 2)} when the most important go first), and one head left costs ${fmt(100 * (base - last.accuracy), 2)} points (${pct(last.accuracy)}). How much a model trained with several heads leans on each is what these numbers measure; whether one head trained as such would do as well is the SST-2 comparison of the first claim.`,
    evidence_zh: `随附分类器（${classifier.source}，共 ${total} 个头）在 ${examples.length} 句 SST-2 开发集上为 ${pct(base)}。按重要性 |∂L/∂ξ| 从低到高依次屏蔽注意力头（最不重要的在前：${order}），${pct(prunable)} 的头可在 1 个百分点内去掉；去掉一半时下降 ${fmt(100 * (base - half.accuracy), 2)} 个百分点（先去最重要的则下降 ${fmt(100 * (base - halfReverse.accuracy), 2)}）；只剩一个头时下降 ${fmt(100 * (base - last.accuracy), 2)} 个百分点（${pct(last.accuracy)}）。这些数字衡量的是多头训练出的模型对各个头的依赖程度；直接用单头训练能否同样好，见第一条论断中的 SST-2 对比。`,
  };
  const curveData = [
    ...ranked.map((s) => ({ removed: s.masked.length, accuracy: s.accuracy, order: "least important first" })),
    ...reversed.map((s) => ({ removed: s.masked.length, accuracy: s.accuracy, order: "most important first" })),
  ];
  const grid = Array.from(importance.data, (v, k) => ({ layer: Math.floor(k / heads), head: k % heads, importance: sig(v, 3) }));
  return {
    claim,
    tables: [
      { title_en: "Head pruning on SST-2 dev (Michel et al. 2019)", title_zh: "在 SST-2 开发集上剪枝注意力头（Michel 等 2019）", columns: ["heads removed", "accuracy (least important first)", "removed", "accuracy (most important first)"],
        rows: ranked.map((s, i) => [`${s.masked.length}/${total}`, pct(s.accuracy), s.masked.map(headName).join(" ") || "—", pct(reversed[i].accuracy)]) },
      { title_en: "Head importance |∂L/∂ξ| (layer × head)", title_zh: "注意力头重要性 |∂L/∂ξ|（层 × 头）", columns: ["layer", ...Array.from({ length: heads }, (_, h) => `head ${h}`)],
        rows: Array.from({ length: numLayers }, (_, l) => [l, ...Array.from({ length: heads }, (_, h) => fmt(importance.data[l * heads + h], 3))]) },
    ],
    charts: [
      lineChart({ name: "head-pruning", title_en: "SST-2 dev accuracy as heads are removed", title_zh: "逐个移除注意力头后的 SST-2 开发集准确率",
        data: curveData, x: "removed", y: "accuracy", color: "order", xTitle: "heads removed", yTitle: "dev accuracy" }),
      heatmapChart({ name: "head-importance", title_en: "Head importance |∂L/∂ξ|", title_zh: "注意力头重要性 |∂L/∂ξ|",
        data: grid, x: "head", y: "layer", value: "importance", xTitle: "head", yTitle: "layer" }),
    ],
    metrics: {
      head_pruning: {
        model: classifier.source, dev_sentences: examples.length, importance: Array.from(importance.data, (v) => sig(v)),
        least_important_first: ranked.map((s) => ({ removed: s.masked.map(headName), accuracy: sig(s.accuracy) })),
        most_important_first: reversed.map((s) => ({ removed: s.masked.map(headName), accuracy: sig(s.accuracy) })),
        one_head_left_drop: sig(measured.one_head_left_drop), prunable_fraction_within_1pt: sig(prunable),
      },
    },
    method_en: `**Are all heads needed? (Michel et al. 2019)** On the shipped classifier (${classifier.source}): a gate ξ = 1 multiplies each head's output; head importance is the mean over ${examples.length} SST-2 dev sentences of |∂L/∂ξ| (L the cross-entropy at the gold label; \`tsformer heads\`). Heads are then masked (ξ = 0) one at a time, least important first, and dev accuracy measured after each; the same with the most important first as a contrast (\`tsformer heads --data … --prune\`).`,
    method_zh: `**所有头都必要吗？（Michel 等 2019）** 在随附分类器（${classifier.source}）上：每个头的输出乘以门控 ξ = 1；头的重要性是 ${examples.length} 句 SST-2 开发集上 |∂L/∂ξ| 的平均（L 为真实标签处的交叉熵；\`tsformer heads\`）。然后按重要性从低到高逐个屏蔽（ξ = 0）并测开发集准确率；作为对照，也按从高到低的顺序屏蔽（\`tsformer heads --data … --prune\`）。`,
  };
}
