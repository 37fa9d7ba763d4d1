/** `node:fs/promises` in the browser bundle: `readFile` from the virtual folders; the write operations throw. */
import { readFileSync, statSync } from "./fs.ts";
import { fsError } from "./virtual-folder.ts";

/** The file's bytes. */
export async function readFile(path: string): Promise<Uint8Array> {
  return readFileSync(path);
}

/** File or folder information. */
export async function stat(path: string): Promise<ReturnType<typeof statSync>> {
  return statSync(path);
}

/** A handle type the atomic writer names (type only; never created in the browser). */
export type FileHandle = never;

function unavailable(name: string): () => Promise<never> {
  return async () => {
    throw fsError("ENOTSUP", name, "");
  };
}

/** The write operations the engine's modules import; calling one in the browser throws. */
export const mkdir = unavailable("mkdir");
export const open = unavailable("open");
export const readdir = unavailable("readdir");
export const rename = unavailable("rename");
export const rm = unavailable("rm");
