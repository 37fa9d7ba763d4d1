/**
 * Explain: why the model predicts what it does for the sentence in the header. Five methods score each token for
 * the class explained (any class can be picked); the token × token maps behind two of them; raw vs norm-based
 * attention for a chosen layer and head (Kobayashi et al.); and head importance (Michel et al.), where a click
 * removes a head and the model runs again without it. Every number is `explainText`'s, run in the engine worker
 * (web/src/engine/explain.ts); every figure can be saved as SVG and PNG.
 */
import type { HeadRef } from "../../../src/explain/heads.ts";
import type { ExplainResult } from "../engine/protocol.ts";
import { formatPercent, formatShort, formatValue } from "../format.ts";
import { type Translator, labelText } from "../i18n.ts";
import type { ExplainHead, ViewContext } from "../state.ts";
import { buttonGroup, el } from "./dom.ts";
import { hasHead, headGrid, headGridSvg, relevancePanels, relevanceSvg } from "./explain-figures.ts";
import { saveButtons } from "./figure-export.ts";
import { heatmap } from "./heatmap.ts";

/** Tokens that Kobayashi et al. find over-attended: [CLS], [SEP] and punctuation. */
const SPECIAL_TOKEN = /^(\[CLS\]|\[SEP\]|[\p{P}\p{S}]+)$/u;

/** Heads as the command line writes them ("0:1,1:3"), for data attributes. */
function headList(heads: readonly HeadRef[]): string {
  return heads.map((h) => `${h.layer}:${h.head}`).join(",");
}

/** Heads in words: "layer 0, head 1; layer 1, head 3". */
function headWords(t: Translator, heads: readonly HeadRef[]): string {
  return heads.map((h) => t("explain.headRef", { l: h.layer, h: h.head })).join("; ");
}

/** `heads` with `ref` added or removed, in layer then head order. */
function toggled(heads: readonly HeadRef[], ref: HeadRef): HeadRef[] {
  const next = hasHead(heads, ref) ? heads.filter((h) => h.layer !== ref.layer || h.head !== ref.head) : [...heads, ref];
  return next.sort((a, b) => a.layer - b.layer || a.head - b.head);
}

/** The view's status line: running, errors, timing and truncation. */
function statusLine({ state, t }: ViewContext, shown: ExplainResult | null): HTMLElement {
  const status = state.explain.status;
  const parts: string[] = [];
  if (status) parts.push(status.text);
  else if (shown) parts.push(t("explain.done", { ms: shown.ms.toFixed(0) }));
  if (shown?.truncated && state.model) parts.push(t("sentence.truncated", { max: state.model.maxLength }));
  return el("p", { class: `status ${status?.kind ?? "info"}`, role: status?.kind === "error" ? "alert" : "status", "data-key": "ex-status" }, parts.join(" "));
}

/** The prediction and the class explained (a button per class). */
function targetPicker({ t, actions }: ViewContext, base: ExplainResult): HTMLElement {
  const best = base.labels.indexOf(base.predicted);
  return el("div", { class: "controls ex-target" },
    el("span", { class: "control-label" }, t("explain.target")),
    buttonGroup(t("explain.target"), base.labels.map((label) => (label === base.predicted ? t("explain.targetPredicted", { label: labelText(t, label) }) : labelText(t, label))),
      (k) => base.labels[k] === base.target, (k) => actions.explain({ target: base.labels[k] }), "ex-target"),
    el("span", { class: "note" }, t("explain.predicted", { label: labelText(t, base.predicted), p: formatPercent(base.probabilities[best]) })));
}

/** Token relevance: the small multiples, their save buttons, and integrated gradients' completeness check. */
function relevanceSection(t: Translator, e: ExplainResult): HTMLElement {
  const ig = e.integratedGradients;
  const igScores = e.methods.find((m) => m.method === "integrated-gradients")?.scores ?? [];
  const figure = t("explain.relevanceFigure", { label: labelText(t, e.target) });
  return el("section", { class: "ex-section", "aria-labelledby": "ex-relevance-title" },
    el("div", { class: "ex-heading" }, el("h3", { id: "ex-relevance-title" }, figure),
      saveButtons(t, "tsformer-token-relevance", figure, "ex-relevance", () => relevanceSvg(t, e))),
    el("p", { class: "note" }, t("explain.relevance.help"),
      " ", el("span", { class: "ex-key plus" }, t("explain.plus")), " ", el("span", { class: "ex-key minus" }, t("explain.minus"))),
    relevancePanels(t, e),
    ig ? el("p", { class: "note", "data-key": "ex-completeness" }, t("explain.completeness", {
      steps: ig.steps, sum: formatShort(igScores.reduce((a, b) => a + b, 0)), diff: formatShort(ig.target - ig.baseline), gap: formatPercent(ig.completenessGap),
    })) : null);
}

