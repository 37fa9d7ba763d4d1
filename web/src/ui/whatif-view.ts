/**
 * What if? Switches that undo one design choice of the notes — scaling (Q04), the padding mask (Q05), separate
 * W_Q/W_K (Q02), several heads (Q01) — re-run live on the trained weights, with the prediction, measures of the
 * attention and the attention maps before and after; and the int8 switch, which quantizes the model in the page.
 */
import { BASELINE, type ModelInfo, type RunResult, type WhatIf, isBaseline } from "../engine/protocol.ts";
import { formatShort, formatValue } from "../format.ts";
import { type StringKey, type Translator, labelText } from "../i18n.ts";
import { type HeadChoice, attentionChange, attentionMatrix, meanEntropy, meanPaddingAttention, meanSelfAttention, outputChange, predictedIndex } from "../metrics.ts";
import type { ViewContext } from "../state.ts";
import { buttonGroup, el } from "./dom.ts";
import { heatmap } from "./heatmap.ts";
import { questionLink } from "./pipeline-view.ts";

/** A checkbox switch with its explanation and question link. */
function toggle(t: Translator, id: string, label: StringKey, how: string, q: "Q01" | "Q02" | "Q04" | "Q05", checked: boolean, disabled: boolean, onChange: (on: boolean) => void): HTMLElement {
  return el("div", { class: "switch" },
    el("input", { type: "checkbox", id, checked, disabled, "aria-describedby": `${id}-how`, "data-key": id,
      onchange: (e: Event) => onChange((e.target as HTMLInputElement).checked) }),
    el("label", { for: id }, t(label)), " ", questionLink(t, q),
    el("p", { class: "how", id: `${id}-how` }, how));
}

/** The switches. */
function switches(ctx: ViewContext, inner: number): HTMLElement {
  const { state, t, actions } = ctx;
  const w = state.whatIf;
  const set = (change: Partial<WhatIf>): void => actions.setWhatIf({ ...w, ...change });
  return el("fieldset", { class: "switches" },
    el("legend", {}, t("whatif.switches")),
    toggle(t, "wi-scaling", "whatif.scaling", t("whatif.scaling.how"), "Q04", w.scaling, false, (on) => set({ scaling: on })),
    el("div", { class: "switch" },
      el("label", { for: "wi-padding" }, t("whatif.padding")), " ",
      el("select", { id: "wi-padding", "data-key": "wi-padding", "aria-describedby": "wi-padding-how", onchange: (e: Event) => set({ padding: Number((e.target as HTMLSelectElement).value) }) },
        [0, 2, 4, 8].map((k) => el("option", { value: k, selected: k === w.padding }, String(k)))),
      " ", questionLink(t, "Q05"),
      el("p", { class: "how", id: "wi-padding-how" }, t("whatif.padding.how"))),
    toggle(t, "wi-mask", "whatif.mask", t("whatif.mask.how"), "Q05", w.maskPadding, w.padding === 0, (on) => set({ maskPadding: on })),
    toggle(t, "wi-shareqk", "whatif.shareQK", t("whatif.shareQK.how"), "Q02", w.shareQK, false, (on) => set({ shareQK: on })),
    toggle(t, "wi-merge", "whatif.merge", t("whatif.merge.how", { inner }), "Q01", w.mergeHeads, false, (on) => set({ mergeHeads: on })));
}

/** Which matrices are int8, from the model's parts (pooler, classifier) and the run's count of int8 matrices. */
function int8Text(t: Translator, info: ModelInfo, matrices: number): string {
  const pooler = info.pooling === "pooler";
  const classifier = info.labels !== null;
  const head = pooler && classifier ? t("int8.head.both") : pooler ? t("int8.head.pooler") : classifier ? t("int8.head.classifier") : "";
  return t("int8.which", { layers: info.layers, head, matrices });
}

/** The int8 switch, what it quantizes, and how this sentence's int8 run compares with float32. */
function precision(ctx: ViewContext, info: ModelInfo): HTMLElement {
  const { state, t, actions } = ctx;
  const run = state.int8 ? state.result?.int8 ?? null : null;
  const comparison = run?.comparison ?? null;
  const fp32Probs = comparison?.fp32Probs ?? null;
  const fp32Best = fp32Probs ? fp32Probs.indexOf(Math.max(...fp32Probs)) : -1;
  return el("fieldset", { class: "switches precision" },
    el("legend", {}, t("int8.legend")),
    el("div", { class: "switch" },
      el("input", { type: "checkbox", id: "wi-int8", checked: state.int8, "aria-describedby": "wi-int8-how", "data-key": "wi-int8",
        onchange: (e: Event) => actions.setInt8((e.target as HTMLInputElement).checked) }),
      el("label", { for: "wi-int8" }, t("int8.switch")),
      el("p", { class: "how", id: "wi-int8-how" }, t("int8.how"))),
    run && comparison ? el("div", { class: "note", "data-key": "int8-note", "aria-live": "polite" },
      el("p", {}, int8Text(t, info, run.matrices)),
      el("p", {}, `${t("int8.cosine")}: `, el("strong", { "data-key": "int8-cosine" }, comparison.cosine.toFixed(5)),
        fp32Probs && info.labels && fp32Best >= 0
          ? el("span", {}, `; ${t("int8.fp32Prediction")} `, el("span", { "data-key": "int8-fp32" }, `${labelText(t, info.labels[fp32Best])} (p = ${formatValue(fp32Probs[fp32Best])})`))
          : null)) : null);
}

/** "positive 0.8712" for a run's top label. */
function predictionText(t: Translator, r: RunResult, labels: string[]): string {
  const k = predictedIndex(r);
  return k < 0 || !r.probs ? "–" : `${labelText(t, labels[k])} (p = ${formatValue(r.probs[k])})`;
}

