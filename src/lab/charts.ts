/**
 * Charts of the lab: Vega-Lite specs compiled with `vega-lite` and rendered to SVG in Node by `vega`'s
 * `View.toSVG()` (the SVG renderer needs no canvas). Builders for the three kinds the reports use.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Chart } from "./types.ts";

/** One row of chart data. */
export type Datum = Record<string, number | string | boolean | null>;

const WIDTH = 420;
const HEIGHT = 260;

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Common axis options of a builder. */
interface AxisOptions {
  name: string;
  title_en: string;
  title_zh: string;
  data: Datum[];
  x: string;
  y: string;
  xTitle: string;
  yTitle: string;
  /** A field that splits the data into series (lines or grouped bars). */
  color?: string;
  colorTitle?: string;
}

/** The chart title: English, then Chinese as the subtitle. */
function title(o: AxisOptions): { text: string; subtitle: string } {
  return { text: o.title_en, subtitle: o.title_zh };
}

/** What every single-view chart shares: schema, bilingual title, size and inline data. */
function frame(o: AxisOptions): { $schema: string; title: { text: string; subtitle: string }; width: number; height: number; data: { values: Datum[] } } {
  return { $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: title(o), width: WIDTH, height: HEIGHT, data: { values: o.data } };
}

/** A line chart with points; optional log scales and a series field. */
export function lineChart(o: AxisOptions & { xLog?: boolean; yLog?: boolean; yZero?: boolean; xOrdinal?: boolean }): Chart {
  const spec: TopLevelSpec = {
    ...frame(o),
    mark: { type: "line", point: true },
    encoding: {
      x: o.xOrdinal
        ? { field: o.x, type: "ordinal", title: o.xTitle }
        : { field: o.x, type: "quantitative", title: o.xTitle, scale: o.xLog ? { type: "log", nice: false } : { zero: false } },
      y: { field: o.y, type: "quantitative", title: o.yTitle, scale: o.yLog ? { type: "log", nice: false } : { zero: o.yZero ?? false } },
      ...(o.color ? { color: { field: o.color, type: "nominal", title: o.colorTitle ?? o.color, legend: { labelLimit: 320 } } } : {}),
    },
  };
  return { name: o.name, title_en: o.title_en, title_zh: o.title_zh, spec };
}

/** A bar chart over a categorical x; with `color`, bars of each x are grouped side by side. */
export function barChart(o: AxisOptions & { yLog?: boolean }): Chart {
  const spec: TopLevelSpec = {
    ...frame(o),
    mark: { type: "bar" },
    encoding: {
      x: { field: o.x, type: "nominal", title: o.xTitle, sort: null, axis: { labelLimit: 260 } },
      y: { field: o.y, type: "quantitative", title: o.yTitle, scale: o.yLog ? { type: "log" } : { zero: true } },
      ...(o.color
        ? { color: { field: o.color, type: "nominal", title: o.colorTitle ?? o.color, legend: { labelLimit: 320 } }, xOffset: { field: o.color, type: "nominal", sort: null } }
        : {}),
    },
  };
  return { name: o.name, title_en: o.title_en, title_zh: o.title_zh, spec };
}

/** A heat map of `value` over (`x`, `y`) cells, e.g. attention probabilities (row = query, column = key). */
export function heatmapChart(o: AxisOptions & { value: string; facet?: string }): Chart {
  const base = {
    mark: { type: "rect" as const },
    encoding: {
      x: { field: o.x, type: "ordinal" as const, title: o.xTitle, sort: null },
      y: { field: o.y, type: "ordinal" as const, title: o.yTitle, sort: null },
      color: { field: o.value, type: "quantitative" as const, title: o.value, scale: { scheme: "blues" } },
    },
  };
  const spec: TopLevelSpec = o.facet
    ? {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: title(o),
      data: { values: o.data },
      facet: { field: o.facet, type: "nominal", title: null, sort: null },
      columns: 4,
      spec: { width: 140, height: 140, ...base },
    }
    : { $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: title(o), width: 260, height: 260, data: { values: o.data }, ...base };
  return { name: o.name, title_en: o.title_en, title_zh: o.title_zh, spec };
}
