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