/** The measures table: before, after, change. */
function measures(t: Translator, before: RunResult, after: RunResult, labels: string[] | null): HTMLElement {
  const row = (name: string, a: string, b: string, change: string, key: string): HTMLElement =>
    el("tr", { "data-key": key }, el("th", { scope: "row" }, name), el("td", {}, a), el("td", {}, b), el("td", {}, change));
  const number = (name: StringKey, f: (r: RunResult) => number, key: string): HTMLElement => {
    const a = f(before);
    const b = f(after);
    return row(t(name), formatShort(a), formatShort(b), `${b - a >= 0 ? "+" : ""}${formatShort(b - a)}`, key);
  };
  const rows = [
    labels ? row(t("metric.prediction"), predictionText(t, before, labels), predictionText(t, after, labels),
      before.probs && after.probs ? `Δp = ${formatShort(after.probs[predictedIndex(before)] - before.probs[predictedIndex(before)])}` : "", "wi-m-prediction") : null,
    number("metric.entropy", meanEntropy, "wi-m-entropy"),
    number("metric.self", meanSelfAttention, "wi-m-self"),
    after.realLength < after.tokens.length ? number("metric.pad", meanPaddingAttention, "wi-m-pad") : null,
    row(t("metric.tv"), "0", formatShort(attentionChange(before, after)), "", "wi-m-tv"),
    row(t("metric.hidden"), "0", formatShort(outputChange(before, after)), "", "wi-m-hidden"),
  ];
  return el("div", { class: "table-scroll" }, el("table", { class: "measures", "data-key": "wi-measures" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("whatif.measure")), el("th", { scope: "col" }, t("whatif.before")),
      el("th", { scope: "col" }, t("whatif.after")), el("th", { scope: "col" }, t("whatif.change")))),
    el("tbody", {}, rows)));
}

/** Before/after attention maps of one layer and head (or the mean of the heads), and their difference. */
function comparison(ctx: ViewContext, before: RunResult, after: RunResult): HTMLElement {
  const { state, t, actions } = ctx;
  const layer = Math.min(state.layer, before.attentions.length - 1);
  const merged = after.heads !== before.heads;
  const head: HeadChoice = merged ? "mean" : state.compareHead === "mean" ? "mean" : Math.min(state.compareHead, before.heads - 1);
  const b = attentionMatrix(before, layer, head);
  const a = attentionMatrix(after, layer, merged ? 0 : head);
  const real = before.realLength;
  const diff = new Float32Array(real * real);
  for (let i = 0; i < real; i++) for (let j = 0; j < real; j++) diff[i * real + j] = a.values[i * a.n + j] - b.values[i * b.n + j];
  const headName = head === "mean" ? t("whatif.meanOfHeads") : t("attention.head", { h: head });
  const choices: HeadChoice[] = ["mean", ...Array.from({ length: before.heads }, (_, h) => h)];
  return el("div", { class: "comparison" },
    el("h3", {}, t("whatif.compare")),
    el("div", { class: "controls" },
      el("span", { class: "control-label" }, t("pipeline.layer")),
      buttonGroup(t("pipeline.layer"), before.attentions.map((_, l) => String(l)), (l) => l === layer, (l) => actions.set({ layer: l }), "wi-layer"),
      merged ? null : el("div", { class: "button-group", role: "group", "aria-label": t("pipeline.head") },
        choices.map((c) => el("button", { type: "button", "aria-pressed": String(c === head), "data-key": `wi-head-${c}`, onclick: () => actions.set({ compareHead: c }) },
          c === "mean" ? t("whatif.meanOfHeads") : t("attention.head", { h: c }))))),
    merged ? el("p", { class: "note" }, t("whatif.mergedNote")) : null,
    el("div", { class: "maps side-by-side" },
      heatmap({ title: `${t("whatif.before")} · ${t("pipeline.layer")} ${layer} · ${headName}`, values: b.values, rows: b.n, cols: b.n, rowLabels: before.tokens, colLabels: before.tokens, scale: "probability", key: "wi-before" }, t),
      heatmap({ title: `${t("whatif.after")} · ${t("pipeline.layer")} ${layer} · ${merged ? t("attention.head", { h: 0 }) : headName}`, values: a.values, rows: a.n, cols: a.n, rowLabels: after.tokens, colLabels: after.tokens, scale: "probability", key: "wi-after" }, t),
      heatmap({ title: t("whatif.difference"), values: diff, rows: real, cols: real, rowLabels: before.tokens.slice(0, real), colLabels: before.tokens.slice(0, real), scale: "signed", key: "wi-diff" }, t)));
}

/** The what-if view. */
export function whatIfView(ctx: ViewContext): HTMLElement {
  const { state, t } = ctx;
  const before = state.result;
  const info = state.model;
  if (!before || !info) return el("section", { class: "view" }, el("p", {}, t("pipeline.empty")));
  const after = isBaseline(state.whatIf) ? null : state.variant;
  return el("section", { class: "view whatif", "aria-labelledby": "whatif-title" },
    el("h2", { id: "whatif-title" }, t("nav.whatif")),
    el("p", { class: "intro" }, t("whatif.intro")),
    precision(ctx, info),
    switches(ctx, info.heads * info.headDim),
    el("p", {}, el("button", { type: "button", "data-key": "wi-reset", disabled: isBaseline(state.whatIf), onclick: () => ctx.actions.setWhatIf(BASELINE) }, t("whatif.reset"))),
    after
      ? el("div", { class: "results", "aria-live": "polite" }, measures(t, before, after, info.labels), comparison(ctx, before, after))
      : el("p", { class: "note", "data-key": "wi-baseline" }, t("whatif.baseline")));
}
