/**
 * The pipeline: tokens, then Q07's steps with their shapes and values (embedding, ×√d_model, positions, per-head
 * Q/K/V, QKᵀ, ÷√d_k, mask, softmax, ·V, concat, W_O, residual + LayerNorm, FFN, residual + LayerNorm), each
 * explained in one sentence that links to its lab question.
 */
import type { ModelInfo, RunResult, TensorData } from "../engine/protocol.ts";
import { formatShape, formatValue } from "../format.ts";
import type { StringKey, Translator } from "../i18n.ts";
import type { QuestionId } from "../site.ts";
import type { ViewContext } from "../state.ts";
import { type Child, buttonGroup, el } from "./dom.ts";
import { heatmap } from "./heatmap.ts";

/** A link to the lab card of a question. */
export function questionLink(t: Translator, q: QuestionId): HTMLElement {
  const label = t("pipeline.ask", { q, question: t(`q.${q}` as StringKey) });
  return el("a", { class: "q-link", href: `#lab-${q.toLowerCase()}`, "aria-label": label, title: label }, `${q} →`);
}

/** One step: heading, shape, formula, the explaining sentence with its question link, and its matrices. */
function stepCard(t: Translator, id: string, title: string, explain: string, q: QuestionId, shape: readonly number[] | null, formula: string | null, ...content: Child[]): HTMLElement {
  return el("section", { class: "step", id: `step-${id}`, "aria-labelledby": `step-${id}-title` },
    el("header", {},
      el("h3", { id: `step-${id}-title` }, title),
      shape ? el("span", { class: "shape" }, t("pipeline.shape", { shape: formatShape(shape) })) : null,
      formula ? el("code", { class: "formula" }, formula) : null),
    el("p", { class: "explain" }, explain, " ", questionLink(t, q)),
    el("div", { class: "maps" }, content));
}

/** The (rows × cols) matrix of a (1, n, d) or (n, d) tensor, or of head `head` of a (1, h, n, d) one. */
function matrix(t: TensorData, head = 0): { values: Float32Array; rows: number; cols: number } {
  const s = t.shape;
  if (s.length === 4) {
    const size = s[2] * s[3];
    return { values: t.data.subarray(head * size, (head + 1) * size), rows: s[2], cols: s[3] };
  }
  return { values: t.data, rows: s[s.length - 2], cols: s[s.length - 1] };
}

/** Heat-map options shared by the pipeline's maps. */
interface MapOptions {
  key: string;
  title: string;
  rowLabels: string[];
  tokenCols?: string[] | null;
  scale?: "signed" | "probability";
  head?: number;
  highlightRow?: number | null;
}

function mapOf(t: Translator, data: TensorData | undefined, o: MapOptions): HTMLElement | null {
  if (!data) return null;
  const m = matrix(data, o.head ?? 0);
  return heatmap({ ...m, title: o.title, key: o.key, rowLabels: o.rowLabels, colLabels: o.tokenCols ?? null, scale: o.scale ?? "signed", highlightRow: o.highlightRow }, t);
}

/** The tokens as chips with their ids. */
function tokenChips(r: RunResult): HTMLElement {
  return el("ol", { class: "tokens", "data-key": "tokens" },
    r.tokens.map((token, i) => el("li", { class: i >= r.realLength ? "token pad" : "token" },
      el("span", { class: "token-text" }, token), el("span", { class: "token-id" }, String(r.ids[i])))));
}

/** Embedding steps: lookup, ×√d_model, positions, (BERT's sum), encoder input. */
function inputSteps(t: Translator, r: RunResult, info: ModelInfo, rows: string[]): HTMLElement[] {
  const s = r.steps;
  const cards = [
    stepCard(t, "tokens", t("step.tokens"), t("step.tokens.explain"), "Q07", [r.tokens.length], null, tokenChips(r)),
    stepCard(t, "lookup", t("step.lookup"), t("step.lookup.explain"), "Q07", s["embedding.lookup"]?.shape ?? null, "E[id]",
      mapOf(t, s["embedding.lookup"], { key: "pipe-lookup", title: t("step.lookup"), rowLabels: rows })),
  ];
  if (s["embedding.scaled"]) {
    cards.push(stepCard(t, "scaled", t("step.scaled"), t("step.scaled.explain"), "Q08", s["embedding.scaled"].shape, `E[id] × √${info.dModel} = E[id] × ${formatValue(Math.sqrt(info.dModel))}`,
      mapOf(t, s["embedding.scaled"], { key: "pipe-scaled", title: t("step.scaled"), rowLabels: rows })));
  }
  if (s.positions) {
    const formula = info.positional === "sinusoidal" ? "PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(…)" : "P[pos]";
    const explain = info.positional === "learned" ? t("step.positions.explainLearned") : t("step.positions.explain");
    cards.push(stepCard(t, "positions", t("step.positions"), explain, "Q07", s.positions.shape, formula,
      mapOf(t, s.positions, { key: "pipe-positions", title: t("step.positions"), rowLabels: r.tokens.map((_, i) => `${i}`) })));
  }
  if (info.embeddingNorm && s.embeddings_sum) {
    cards.push(stepCard(t, "sum", t("step.sum"), t("step.sum.explain"), "Q07", s.embeddings_sum.shape, "E[id] + P[pos] + T[type]",
      mapOf(t, s.embeddings_sum, { key: "pipe-sum", title: t("step.sum"), rowLabels: rows })));
  }
  cards.push(stepCard(t, "x0", t("step.x0"), t(info.embeddingNorm ? "step.x0.explainNorm" : "step.x0.explain"), "Q07", s.x0?.shape ?? null,
    info.embeddingNorm ? "X = LayerNorm(sum)" : "X = E[id]·√d + PE", mapOf(t, s.x0, { key: "pipe-x0", title: t("step.x0"), rowLabels: rows })));
  return cards;
}

