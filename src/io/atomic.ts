/**
 * Crash-safe writes: a file or a whole folder is written beside its target, flushed to disk, then
 * renamed into place, so a reader sees either the previous complete version or the new one, never
 * a half-written mix. Assumes one writer per target at a time (concurrent writers are not locked out).
 */
import { randomBytes } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { TsformerError } from "../errors.ts";

/** Options of `writeFileAtomic`. */
export interface AtomicWriteOptions {
  /**
   * Writes `data` into the open temp file (default: `handle.writeFile`). A seam for tests: a writer
   * that throws or never returns exercises the cleanup and crash paths.
   */
  writeData?: (handle: FileHandle, data: Uint8Array) => Promise<void>;
}

/** What `recoverDirectory` found: nothing to do, a finished swap cleaned up, an interrupted swap undone, or no folder. */
export type RecoveryResult = "intact" | "cleaned" | "restored" | "missing";

/** The temp name for `target`: hidden, unique, and carrying our pid so stale ones can be told from live ones. */
function tempPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/** True when `err` is a Node system error with one of `codes`. */
function hasCode(err: unknown, ...codes: string[]): boolean {
  return typeof err === "object" && err !== null && "code" in err && codes.includes(String(err.code));
}

/** True when process `pid` is still running (EPERM means it exists but belongs to someone else). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return hasCode(err, "EPERM");
  }
}

/**
 * Removes temp files or folders left for `target` by writers that died (SIGKILL, power loss) before
 * they could clean up. Temps of live processes are left alone. Returns the paths removed.
 */
export async function removeStaleTemps(target: string): Promise<string[]> {
  const base = basename(target).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^\\.${base}\\.(\\d+)\\.[0-9a-f]{12}\\.tmp$`); // exactly what tempPath makes
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dirname(target));
  } catch (err) {
    if (hasCode(err, "ENOENT")) return removed;
    throw err;
  }
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || isAlive(pid)) continue;
    const path = join(dirname(target), name);
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

/** Flushes a directory's entries (the renames in it) to disk, where the platform allows it. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (err) {
    // Windows cannot open or fsync a directory (EISDIR/EPERM); some file systems answer EINVAL.
    if (!hasCode(err, "EISDIR", "EPERM", "EINVAL")) throw err;
  } finally {
    await handle?.close();
  }
}

/** Writes one file's bytes into a new file at `path` and fsyncs it. */
async function writeAndSync(path: string, data: Uint8Array | string, options: AtomicWriteOptions): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const handle = await open(path, "wx"); // "x": never follow or reuse something already at the temp name
  try {
    await (options.writeData ?? ((h, d) => h.writeFile(d)))(handle, bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` atomically: temp file in the same folder, fsync, rename over the target,
 * fsync the folder. On error the temp file is removed and the error rethrown; `path` keeps its old content.
 * A crash leaves the old (or, after the rename, new) file plus at most a stale temp, which the next
 * call removes.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  await removeStaleTemps(path);
  const tmp = tempPath(path);
  try {
    await writeAndSync(tmp, data, options);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDirectory(dirname(path));
}

/** Rejects file names that are not a single plain entry of the folder. */
function checkEntryName(dir: string, name: string): void {
  if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new TsformerError(`writeDirectoryAtomic(${dir}): file name ${JSON.stringify(name)} must be a plain name inside the folder`);
  }
}

/** True when `path` exists (any kind of entry). */
async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (hasCode(err, "ENOENT")) return false;
    throw err;
  }
}

/**
 * Replaces folder `dir` with one holding exactly `files`, so a crash leaves either the old or the new
 * complete folder. Steps, and what a crash after each leaves:
 *
 * 1. Write every file into a sibling temp folder `.<name>.<pid>.<random>.tmp`, fsync each file and the
 *    folder. Crash: `dir` untouched; a stale temp folder that the next write removes.
 * 2. Rename `dir` to `<dir>.old` (when `dir` exists), fsync the parent. Crash: `dir` missing, old
 *    version complete in `<dir>.old`; `recoverDirectory(dir)` renames it back.
 * 3. Rename the temp folder to `dir`, fsync the parent. Crash: new version complete in `dir`, a
 *    leftover `<dir>.old` that `recoverDirectory(dir)` (or the next write) removes.
 * 4. Remove `<dir>.old`.
 *
 * If step 3 fails without a crash, `<dir>.old` is renamed back before the error is rethrown.
 * Readers should call `recoverDirectory(dir)` before reading a folder written this way.
 */
export async function writeDirectoryAtomic(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const name of Object.keys(files)) checkEntryName(dir, name);
  await recoverDirectory(dir); // finish or undo an earlier interrupted swap first
  await removeStaleTemps(dir);
  const parent = dirname(dir);
  const old = `${dir}.old`;
  const tmp = tempPath(dir);
  try {
    await mkdir(tmp);
    for (const [name, data] of Object.entries(files)) await writeAndSync(join(tmp, name), data, {});
    await fsyncDirectory(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const hadOld = await exists(dir);
  if (hadOld) {
    await rename(dir, old);
    await fsyncDirectory(parent);
  }
  try {
    await rename(tmp, dir);
  } catch (err) {
    if (hadOld) await rename(old, dir);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await fsyncDirectory(parent);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/**
 * Repairs `dir` after a crash inside `writeDirectoryAtomic`: if `dir` is missing but `<dir>.old`
 * exists, renames it back ("restored"); if both exist, the swap had finished and `<dir>.old` is
 * removed ("cleaned"). Must not run while a writer is mid-swap on the same folder.
 */
export async function recoverDirectory(dir: string): Promise<RecoveryResult> {
  const old = `${dir}.old`;
  const hasDir = await exists(dir);
  if (!(await exists(old))) return hasDir ? "intact" : "missing";
  if (hasDir) {
    await rm(old, { recursive: true, force: true });
    return "cleaned";
  }
  await rename(old, dir);
  await fsyncDirectory(dirname(dir));
  return "restored";
}
