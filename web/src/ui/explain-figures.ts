/**
 * The Explain view's two charts, each drawn twice from the same numbers: on the page (HTML, so it reflows from
 * 1280 px to 375 px) and as a standalone SVG for saving. The token relevance is one small panel per method with a
 * bar per token (signed methods: + red to the right, − blue to the left); the head importance is a layers × heads
 * grid whose cells toggle removing the head.
 */
import type { ExplainMethod, MethodScores } from "../../../src/explain/explain.ts";
import type { HeadRef } from "../../../src/explain/heads.ts";
import type { ExplainResult } from "../engine/protocol.ts";
import { formatShort } from "../format.ts";
import { type Translator, labelText } from "../i18n.ts";
import { el, svg } from "./dom.ts";
import { svgDocument, textWidth } from "./figure-export.ts";
import { sequentialColour } from "./heatmap.ts";

/** Bar colours: evidence for the class (+), against it (−), and scores without a sign. */
const BAR_COLOURS = { plus: "rgb(178, 24, 43)", minus: "rgb(33, 102, 172)", unsigned: "#6a5fa8" } as const;

/** A method's name in the page's language. */
function methodName(t: Translator, method: ExplainMethod): string {
  return t(`method.${method}`);
}

/** The largest |score| of a method (1 when all are 0), which its bars are scaled by. */
function scaleOf(m: MethodScores): number {
  return Math.max(...m.scores.map(Math.abs)) || 1;
}

/** The colour of a score's bar. */
function barColour(m: MethodScores, v: number): string {
  return !m.signed ? BAR_COLOURS.unsigned : v >= 0 ? BAR_COLOURS.plus : BAR_COLOURS.minus;
}

/** One method's panel: its name, what it measures, and a bar per token with the score. */
function methodPanel(t: Translator, e: ExplainResult, m: MethodScores): HTMLElement {
  const scale = scaleOf(m);
  return el("section", { class: "ex-method", "data-key": `ex-method-${m.method}`, "aria-labelledby": `ex-method-${m.method}-title` },
    el("h4", { id: `ex-method-${m.method}-title` }, methodName(t, m.method)),
    el("p", { class: "ex-sign" }, t(m.signed ? "explain.signed" : "explain.unsigned")),
    // The bars come before the descriptions (of different lengths), so every panel's bars line up.
    el("ol", { class: "ex-bars" }, m.scores.map((v, i) => {
      const width = `${((Math.abs(v) / scale) * (m.signed ? 50 : 100)).toFixed(2)}%`;
      const place = !m.signed ? "left:0" : v >= 0 ? "left:50%" : "right:50%";
      return el("li", { "data-key": `ex-score-${m.method}-${i}`, "data-score": v, title: `${e.tokens[i]}: ${v}` },
        el("span", { class: "ex-token" }, e.tokens[i]),
        el("span", { class: m.signed ? "ex-track signed" : "ex-track", "aria-hidden": "true" },
          el("span", { class: "ex-bar", style: `${place};width:${width};background:${barColour(m, v)}` })),
        el("span", { class: "ex-value" }, formatShort(v)));
    })),
    el("p", { class: "note ex-what" }, t(`method.${m.method}.what`)));
}

/** The token relevance on the page: one panel per method, side by side (wrapping on narrow screens). */
export function relevancePanels(t: Translator, e: ExplainResult): HTMLElement {
  return el("div", { class: "ex-methods", "data-key": "ex-relevance" }, e.methods.map((m) => methodPanel(t, e, m)));
}

/** The token relevance as a standalone SVG: the tokens, then one column of bars per method, and the colour key. */
export function relevanceSvg(t: Translator, e: ExplainResult): SVGSVGElement {
  const row = 20;
  const column = 184;
  const track = 104;
  const left = 12 + Math.max(...e.tokens.map((token) => textWidth(token, 11)));
  const top = 58;
  const title = t("explain.relevanceFigure", { label: labelText(t, e.target) });
  const width = Math.max(left + column * e.methods.length + 8, textWidth(title, 13) + 16);
  const bottom = top + row * e.tokens.length;
  const columns = e.methods.map((m, k) => {
    const x0 = left + k * column + 6;
    const scale = scaleOf(m);
    const axis = m.signed ? x0 + track / 2 : x0;
    return [
      svg("text", { x: x0, y: top - 22, "font-weight": 600 }, methodName(t, m.method)),
      svg("text", { x: x0, y: top - 8, "font-size": 10, fill: "#5b6472" }, t(m.signed ? "explain.signed" : "explain.unsigned")),
      svg("line", { x1: axis, y1: top - 2, x2: axis, y2: bottom, stroke: "#b0b7c3" }),
      m.scores.map((v, i) => {
        const w = (Math.abs(v) / scale) * (m.signed ? track / 2 : track);
        return [
          svg("rect", { x: m.signed && v < 0 ? axis - w : axis, y: top + i * row + 4, width: w, height: row - 8, fill: barColour(m, v) }),
          svg("text", { x: x0 + track + 6, y: top + i * row + 14, "font-size": 10, fill: "#5b6472" }, formatShort(v)),
        ];
      }),
    ];
  });
  const minusX = 8 + 14 + textWidth(t("explain.plus"), 10) + 16;
  return svgDocument(width, bottom + 30,
    svg("text", { x: 8, y: 18, "font-size": 13, "font-weight": 600 }, title),
    e.tokens.map((token, i) => svg("text", { x: left - 6, y: top + i * row + 14, "text-anchor": "end" }, token)),
    columns,
    svg("rect", { x: 8, y: bottom + 12, width: 10, height: 10, fill: BAR_COLOURS.plus }),
    svg("text", { x: 22, y: bottom + 21, "font-size": 10 }, t("explain.plus")),
    svg("rect", { x: minusX, y: bottom + 12, width: 10, height: 10, fill: BAR_COLOURS.minus }),
    svg("text", { x: minusX + 14, y: bottom + 21, "font-size": 10 }, t("explain.minus")));
}

