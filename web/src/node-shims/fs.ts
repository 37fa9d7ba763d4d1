/** `node:fs` in the browser bundle: reads from the virtual folders (see virtual-folder.ts); nothing is written. */
import { fsError, isVirtualFolder, virtualFile } from "./virtual-folder.ts";

/** Whether a file or folder exists. */
export function existsSync(path: string): boolean {
  return virtualFile(path) !== undefined || isVirtualFolder(path);
}

/** The bytes of a file, or its text when an encoding is given (UTF-8 is the only one the engine uses). */
export function readFileSync(path: string): Uint8Array;
export function readFileSync(path: string, encoding: "utf8" | "utf-8"): string;
export function readFileSync(path: string, encoding?: string): Uint8Array | string {
  const bytes = virtualFile(path);
  if (bytes === undefined) throw fsError("ENOENT", "open", path);
  return encoding === undefined ? bytes : new TextDecoder("utf-8").decode(bytes);
}

/** Whether a path is a file or a folder, as much of `fs.Stats` as the loaders use. */
export function statSync(path: string): { isDirectory(): boolean; isFile(): boolean; size: number } {
  const bytes = virtualFile(path);
  const folder = isVirtualFolder(path);
  if (bytes === undefined && !folder) throw fsError("ENOENT", "stat", path);
  return { isDirectory: () => folder, isFile: () => bytes !== undefined, size: bytes?.length ?? 0 };
}

/** Open virtual files by descriptor (what `openSync` returns): their paths. */
const openFiles = new Map<number, string>();
let nextDescriptor = 3;

/** Opens a file for reading (the safetensors reader reads a header, then each tensor, by position). */
export function openSync(path: string): number {
  if (virtualFile(path) === undefined) throw fsError("ENOENT", "open", path);
  openFiles.set(nextDescriptor, path);
  return nextDescriptor++;
}

/** Copies `length` bytes from `position` of an open file into `buffer` at `offset`; returns how many (0 at the end). */
export function readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
  const bytes = virtualFile(openFiles.get(fd) ?? "");
  if (bytes === undefined) throw fsError("EBADF", "read", String(fd));
  const part = bytes.subarray(position, position + length);
  buffer.set(part, offset);
  return part.length;
}

/** Closes a descriptor of `openSync`. */
export function closeSync(fd: number): void {
  openFiles.delete(fd);
}

/** Writing is never needed in the browser. */
function unavailable(name: string): () => never {
  return () => {
    throw fsError("ENOTSUP", name, "");
  };
}

/** The write operations the engine's modules import; calling one in the browser throws. */
export const appendFileSync = unavailable("appendFileSync");
export const mkdirSync = unavailable("mkdirSync");
export const writeFileSync = unavailable("writeFileSync");
