/**
 * Labelled text files for training and evaluation, in three formats:
 *   - SST-2 style lines `<label> <text>` (split on the first space),
 *   - TSV with a header naming a `label` column and a `text` or `sentence` column (GLUE), or `label<TAB>text`,
 *   - JSONL objects with `text` and `label`.
 * Every problem is reported with the file and line: missing or unknown label, empty text, invalid UTF-8.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { DataError } from "../errors.ts";

/** One example: its text, its label's index and where it came from. */
export interface Example {
  text: string;
  label: number;
  line: number;
}

/** A dataset: examples and the label names (index = label id). */
export interface Dataset {
  examples: Example[];
  labels: string[];
}

/** The file formats `readDataset` understands. */
export type DataFormat = "auto" | "lines" | "tsv" | "jsonl";

/** Options of `readDataset`. */
export interface ReadOptions {
  format?: DataFormat;
  /** The label names the model knows; a label outside them is an error. Omitted: collected from the file, sorted. */
  labels?: readonly string[];
}

/** Decodes UTF-8 strictly; invalid bytes are reported with the line they are on. */
function decode(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    let line = 1;
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          decoder.decode(bytes.subarray(start, i));
        } catch {
          throw new DataError(`${file}:${line}: not valid UTF-8 (save the file as UTF-8)`);
        }
        line++;
        start = i + 1;
      }
    }
    throw new DataError(`${file}: not valid UTF-8`);
  }
}

interface RawExample {
  text: string;
  label: string;
  line: number;
}

function parseLines(lines: string[], file: string): RawExample[] {
  const out: RawExample[] = [];
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") return;
    const space = line.indexOf(" ");
    if (space <= 0) throw new DataError(`${file}:${i + 1}: expected "<label> <text>", found no text after the label`);
    out.push({ label: line.slice(0, space), text: line.slice(space + 1), line: i + 1 });
  });
  return out;
}

function parseTsv(lines: string[], file: string): RawExample[] {
  const header = lines[0]?.replace(/\r$/, "").split("\t").map((h) => h.trim().toLowerCase()) ?? [];
  const hasHeader = header.includes("label") && (header.includes("text") || header.includes("sentence"));
  const labelCol = hasHeader ? header.indexOf("label") : 0;
  const textCol = hasHeader ? (header.includes("text") ? header.indexOf("text") : header.indexOf("sentence")) : 1;
  const out: RawExample[] = [];
  lines.forEach((raw, i) => {
    if (hasHeader && i === 0) return;
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") return;
    const cols = line.split("\t");
    if (cols.length <= Math.max(labelCol, textCol)) {
      throw new DataError(`${file}:${i + 1}: expected ${Math.max(labelCol, textCol) + 1} tab-separated columns, found ${cols.length}`);
    }
    out.push({ label: cols[labelCol].trim(), text: cols[textCol], line: i + 1 });
  });
  return out;
}

function parseJsonl(lines: string[], file: string): RawExample[] {
  const out: RawExample[] = [];
  lines.forEach((raw, i) => {
    if (raw.trim() === "") return;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      throw new DataError(`${file}:${i + 1}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof obj !== "object" || obj === null) throw new DataError(`${file}:${i + 1}: expected an object with "text" and "label"`);
    const { text, label } = obj as { text?: unknown; label?: unknown };
    if (typeof text !== "string") throw new DataError(`${file}:${i + 1}: missing "text" (a string)`);
    if (typeof label !== "string" && typeof label !== "number") throw new DataError(`${file}:${i + 1}: missing "label" (a string or number)`);
    out.push({ text, label: String(label), line: i + 1 });
  });
  return out;
}

/** Sorts label names numerically when they are all numbers ("0" < "1" < "10"), else alphabetically. */
function sortLabels(names: Iterable<string>): string[] {
  const all = [...new Set(names)];
  const numeric = all.every((n) => /^-?\d+$/.test(n));
  return numeric ? all.sort((a, b) => Number(a) - Number(b)) : all.sort();
}

/** Parses labelled text from a string (see the module comment for formats). */
export function parseDataset(content: string, file: string, options: ReadOptions = {}): Dataset {
  const format = options.format && options.format !== "auto" ? options.format
    : [".jsonl", ".json", ".ndjson"].includes(extname(file).toLowerCase()) ? "jsonl"
    : extname(file).toLowerCase() === ".tsv" ? "tsv" : "lines";
  const lines = content.replace(/^\uFEFF/, "").split("\n");
  const raw = format === "jsonl" ? parseJsonl(lines, file) : format === "tsv" ? parseTsv(lines, file) : parseLines(lines, file);
  for (const r of raw) {
    if (r.label === "") throw new DataError(`${file}:${r.line}: missing label`);
    if (r.text.trim() === "") throw new DataError(`${file}:${r.line}: empty text`);
  }
  if (raw.length === 0) throw new DataError(`${file}: no examples found`);
  const labels = options.labels ? [...options.labels] : sortLabels(raw.map((r) => r.label));
  const index = new Map(labels.map((l, i) => [l, i]));
  const examples = raw.map((r) => {
    const label = index.get(r.label);
    if (label === undefined) throw new DataError(`${file}:${r.line}: unknown label "${r.label}" (the model knows: ${labels.join(", ")})`);
    return { text: r.text, label, line: r.line };
  });
  return { examples, labels };
}

/** Reads a labelled text file. */
export function readDataset(file: string, options: ReadOptions = {}): Dataset {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseDataset(decode(bytes, file), file, options);
}

/**
 * Each data label's class among `classes` (index = class id): by name, or — when no label is a name — by id
 * 0 … k−1 (Hugging Face datasets store labels as ids; SST-2's files say 0/1). Null when some label fits neither way.
 */
export function classIdsFor(classes: readonly string[], dataLabels: readonly string[]): number[] | null {
  const byName = dataLabels.map((l) => classes.indexOf(l));
  if (byName.every((i) => i >= 0)) return byName;
  const byId = dataLabels.map((l) => (/^\d+$/.test(l) && Number(l) < classes.length ? Number(l) : -1));
  return byId.every((i) => i >= 0) ? byId : null;
}

/** Reads a labelled file for a model whose head knows `classes` (index = class id); labels as `classIdsFor` reads them. */
export function readDatasetForClasses(file: string, classes: readonly string[], options: Omit<ReadOptions, "labels"> = {}): Dataset {
  const data = readDataset(file, options);
  const classOf = classIdsFor(classes, data.labels);
  if (!classOf) {
    const known = new Set(classes.map((c, i) => [c, String(i)]).flat());
    const bad = data.examples.find((e) => !known.has(data.labels[e.label])) ?? data.examples.find((e) => !classes.includes(data.labels[e.label]))!;
    throw new DataError(`${file}:${bad.line}: unknown label "${data.labels[bad.label]}" (the model knows: ${classes.map((c, i) => `${c} (${i})`).join(", ")})`);
  }
  return { labels: [...classes], examples: data.examples.map((e) => ({ ...e, label: classOf[e.label] })) };
}
