/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON header, then the raw tensor data. Files are treated as untrusted input:
 * the whole header is checked before any tensor memory is allocated, and every error is a one-line
 * CheckpointError naming the file, the byte offset and the tensor.
 */
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { CheckpointError, formatShape } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { f32BitsToBF16, f32BitsToF16, halfTable } from "./half-float.ts";

export { f32BitsToBF16, f32BitsToF16 } from "./half-float.ts";

/** Element types tsformer reads and writes. */
export type SafetensorsDType = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U16" | "U8" | "BOOL";

/** The typed arrays tensors come back in: floats widen/narrow to f32, small ints widen to i32. */
export type StoredData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** Whether tensors of this type are read as Float32Array (parameters are; integer tensors are buffers such as ids). */
export function isFloatDType(dtype: SafetensorsDType): boolean {
  return dtype === "F64" || dtype === "F32" || dtype === "F16" || dtype === "BF16";
}

/** A tensor read from a file; `dtype` is its type in the file (the data may be wider, see `StoredData`). */
export interface StoredTensor { name: string; dtype: SafetensorsDType; shape: number[]; data: StoredData }

/** A tensor to write; `dtype` defaults from the array type (F32, I32, I64, U8). */
export interface StoredTensorInput { name: string; shape: readonly number[]; data: StoredData; dtype?: SafetensorsDType }

/** A parsed file: the `__metadata__` strings and the tensors in header order. */
export interface SafetensorsContents { metadata: Record<string, string>; tensors: Map<string, StoredTensor> }

/** Largest header accepted, the same cap as the Rust library (a bigger one is an attack, not a model). */
export const MAX_HEADER_BYTES = 100_000_000;

const DTYPE_BYTES: Record<SafetensorsDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U16: 2, U8: 1, BOOL: 1 };
/** The reference writer's layout order: its Dtype enum (increasing alignment) reversed. */
const WRITE_ORDER: SafetensorsDType[] = ["I64", "F64", "F32", "I32", "BF16", "F16", "U16", "I16", "I8", "U8", "BOOL"];
/** Types of the format that no tsformer array can hold losslessly; named so the error can say so. */
const UNSUPPORTED = ["U32", "U64", "C64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"];
const BIG_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/** Makes untrusted text safe for a one-line message: line breaks and controls escaped, long text cut. */
export function oneLine(text: string, max = 120): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A tensor name quoted for a message. */
const quote = (name: string): string => `'${oneLine(name)}'`;
/** A JSON value shown in a message. */
const show = (value: unknown): string => oneLine(JSON.stringify(value) ?? String(value), 60);

/** "a JSON array", "null", "a number"...: what an unexpected JSON value is. */
const kindOf = (value: unknown): string => (value === null ? "null" : Array.isArray(value) ? "a JSON array" : `a ${typeof value}`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isDType = (v: unknown): v is SafetensorsDType => typeof v === "string" && Object.hasOwn(DTYPE_BYTES, v);
const isShape = (v: unknown): v is number[] =>
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

/** Typed arrays whose bytes go to or come from a file (little-endian there). */
type Numeric = Float32Array | Float64Array | Int8Array | Int16Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array;

/** `out[i] = f(src[i])`: a plain loop, many times faster than `TypedArray.from` with a map function. */
function mapInto<T extends Float32Array | Uint16Array | Uint32Array>(out: T, src: ArrayLike<number>, f: (v: number) => number): T {
  for (let i = 0; i < out.length; i++) out[i] = f(src[i]);
  return out;
}

/** Reverses each `size`-byte element in place on big-endian hosts (a no-op on little-endian ones). */
function toOrFromLE(bytes: Uint8Array, size: number): Uint8Array {
  if (BIG_ENDIAN_HOST && size > 1) for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  return bytes;
}

/** Copies file bytes into a fresh typed array: fresh means aligned, whatever the offset in the file was. */
function copyLE<T extends Numeric>(out: T, raw: Uint8Array): T {
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  bytes.set(raw);
  toOrFromLE(bytes, out.BYTES_PER_ELEMENT);
  return out;
}

/** The bytes of `arr` as the file stores them (a view on little-endian hosts, a swapped copy otherwise). */
const bytesLE = (arr: Numeric): Uint8Array =>
  BIG_ENDIAN_HOST ? toOrFromLE(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).slice(), arr.BYTES_PER_ELEMENT)
    : new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);