/** Rollout and gradient × attention as token × token heat maps. */
function mapsSection(t: Translator, e: ExplainResult): HTMLElement {
  const n = e.tokens.length;
  const map = (values: number[], title: string, key: string, file: string): HTMLElement => heatmap({
    title, values: Float32Array.from(values), rows: n, cols: n, rowLabels: e.tokens, colLabels: e.tokens, scale: "magnitude", key, exportName: file,
  }, t);
  return el("section", { class: "ex-section", "aria-labelledby": "ex-maps-title" },
    el("h3", { id: "ex-maps-title" }, t("explain.maps")),
    el("p", { class: "note" }, t("explain.maps.help")),
    el("div", { class: "maps side-by-side" },
      map(e.rollout, t("method.rollout"), "ex-rollout", "tsformer-rollout"),
      map(e.gradAttention, t("method.grad-attention"), "ex-grad-attention", "tsformer-grad-attention")));
}

/** One layer's raw attention and norm-based contributions (n × n) for a head, or for all heads (mean; the layer's norm). */
function layerMaps(e: ExplainResult, layer: number, head: ExplainHead): { raw: Float32Array; norm: Float32Array } {
  const n = e.tokens.length;
  const size = n * n;
  const l = e.layers[layer];
  if (head !== "all") {
    return { raw: Float32Array.from(l.attention.slice(head * size, (head + 1) * size)), norm: Float32Array.from(l.norm.slice(head * size, (head + 1) * size)) };
  }
  const raw = new Float32Array(size);
  for (let h = 0; h < e.heads; h++) for (let k = 0; k < size; k++) raw[k] += l.attention[h * size + k] / e.heads;
  return { raw, norm: Float32Array.from(l.normSum) };
}

/** The share of a map's total that goes to the columns of `special` tokens. */
function share(values: Float32Array, n: number, special: boolean[]): number {
  let part = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      total += values[i * n + j];
      if (special[j]) part += values[i * n + j];
    }
  }
  return total > 0 ? part / total : 0;
}

/** Raw vs norm-based attention for the chosen layer and head, with what Kobayashi et al. found and what this sentence shows. */
function normSection({ state, t, actions }: ViewContext, e: ExplainResult): HTMLElement {
  const ex = state.explain;
  const layer = ex.layer < 0 ? e.numLayers - 1 : Math.min(ex.layer, e.numLayers - 1);
  const head: ExplainHead = ex.head === "all" ? "all" : Math.min(ex.head, e.heads - 1);
  const n = e.tokens.length;
  const { raw, norm } = layerMaps(e, layer, head);
  const special = e.tokens.map((token) => SPECIAL_TOKEN.test(token));
  const where = head === "all" ? t("explain.where.all", { l: layer }) : t("explain.headRef", { l: layer, h: head });
  const file = `layer${layer}-${head === "all" ? "all-heads" : `head${head}`}`;
  const choices: ExplainHead[] = ["all", ...Array.from({ length: e.heads }, (_, h) => h)];
  const map = (values: Float32Array, title: string, key: string, name: string, scale: "probability" | "magnitude"): HTMLElement => heatmap({
    title, values, rows: n, cols: n, rowLabels: e.tokens, colLabels: e.tokens, scale, key, exportName: `tsformer-${name}-${file}`,
  }, t);
  return el("section", { class: "ex-section", "aria-labelledby": "ex-norm-title" },
    el("h3", { id: "ex-norm-title" }, t("explain.norm.title")),
    el("p", { class: "note" }, t("explain.norm.help")),
    el("div", { class: "controls" },
      el("span", { class: "control-label" }, t("pipeline.layer")),
      buttonGroup(t("pipeline.layer"), e.layers.map((_, l) => String(l)), (l) => l === layer, (l) => actions.setExplain({ layer: l }), "ex-layer"),
      el("span", { class: "control-label" }, t("pipeline.head")),
      el("div", { class: "button-group", role: "group", "aria-label": t("pipeline.head") },
        choices.map((c) => el("button", { type: "button", "aria-pressed": String(c === head), "data-key": `ex-nhead-${c}`, onclick: () => actions.setExplain({ head: c }) },
          c === "all" ? t("explain.allHeads") : t("attention.head", { h: c }))))),
    head === "all" ? el("p", { class: "note" }, t("explain.allHeadsNote")) : null,
    el("p", { class: "ex-finding", "data-key": "ex-norm-finding" }, special.some((s) => s)
      ? t("explain.norm.here", { where, raw: formatPercent(share(raw, n, special)), norm: formatPercent(share(norm, n, special)) })
      : t("explain.norm.noSpecial")),
    el("div", { class: "maps side-by-side" },
      map(raw, t("explain.raw", { where }), "ex-raw", "raw-attention", "probability"),
      map(norm, t("explain.normMap", { where }), "ex-norm", "norm-attention", "magnitude")));
}

