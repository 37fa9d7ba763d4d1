/**
 * Attention as bertviz draws it: the head view (one layer; lines from each query token on the left to the keys on
 * the right, one colour per head, opacity = weight) and the model view (a thumbnail per layer × head). Clicking a
 * token focuses it: only its lines are drawn, in both views. Both can be saved as SVG and PNG (the model view's
 * canvases are redrawn as SVG lines from the same weights).
 */
import type { RunResult } from "../engine/protocol.ts";
import { formatValue } from "../format.ts";
import type { Translator } from "../i18n.ts";
import type { AppState, TokenFocus, ViewContext } from "../state.ts";
import { buttonGroup, el, svg } from "./dom.ts";
import { saveButtons, svgDocument, textWidth } from "./figure-export.ts";

/** Head colours (Tableau 10 and two more), distinguishable on white. */
const HEAD_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#17becf"];

const ROW = 26; // px between token rows in the head view
const LINE_WIDTH = 220; // px between the two token columns
const MIN_WEIGHT = 0.01; // lines lighter than this are not drawn

/** A head's colour. */
function headColour(h: number): string {
  return HEAD_COLOURS[h % HEAD_COLOURS.length];
}

/** Whether the line i → j is drawn under the current focus. */
function shown(focus: TokenFocus | null, i: number, j: number): boolean {
  if (!focus) return true;
  return focus.side === "query" ? focus.index === i : focus.index === j;
}

/** The lines of one head that are drawn: query i → key j with weight w (at least MIN_WEIGHT, under the focus). */
function headLines(r: RunResult, layer: number, head: number, focus: TokenFocus | null): { i: number; j: number; w: number }[] {
  const a = r.attentions[layer];
  const n = a.shape[2];
  const lines: { i: number; j: number; w: number }[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const w = a.data[(head * n + i) * n + j];
      if (w >= MIN_WEIGHT && shown(focus, i, j)) lines.push({ i, j, w });
    }
  }
  return lines;
}

/** The head view of a layer as a standalone SVG: the tokens on both sides and the lines of the shown heads. */
function headViewSvg(t: Translator, r: RunResult, state: AppState, layer: number): SVGSVGElement {
  const left = 14 + Math.max(...r.tokens.map((token) => textWidth(token, 12)));
  const top = 32;
  const title = `${t("attention.headView")} · ${t("pipeline.layer")} ${layer}`;
  const label = (token: string, i: number, side: "query" | "key"): SVGElement => svg("text", {
    x: side === "query" ? left - 6 : left + LINE_WIDTH + 6, y: top + i * ROW + ROW / 2 + 4, "text-anchor": side === "query" ? "end" : "start", "font-size": 12,
    "font-weight": state.focus?.side === side && state.focus.index === i ? 700 : 400, fill: i >= r.realLength ? "#5b6472" : "#1d2430",
  }, token);
  const lines = state.shownHeads.flatMap((on, h) => (on ? headLines(r, layer, h, state.focus).map(({ i, j, w }) => svg("line", {
    x1: left, y1: top + i * ROW + ROW / 2, x2: left + LINE_WIDTH, y2: top + j * ROW + ROW / 2, stroke: headColour(h), "stroke-width": 2, "stroke-opacity": Math.min(1, w).toFixed(3),
  })) : []));
  return svgDocument(Math.max(2 * left + LINE_WIDTH, textWidth(title, 13) + 16), top + r.tokens.length * ROW + 8,
    svg("text", { x: 8, y: 18, "font-size": 13, "font-weight": 600 }, title),
    lines, r.tokens.map((token, i) => [label(token, i, "query"), label(token, i, "key")]));
}

