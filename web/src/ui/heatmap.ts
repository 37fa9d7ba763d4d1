/**
 * A matrix as a heat map on a canvas: one cell per value, the value on hover (or with the arrow keys once the map
 * has focus, announced through a live region), and a "Show numbers" table for reading every value; optionally
 * saved as SVG and PNG (`heatmapSvg` draws the same cells and labels as a standalone SVG).
 */
import { formatValue } from "../format.ts";
import type { Translator } from "../i18n.ts";
import { el, svg } from "./dom.ts";
import { saveButtons, svgDocument, textWidth } from "./figure-export.ts";

/** What to draw. */
export interface HeatmapSpec {
  /** What the matrix is, for the label and the readout ("softmax, layer 0, head 1"). */
  title: string;
  /** Row-major values, `rows × cols`. */
  values: Float32Array;
  rows: number;
  cols: number;
  /** One label per row (tokens). */
  rowLabels: string[];
  /** One label per column (tokens), or null for feature dimensions (labelled "dim j"). */
  colLabels: string[] | null;
  /**
   * "signed": blue–white–red around 0, scaled by the largest |value|; "probability": white to blue on [0, 1];
   * "magnitude": white to blue from 0 to the largest value (non-negative scores of any size).
   */
  scale: "signed" | "probability" | "magnitude";
  /** A stable name (data-key), so focus survives re-rendering and tests can find the map. */
  key: string;
  /** A row to outline (the focused token). */
  highlightRow?: number | null;
  /** With a file name (without extension), the map gets SVG and PNG buttons. */
  exportName?: string;
}

const TOKEN_CELL = 22; // px: square cells for token × token maps
const ROW_HEIGHT = 18; // px: rows of token × feature maps
const FEATURE_WIDTH = 512; // px: the width feature maps aim for
const TABLE_COLUMNS = 64; // the numbers table shows at most this many columns

/** Blue (negative), white (0), red (positive): t in [−1, 1]. */
function divergingColour(t: number): string {
  const c = Math.max(-1, Math.min(1, t));
  const [r, g, b] = c >= 0 ? [178, 24, 43] : [33, 102, 172];
  const a = Math.abs(c);
  return `rgb(${Math.round(255 + (r - 255) * a)}, ${Math.round(255 + (g - 255) * a)}, ${Math.round(255 + (b - 255) * a)})`;
}

/** White (0) to dark blue (1): the colour of probabilities (also the fill-mask view's attention strip). */
export function sequentialColour(t: number): string {
  const c = Math.max(0, Math.min(1, t));
  return `rgb(${Math.round(255 - 247 * c)}, ${Math.round(255 - 207 * c)}, ${Math.round(255 - 148 * c)})`;
}

/** The colour function of a spec, fixed by its values' range. */
function colourScale(spec: HeatmapSpec): { colour: (v: number) => string; min: number; max: number } {
  if (spec.scale === "probability") return { colour: sequentialColour, min: 0, max: 1 };
  let maxAbs = 0;
  for (const v of spec.values) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  const m = maxAbs || 1;
  if (spec.scale === "magnitude") return { colour: (v) => sequentialColour(v / m), min: 0, max: m };
  return { colour: (v) => divergingColour(v / m), min: -m, max: m };
}

/** Cell width and height: square cells for token × token maps, thin columns for token × feature maps. */
function cellSize(spec: HeatmapSpec): { cellW: number; cellH: number } {
  if (spec.colLabels !== null) return { cellW: TOKEN_CELL, cellH: TOKEN_CELL };
  return { cellW: Math.max(1, Math.min(12, Math.floor(FEATURE_WIDTH / spec.cols))), cellH: ROW_HEIGHT };
}

