/** `node:path` in the browser bundle: the POSIX functions the engine's loaders use. */
import { normalizePath } from "./virtual-folder.ts";

/** Joins segments with "/" and normalises the result. */
export function join(...segments: string[]): string {
  return normalizePath(segments.filter((s) => s !== "").join("/"));
}

/** The folder part of a path. */
export function dirname(path: string): string {
  const p = normalizePath(path);
  const cut = p.lastIndexOf("/");
  return cut < 0 ? "." : cut === 0 ? "/" : p.slice(0, cut);
}

/** The last segment of a path. */
export function basename(path: string): string {
  const p = normalizePath(path);
  return p.slice(p.lastIndexOf("/") + 1);
}

/** The extension of the last segment, dot included ("" when none). */
export function extname(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot);
}
