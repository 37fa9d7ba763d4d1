/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON header, then the raw tensor data. Files are treated as untrusted input:
 * the whole header is checked before any tensor memory is allocated, and every error is a one-line
 * CheckpointError naming the file, the byte offset and the tensor. The format was designed for zero-copy
 * loading, and reading follows it: a file is opened by reading its header alone; a tensor in memory comes back
 * as a view where its offset is aligned; a tensor in a file is read into its destination through one small buffer.
 */
import { Buffer } from "node:buffer";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { CheckpointError, formatShape } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { f32BitsToBF16, f32BitsToF16, halfTable } from "./half-float.ts";
import { type SafetensorsDType, isDType, isShape, kindOf, oneLine, quote, readHeader, show } from "./safetensors-header.ts";

export { f32BitsToBF16, f32BitsToF16 } from "./half-float.ts";
export { MAX_HEADER_BYTES, type SafetensorsDType, oneLine } from "./safetensors-header.ts";

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

/** The reference writer's layout order: its Dtype enum (increasing alignment) reversed. */
const WRITE_ORDER: SafetensorsDType[] = ["I64", "F64", "F32", "I32", "BF16", "F16", "U16", "I16", "I8", "U8", "BOOL"];
const BIG_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

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

/** Whether file bytes can be viewed as elements of `size` bytes in place: aligned, and the host is little-endian. */
const viewable = (raw: Uint8Array, size: number): boolean => !BIG_ENDIAN_HOST && raw.byteOffset % size === 0;

/** The bytes as 16-bit elements: a view where aligned, else an aligned copy. */
const u16 = (raw: Uint8Array, numel: number): Uint16Array =>
  viewable(raw, 2) ? new Uint16Array(raw.buffer, raw.byteOffset, numel) : copyLE(new Uint16Array(numel), raw);

/**
 * Decodes one tensor's checked bytes. F32, I32 and I64 come back as views of `raw` where its offset is aligned
 * (safetensors writers align every tensor), and as copies where it is not; other types are converted into new arrays.
 */
function decode(dtype: SafetensorsDType, raw: Uint8Array, numel: number, fail: (msg: string) => CheckpointError): StoredData {
  switch (dtype) {
    case "F32": return viewable(raw, 4) ? new Float32Array(raw.buffer, raw.byteOffset, numel) : copyLE(new Float32Array(numel), raw);
    case "F64": return Float32Array.from(viewable(raw, 8) ? new Float64Array(raw.buffer, raw.byteOffset, numel) : copyLE(new Float64Array(numel), raw)); // narrows with Math.fround
    case "F16": {
      const table = halfTable();
      return mapInto(new Float32Array(numel), u16(raw, numel), (h) => table[h]);
    }
    case "BF16": // bf16 is the top half of an f32
      return new Float32Array(mapInto(new Uint32Array(numel), u16(raw, numel), (h) => h << 16).buffer);
    case "I64": return viewable(raw, 8) ? new BigInt64Array(raw.buffer, raw.byteOffset, numel) : copyLE(new BigInt64Array(numel), raw);
    case "I32": return viewable(raw, 4) ? new Int32Array(raw.buffer, raw.byteOffset, numel) : copyLE(new Int32Array(numel), raw);
    case "I16": return Int32Array.from(copyLE(new Int16Array(numel), raw));
    case "U16": return Int32Array.from(u16(raw, numel));
    case "I8": return Int32Array.from(new Int8Array(raw.buffer, raw.byteOffset, raw.length));
    case "U8": return raw.slice();
    case "BOOL": {
      const bad = raw.findIndex((b) => b > 1);
      if (bad >= 0) throw fail(`byte ${bad} of the data is ${raw[bad]}, not a BOOL (0 or 1)`);
      return raw.slice();
    }
  }
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
  /**
   * One tensor's values; a name the header lacks is a CheckpointError. Of a file in memory (`openSafetensors`), an
   * aligned F32/I32/I64 tensor is a view that shares the caller's bytes; of a file on disk, each call reads afresh.
   */
  read(name: string): StoredTensor;
  /**
   * Reads a floating-point tensor into `out` (a parameter's memory, say): F32 with no tensor-sized array in between
   * (from a file, through a 1 MiB buffer), F16/BF16/F64 converted. Throws CheckpointError when the tensor is not floating point or `out` has another length.
   */
  readInto(name: string, out: Float32Array): void;
  /**
   * Runs `f` with the file open: every read inside it goes through one descriptor (per shard, for a sharded view),
   * closed when `f` returns or throws. A read outside opens the file for itself, so no descriptor outlives a load.
   * For a file in memory it just runs `f`.
   */
  withOpenFile<T>(f: () => T): T;
}

/** Where a checked file's bytes come from: memory, or positioned reads of a file on disk. */
interface ByteSource {
  /** Bytes [begin, begin + length): a view of memory, or freshly read from disk. */
  bytes(begin: number, length: number): Uint8Array;
  /** Copies bytes [begin, begin + out.length) into `out` (from a file: through a reused 1 MiB buffer). */
  copyTo(begin: number, out: Uint8Array): void;
  /** Runs `f` with the source open (see SafetensorsView.withOpenFile). */
  withOpen<T>(f: () => T): T;
}

/** The bytes of a file held in memory. */
function memorySource(bytes: Uint8Array): ByteSource {
  return {
    bytes: (begin, length) => bytes.subarray(begin, begin + length),
    copyTo: (begin, out) => out.set(bytes.subarray(begin, begin + out.length)),
    withOpen: (f) => f(),
  };
}