/** The heat map as a standalone SVG: its title, the column and row labels, every cell, and the colour range. */
function heatmapSvg(spec: HeatmapSpec, t: Translator): SVGSVGElement {
  const { cellW, cellH } = cellSize(spec);
  const { colour, min, max } = colourScale(spec);
  const labelSize = 11;
  const left = 12 + Math.max(0, ...spec.rowLabels.map((l) => textWidth(l, labelSize)));
  const colLabelHeight = spec.colLabels ? 8 + Math.max(0, ...spec.colLabels.map((l) => textWidth(l, labelSize))) : 0;
  const top = 28 + colLabelHeight;
  const mapW = cellW * spec.cols;
  const mapH = cellH * spec.rows;
  const range = t("heatmap.range", { min: formatValue(min), max: formatValue(max) });
  const width = Math.max(left + mapW + 12, textWidth(spec.title, 13) + 16, 110 + textWidth(range, 10));
  const cells: SVGElement[] = [];
  for (let i = 0; i < spec.rows; i++) {
    for (let j = 0; j < spec.cols; j++) {
      const v = spec.values[i * spec.cols + j];
      cells.push(svg("rect", { x: left + j * cellW, y: top + i * cellH, width: cellW, height: cellH, fill: v === -Infinity ? "#c8c8c8" : colour(v) }));
    }
  }
  const steps = 16; // the legend's colour ramp, drawn as small rects (no gradient defs needed)
  const legendY = top + mapH + 12;
  return svgDocument(width, legendY + 20,
    svg("text", { x: 8, y: 18, "font-size": 13, "font-weight": 600 }, spec.title),
    (spec.colLabels ?? []).map((label, j) => {
      const x = left + j * cellW + cellW / 2 + 4;
      return svg("text", { x, y: top - 6, transform: `rotate(-90 ${x} ${top - 6})`, "font-size": labelSize }, label);
    }),
    spec.rowLabels.map((label, i) => svg("text", { x: left - 6, y: top + i * cellH + cellH / 2 + 4, "text-anchor": "end", "font-size": labelSize }, label)),
    cells,
    svg("rect", { x: left, y: top, width: mapW, height: mapH, fill: "none", stroke: "#d7dce3" }),
    Array.from({ length: steps }, (_, k) => svg("rect", {
      x: 8 + k * 6, y: legendY, width: 6, height: 8, fill: spec.scale === "signed" ? colour(min + ((k + 0.5) / steps) * (max - min)) : colour(((k + 0.5) / steps) * max),
    })),
    svg("text", { x: 8 + steps * 6 + 8, y: legendY + 8, "font-size": 10, fill: "#5b6472" }, range));
}

/** The label of column j. */
function colLabel(spec: HeatmapSpec, j: number, t: Translator): string {
  return spec.colLabels ? spec.colLabels[j] : t("heatmap.dim", { i: j });
}

/** "row → column: value" for the readout and the tooltip. */
function cellText(spec: HeatmapSpec, i: number, j: number, t: Translator): string {
  const v = spec.values[i * spec.cols + j];
  const value = v === -Infinity ? t("heatmap.masked") : formatValue(v);
  return spec.colLabels ? `${spec.rowLabels[i]} → ${spec.colLabels[j]}: ${value}` : `${spec.rowLabels[i]}, ${colLabel(spec, j, t)}: ${value}`;
}

/** The table of values ("Show numbers"): rows = tokens, at most TABLE_COLUMNS columns. */
function numbersTable(spec: HeatmapSpec, t: Translator): HTMLElement {
  const shown = Math.min(spec.cols, TABLE_COLUMNS);
  const cols = Array.from({ length: shown }, (_, j) => j);
  return el("div", { class: "numbers" },
    shown < spec.cols ? el("p", { class: "note" }, t("heatmap.colsShown", { shown, total: spec.cols })) : null,
    el("table", { "data-key": `${spec.key}-table` },
      el("caption", { class: "visually-hidden" }, spec.title),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, ""), cols.map((j) => el("th", { scope: "col" }, colLabel(spec, j, t))))),
      el("tbody", {}, spec.rowLabels.map((label, i) => el("tr", {},
        el("th", { scope: "row" }, label),
        cols.map((j) => el("td", {}, formatValue(spec.values[i * spec.cols + j]))))))));
}