/** Decodes one tensor's checked bytes. */
function decode(dtype: SafetensorsDType, raw: Uint8Array, numel: number, fail: (msg: string) => CheckpointError): StoredData {
  switch (dtype) {
    case "F32": return copyLE(new Float32Array(numel), raw);
    case "F64": return Float32Array.from(copyLE(new Float64Array(numel), raw)); // narrows with Math.fround
    case "F16": {
      const table = halfTable();
      return mapInto(new Float32Array(numel), copyLE(new Uint16Array(numel), raw), (h) => table[h]);
    }
    case "BF16": // bf16 is the top half of an f32
      return new Float32Array(mapInto(new Uint32Array(numel), copyLE(new Uint16Array(numel), raw), (h) => h << 16).buffer);
    case "I64": return copyLE(new BigInt64Array(numel), raw);
    case "I32": return copyLE(new Int32Array(numel), raw);
    case "I16": return Int32Array.from(copyLE(new Int16Array(numel), raw));
    case "U16": return Int32Array.from(copyLE(new Uint16Array(numel), raw));
    case "I8": return Int32Array.from(new Int8Array(raw.slice().buffer));
    case "U8": return raw.slice();
    case "BOOL": {
      const bad = raw.findIndex((b) => b > 1);
      if (bad >= 0) throw fail(`byte ${bad} of the data is ${raw[bad]}, not a BOOL (0 or 1)`);
      return raw.slice();
    }
  }
}

/** One header entry after validation. */
interface Entry { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }

/** Validates the header object and returns the metadata and entries; allocates nothing per tensor. */
function checkHeader(header: unknown, span: string, dataStart: number, fileLength: number, err: (msg: string) => CheckpointError): { metadata: Record<string, string>; entries: Entry[] } {
  if (!isObject(header)) throw err(`${span} is ${kindOf(header)}, not a JSON object`);
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
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

/** What the header declares about one tensor, before any of its data is decoded. */
export interface TensorInfo { name: string; dtype: SafetensorsDType; shape: number[] }

/**
 * A safetensors file whose whole header has been checked, with its tensors decoded one at a time on demand, so
 * that a loader can compare the declared names and shapes with what it expects before allocating anything.
 */
export interface SafetensorsView {
  metadata: Record<string, string>;
  /** Every tensor the header declares, in header order. */
  infos: Map<string, TensorInfo>;
  /** Decodes one tensor into a fresh (aligned) array; a name the header lacks is a CheckpointError. */
  read(name: string): StoredTensor;
}

/** Checks a safetensors file held in memory up to its header; `source` names it in error messages. Throws CheckpointError. */
export function openSafetensors(bytes: Uint8Array, source = "<buffer>"): SafetensorsView {
  const err = (msg: string): CheckpointError => new CheckpointError(`${oneLine(source, 300)}: ${msg}`);
  if (bytes.length < 8) throw err(`file is ${bytes.length} bytes, too short for the 8-byte header length at byte 0`);
  const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) throw err(`header length ${declared} at byte 0 exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(declared);
  if (8 + n > bytes.length) throw err(`header length ${n} at byte 0 runs past the end of the file (${bytes.length} bytes)`);
  const span = `header at bytes 8–${8 + n}`;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
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
  const checked = checkHeader(header, span, 8 + n, bytes.length, err);
  const entries = new Map(checked.entries.map((e) => [e.name, e]));
  return {
    metadata: checked.metadata,
    infos: new Map(checked.entries.map(({ name, dtype, shape }) => [name, { name, dtype, shape: [...shape] }])),
    read(name: string): StoredTensor {
      const e = entries.get(name);
      if (!e) throw err(`no tensor ${quote(name)} in the header`);
      const fail = (msg: string) => err(`tensor ${quote(name)}: data at bytes ${8 + n + e.begin}–${8 + n + e.end}: ${msg}`);
      const data = decode(e.dtype, bytes.subarray(8 + n + e.begin, 8 + n + e.end), e.shape.reduce((a, d) => a * d, 1), fail);
      return { name, dtype: e.dtype, shape: [...e.shape], data };
    },
  };
}

/** Every tensor of a checked view, decoded. */
function readAll(view: SafetensorsView): SafetensorsContents {
  return { metadata: view.metadata, tensors: new Map([...view.infos.keys()].map((name) => [name, view.read(name)])) };
}

/** Parses a safetensors file held in memory; `source` names it in error messages. Throws CheckpointError. */
export function parseSafetensors(bytes: Uint8Array, source = "<buffer>"): SafetensorsContents {
  return readAll(openSafetensors(bytes, source));
}

/** The dtype an array is written as when none is given. */
function defaultDType(data: StoredData): SafetensorsDType {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof Uint8Array) return "U8";
  throw new CheckpointError(`cannot write a ${Object.prototype.toString.call(data)} (use Float32Array, Int32Array, BigInt64Array or Uint8Array)`);
}

/** Integer ranges of the narrow types written from an Int32Array. */
const INT_RANGE: Partial<Record<SafetensorsDType, [number, number]>> = { I16: [-32768, 32767], U16: [0, 65535], I8: [-128, 127] };

/** Encodes one tensor as little-endian bytes of `dtype`; `where` names it in errors. */
function encode(data: StoredData, dtype: SafetensorsDType, where: string): Uint8Array {
  const mismatch = () => new CheckpointError(`${where}: cannot write a ${data.constructor.name} as ${dtype}`);
  if (data instanceof Float32Array) {
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    if (dtype === "F32" || dtype === "F64") return bytesLE(dtype === "F32" ? data : Float64Array.from(data));
    if (dtype === "F16" || dtype === "BF16") return bytesLE(mapInto(new Uint16Array(data.length), bits, dtype === "F16" ? f32BitsToF16 : f32BitsToBF16));
    throw mismatch();
  }
  if (data instanceof Int32Array) {
    const range = INT_RANGE[dtype];
    const bad = range ? data.findIndex((v) => v < range[0] || v > range[1]) : -1;
    if (bad >= 0) throw new CheckpointError(`${where}: value ${data[bad]} at index ${bad} does not fit ${dtype}`);
    if (dtype === "I32") return bytesLE(data);
    if (dtype === "I64") return bytesLE(BigInt64Array.from(data, (v) => BigInt(v)));
    if (dtype === "I16") return bytesLE(Int16Array.from(data));
    if (dtype === "U16") return bytesLE(Uint16Array.from(data));
    if (dtype === "I8") return bytesLE(Int8Array.from(data));
    throw mismatch();
  }
  if (data instanceof BigInt64Array && dtype === "I64") return bytesLE(data);
  if (data instanceof Uint8Array && (dtype === "U8" || dtype === "BOOL")) {
    const bad = dtype === "BOOL" ? data.findIndex((b) => b > 1) : -1;
    if (bad >= 0) throw new CheckpointError(`${where}: value ${data[bad]} at index ${bad} is not a BOOL (0 or 1)`);
    return data;
  }
  throw mismatch();
}

/**
 * Builds a safetensors file laid out exactly as the reference (Rust/Python) writer does: tensors in its
 * dtype order (larger alignment first), then by name; header padded with spaces to a multiple of 8, so
 * every tensor's data is aligned to its element size. Throws CheckpointError naming the tensor on bad input.
 */
export function serializeSafetensors(tensors: Iterable<StoredTensorInput>, metadata?: Record<string, string>): Uint8Array {
  const badMeta = Object.entries(metadata ?? {}).find(([, v]) => typeof v !== "string");
  if (badMeta) throw new CheckpointError(`metadata entry ${quote(badMeta[0])} is ${kindOf(badMeta[1])}, not a string`);
  const items: { name: string; shape: number[]; dtype: SafetensorsDType; bytes: Uint8Array; key: Buffer; at: number }[] = [];
  const seen = new Set<string>();
  for (const t of tensors) {
    const where = `tensor ${quote(t.name)}`;
    if (t.name === "" || t.name === "__metadata__") throw new CheckpointError(`${where}: not a valid tensor name`);
    if (seen.has(t.name)) throw new CheckpointError(`${where}: written twice`);
    seen.add(t.name);
    if (!isShape(t.shape)) throw new CheckpointError(`${where}: shape ${show(t.shape)} is not a list of non-negative integers`);
    const numel = t.shape.reduce((a, d) => a * d, 1);
    if (numel !== t.data.length) {
      throw new CheckpointError(`${where}: shape ${formatShape(t.shape)} needs ${numel} values but the data holds ${t.data.length}`);
    }
    const dtype = t.dtype ?? defaultDType(t.data);
    if (!isDType(dtype)) throw new CheckpointError(`${where}: unknown dtype ${show(dtype)}`);
    items.push({ name: t.name, shape: [...t.shape], dtype, bytes: encode(t.data, dtype, where), key: Buffer.from(t.name), at: 0 });
  }
  // The reference order: larger alignment first (so every tensor stays aligned), then names by UTF-8 bytes.
  items.sort((a, b) => WRITE_ORDER.indexOf(a.dtype) - WRITE_ORDER.indexOf(b.dtype) || Buffer.compare(a.key, b.key));
  const parts = metadata ? [`"__metadata__":${JSON.stringify(metadata)}`] : [];
  let offset = 0;
  for (const item of items) {
    const { name, dtype, shape, bytes } = item;
    item.at = offset;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: [offset, offset + bytes.length] })}`);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n); // space padding, as the reference writer does
  for (const { bytes, at } of items) out.set(bytes, 8 + n + at);
  return out;
}

