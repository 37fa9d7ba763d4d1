/**
 * The safetensors header: the 8-byte little-endian length N at byte 0, then N bytes of JSON naming each tensor's
 * dtype, shape and data_offsets. Everything here checks untrusted input and allocates nothing per tensor, so a
 * caller can read a header alone (`tsformer inspect`) or check it against a model before reading any data.
 */
import { Buffer } from "node:buffer";
import { CheckpointError, formatShape } from "../errors.ts";

/** Element types tsformer reads and writes. */
export type SafetensorsDType = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U16" | "U8" | "BOOL";

/** Largest header accepted, the same cap as the Rust library (a bigger one is an attack, not a model). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of each type. */
export const DTYPE_BYTES: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U16: 2, U8: 1, BOOL: 1 };
/** Types of the format that no tsformer array can hold losslessly; named so the error can say so. */
const UNSUPPORTED = ["U32", "U64", "C64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"];

/** Makes untrusted text safe for a one-line message: line breaks and controls escaped, long text cut. */
export function oneLine(text: string, max = 120): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A tensor name quoted for a message. */
export const quote = (name: string): string => `'${oneLine(name)}'`;
/** A JSON value shown in a message. */
export const show = (value: unknown): string => oneLine(JSON.stringify(value) ?? String(value), 60);

/** "a JSON array", "null", "a number"...: what an unexpected JSON value is. */
export const kindOf = (value: unknown): string => (value === null ? "null" : Array.isArray(value) ? "a JSON array" : `a ${typeof value}`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
export const isDType = (v: unknown): v is SafetensorsDType => typeof v === "string" && Object.hasOwn(DTYPE_BYTES, v);
export const isShape = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
const utf8Length = (text: string): number => Buffer.byteLength(text, "utf8");

/** The first key repeated inside one object of valid JSON `text` (JSON.parse silently keeps the last one). */
function findDuplicateKey(text: string): { key: string; index: number } | null {
  const stack: (Set<string> | null)[] = []; // a key set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const raw = text.slice(i, j + 1);
        const key = raw.includes("\\") ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (keys.has(key)) return { key, index: i };
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === "{" || c === "[") {
      stack.push(c === "{" ? new Set() : null);
      expectKey = c === "{";
    } else if (c === "}" || c === "]") stack.pop();
    else if (c === ",") expectKey = Boolean(stack[stack.length - 1]);
  }
  return null;
}

/** JSON.parse's complaint without the echoed input, plus the absolute byte it points at when it says. */
function jsonReason(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const reason = message.split(/, "|\s+(?:in JSON\s+)?at position \d+/)[0];
  const at = /at position (\d+)/.exec(message);
  return at ? `${oneLine(reason)} at byte ${8 + utf8Length(text.slice(0, Number(at[1])))}` : oneLine(reason);
}

/** One header entry after validation; offsets are relative to the start of the data. */
export interface HeaderEntry { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }

/** Validates the header object and returns the metadata and entries; allocates nothing per tensor. */
function checkHeader(header: unknown, span: string, dataStart: number, fileLength: number, err: (msg: string) => CheckpointError): { metadata: Record<string, string>; entries: HeaderEntry[] } {
  if (!isObject(header)) throw err(`${span} is ${kindOf(header)}, not a JSON object`);
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!isObject(info)) throw err(`${span}: __metadata__ is ${kindOf(info)}, not an object of strings`);
      const bad = Object.entries(info).find(([, v]) => typeof v !== "string");
      if (bad) throw err(`${span}: __metadata__ entry ${quote(bad[0])} is ${kindOf(bad[1])}, not a string`);
      metadata = Object.fromEntries(Object.entries(info)) as Record<string, string>; // fromEntries: "__proto__" stays a plain key
      continue;
    }
    if (name === "") throw err(`${span}: a tensor has an empty name`);
    const where = `tensor ${quote(name)}`;
    if (!isObject(info)) throw err(`${where}: header entry is ${kindOf(info)}, not an object`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (!isDType(dtype)) {
      const known = typeof dtype === "string" && UNSUPPORTED.includes(dtype);
      throw err(`${where}: ${known ? `dtype ${dtype} is not supported` : `unknown dtype ${show(dtype)}`}`);
    }
    if (!isShape(shape)) throw err(`${where}: shape ${show(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !isShape(offsets)) {
      throw err(`${where}: data_offsets ${show(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets;
    if (begin > end) throw err(`${where}: data_offsets [${begin}, ${end}]: begin is after end`);
    const need = shape.reduce((n, d) => n * BigInt(d), 1n) * BigInt(DTYPE_BYTES[dtype]); // BigInt: a hostile shape cannot overflow
    if (need !== BigInt(end - begin)) {
      throw err(`${where}: shape ${formatShape(shape)} × ${dtype} needs ${need} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    if (dataStart + end > fileLength) {
      throw err(`${where}: data at bytes ${dataStart + begin}–${dataStart + end} runs past the end of the file (${fileLength} bytes)`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  const placed = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < placed.length; i++) {
    const [a, b] = [placed[i - 1], placed[i]]; // sorted and disjoint so far, so the previous end is the largest
    if (b.begin < a.end) {
      throw err(`tensor ${quote(b.name)}: data at bytes ${dataStart + b.begin}–${dataStart + b.end} overlaps tensor ${quote(a.name)} at bytes ${dataStart + a.begin}–${dataStart + a.end}`);
    }
  }
  return { metadata, entries };
}

/** A checked header: the metadata, the tensors in header order, and the absolute byte where the data starts. */
export interface CheckedHeader { metadata: Record<string, string>; entries: HeaderEntry[]; dataStart: number }

/**
 * Checks a file's header: `read(begin, length)` returns those bytes of the file (only the first 8 + N are asked
 * for) and `fileLength` is the file's size. Throws `err(message)` naming the byte and what is wrong.
 */
export function readHeader(read: (begin: number, length: number) => Uint8Array, fileLength: number, err: (msg: string) => CheckpointError): CheckedHeader {
  if (fileLength < 8) throw err(`file is ${fileLength} bytes, too short for the 8-byte header length at byte 0`);
  const first = read(0, 8);
  const declared = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) throw err(`header length ${declared} at byte 0 exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(declared);
  if (8 + n > fileLength) throw err(`header length ${n} at byte 0 runs past the end of the file (${fileLength} bytes)`);
  const span = `header at bytes 8–${8 + n}`;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(read(8, n));
  } catch {
    throw err(`${span} is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw err(`${span} is not valid JSON: ${jsonReason(e, text)}`);
  }
  const dup = findDuplicateKey(text);
  if (dup) throw err(`${span}: key ${quote(dup.key)} appears twice (again at byte ${8 + utf8Length(text.slice(0, dup.index))})`);
  return { ...checkHeader(header, span, 8 + n, fileLength, err), dataStart: 8 + n };
}
