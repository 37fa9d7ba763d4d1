/** Q05: the padding mask — invariance to padding, −∞ against −1e9 and float32's minimum, fully masked rows, the notes' recipe. */
import { type AttentionMask, maskFromLengths, toAdditiveMask } from "../nn/masks.ts";
import { TransformerEncoderModel, encoderConfig } from "../nn/model.ts";
import { Trace } from "../nn/trace.ts";
import { MultiHeadAttention } from "../nn/attention.ts";
import { noGrad } from "../tensor/autograd.ts";
import { randn } from "../tensor/creation.ts";
import { add, mul } from "../tensor/ops/elementwise.ts";
import { softmax } from "../tensor/ops/nn.ts";
import { Rng } from "../tensor/random.ts";
import { Tensor, indexTensor } from "../tensor/tensor.ts";
import { barChart, lineChart } from "./charts.ts";
import { fmt, sig } from "./metrics.ts";
import type { Claim, LabContext, Question, QuestionOutput } from "./types.ts";
import { byDefinition, byMeasurement, cond, type VerdictRule } from "./verdicts.ts";
import { numericGuess } from "./guess.ts";

const F32_MIN = -3.4028234663852886e38;

/** Q05's verdict rules. */
const RULES = {
  // The recipe's leftover 1s must not move the weights beyond float32 rounding.
  addToScores: {
    cases: [{ when: [cond("added_key_rows_max_diff", "<", 1e-5)], verdict: "nuanced" }],
    otherwise: "refuted",
  },
  // Exactly 0 (not "close to") when padding leaves the real tokens' outputs bit-identical.
  closeToZero: {
    cases: [{ when: [cond("masked_padding_drift_max", "<=", 0), cond("neg_inf_vs_boolean_mask_max_diff", "<=", 0)], verdict: "nuanced" }],
    otherwise: "supported",
  },
} satisfies Record<string, VerdictRule>;

