/**
 * Where each question can be seen on a real prediction: the explorer's Explain view (and `tsformer explain` /
 * `tsformer heads`), one panel per question, with a sentence saying what to look for. The lab's reports and the
 * explorer's lab cards link there.
 */
import type { QuestionId } from "./types.ts";

/** A panel of the Explain view: a method's token scores, the maps, raw vs norm-based attention, or the head grid. */
export type ExplainPanel = "rollout" | "norm" | "grad-attention" | "input-x-gradient" | "integrated-gradients" | "heads";

/** What a question links to and why, in English and Chinese. */
export interface ExplainLink {
  panel: ExplainPanel;
  /** The terminal command that shows the same thing on the shipped model. */
  command: string;
  en: string;
  zh: string;
}

/** One link per question. */
export const EXPLAIN_LINKS: Readonly<Record<QuestionId, ExplainLink>> = {
  q01: { panel: "heads", command: "tsformer heads --data data/sst2/stsa.binary.dev --prune",
    en: "Head importance per layer and head; click a head to remove it and see the prediction change.",
    zh: "各层各头的重要性；点击一个头即可移除它，观察预测如何变化。" },
  q02: { panel: "norm", command: "tsformer explain --method norm \"…\" --json",
    en: "Raw attention next to what each attended token actually contributes (‖α f(x)‖): where a head looks is not what it adds.",
    zh: "原始注意力与被关注词的实际贡献（‖α f(x)‖）并列：一个头看向哪里，不等于它带来了什么。" },
  q03: { panel: "rollout", command: "tsformer explain --method rollout \"…\"",
    en: "Attention rollout: the dot-product attention of every layer chained through the residual path.",
    zh: "注意力展开（rollout）：把各层的点积注意力沿残差通路连乘起来。" },
  q04: { panel: "grad-attention", command: "tsformer explain --method grad-attention \"…\"",
    en: "Gradient × attention: the gradients that flow through softmax, the quantity ÷√d_k keeps from vanishing.",
    zh: "梯度 × 注意力：流经 softmax 的梯度——正是 ÷√d_k 防止其消失的量。" },
  q05: { panel: "rollout", command: "tsformer explain --method rollout \"…\" --json",
    en: "Masked keys get exactly zero attention, so padding never appears in any map of the Explain view.",
    zh: "被屏蔽的键注意力恰好为 0，因此解释视图的任何图中都不会出现填充。" },
  q06: { panel: "norm", command: "tsformer explain --method norm \"…\" --json",
    en: "Each head's contribution goes through its own columns of W_O: f^h(x) = v^h·(W_O^h)ᵀ, shown per head.",
    zh: "每个头的贡献都经过 W_O 中属于它的那几列：f^h(x) = v^h·(W_O^h)ᵀ，按头展示。" },
  q07: { panel: "rollout", command: "tsformer explain --method rollout \"…\"",
    en: "Rollout adds ½·I per layer for the residual connection: without it, a token's own information would be lost in a few layers.",
    zh: "rollout 在每层加上 ½·I 代表残差连接：没有它，一个词自身的信息几层之后就会丢失。" },
  q08: { panel: "integrated-gradients", command: "tsformer explain --method integrated-gradients \"…\"",
    en: "Integrated gradients on the word-embedding lookup (before × √d_model): which tokens' embeddings move the prediction.",
    zh: "在词向量查表（× √d_model 之前）上的积分梯度：哪些词的嵌入推动了预测。" },
};