/** Builds the heat map figure. */
export function heatmap(spec: HeatmapSpec, t: Translator): HTMLElement {
  const tokenCols = spec.colLabels !== null;
  const { cellW, cellH } = cellSize(spec);
  const width = cellW * spec.cols;
  const height = cellH * spec.rows;
  const { colour, min, max } = colourScale(spec);
  const canvas = el("canvas", {
    class: "heatmap-canvas", tabindex: 0, role: "img", "data-key": `${spec.key}-canvas`,
    "aria-label": t("heatmap.aria", { title: spec.title, rows: spec.rows, cols: spec.cols }),
    style: `width:${width}px;height:${height}px`,
  });
  const ratio = globalThis.devicePixelRatio || 1;
  canvas.width = Math.ceil(width * ratio);
  canvas.height = Math.ceil(height * ratio);
  const readout = el("p", { class: "readout", "aria-live": "polite", "data-key": `${spec.key}-readout` }, t("heatmap.hint"));
  const tooltip = el("div", { class: "tooltip", hidden: true, role: "presentation" });
  let cursor: [number, number] | null = null;

  const draw = (): void => {
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    for (let i = 0; i < spec.rows; i++) {
      for (let j = 0; j < spec.cols; j++) {
        const v = spec.values[i * spec.cols + j];
        ctx.fillStyle = v === -Infinity ? "#c8c8c8" : colour(v);
        ctx.fillRect(j * cellW, i * cellH, cellW, cellH);
        if (v === -Infinity && cellW > 6) { // hatch masked cells so they read as "no value", not as a colour
          ctx.strokeStyle = "#888";
          ctx.beginPath();
          ctx.moveTo(j * cellW, (i + 1) * cellH);
          ctx.lineTo((j + 1) * cellW, i * cellH);
          ctx.stroke();
        }
      }
    }
    const outline = (i: number, j: number, w: number, colourName: string): void => {
      ctx.strokeStyle = colourName;
      ctx.lineWidth = 2;
      ctx.strokeRect(j * cellW + 1, i * cellH + 1, w - 2, cellH - 2);
    };
    if (spec.highlightRow !== null && spec.highlightRow !== undefined && spec.highlightRow < spec.rows) outline(spec.highlightRow, 0, width, "#f0a202");
    if (cursor) outline(cursor[0], cursor[1], cellW, "#111");
  };

  const show = (i: number, j: number, x: number | null, y: number | null): void => {
    const text = cellText(spec, i, j, t);
    readout.textContent = text;
    if (x === null || y === null) {
      tooltip.hidden = true;
      return;
    }
    tooltip.textContent = text;
    tooltip.hidden = false;
    tooltip.style.left = `${x + 12}px`;
    tooltip.style.top = `${y + 12}px`;
  };

  canvas.addEventListener("mousemove", (event) => {
    const j = Math.min(spec.cols - 1, Math.max(0, Math.floor(event.offsetX / cellW)));
    const i = Math.min(spec.rows - 1, Math.max(0, Math.floor(event.offsetY / cellH)));
    show(i, j, canvas.offsetLeft + event.offsetX, canvas.offsetTop + event.offsetY);
  });
  canvas.addEventListener("mouseleave", () => (tooltip.hidden = true));
  canvas.addEventListener("keydown", (event) => {
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key];
    if (!move && event.key !== "Home" && event.key !== "End") return;
    event.preventDefault();
    const [i, j] = cursor ?? [0, 0];
    cursor = event.key === "Home" ? [i, 0] : event.key === "End" ? [i, spec.cols - 1]
      : cursor === null ? [0, 0] : [Math.min(spec.rows - 1, Math.max(0, i + move[0])), Math.min(spec.cols - 1, Math.max(0, j + move[1]))];
    draw();
    show(cursor[0], cursor[1], null, null);
  });
  canvas.addEventListener("blur", () => {
    cursor = null;
    draw();
  });
  draw();

  const labelStyle = `height:${cellH}px;line-height:${cellH}px`;
  const rowLabels = el("div", { class: "row-labels", "aria-hidden": "true" },
    spec.rowLabels.map((label, i) => el("span", { style: labelStyle, class: i === spec.highlightRow ? "highlight" : "" }, label)));
  const colLabels = tokenCols
    ? el("div", { class: "col-labels", "aria-hidden": "true", style: `width:${width}px` },
      (spec.colLabels ?? []).map((label) => el("span", { style: `width:${cellW}px` }, label)))
    : null;
  const table = el("div", { hidden: true });
  const toggle = el("button", { type: "button", class: "small", "aria-expanded": "false", "data-key": `${spec.key}-numbers` }, t("heatmap.showNumbers"));
  toggle.addEventListener("click", () => {
    const open = table.hidden;
    if (open && !table.firstChild) table.appendChild(numbersTable(spec, t));
    table.hidden = !open;
    toggle.textContent = t(open ? "heatmap.hideNumbers" : "heatmap.showNumbers");
    toggle.setAttribute("aria-expanded", String(open));
  });
  const legend = el("span", { class: "legend" },
    el("span", { class: `legend-bar ${spec.scale}`, "aria-hidden": "true" }),
    t("heatmap.range", { min: formatValue(min), max: formatValue(max) }));
  return el("figure", { class: "heatmap", "data-key": spec.key },
    el("div", { class: "heatmap-scroll" },
      el("div", { class: "heatmap-grid" },
        el("div", {}, tokenCols ? el("div", { class: "col-labels-spacer" }) : null, rowLabels),
        el("div", { class: "heatmap-canvas-wrap" }, colLabels, canvas, tooltip))),
    el("figcaption", {}, el("span", { class: "heatmap-title" }, spec.title), legend, toggle,
      spec.exportName ? saveButtons(t, spec.exportName, spec.title, spec.key, () => heatmapSvg(spec, t)) : null),
    readout, table);
}