/** Largest |a − b| over the first `len` positions of row 0 of two (1, n, d) outputs. */
function maxDiff(a: Tensor, b: Tensor, len: number, d: number): number {
  let m = 0;
  for (let i = 0; i < len * d; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** Softmax as the textbook formula exp(x − max)/Σ in IEEE arithmetic — what PyTorch evaluates (a row of −∞ gives NaN). */
function textbookSoftmax(row: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(row));
  const e = Array.from(row, (x) => Math.exp(x - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Fraction of rows of a (…, n) tensor for which `bad(row)` holds. */
function rowFraction(t: Tensor, bad: (row: Float32Array) => boolean): number {
  const n = t.shape[t.rank - 1];
  let count = 0;
  for (let r = 0; r < t.size / n; r++) if (bad(t.data.subarray(r * n, (r + 1) * n))) count++;
  return count / (t.size / n);
}

/** Fraction of rows of a (…, n) tensor that contain a NaN. */
function nanRows(t: Tensor): number {
  return rowFraction(t, (row) => row.some((x) => Number.isNaN(x)));
}

/** Fraction of rows of a (…, n) tensor that the textbook softmax (PyTorch) turns into NaN. */
function textbookNanRows(t: Tensor): number {
  return rowFraction(t, (row) => textbookSoftmax(row).some(Number.isNaN));
}

async function run(ctx: LabContext): Promise<QuestionOutput> {
  const rng = new Rng(ctx.seed);
  const d = 64;
  const model = new TransformerEncoderModel(encoderConfig({ vocabSize: 100, dModel: d, heads: 4, dFF: 128, numLayers: 2, dropout: 0, maxPositions: 128 }), new Rng(ctx.seed));
  const len = 8;
  const sentence = Array.from({ length: len }, () => 1 + rng.int(99)); // ids 1…99; 0 is padding
  const forward = (pads: number, masked: boolean, additive?: number): Tensor => {
    const n = len + pads;
    const ids = indexTensor([...sentence, ...new Array<number>(pads).fill(0)], [1, n]);
    const mask = maskFromLengths([len], n);
    return noGrad(() => {
      if (additive === undefined) return model.forward(ids, { attentionMask: masked ? mask : null }).lastHiddenState;
      return model.encoder.forward(model.embed(ids), { additiveMask: toAdditiveMask(mask, additive) }).output;
    });
  };
  // 1. Real-token outputs against the amount of padding, with and without the mask.
  const padCounts = ctx.quick ? [0, 1, 4, 16, 64] : [0, 1, 2, 4, 8, 16, 32, 64, 120];
  const reference = forward(0, true);
  const drift = padCounts.map((p) => ({ pads: p, masked: maxDiff(forward(p, true), reference, len, d), unmasked: maxDiff(forward(p, false), reference, len, d) }));
  // 2. Masking values through `additiveMask`, against the boolean mask, with 16 pads.
  const values: [string, number][] = [["−∞", -Infinity], ["−1e9", -1e9], ["float32 min", F32_MIN], ["−1e4", -1e4]];
  const boolOut = forward(16, true);
  const byValue = values.map(([name, v]) => ({ name, diff: maxDiff(forward(16, false, v), boolOut, len, d) }));
  // 3. A query whose every key is masked: one attention layer on 6 tokens with an all-zero mask.
  const mha = new MultiHeadAttention({ dModel: d, heads: 4, rng: new Rng(ctx.seed + 1) });
  const x = randn([1, 6, d], rng);
  const none: AttentionMask = { shape: [1, 6], data: new Uint8Array(6) };
  const absMax = (t: Tensor): number => t.data.reduce((m, v) => (Number.isNaN(v) || Number.isNaN(m) ? Number.NaN : Math.max(m, Math.abs(v))), 0);
  const fullyMasked = [
    { name: "boolean mask (tsformer)", out: noGrad(() => mha.forward(x, { attentionMask: none }).output) },
    ...values.slice(0, 3).map(([name, v]) => ({ name: `additive ${name}`, out: noGrad(() => mha.forward(x, { additiveMask: toAdditiveMask(none, v) }).output) })),
  ].map((r) => ({ name: r.name, maxAbs: absMax(r.out), nan: nanRows(r.out) }));
  const pytorchRow = textbookSoftmax(new Array(6).fill(-Infinity));
  const minRow = textbookSoftmax(new Array(6).fill(F32_MIN));
  // 4. The notes' recipe on the traced scores of a padded sequence (n = 12, 4 real): an (n, n) matrix, 0 → −∞, added.
  const n = 12;
  const real = 4;
  const trace = new Trace();
  noGrad(() => mha.forward(randn([1, n, d], rng), { trace }));
  const scores = trace.get("scores")!; // (1, h, n, n), scaled, before any mask
  const m = Array.from({ length: n }, (_, j) => (j < real ? 1 : 0));
  const matrix = (f: (i: number, j: number) => number): Tensor => new Tensor(Float32Array.from({ length: n * n }, (_, k) => f(Math.floor(k / n), k % n)), [1, 1, n, n]);
  const notesKeyRows = matrix((_, j) => (m[j] === 1 ? 1 : -Infinity)); // every row = the key mask, 1s kept
  const notesOuter = matrix((i, j) => (m[i] * m[j] === 1 ? 1 : -Infinity)); // mask_ij = m_i·m_j
  const zeroInf = matrix((i, j) => (m[i] * m[j] === 1 ? 0 : -Infinity));
  const ref = softmax(add(scores, toAdditiveMask(maskFromLengths([real], n)))); // the correct weights
  const realRows = (t: Tensor): Tensor => new Tensor(Float32Array.from({ length: 4 * real * n }, (_, k) => t.data[(Math.floor(k / (real * n)) * n * n) + (k % (real * n))]), [4, real, n]);
  const maxAbsDiff = (a: Tensor, b: Tensor): number => a.data.reduce((mx, v, i) => Math.max(mx, Math.abs(v - b.data[i])), 0);
  const added = softmax(add(scores, notesKeyRows));
  const addedShift = maxAbsDiff(realRows(added), realRows(ref));
  const outerTextbook = textbookNanRows(add(scores, notesOuter));
  const multiplied = softmax(mul(scores, notesOuter)); // s·1 = s, s·(−∞) = ∓∞ by the sign of s
  const mulRealRows = realRows(multiplied);
  const mulWrong = rowFraction(mulRealRows, (row) => row.some(Number.isNaN) || row.slice(real).reduce((a, b) => a + b, 0) > 0.01);
  const oneMinus = matrix((i, j) => 1 - m[i] * m[j]);
  const zeroTimesInf = add(mul(scores, matrix((i, j) => m[i] * m[j])), mul(oneMinus, new Tensor(new Float32Array([-Infinity]), [1, 1, 1, 1])));
  const zeroInfNan = nanRows(zeroTimesInf); // rows holding a 0·(−∞) = NaN score
  const zeroInfTextbook = textbookNanRows(zeroTimesInf);
  // The engine's softmax on those rows: what the real queries end up attending with.
  const zeroInfReal = realRows(softmax(zeroTimesInf));
  const zeroInfEngineNan = nanRows(zeroInfReal);
  const additiveOk = maxAbsDiff(realRows(softmax(add(scores, zeroInf))), realRows(ref));

  const maskedMax = Math.max(...drift.map((r) => r.masked));
  const unmaskedMax = Math.max(...drift.map((r) => r.unmasked));
  const lastDrift = drift[drift.length - 1];
  const byName = (s: string): number => byValue.find((v) => v.name === s)!.diff;
  const fm = (s: string): (typeof fullyMasked)[number] => fullyMasked.find((r) => r.name === s)!;

  const claims: Claim[] = [
    {
      claim_zh: "做一个二进制mask矩阵，不Padding的位置是1，Padding的位置是0，序列长度是n的话，mask矩阵维度就是(n, n)",
      claim_en: "Make a binary mask matrix, 1 at real positions and 0 at padding; for a sequence of length n it is (n, n).",
      guess: numericGuess({ en: "With the (n, n) outer-product mask m_i·m_j on this batch, what share of the attention rows become fully masked?", zh: "在这批数据上用 (n, n) 外积掩码 m_i·m_j，有多少比例的注意力行被整行屏蔽？", answer: 100 * outerTextbook, unit: "%", tolerance: 10 }),
      ...byDefinition("nuanced",
        "By construction: attention needs one flag per key, a (batch, n) mask broadcast over the queries; an (n, n) matrix is right only when every row repeats it. The measured rows only illustrate it.",
        "由构造决定：注意力只需要每个键一个标记，即在查询维度上广播的 (batch, n) 掩码；(n, n) 矩阵只有在每行都重复它时才正确。实测的行只是示例。"),
      evidence: `A (batch, n) key mask broadcast over the queries is all attention needs (tsformer's AttentionMask); an (n, n) matrix whose every row is that key mask gives the same weights (max difference ${fmt(additiveOk)}), but the (n, n) outer product m_i·m_j also masks whole rows for padding queries: ${fmt(outerTextbook * 100)}% of the rows become all −∞, which the textbook softmax (PyTorch) turns into NaN; tsformer returns zeros there.`,
      evidence_zh: `注意力只需要一个 (batch, n) 的键掩码，在查询维度上广播（tsformer 的 AttentionMask）；每行都等于该键掩码的 (n, n) 矩阵给出同样的权重（最大差 ${fmt(additiveOk)}），但用外积 m_i·m_j 构造的 (n, n) 矩阵还会把填充位置的查询整行遮住：${fmt(outerTextbook * 100)}% 的行全为 −∞，教科书式 softmax（PyTorch）会得到 NaN；tsformer 在这些行返回 0。`,
    },
    {
      claim_zh: "把矩阵里的0换成负无穷，然后把矩阵和attention score矩阵相加",
      claim_en: "Replace the 0s of the matrix with −∞ and add the matrix to the attention scores.",
      guess: numericGuess({ en: "If the mask is multiplied into the scores instead of added, what share of the real query rows break (weights that are not numbers, or attention on padding)?", zh: "如果把掩码乘到分数上而不是加上去，有多少比例的真实查询行会出错（权重不是数值，或关注到填充）？", answer: 100 * mulWrong, unit: "%", tolerance: 10 }),
      ...byMeasurement(RULES.addToScores, { added_key_rows_max_diff: addedShift }),
      evidence: `Adding works, and the 1s the recipe leaves in place do no harm: they add the same constant to every real score of a row, which softmax ignores (max weight difference ${fmt(addedShift)} against the correct mask). Implemented by multiplication it breaks: s·(−∞) is +∞ for negative scores, so ${fmt(mulWrong * 100)}% of the real query rows are NaN or attend to padding, and the common m·s + (1 − m)·(−∞) puts 0·(−∞) = NaN into ${fmt(zeroInfNan * 100)}% of the score rows (every real query): the textbook softmax (PyTorch) returns NaN for ${fmt(zeroInfTextbook * 100)}% of the rows, and tsformer's softmax op for ${fmt(zeroInfEngineNan * 100)}% of the real query rows${zeroInfEngineNan > 0 ? ": a NaN score propagates, as in PyTorch, rather than passing for a mask" : ""}.`,
      evidence_zh: `相加是可行的，配方里保留下来的 1 也无害：它给一行中所有真实位置的分数加上同一个常数，softmax 不受影响（与正确掩码的权重最大差 ${fmt(addedShift)}）。如果用乘法实现就会出错：负分数乘以 −∞ 得 +∞，${fmt(mulWrong * 100)}% 的真实查询行变成 NaN 或关注到填充位置；常见写法 m·s + (1 − m)·(−∞) 会在 ${fmt(zeroInfNan * 100)}% 的分数行（所有真实查询）中产生 0·(−∞) = NaN：教科书式 softmax（PyTorch）有 ${fmt(zeroInfTextbook * 100)}% 的行是 NaN；tsformer 的 softmax 运算在 ${fmt(zeroInfEngineNan * 100)}% 的真实查询行得到 NaN${zeroInfEngineNan > 0 ? "：NaN 分数会像在 PyTorch 中一样传播下去，而不会被当成掩码" : ""}。`,
    },
    {
      claim_zh: "这样填充位置的分数就很小了。最后计算softmax时，他们的概率（权重）就接近于0了",
      claim_en: "Then the padding scores are very small, and after the softmax their probabilities (weights) are close to 0.",
      guess: numericGuess({ en: `With the mask, how much do the real tokens' outputs change at most when 0 to ${lastDrift.pads} padding tokens follow?`, zh: `有掩码时，在后面接 0 到 ${lastDrift.pads} 个填充词的情况下，真实词的输出最多变化多少？`, answer: maskedMax, tolerance: 0.001 }),
      ...byMeasurement(RULES.closeToZero, { masked_padding_drift_max: maskedMax, neg_inf_vs_boolean_mask_max_diff: byName("−∞") }),
      evidence: `Not "close to" 0 but exactly 0: with the mask the real tokens' outputs are ${maskedMax === 0 ? "bit-identical" : `within ${fmt(maskedMax)}`} whatever padding follows (0 to ${lastDrift.pads} pads), while without it they drift by up to ${fmt(unmaskedMax)}; −1e9 and float32's minimum (${fmt(byName("−1e9"))} and ${fmt(byName("float32 min"))} from the boolean mask) and even −1e4 (${fmt(byName("−1e4"))}) also underflow to exactly 0 in float32. They differ only when a row is fully masked: −∞ or a boolean mask gives zeros in tsformer (NaN in PyTorch: textbook softmax of a −∞ row = [${pytorchRow.map((p) => fmt(p)).join(", ")}]), whereas −1e9 and float32 min give a uniform ${fmt(minRow[0])} over the padding (output magnitude ${fmt(fm("additive −1e9").maxAbs)}).`,
      evidence_zh: `不是“接近 0”，而是恰好为 0：有掩码时，无论后面填充多少（0 到 ${lastDrift.pads} 个），真实词的输出${maskedMax === 0 ? "逐位相同" : `相差不超过 ${fmt(maskedMax)}`}；没有掩码时最多漂移 ${fmt(unmaskedMax)}。−1e9、float32 最小值（与布尔掩码的差 ${fmt(byName("−1e9"))}、${fmt(byName("float32 min"))}）甚至 −1e4（${fmt(byName("−1e4"))}）在 float32 中也会下溢为 0。只有整行都被遮住时才有区别：−∞ 或布尔掩码在 tsformer 中输出 0（PyTorch 为 NaN：全 −∞ 行的教科书 softmax = [${pytorchRow.map((p) => fmt(p)).join(", ")}]），而 −1e9 与 float32 最小值会在填充位置上给出均匀的 ${fmt(minRow[0])}（输出幅度 ${fmt(fm("additive −1e9").maxAbs)}）。`,
    },
  ];

  return {
    claims,
    method_en: `A 2-layer encoder (d_model ${d}, 4 heads, random initialisation, dropout 0) on an ${len}-token sentence followed by 0–${padCounts[padCounts.length - 1]} padding tokens (id 0): the real tokens' outputs against the unpadded run, with the boolean mask (\`attentionMask\`) and without any mask. The same with the mask given as an additive float mask (\`additiveMask\`) of −∞, −1e9, float32's minimum (−3.4028235e38) and −1e4, against the boolean mask. A fully masked query (all 6 keys masked) through one attention layer. The notes' recipe on the traced scores (\`scores\`, before masking) of a 12-token sequence with 4 real tokens: the (n, n) matrix with 0 → −∞ added (as key-mask rows, and as the outer product m_i·m_j), multiplied instead of added, and m·s + (1 − m)·(−∞); softmax by the engine, and the textbook formula exp(x − max)/Σ in IEEE arithmetic for PyTorch's behaviour on all −∞ rows.`,
    method_zh: `一个 2 层编码器（d_model ${d}，4 个头，随机初始化，无 dropout）处理一个 ${len} 个词的句子，后接 0–${padCounts[padCounts.length - 1]} 个填充词（id 0）：比较真实词的输出与无填充时的差，分别使用布尔掩码（\`attentionMask\`）和不用掩码。再把掩码写成加性浮点掩码（\`additiveMask\`），取值 −∞、−1e9、float32 最小值（−3.4028235e38）与 −1e4，与布尔掩码比较。用一个注意力层测试整行被遮住的查询（6 个键全被遮住）。在 12 个词（4 个真实词）的序列上，取追踪到的分数（\`scores\`，掩码之前）检验笔记的配方：把 (n, n) 矩阵的 0 换成 −∞ 后相加（按行为键掩码，以及外积 m_i·m_j 两种），改用乘法，以及 m·s + (1 − m)·(−∞)；softmax 用引擎计算，PyTorch 对全 −∞ 行的行为用教科书公式 exp(x − max)/Σ 的 IEEE 运算得到。`,
    tables: [
      { title_en: "Real-token outputs against padding (max |Δ| from the unpadded run)", title_zh: "真实词输出随填充数量的变化（与无填充时的最大差）", columns: ["pads", "with mask", "without mask"],
        rows: drift.map((r) => [r.pads, fmt(r.masked), fmt(r.unmasked)]) },
      { title_en: "Masking value (additive), 16 pads: max |Δ| from the boolean mask", title_zh: "加性掩码取值（16 个填充）：与布尔掩码的最大差", columns: ["value", "max |Δ|"], rows: byValue.map((v) => [v.name, fmt(v.diff)]) },
      { title_en: "A fully masked query", title_zh: "整行被遮住的查询", columns: ["mask", "max |output|", "NaN rows"], rows: [
        ...fullyMasked.map((r) => [r.name, fmt(r.maxAbs), `${fmt(r.nan * 100)}%`]),
        ["textbook softmax of a −∞ row (PyTorch)", `[${pytorchRow.map((p) => fmt(p)).join(", ")}]`, "100%"],
      ] },
      { title_en: "The notes' recipe (12 tokens, 4 real, 4 heads)", title_zh: "笔记的做法（12 个词，4 个真实词，4 个头）", columns: ["implementation", "result"], rows: [
        ["add (n, n) key-mask rows, 1s kept", `max weight difference ${fmt(addedShift)}`],
        ["add (n, n) with 0 instead of 1", `max weight difference ${fmt(additiveOk)}`],
        ["add outer product m_i·m_j (textbook softmax)", `${fmt(outerTextbook * 100)}% rows NaN`],
        ["multiply by the matrix", `${fmt(mulWrong * 100)}% of real rows NaN or on padding`],
        ["m·s + (1 − m)·(−∞)", `${fmt(zeroInfNan * 100)}% score rows hold NaN; textbook softmax NaN in ${fmt(zeroInfTextbook * 100)}%; tsformer softmax NaN in ${fmt(zeroInfEngineNan * 100)}% of real rows`],
      ] },
    ],
    charts: [
      lineChart({ name: "padding-drift", title_en: "Real-token output change against appended padding", title_zh: "真实词输出随填充的变化",
        data: drift.flatMap((r) => [{ pads: r.pads, diff: r.masked, mask: "with mask" }, { pads: r.pads, diff: r.unmasked, mask: "without mask" }]),
        x: "pads", y: "diff", color: "mask", xTitle: "padding tokens appended", yTitle: "max |Δ output| at real tokens", yZero: true }),
      barChart({ name: "recipe-failures", title_en: "Rows broken by each implementation of the recipe", title_zh: "各种实现方式出错的行比例",
        data: [
          { implementation: "add key rows", broken: 0 }, { implementation: "add outer product (PyTorch)", broken: outerTextbook },
          { implementation: "multiply", broken: mulWrong }, { implementation: "m·s + (1−m)·(−∞)", broken: zeroInfTextbook },
        ], x: "implementation", y: "broken", xTitle: "implementation", yTitle: "fraction of rows NaN or wrong" }),
    ],
    metrics: {
      sentence_length: len,
      drift: drift.map((r) => ({ pads: r.pads, with_mask: sig(r.masked), without_mask: sig(r.unmasked) })),
      masking_values: byValue.map((v) => ({ value: v.name, max_diff_from_boolean: sig(v.diff) })),
      fully_masked: fullyMasked.map((r) => ({ mask: r.name, max_abs_output: sig(r.maxAbs), nan_rows: r.nan })),
      textbook_softmax_all_neg_inf: pytorchRow.map((p) => (Number.isNaN(p) ? "NaN" : p)),
      recipe: { added_key_rows_max_diff: sig(addedShift), added_zero_max_diff: sig(additiveOk), outer_product_nan_rows: sig(outerTextbook), multiplied_wrong_rows: sig(mulWrong), zero_times_inf_nan_score_rows: sig(zeroInfNan), zero_times_inf_textbook_nan_rows: sig(zeroInfTextbook), zero_times_inf_engine_nan_real_rows: sig(zeroInfEngineNan) },
    },
  };
}

/** Q05. */
export const q05: Question = {
  id: "q05",
  title: "Masking the padding",
  question_zh: "Q05：在计算attention score的时候如何对padding做mask操作？",
  question_en: "Q05: How is padding masked when computing the attention scores?",
  rules: RULES,
  run,
};