/** The model view as a standalone SVG: a thumbnail of lines per layer × head, as the page's canvases draw them. */
function modelViewSvg(t: Translator, r: RunResult, focus: TokenFocus | null): SVGSVGElement {
  const size = 72;
  const gap = 8;
  const left = 16 + textWidth(t("pipeline.layer"), 12);
  const top = 48;
  const n = r.tokens.length;
  const y = (i: number): number => 4 + ((size - 8) * (i + 0.5)) / n;
  const thumbs = r.attentions.map((_, l) => Array.from({ length: r.heads }, (_, h) => {
    const x0 = left + h * (size + gap);
    const y0 = top + l * (size + gap);
    return [svg("rect", { x: x0, y: y0, width: size, height: size, fill: "#fff", stroke: "#d7dce3", rx: 6 }),
      headLines(r, l, h, focus).map(({ i, j, w }) => svg("line", {
        x1: x0 + 8, y1: y0 + y(i), x2: x0 + size - 8, y2: y0 + y(j), stroke: headColour(h), "stroke-width": 1, "stroke-opacity": Math.min(1, w).toFixed(3),
      }))];
  }));
  const title = t("attention.modelView");
  return svgDocument(Math.max(left + r.heads * (size + gap) + 8, textWidth(title, 13) + 16), top + r.attentions.length * (size + gap) + 8,
    svg("text", { x: 8, y: 18, "font-size": 13, "font-weight": 600 }, title),
    svg("text", { x: 8, y: top - 10, "font-weight": 600, "font-size": 12 }, t("pipeline.layer")),
    Array.from({ length: r.heads }, (_, h) => svg("text", { x: left + h * (size + gap) + size / 2, y: top - 10, "text-anchor": "middle", "font-weight": 600, "font-size": 12 }, t("attention.head", { h }))),
    r.attentions.map((_, l) => svg("text", { x: left - 8, y: top + l * (size + gap) + size / 2 + 4, "text-anchor": "end", "font-size": 12 }, String(l))),
    thumbs);
}

/** The head view of one layer. */
function headView(t: Translator, r: RunResult, state: AppState, layer: number, onFocus: (f: TokenFocus) => void): HTMLElement {
  const n = r.attentions[layer].shape[2];
  const lines = state.shownHeads.flatMap((on, h) => (on ? headLines(r, layer, h, state.focus).map(({ i, j, w }) => svg("line", {
    x1: 0, y1: i * ROW + ROW / 2, x2: LINE_WIDTH, y2: j * ROW + ROW / 2, stroke: headColour(h), "stroke-width": 2,
    "stroke-opacity": Math.min(1, w).toFixed(3), "data-head": h, "data-from": i, "data-to": j, "data-weight": w,
  }, svg("title", {}, t("attention.line", { from: r.tokens[i], to: r.tokens[j], h, w: formatValue(w) })))) : []));
  const column = (side: "query" | "key"): HTMLElement => el("div", { class: `token-column ${side}` },
    r.tokens.map((token, i) => {
      const pressed = state.focus?.side === side && state.focus.index === i;
      return el("button", {
        type: "button", class: i >= r.realLength ? "token-button pad" : "token-button", style: `height:${ROW}px`,
        "aria-pressed": String(pressed), "data-key": `hv-${side}-${i}`,
        "aria-label": `${t(side === "query" ? "attention.queries" : "attention.keys")} ${i}: ${t("attention.focusToken", { token })}`,
        onclick: () => onFocus({ side, index: i }),
      }, token);
    }));
  return el("div", { class: "head-view", "data-key": "head-view" },
    column("query"),
    svg("svg", { width: LINE_WIDTH, height: n * ROW, viewBox: `0 0 ${LINE_WIDTH} ${n * ROW}`, role: "img", "aria-label": t("attention.svgLabel", { l: layer }) }, lines),
    column("key"));
}

/** A thumbnail of one head's lines, drawn on a canvas. */
function thumbnail(r: RunResult, layer: number, head: number, focus: TokenFocus | null): HTMLCanvasElement {
  const size = 72;
  const ratio = globalThis.devicePixelRatio || 1;
  const canvas = el("canvas", { width: size * ratio, height: size * ratio, style: `width:${size}px;height:${size}px`, "aria-hidden": "true" });
  const ctx = canvas.getContext("2d");
  const n = r.attentions[layer].shape[2];
  if (!ctx) return canvas;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const y = (i: number): number => 4 + ((size - 8) * (i + 0.5)) / n;
  ctx.strokeStyle = headColour(head);
  ctx.lineWidth = 1;
  for (const { i, j, w } of headLines(r, layer, head, focus)) {
    ctx.globalAlpha = Math.min(1, w);
    ctx.beginPath();
    ctx.moveTo(8, y(i));
    ctx.lineTo(size - 8, y(j));
    ctx.stroke();
  }
  return canvas;
}

