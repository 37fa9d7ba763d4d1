/** The top of the page: title, language switch, model line, the sentence form with examples, and the prediction. */
import { EXAMPLES } from "../examples.ts";
import { formatCount, formatPercent, formatValue } from "../format.ts";
import { labelText } from "../i18n.ts";
import { predictedIndex } from "../metrics.ts";
import type { ViewContext } from "../state.ts";
import { el } from "./dom.ts";

/** Title bar with the language switch. */
export function titleBar({ state, t, actions }: ViewContext): HTMLElement {
  return el("div", { class: "title-bar" },
    el("div", {}, el("h1", {}, t("app.title")), el("p", { class: "tagline" }, t("app.tagline"))),
    el("button", {
      type: "button", class: "lang-switch", lang: state.lang === "en" ? "zh" : "en", "aria-label": t("lang.switchLabel"), "data-key": "lang-switch",
      onclick: () => actions.set({ lang: state.lang === "en" ? "zh" : "en" }),
    }, t("lang.switch")));
}

/** How the model line names a model: the shipped ones by what they are, any other by its folder. */
function modelName(name: string, t: ViewContext["t"]): string {
  return name === "default" ? t("model.default") : name === "notes-encoder" ? t("model.notes") : name;
}

/** The button that swaps the default model and the notes' encoder, when the site ships both. */
function switchButton({ state, t, actions }: ViewContext): HTMLElement | null {
  if (!state.site.notesModel || !state.site.defaultModel || !state.model) return null;
  const onNotes = state.model.name === "notes-encoder";
  return el("button", { type: "button", "data-key": "switch-model", onclick: () => void (onNotes ? actions.openDefault() : actions.openNotes()) },
    t(onNotes ? "picker.reset" : "model.openNotes"));
}

/** The model line: what is loaded, the engine, "Open model…", and the switch to the notes' encoder. */
export function modelLine(ctx: ViewContext, openPicker: () => void): HTMLElement {
  const { state, t } = ctx;
  const m = state.model;
  const b = state.backend;
  const summary = m
    ? t("model.summary", {
      name: modelName(m.name, t), kind: t(m.kind === "bert" ? "model.kind.bert" : "model.kind.tsformer"),
      layers: m.layers, heads: m.heads, headDim: m.headDim, dModel: m.dModel, dFF: m.dFF, params: formatCount(m.parameters),
    })
    : state.site.defaultModel ? t("model.loading") : t("model.none");
  const engine = b ? `${t("backend.summary", { backend: b.name, threads: b.threads })}${b.isolated || b.name !== "wasm" ? "" : ` (${t("backend.notIsolated")})`}` : "";
  return el("div", { class: "model-line" },
    el("p", {}, el("strong", {}, `${t("model.label")}: `), el("span", { "data-key": "model-summary" }, summary)),
    el("p", { class: "note", "data-key": "backend" }, engine),
    el("button", { type: "button", "data-key": "open-model", onclick: openPicker, "aria-haspopup": "dialog" }, t("model.open")),
    switchButton(ctx));
}

/** The sentence form and the example buttons. */
export function sentenceForm({ state, t, actions }: ViewContext): HTMLElement {
  const input = el("input", { id: "sentence", type: "text", value: state.text, "data-key": "sentence", autocomplete: "off", spellcheck: "false",
    oninput: (e: Event) => actions.draft((e.target as HTMLInputElement).value) });
  const form = el("form", { class: "sentence-form", "aria-label": t("sentence.label") },
    el("label", { for: "sentence" }, t("sentence.label")),
    el("div", { class: "sentence-row" }, input, el("button", { type: "submit", class: "primary", "data-key": "run" }, t("sentence.run"))),
    el("div", { class: "examples" }, el("span", {}, t("sentence.examples")),
      EXAMPLES.map((example, i) => el("button", { type: "button", class: "example", "data-key": `example-${i}`, onclick: () => actions.run(example) }, example))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    actions.run(input.value);
  });
  return form;
}

/** The status line (busy, errors, timing, truncation). */
export function statusLine({ state, t }: ViewContext): HTMLElement {
  const r = state.result;
  const parts: string[] = [];
  if (state.status) parts.push(state.status.text);
  else if (r) parts.push(t("status.done", { ms: r.ms.toFixed(1) }));
  if (r?.truncated && state.model) parts.push(t("sentence.truncated", { max: state.model.maxLength }));
  return el("p", { class: `status ${state.status?.kind ?? "info"}`, role: state.status?.kind === "error" ? "alert" : "status", "data-key": "status" }, parts.join(" "));
}

/** The prediction: the top label and a bar per label with its probability. */
export function prediction({ state, t }: ViewContext): HTMLElement | null {
  const r = state.result;
  const labels = state.model?.labels;
  if (!r) return null;
  if (!r.probs || !labels) return el("section", { class: "prediction", "aria-labelledby": "prediction-title" }, el("h2", { id: "prediction-title" }, t("prediction.title")), el("p", { class: "note" }, t("prediction.none")));
  const best = predictedIndex(r);
  return el("section", { class: "prediction", "aria-labelledby": "prediction-title", "data-key": "prediction" },
    el("h2", { id: "prediction-title" }, t("prediction.title"),
      r.int8 ? el("span", { class: "badge", title: t("int8.badgeLabel"), "data-key": "prediction-int8" }, t("int8.badge")) : null),
    el("p", { class: "prediction-main", "data-key": "prediction-main" }, t("prediction.text", { label: labelText(t, labels[best]), p: formatPercent(r.probs[best]) })),
    el("ul", { class: "prob-bars" }, labels.map((label, k) => {
      const p = r.probs?.[k] ?? 0;
      return el("li", { "data-key": `prob-${label}`, "data-label": label },
        el("span", { class: "prob-label" }, t("prediction.bar", { label: labelText(t, label), p: formatValue(p) })),
        el("span", { class: "bar", "aria-hidden": "true" }, el("span", { class: k === best ? "fill best" : "fill", style: `width:${(p * 100).toFixed(2)}%` })));
    })));
}