/** The "cannot read" error of a file, naming it and the system's code. */
function readError(path: string, e: unknown): CheckpointError {
  const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : String(e);
  return new CheckpointError(`${oneLine(path, 300)}: cannot read the file (${oneLine(code)})`, { cause: e });
}

/** Reads a safetensors file and checks its header; tensors are decoded on demand (see SafetensorsView). */
export async function openSafetensorsFile(path: string): Promise<SafetensorsView> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw readError(path, e);
  }
  return openSafetensors(bytes, path);
}

/** `openSafetensorsFile`, synchronously (fixture runner, training checkpoints, the browser's virtual folders). */
export function openSafetensorsFileSync(path: string): SafetensorsView {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw readError(path, e);
  }
  return openSafetensors(bytes, path);
}

/** Reads and parses a safetensors file; every failure is a CheckpointError naming `path`. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  return readAll(await openSafetensorsFile(path));
}

/** `readSafetensorsFile`, synchronously. */
export function readSafetensorsFileSync(path: string): SafetensorsContents {
  return readAll(openSafetensorsFileSync(path));
}

/** Writes a safetensors file atomically (temp file, fsync, rename): a crash never leaves a torn file. */
export async function writeSafetensorsFile(path: string, tensors: Iterable<StoredTensorInput>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
