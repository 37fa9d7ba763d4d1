/**
 * Fill-mask: a sentence with [MASK]s (typed, or made by clicking a token — exBERT's gesture; clicking a masked token
 * puts it back), the top candidates of each [MASK] with their probabilities (the filled-in sentence on hover), and
 * the attention of each [MASK] position to every token for a chosen layer and head (or the mean of the heads).
 * Every number is the engine worker's (web/src/engine/fill-mask.ts: the library's fillMask and encodeTexts).
 */
import type { FillMaskResult, ModelInfo } from "../engine/protocol.ts";
import { FILL_EXAMPLES } from "../examples.ts";
import { MASK, attentionRow, fillSlot, maskable, toggleMask } from "../fill-mask.ts";
import { formatCount, formatValue } from "../format.ts";
import type { Translator } from "../i18n.ts";
import type { HeadChoice } from "../metrics.ts";
import type { FillState, ViewContext } from "../state.ts";
import { buttonGroup, el } from "./dom.ts";
import { sequentialColour } from "./heatmap.ts";

/** A probability as a percentage with `digits` decimals: "4.91%". */
function percent(p: number, digits: number): string {
  return `${(p * 100).toFixed(digits)}%`;
}

/** The line naming the masked-LM model and where it comes from; marked int8 when the last run used the int8 switch. */
function modelSummary(t: Translator, info: ModelInfo, source: string, int8: boolean): HTMLElement {
  return el("p", { class: "note fm-model", "data-key": "fm-model" }, t("fill.model", {
    name: info.name, source, layers: info.layers, heads: info.heads, vocab: formatCount(info.vocabSize), params: formatCount(info.parameters),
  }), int8 ? el("span", { class: "badge", title: t("int8.badgeLabel"), "data-key": "fm-int8" }, t("int8.badge")) : null);
}

/** The sentence box, "Insert [MASK]", "Predict" and the examples. */
function sentenceForm({ state, t, actions }: ViewContext): HTMLElement {
  const input = el("input", {
    id: "fm-sentence", type: "text", value: state.fill.text, "data-key": "fm-sentence", autocomplete: "off", spellcheck: "false",
    oninput: (e: Event) => actions.draftFill((e.target as HTMLInputElement).value),
  });
  const insert = (): void => {
    input.setRangeText(MASK, input.selectionStart ?? input.value.length, input.selectionEnd ?? input.value.length, "end");
    actions.draftFill(input.value);
    input.focus();
  };
  const form = el("form", { class: "sentence-form fm-form", "aria-label": t("fill.sentence") },
    el("label", { for: "fm-sentence" }, t("fill.sentence")),
    el("div", { class: "sentence-row" }, input,
      el("button", { type: "button", "data-key": "fm-insert", onclick: insert }, t("fill.insertMask")),
      el("button", { type: "submit", class: "primary", "data-key": "fm-run" }, t("fill.predict"))),
    el("div", { class: "examples" }, el("span", {}, t("sentence.examples")),
      FILL_EXAMPLES.map((example, i) => el("button", { type: "button", class: "example", "data-key": `fm-example-${i}`, onclick: () => actions.fill(example) }, example))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    actions.fill(input.value);
  });
  return form;
}

/** The view's status line: loading, running, errors, timing and truncation. */
function statusLine(t: Translator, f: FillState, maxLength: number | null): HTMLElement {
  const parts: string[] = [];
  if (f.status) parts.push(f.status.text);
  else if (f.result) parts.push(t("fill.done", { ms: f.result.ms.toFixed(1) }));
  if (f.result?.truncated && maxLength) parts.push(t("sentence.truncated", { max: maxLength }));
  return el("p", { class: `status ${f.status?.kind ?? "info"}`, role: f.status?.kind === "error" ? "alert" : "status", "data-key": "fm-status" }, parts.join(" "));
}

/** The tokens as buttons: a click masks a token, or puts a masked one back. */
function tokenButtons({ state, t, actions }: ViewContext, r: FillMaskResult): HTMLElement {
  const restore = state.fill.restore;
  return el("ol", { class: "tokens fm-tokens", "data-key": "fm-tokens" }, r.tokens.map((token, i) => {
    const masked = token === MASK;
    const original = restore[i];
    const change = toggleMask(r, restore, i);
    const title = !maskable(r.tokens, i) ? t("fill.token.added", { token })
      : masked ? (original === undefined ? t("fill.token.typed") : t("fill.token.restore", { token: original })) : t("fill.token.mask", { token });
    return el("li", {}, el("button", {
      type: "button", class: masked ? "fm-token masked" : "fm-token", "data-key": `fm-token-${i}`, "data-token": token, title, "aria-label": title,
      "aria-pressed": masked ? "true" : "false", disabled: change === null, onclick: () => change && actions.fill(change.text, change.restore),
    }, el("span", { class: "token-text" }, token), masked && original !== undefined ? el("span", { class: "token-id" }, original) : null));
  }));
}

/** Layer and head (or mean) selectors of the attention strips. */
function attentionControls({ t, actions }: ViewContext, r: FillMaskResult, layer: number, head: HeadChoice): HTMLElement {
  const heads = r.attentions[0].shape[1];
  const choices: HeadChoice[] = ["mean", ...Array.from({ length: heads }, (_, h) => h)];
  const set = (change: Partial<FillState>): void => actions.setFill(change);
  return el("div", { class: "fm-attention-controls" },
    el("h3", {}, t("fill.attentionControls")),
    el("p", { class: "note" }, t("fill.attention.help")),
    el("div", { class: "controls" },
      el("span", { class: "control-label" }, t("pipeline.layer")),
      buttonGroup(t("pipeline.layer"), r.attentions.map((_, l) => String(l)), (l) => l === layer, (l) => set({ layer: l }), "fm-layer"),
      el("span", { class: "control-label" }, t("pipeline.head")),
      el("div", { class: "button-group", role: "group", "aria-label": t("pipeline.head") },
        choices.map((c) => el("button", { type: "button", "aria-pressed": String(c === head), "data-key": `fm-head-${c}`, onclick: () => set({ head: c }) },
          c === "mean" ? t("fill.headMean") : t("attention.head", { h: c }))))));
}