/** One layer's steps for the chosen head. */
function layerSteps(t: Translator, r: RunResult, info: ModelInfo, layer: number, head: number, rows: string[]): HTMLElement[] {
  const s = r.steps;
  const p = `encoder.layers.${layer}.`;
  const a = `${p}self_attn.`;
  const where = t("attention.layerHead", { l: layer, h: head });
  const tokenMap = (name: string, key: string, title: string, scale: "signed" | "probability" = "signed"): HTMLElement | null =>
    mapOf(t, s[a + name], { key, title: `${title} · ${where}`, rowLabels: rows, tokenCols: rows, scale, head });
  const sqrt = formatValue(1 / r.scale);
  const cards = [
    stepCard(t, "qkv", t("step.qkv", { h: head }), t("step.qkv.explain"), "Q02", s[`${a}q`]?.shape ?? null, "Q = X·W_Q, K = X·W_K, V = X·W_V",
      ...(["q", "k", "v"] as const).map((x) => mapOf(t, s[a + x], { key: `pipe-${x}`, title: `${t(`step.${x}`)} · ${where}`, rowLabels: rows, head }))),
    stepCard(t, "raw", t("step.raw"), t("step.raw.explain"), "Q03", s[`${a}scores_raw`]?.shape ?? null, "S = Q·Kᵀ", tokenMap("scores_raw", "pipe-raw", t("step.raw"))),
    stepCard(t, "scale", t("step.scale"), r.whatIf.scaling ? t("step.scale.explain", { sqrt }) : t("step.scaleOff"), "Q04", s[`${a}scores`]?.shape ?? null,
      `S × ${formatValue(r.scale)}`, tokenMap("scores", "pipe-scale", t("step.scale"))),
    stepCard(t, "mask", t("step.mask"), t("step.mask.explain"), "Q05", s[`${a}scores_masked`]?.shape ?? null, "S[:, pad] = −∞", tokenMap("scores_masked", "pipe-mask", t("step.mask"))),
    stepCard(t, "softmax", t("step.softmax"), t("step.softmax.explain"), "Q01", s[`${a}weights`]?.shape ?? null, "A = softmax(S)", tokenMap("weights", "pipe-softmax", t("step.softmax"), "probability")),
    stepCard(t, "av", t("step.av"), t("step.av.explain"), "Q01", s[`${a}head_outputs`]?.shape ?? null, "head = A·V",
      mapOf(t, s[`${a}head_outputs`], { key: "pipe-av", title: `${t("step.av")} · ${where}`, rowLabels: rows, head })),
    stepCard(t, "concat", t("step.concat"), t("step.concat.explain"), "Q06", s[`${a}context`]?.shape ?? null, "Concat(head₀, …, head_h−1)",
      mapOf(t, s[`${a}context`], { key: "pipe-concat", title: t("step.concat"), rowLabels: rows })),
    stepCard(t, "wo", t("step.wo"), t("step.wo.explain"), "Q06", s[`${a}output`]?.shape ?? null, "Concat(…)·W_O",
      mapOf(t, s[`${a}output`], { key: "pipe-wo", title: t("step.wo"), rowLabels: rows })),
  ];
  const postLN = s[`${p}residual1`] !== undefined;
  cards.push(stepCard(t, "res1", t("step.res1"), t("step.res1.explain"), "Q07", (s[`${p}residual1`] ?? s[`${p}h1`])?.shape ?? null, "X + MultiHead(X)",
    mapOf(t, s[`${p}residual1`] ?? s[`${p}h1`], { key: "pipe-res1", title: t("step.res1"), rowLabels: rows })));
  if (postLN) {
    cards.push(stepCard(t, "norm1", t("step.norm1"), t("step.norm1.explain"), "Q07", s[`${p}h1`]?.shape ?? null, "H = LayerNorm(X + MultiHead(X))",
      mapOf(t, s[`${p}h1`], { key: "pipe-norm1", title: t("step.norm1"), rowLabels: rows })));
  }
  cards.push(stepCard(t, "ffn", t("step.ffn"), t("step.ffn.explain"), "Q07", s[`${p}ffn.act`]?.shape ?? null, `FFN(H) = ${info.activation}(H·W₁ + b₁)·W₂ + b₂`,
    mapOf(t, s[`${p}ffn.act`], { key: "pipe-ffn-act", title: t("step.ffnHidden"), rowLabels: rows }),
    mapOf(t, s[`${p}ff_out`], { key: "pipe-ffn-out", title: t("step.ffnOut"), rowLabels: rows })));
  cards.push(stepCard(t, "res2", t("step.res2"), t("step.res2.explain"), "Q07", s[`${p}output`]?.shape ?? null, postLN ? "LayerNorm(H + FFN(H))" : "H + FFN(LN(H))",
    postLN ? mapOf(t, s[`${p}residual2`], { key: "pipe-res2", title: `${t("step.res2")} · ${t("step.residualSum")}`, rowLabels: rows }) : null,
    mapOf(t, s[`${p}output`], { key: "pipe-out", title: `${t("step.res2")} · ${t("step.normalised")}`, rowLabels: rows })));
  return cards;
}

