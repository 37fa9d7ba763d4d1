/** Terminal formatting shared by commands: tensor statistics and attention heat maps. */
import type { Tensor } from "../tensor/tensor.ts";

/** Mean and (population) standard deviation of a tensor's values. */
export function stats(t: Tensor): { mean: number; std: number } {
  let sum = 0;
  for (const v of t.data) sum += v;
  const mean = sum / t.size;
  let sq = 0;
  for (const v of t.data) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / t.size) };
}

const SHADES = [" ", "░", "▒", "▓", "█"];

/**
 * A matrix of probabilities (rows × cols, values in [0, 1]) as shaded cells, rows labelled by query tokens and
 * columns numbered by key position, with a legend line for the column tokens.
 */
export function heatmap(values: ArrayLike<number>, rows: number, cols: number, rowLabels: string[], colLabels: string[]): string {
  const labelWidth = Math.max(...rowLabels.map((l) => l.length), 5);
  const lines: string[] = [];
  lines.push(`${" ".repeat(labelWidth)}  ${Array.from({ length: cols }, (_, j) => String(j % 10)).join(" ")}`);
  for (let i = 0; i < rows; i++) {
    let cells = "";
    let best = 0;
    for (let j = 0; j < cols; j++) {
      const p = values[i * cols + j];
      if (p > values[i * cols + best]) best = j;
      cells += `${SHADES[Math.min(4, Math.round(p * 4))]} `;
    }
    lines.push(`${rowLabels[i].padStart(labelWidth)}  ${cells} → ${colLabels[best]} (${values[i * cols + best].toFixed(2)})`);
  }
  lines.push(`${" ".repeat(labelWidth)}  keys: ${colLabels.map((l, j) => `${j}=${l}`).join(" ")}`);
  return lines.join("\n");
}

/** A shape as `[1, 10, 128]`. */
export function shapeText(t: Tensor): string {
  return `[${t.shape.join(", ")}]`;
}

/** Whether stdout takes ANSI colours: a terminal, and NO_COLOR not set (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR;
}

/** A column of per-token scores for `tokenHeatmap`. */
export interface ScoreColumn {
  title: string;
  scores: readonly number[];
  /** Signed scores are shaded by |value| and marked + or − (green or red in colour). */
  signed: boolean;
}

/**
 * Per-token scores of several methods side by side: one row per token, one column per method, each cell the
 * value and a shade block scaled within its column (so columns of different units compare by shape).
 */
export function tokenHeatmap(tokens: readonly string[], columns: readonly ScoreColumn[], color = false): string {
  const labelWidth = Math.max(...tokens.map((t) => t.length), 5);
  const width = Math.max(10, ...columns.map((c) => c.title.length));
  // Signed columns shade |value| against the largest |value|; unsigned ones span their own range (min → max).
  const range = columns.map((c) => c.signed ? { lo: 0, span: Math.max(...c.scores.map(Math.abs), 1e-30) }
    : { lo: Math.min(...c.scores), span: Math.max(Math.max(...c.scores) - Math.min(...c.scores), 1e-30) });
  const lines = [`${"token".padEnd(labelWidth)}  ${columns.map((c) => c.title.padEnd(width)).join("  ")}`];
  tokens.forEach((token, i) => {
    const cells = columns.map((c, k) => {
      const v = c.scores[i];
      const level = Math.min(4, Math.round(((c.signed ? Math.abs(v) : v - range[k].lo) / range[k].span) * 4));
      const cell = `${SHADES[level].repeat(2)} ${c.signed && v >= 0 ? "+" : ""}${formatScore(v)}`.padEnd(width);
      if (!color || level === 0) return cell;
      const code = !c.signed ? 34 : v >= 0 ? 32 : 31; // blue, green (for the class), red (against it)
      return `\x1b[${code}m${cell}\x1b[0m`;
    });
    lines.push(`${token.padEnd(labelWidth)}  ${cells.join("  ")}`);
  });
  return lines.join("\n");
}

/** A score in at most 6 characters. */
function formatScore(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(1) : v.toFixed(3);
}