/** Whether `ref` is among `heads`. */
export function hasHead(heads: readonly HeadRef[], ref: HeadRef): boolean {
  return heads.some((h) => h.layer === ref.layer && h.head === ref.head);
}

/** Importance of head (l, h) and the largest importance (1 when all are 0). */
function importanceOf(e: ExplainResult): { at: (l: number, h: number) => number; max: number } {
  return { at: (l, h) => e.headImportance[l * e.heads + h], max: Math.max(...e.headImportance) || 1 };
}

/** The head-importance grid: a button per head, shaded by importance; pressed = removed. */
export function headGrid(t: Translator, e: ExplainResult, masked: readonly HeadRef[], onToggle: (ref: HeadRef) => void): HTMLElement {
  const { at, max } = importanceOf(e);
  return el("div", { class: "table-scroll" }, el("table", { class: "ex-heads", "data-key": "ex-heads" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("pipeline.layer")),
      Array.from({ length: e.heads }, (_, h) => el("th", { scope: "col" }, t("attention.head", { h }))))),
    el("tbody", {}, Array.from({ length: e.numLayers }, (_, l) => el("tr", {},
      el("th", { scope: "row" }, String(l)),
      Array.from({ length: e.heads }, (_, h) => {
        const v = at(l, h);
        const removed = hasHead(masked, { layer: l, head: h });
        return el("td", {}, el("button", {
          type: "button", class: removed ? "ex-head removed" : "ex-head", "data-key": `ex-head-${l}-${h}`, "data-importance": v,
          "aria-pressed": String(removed), "aria-label": t("explain.heads.cell", { l, h, v: formatShort(v), action: t(removed ? "explain.heads.unmask" : "explain.heads.mask") }),
          style: `background:${sequentialColour(v / max)};color:${v / max > 0.5 ? "#fff" : "inherit"}`,
          onclick: () => onToggle({ layer: l, head: h }),
        }, formatShort(v)));
      }))))));
}

/** The head-importance grid as a standalone SVG; removed heads are crossed out. */
export function headGridSvg(t: Translator, e: ExplainResult, masked: readonly HeadRef[]): SVGSVGElement {
  const { at, max } = importanceOf(e);
  const cellW = 76;
  const cellH = 32;
  const left = 16 + textWidth(t("pipeline.layer"), 11);
  const top = 48;
  const title = t("explain.headsFigure");
  const cells = Array.from({ length: e.numLayers }, (_, l) => Array.from({ length: e.heads }, (_, h) => {
    const v = at(l, h);
    const x = left + h * cellW;
    const y = top + l * cellH;
    return [
      svg("rect", { x, y, width: cellW, height: cellH, fill: sequentialColour(v / max), stroke: "#fff" }),
      svg("text", { x: x + cellW / 2, y: y + cellH / 2 + 4, "text-anchor": "middle", fill: v / max > 0.5 ? "#fff" : "#1d2430" }, formatShort(v)),
      hasHead(masked, { layer: l, head: h }) ? svg("path", { d: `M${x + 4} ${y + 4}L${x + cellW - 4} ${y + cellH - 4}M${x + cellW - 4} ${y + 4}L${x + 4} ${y + cellH - 4}`, stroke: "#b3261e", "stroke-width": 2 }) : null,
    ];
  }));
  return svgDocument(Math.max(left + e.heads * cellW + 12, textWidth(title, 13) + 16), top + e.numLayers * cellH + 12,
    svg("text", { x: 8, y: 18, "font-size": 13, "font-weight": 600 }, title),
    svg("text", { x: 8, y: top - 8, "font-weight": 600 }, t("pipeline.layer")),
    Array.from({ length: e.heads }, (_, h) => svg("text", { x: left + h * cellW + cellW / 2, y: top - 8, "text-anchor": "middle", "font-weight": 600 }, t("attention.head", { h }))),
    Array.from({ length: e.numLayers }, (_, l) => svg("text", { x: left - 8, y: top + l * cellH + cellH / 2 + 4, "text-anchor": "end" }, String(l))),
    cells);
}