/** Pooling and the classifier. */
function outputSteps(t: Translator, r: RunResult, info: ModelInfo): HTMLElement[] {
  const s = r.steps;
  const pooledKey: StringKey = `step.pooled.${info.pooling}`;
  const cards = [stepCard(t, "pooled", t("step.pooled"), t(pooledKey), "Q07", s.pooled?.shape ?? null, null,
    mapOf(t, s.pooled, { key: "pipe-pooled", title: t("step.pooled"), rowLabels: ["sentence"] }))];
  if (s.logits && info.labels) {
    cards.push(stepCard(t, "logits", t("step.logits"), t("step.logits.explain"), "Q07", s.logits.shape, "logits = W·v + b",
      mapOf(t, s.logits, { key: "pipe-logits", title: t("step.logits"), rowLabels: ["logits"], tokenCols: info.labels })));
  }
  return cards;
}

/** The table of contents: buttons that scroll to each step. */
function contents(t: Translator, cards: HTMLElement[]): HTMLElement {
  return el("nav", { class: "contents", "aria-label": t("pipeline.contents") },
    el("h2", { class: "small-heading" }, t("pipeline.contents")),
    el("ol", {}, cards.map((card) => {
      const title = card.querySelector("h3")?.textContent ?? "";
      return el("li", {}, el("a", { href: `#${card.id}`, onclick: (e: Event) => { e.preventDefault(); card.scrollIntoView({ block: "start" }); card.querySelector<HTMLElement>("h3")?.focus(); } }, title));
    })));
}

/** The pipeline view. */
export function pipelineView({ state, t, actions }: ViewContext): HTMLElement {
  const r = state.result;
  const info = state.model;
  if (!r || !info) return el("section", { class: "view" }, el("p", {}, t("pipeline.empty")));
  const rows = r.tokens;
  const layer = Math.min(state.layer, info.layers - 1);
  const head = Math.min(state.head, r.heads - 1);
  const layerCards = layerSteps(t, r, info, layer, head, rows);
  const controls = el("div", { class: "controls sticky" },
    el("span", { class: "control-label" }, t("pipeline.layer")),
    buttonGroup(t("pipeline.layer"), Array.from({ length: info.layers }, (_, l) => String(l)), (l) => l === layer, (l) => actions.set({ layer: l }), "pipe-layer"),
    el("span", { class: "control-label" }, t("pipeline.head")),
    buttonGroup(t("pipeline.head"), Array.from({ length: r.heads }, (_, h) => String(h)), (h) => h === head, (h) => actions.set({ head: h }), "pipe-head"));
  const before = inputSteps(t, r, info, rows);
  const after = outputSteps(t, r, info);
  const all = [...before, ...layerCards, ...after];
  for (const card of all) card.querySelector("h3")?.setAttribute("tabindex", "-1");
  return el("section", { class: "view pipeline", "aria-labelledby": "pipeline-title" },
    el("h2", { id: "pipeline-title" }, t("nav.pipeline")),
    el("p", { class: "intro" }, t("pipeline.intro")),
    contents(t, all),
    before,
    el("h2", { class: "layer-heading" }, t("pipeline.layerHeading", { l: layer })),
    info.normFirst ? el("p", { class: "note" }, t("pipeline.preLN")) : null,
    controls,
    layerCards,
    after);
}