/** The probabilities before and after removing the heads (one line per class). */
function predictionChange(t: Translator, base: ExplainResult, masked: ExplainResult | null): HTMLElement {
  const after = masked?.probabilities ?? base.probabilities;
  const flipped = masked && masked.predicted !== base.predicted;
  return el("div", { class: "ex-change", "aria-live": "polite" },
    el("h4", {}, t(masked ? "explain.change" : "explain.current")),
    el("ul", { class: "ex-probs", "data-key": "ex-change", "data-masked": masked ? headList(masked.maskedHeads) : "" }, base.labels.map((label, k) =>
      el("li", { "data-key": `ex-p-${label}`, "data-before": base.probabilities[k], "data-after": after[k] },
        masked
          ? t("explain.change.row", { label: labelText(t, label), before: formatValue(base.probabilities[k]), after: formatValue(after[k]), delta: `${after[k] >= base.probabilities[k] ? "+" : ""}${formatShort(after[k] - base.probabilities[k])}` })
          : t("prediction.bar", { label: labelText(t, label), p: formatValue(base.probabilities[k]) })))),
    flipped ? el("p", { class: "ex-flip", "data-key": "ex-flip" }, t("explain.change.flip", { label: labelText(t, masked.predicted) })) : null);
}

/** Head importance: the grid (a click removes or restores a head), reset, and the prediction change. */
function headsSection({ state, t, actions }: ViewContext, base: ExplainResult, masked: ExplainResult | null): HTMLElement {
  const heads = state.explain.maskedHeads;
  const figure = t("explain.headsFigure");
  return el("section", { class: "ex-section", "aria-labelledby": "ex-heads-title" },
    el("div", { class: "ex-heading" }, el("h3", { id: "ex-heads-title" }, t("explain.heads.title")),
      saveButtons(t, "tsformer-head-importance", figure, "ex-heads", () => headGridSvg(t, base, heads))),
    el("p", { class: "note" }, t("method.heads.what"), " ", t("explain.heads.help")),
    el("div", { class: "ex-heads-layout" },
      headGrid(t, base, heads, (ref) => actions.explain({ maskedHeads: toggled(heads, ref) })),
      el("div", {},
        el("p", { "data-key": "ex-removed" }, heads.length > 0 ? t("explain.heads.removed", { heads: headWords(t, heads) }) : t("explain.heads.none")),
        el("button", { type: "button", "data-key": "ex-reset", disabled: heads.length === 0, onclick: () => actions.explain({ maskedHeads: [] }) }, t("explain.heads.reset")),
        predictionChange(t, base, masked))));
}

/** The Explain view. */
export function explainView(ctx: ViewContext): HTMLElement {
  const { state, t } = ctx;
  const section = (...children: (HTMLElement | null)[]): HTMLElement => el("section", { class: "view explain-view", "aria-labelledby": "explain-title" },
    el("h2", { id: "explain-title" }, t("explain.title")), el("p", { class: "intro" }, t("explain.intro")), ...children);
  const info = state.model;
  if (!info) return section(el("p", {}, t("explain.empty")));
  if (!info.labels) return section(el("p", { class: "note", "data-key": "ex-none" }, t("explain.noClassifier")));
  const ex = state.explain;
  const base = ex.base && ex.model === info ? ex.base : null;
  const masked = base && ex.masked && ex.maskedHeads.length > 0 ? ex.masked : null;
  const shown = masked ?? base;
  return section(
    statusLine(ctx, shown),
    state.int8 ? el("p", { class: "note", "data-key": "ex-int8" }, t("explain.int8")) : null,
    base && shown ? el("div", { class: "ex-results", "data-key": "ex-results", "data-text": shown.text, "data-target": shown.target, "data-masked": headList(shown.maskedHeads) },
      targetPicker(ctx, base),
      masked ? el("p", { class: "ex-masked-note", "data-key": "ex-masked-note" }, t("explain.shownMasked", { heads: headWords(t, masked.maskedHeads) })) : null,
      relevanceSection(t, shown),
      mapsSection(t, shown),
      normSection(ctx, shown),
      headsSection(ctx, base, masked)) : null);
}