/** The view of a file whose bytes `source` gives; `fileLength` is its size and `name` names it in errors. */
function viewOf(source: ByteSource, fileLength: number, name: string): SafetensorsView {
  const err = (msg: string): CheckpointError => new CheckpointError(`${oneLine(name, 300)}: ${msg}`);
  const { metadata, entries, dataStart } = source.withOpen(() => readHeader(source.bytes, fileLength, err));
  const byName = new Map(entries.map((e) => [e.name, e]));
  const entry = (tensor: string) => {
    const e = byName.get(tensor);
    if (!e) throw err(`no tensor ${quote(tensor)} in the header`);
    return { ...e, at: `tensor ${quote(tensor)}: data at bytes ${dataStart + e.begin}–${dataStart + e.end}`, numel: e.shape.reduce((a, d) => a * d, 1) };
  };
  const read = (tensor: string): StoredTensor => {
    const e = entry(tensor);
    const data = decode(e.dtype, source.bytes(dataStart + e.begin, e.end - e.begin), e.numel, (msg) => err(`${e.at}: ${msg}`));
    return { name: tensor, dtype: e.dtype, shape: [...e.shape], data };
  };
  return {
    metadata,
    infos: new Map(entries.map(({ name: n, dtype, shape }) => [n, { name: n, dtype, shape: [...shape] }])),
    read,
    readInto(tensor: string, out: Float32Array): void {
      const e = entry(tensor);
      if (!isFloatDType(e.dtype)) throw err(`${e.at}: dtype ${e.dtype} is not floating point`);
      if (out.length !== e.numel) throw err(`${e.at}: shape ${formatShape(e.shape)} holds ${e.numel} values, the destination ${out.length}`);
      if (e.dtype !== "F32") {
        out.set(read(tensor).data as Float32Array);
        return;
      }
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      source.copyTo(dataStart + e.begin, bytes);
      toOrFromLE(bytes, 4);
    },
    withOpenFile: (f) => source.withOpen(f),
  };
}

/**
 * Checks a safetensors file held in memory up to its header; `source` names it in error messages. Tensors are
 * decoded on demand, as views of `bytes` where aligned (see SafetensorsView). Throws CheckpointError.
 */
export function openSafetensors(bytes: Uint8Array, source = "<buffer>"): SafetensorsView {
  return viewOf(memorySource(bytes), bytes.length, source);
}

/** Every tensor of a checked view, decoded in header order, its file opened once. */
export function readAllTensors(view: SafetensorsView): Map<string, StoredTensor> {
  return view.withOpenFile(() => new Map([...view.infos.keys()].map((name) => [name, view.read(name)])));
}

/** Every tensor of a checked view, decoded, with its metadata. */
function readAll(view: SafetensorsView): SafetensorsContents {
  return { metadata: view.metadata, tensors: readAllTensors(view) };
}

/** Parses a safetensors file held in memory (aligned tensors are views of `bytes`); `source` names it in errors. Throws CheckpointError. */
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

/** The system error code of a failed file operation (ENOENT, EACCES, …), or the error as text. */
export function errorCode(e: unknown): string {
  return typeof e === "object" && e !== null && "code" in e ? String(e.code) : String(e);
}

/** The "cannot read" error of a file (`what` it is: "the file", "the shard index"), naming it and the system's code. */
export function readError(path: string, e: unknown, what = "the file"): CheckpointError {
  return new CheckpointError(`${oneLine(path, 300)}: cannot read ${what} (${oneLine(errorCode(e))})`, { cause: e });
}

/** Bytes per read of a tensor's data (see `copyTo` in fileSource): a few hundred reads for BERT-base. */
const STAGING_BYTES = 1 << 20;

/**
 * Positioned reads of the file at `path`. Inside `withOpen` they share one descriptor, opened on entry and closed on
 * exit; a read outside opens the file for itself. Either way no descriptor outlives the call that opened it.
 */
function fileSource(path: string): ByteSource {
  let held: number | null = null;
  const withOpen = <T>(f: (fd: number) => T): T => {
    if (held !== null) return f(held); // nested: the outer call owns the descriptor
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw readError(path, e);
    }
    held = fd;
    try {
      return f(fd);
    } finally {
      held = null;
      closeSync(fd);
    }
  };
  let staging: Uint8Array | null = null;
  const copyTo = (begin: number, out: Uint8Array): void => withOpen((fd) => {
    // Through a small buffer, not straight into `out`: on VMs whose kernel and user mode fault pages separately, a
    // read into memory no one has touched yet faults every page twice (BERT-base: 1.7 s against 1.2 s through one).
    staging ??= new Uint8Array(STAGING_BYTES);
    try {
      for (let done = 0; done < out.length;) {
        const want = Math.min(out.length - done, STAGING_BYTES);
        const n = readSync(fd, staging, 0, want, begin + done);
        if (n === 0) throw new CheckpointError(`${oneLine(path, 300)}: the file ends at byte ${begin + done}, before byte ${begin + out.length}; it changed after its header was read`);
        out.set(n === STAGING_BYTES ? staging : staging.subarray(0, n), done);
        done += n;
      }
    } catch (e) {
      throw e instanceof CheckpointError ? e : readError(path, e);
    }
  });
  return {
    bytes: (begin, length) => {
      const out = new Uint8Array(length);
      copyTo(begin, out);
      return out;
    },
    copyTo,
    withOpen,
  };
}

/**
 * Opens a safetensors file by reading its header alone (the 8 + N first bytes) and checking it; each tensor is read
 * from disk when asked for (see SafetensorsView), so nothing holds the whole file in memory.
 */
export function openSafetensorsFileSync(path: string): SafetensorsView {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw readError(path, e);
  }
  return viewOf(fileSource(path), size, path);
}

/** `openSafetensorsFileSync` for async callers (a header is a few kilobytes: reading it does not block for long). */
export async function openSafetensorsFile(path: string): Promise<SafetensorsView> {
  return openSafetensorsFileSync(path);
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