/** One [MASK]'s top candidates: rank, token, a bar and the probability; the filled-in sentence on hover. */
function candidateList(t: Translator, candidates: FillMaskResult["candidates"][number], m: number): HTMLElement {
  return el("div", { class: "fm-candidates-panel" },
    el("h4", {}, t("fill.candidates", { k: candidates.length })),
    el("ol", { class: "fm-candidates", "data-key": `fm-candidates-${m}` }, candidates.map((c, k) => el("li", {
      "data-key": `fm-candidate-${m}-${k}`, "data-score": c.score, "data-token": c.token, "data-sequence": c.sequence, title: t("fill.candidateTitle", { sequence: c.sequence }),
    },
    el("span", { class: "fm-rank" }, String(k + 1)),
    el("span", { class: "fm-token-str" }, c.token_str),
    el("span", { class: "bar", "aria-hidden": "true" }, el("span", { class: k === 0 ? "fill best" : "fill", style: `width:${(c.score * 100).toFixed(2)}%` })),
    el("span", { class: "fm-p" }, percent(c.score, 2))))),
    candidates[0] ? el("p", { class: "note fm-best", "data-key": `fm-best-${m}` }, t("fill.best", { sequence: candidates[0].sequence })) : null);
}

/** The attention of the [MASK] at `position` to every token, as a heat strip over the tokens. */
function attentionStrip(t: Translator, r: FillMaskResult, layer: number, head: HeadChoice, position: number, m: number): HTMLElement {
  const row = attentionRow(r, layer, head, position);
  const headName = head === "mean" ? t("fill.headMean") : t("attention.head", { h: head });
  return el("div", { class: "fm-attention-panel" },
    el("h4", {}, t("fill.attention", { l: layer, head: headName })),
    el("ol", { class: "fm-strip", "data-key": `fm-strip-${m}`, "aria-label": t("fill.attention.aria", { position }) }, row.map((w, j) => el("li", {
      class: j === position ? "fm-cell self" : "fm-cell", "data-index": j, "data-weight": w, title: `${MASK} → ${r.tokens[j]}: ${formatValue(w)}`,
      style: `background:${sequentialColour(w)};color:${w > 0.5 ? "#fff" : "inherit"}`,
    }, el("span", { class: "fm-cell-token" }, r.tokens[j]), el("span", { class: "fm-cell-weight" }, percent(w, 1))))));
}

/** Each [MASK]: its candidates beside its attention strip. */
function maskPanels(ctx: ViewContext, r: FillMaskResult, layer: number, head: HeadChoice): HTMLElement[] {
  const { t } = ctx;
  return r.masks.map((position, m) => el("section", { class: "fm-mask", "data-key": `fm-mask-${m}`, "aria-labelledby": `fm-mask-${m}-title` },
    el("h3", { id: `fm-mask-${m}-title` }, r.masks.length === 1 ? t("fill.maskAt", { position }) : t("fill.maskOf", { m: m + 1, count: r.masks.length, position })),
    el("div", { class: "fm-columns" }, candidateList(t, r.candidates[m] ?? [], m), attentionStrip(t, r, layer, head, position, m))));
}

/** The fill-mask view. */
export function fillMaskView(ctx: ViewContext): HTMLElement {
  const { state, t } = ctx;
  const f = state.fill;
  const slot = fillSlot(state.model, state.site);
  const top = [el("h2", { id: "fill-title" }, t("fill.title")), el("p", { class: "intro" }, t("fill.intro"))];
  const section = (...children: (HTMLElement | HTMLElement[] | null)[]): HTMLElement =>
    el("section", { class: "view fill-mask", "aria-labelledby": "fill-title" }, ...top, ...children);
  if (!slot) {
    return section(el("div", { class: "fm-none", "data-key": "fm-none" }, el("p", {}, t("fill.none")), el("p", {}, t("fill.none.how"))));
  }
  const info = slot === "main" ? state.model : f.shipped;
  const source = slot === "masked-lm" ? t("fill.model.shipped") : info?.name === "default" ? t("model.default") : t("fill.model.opened");
  const r = f.result && f.result.slot === slot ? f.result : null;
  const layer = r ? Math.min(f.layer, r.attentions.length - 1) : 0;
  const heads = r ? r.attentions[0].shape[1] : 0;
  const head: HeadChoice = f.head === "mean" ? "mean" : Math.min(f.head, heads - 1);
  const noMask = r && r.masks.length === 0
    ? el("p", { class: "note fm-no-mask", "data-key": "fm-no-mask" }, t("fill.noMask"), /\[mask\]/i.test(r.text) ? ` ${t("fill.caseHint")}` : "")
    : null;
  return section(
    info ? modelSummary(t, info, source, r?.int8 ?? false) : el("p", { class: "note fm-model", "data-key": "fm-model" }, t("fill.loading")),
    sentenceForm(ctx),
    statusLine(t, f, info?.maxLength ?? null),
    r ? el("div", { class: "fm-results", "aria-live": "polite", "data-key": "fm-results", "data-text": r.text },
      el("h3", {}, t("fill.tokens")),
      el("p", { class: "note" }, t("fill.tokens.help")),
      tokenButtons(ctx, r),
      noMask,
      r.masks.length > 0 ? attentionControls(ctx, r, layer, head) : null,
      maskPanels(ctx, r, layer, head)) : null);
}
