/**
 * The browser's file system: folders of in-memory files (a model the page fetched, or the files the user picked).
 * The engine's loaders read through `node:fs`; in the browser bundle that module is `./fs.ts`, which serves these
 * files, so the page runs the very same loader code, checks and error messages as the command line.
 */

const files = new Map<string, Uint8Array>();
const folders = new Set<string>();

/** A path without a trailing slash and with "." and ".." segments resolved (POSIX, as `node:path` join gives). */
export function normalizePath(path: string): string {
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else parts.push(part);
  }
  const joined = parts.join("/");
  return absolute ? `/${joined}` : joined || ".";
}

/** Replaces the folder `dir` with exactly these files (name → bytes; names are plain file names). */
export function mountFolder(dir: string, contents: ReadonlyMap<string, Uint8Array>): void {
  const root = normalizePath(dir);
  for (const path of [...files.keys()]) if (path.startsWith(`${root}/`)) files.delete(path);
  folders.add(root);
  for (const [name, bytes] of contents) files.set(normalizePath(`${root}/${name}`), bytes);
}

/** The bytes of a file, or undefined. */
export function virtualFile(path: string): Uint8Array | undefined {
  return files.get(normalizePath(path));
}

/** Whether the path is a mounted folder. */
export function isVirtualFolder(path: string): boolean {
  return folders.has(normalizePath(path));
}

/** An error shaped like Node's (with `code`), so the loaders' messages say "not found" as they do in Node. */
export function fsError(code: "ENOENT" | "ENOTSUP" | "EBADF", syscall: string, path: string): Error {
  const message = code === "ENOENT" ? `no such file or directory, ${syscall} '${path}'`
    : code === "EBADF" ? `bad file descriptor, ${syscall} ${path}` : `${syscall} is not available in the browser`;
  return Object.assign(new Error(`${code}: ${message}`), { code, syscall, path });
}
