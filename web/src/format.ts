/** How numbers and shapes are written on the page. */

/** A value with 6 significant digits (enough to compare with the engine to 1e-5 relative); −∞ for masked scores. */
export function formatValue(v: number): string {
  if (v === -Infinity) return "−∞";
  if (v === Infinity) return "∞";
  if (Number.isNaN(v)) return "NaN";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e6)) return v.toExponential(5);
  return String(Number(v.toPrecision(6)));
}

/** A short value for tables of measures: 4 significant digits. */
export function formatShort(v: number): string {
  if (!Number.isFinite(v)) return formatValue(v);
  return String(Number(v.toPrecision(4)));
}

/** A shape as (a × b × c). */
export function formatShape(shape: readonly number[]): string {
  return `(${shape.join(" × ")})`;
}

/** A probability as a percentage with one decimal. */
export function formatPercent(p: number): string {
  return `${(p * 100).toFixed(1)} %`;
}

/** A parameter count with thousands separators. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}