/** The model view: layers × heads. */
function modelView(t: Translator, r: RunResult, state: AppState, open: (layer: number, head: number) => void): HTMLElement {
  const layers = r.attentions.length;
  return el("div", { class: "model-view-scroll" },
    el("table", { class: "model-view", "data-key": "model-view" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("pipeline.layer")),
        Array.from({ length: r.heads }, (_, h) => el("th", { scope: "col" }, t("attention.head", { h }))))),
      el("tbody", {}, Array.from({ length: layers }, (_, l) => el("tr", {},
        el("th", { scope: "row" }, String(l)),
        Array.from({ length: r.heads }, (_, h) => el("td", {},
          el("button", {
            type: "button", class: "thumb", "data-key": `mv-${l}-${h}`, "aria-label": t("attention.openHead", { l, h }),
            "aria-current": l === state.layer && state.shownHeads[h] ? "true" : "false", onclick: () => open(l, h),
          }, thumbnail(r, l, h, state.focus)))))))));
}

/** The attention view. */
export function attentionView({ state, t, actions }: ViewContext): HTMLElement {
  const r = state.result;
  if (!r) return el("section", { class: "view" }, el("p", {}, t("pipeline.empty")));
  const layer = Math.min(state.layer, r.attentions.length - 1);
  const shownHeads = Array.from({ length: r.heads }, (_, h) => state.shownHeads[h] ?? true);
  const view = { ...state, shownHeads };
  const onFocus = (f: TokenFocus): void => {
    const same = state.focus?.side === f.side && state.focus.index === f.index;
    actions.set({ focus: same ? null : f });
  };
  const headButtons = el("div", { class: "button-group", role: "group", "aria-label": t("attention.heads") },
    shownHeads.map((on, h) => el("button", {
      type: "button", "aria-pressed": String(on), "data-key": `hv-head-${h}`, class: "head-toggle", style: `--head-colour:${headColour(h)}`,
      onclick: () => actions.set({ shownHeads: shownHeads.map((v, k) => (k === h ? !v : v)) }),
    }, el("span", { class: "swatch", "aria-hidden": "true" }), t("attention.head", { h }))),
    el("button", { type: "button", class: "small", "data-key": "hv-all", onclick: () => actions.set({ shownHeads: shownHeads.map(() => true) }) }, t("attention.allHeads")),
    el("button", { type: "button", class: "small", "data-key": "hv-none", onclick: () => actions.set({ shownHeads: shownHeads.map(() => false) }) }, t("attention.noHeads")));
  const focusNote = state.focus
    ? el("p", { class: "note", "aria-live": "polite", "data-key": "hv-focus-note" }, t("attention.focused", { token: r.tokens[state.focus.index] ?? "" }))
    : null;
  const openHead = (l: number, h: number): void => {
    actions.set({ layer: l, shownHeads: shownHeads.map((_, k) => k === h) });
    document.getElementById("head-view-title")?.scrollIntoView({ block: "start" });
  };
  const headPanel = el("div", {},
    el("div", { class: "ex-heading" }, el("h3", { id: "head-view-title", tabindex: -1 }, t("attention.headView")),
      saveButtons(t, `tsformer-head-view-layer${layer}`, t("attention.headView"), "head-view", () => headViewSvg(t, r, view, layer))),
    el("div", { class: "controls" },
      el("span", { class: "control-label" }, t("pipeline.layer")),
      buttonGroup(t("pipeline.layer"), Array.from({ length: r.attentions.length }, (_, l) => String(l)), (l) => l === layer, (l) => actions.set({ layer: l }), "hv-layer"),
      headButtons),
    focusNote,
    el("div", { class: "head-view-scroll" }, headView(t, r, view, layer, onFocus)));
  const modelPanel = el("div", {},
    el("div", { class: "ex-heading" }, el("h3", {}, t("attention.modelView")),
      saveButtons(t, "tsformer-model-view", t("attention.modelView"), "model-view", () => modelViewSvg(t, r, state.focus))),
    el("p", { class: "note" }, t("attention.modelViewHelp")),
    modelView(t, r, { ...view, layer }, openHead));
  return el("section", { class: "view attention", "aria-labelledby": "attention-title" },
    el("h2", { id: "attention-title" }, t("nav.attention")),
    el("p", { class: "intro" }, t("attention.intro")),
    el("div", { class: "attention-layout" }, headPanel, modelPanel));
}
