import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { recoverDirectory, removeStaleTemps, writeDirectoryAtomic, writeFileAtomic } from "../../src/io/atomic.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const scratch = await mkdtemp(join(tmpdir(), "tsformer-atomic-"));
after(() => rm(scratch, { recursive: true, force: true }));
let counter = 0;
const freshDir = async (): Promise<string> => {
  const dir = join(scratch, `case${counter++}`);
  await mkdir(dir);
  return dir;
};
/** The pid of a process that has already exited (what a crashed writer leaves in its temp names). */
const deadPid = (): number => spawnSync(process.execPath, ["-e", ""]).pid!;

test("writeFileAtomic writes and replaces, leaving no temp file", async () => {
  const dir = await freshDir();
  const path = join(dir, "model.safetensors");
  await writeFileAtomic(path, "first");
  await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.deepEqual(new Uint8Array(await readFile(path)), new Uint8Array([1, 2, 3]));
  assert.deepEqual(await readdir(dir), ["model.safetensors"]);
});

test("a writer that fails mid-write leaves the old content and no temp file", async () => {
  const dir = await freshDir();
  const path = join(dir, "f.bin");
  await writeFileAtomic(path, "old content");
  const failure = new Error("disk full");
  await assert.rejects(writeFileAtomic(path, new Uint8Array(1 << 20), {
    writeData: async (handle, data) => {
      await handle.write(data, 0, data.length >> 1);
      throw failure;
    },
  }), (e) => e === failure);
  assert.equal(await readFile(path, "utf8"), "old content");
  assert.deepEqual(await readdir(dir), ["f.bin"]);
});

test("a writer killed with SIGKILL mid-write leaves the old content; the next write removes its temp file", async () => {
  const dir = await freshDir();
  const path = join(dir, "f.bin");
  await writeFileAtomic(path, "old content");
  const child = join(dir, "..", `child${counter++}.mts`);
  await writeFile(child, `
    import { writeFileAtomic } from ${JSON.stringify(pathToFileURL(join(root, "src/io/atomic.ts")).href)};
    setInterval(() => {}, 1000); // stay alive until killed
    await writeFileAtomic(process.argv[2], new Uint8Array(8 << 20), { writeData: async (handle, data) => {
      await handle.write(data, 0, data.length >> 1);
      process.stdout.write("half written\\n");
      await new Promise(() => {});
    } });`);
  const proc = spawn(process.execPath, ["--import", "tsx", child, path], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on("data", () => resolve());
    proc.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
  });
  proc.kill("SIGKILL");
  await new Promise((resolve) => proc.on("exit", resolve));
  assert.equal(await readFile(path, "utf8"), "old content");
  const temps = (await readdir(dir)).filter((n) => n !== "f.bin");
  assert.equal(temps.length, 1, "the killed writer's temp file is left behind");
  assert.match(temps[0], new RegExp(`^\\.f\\.bin\\.${proc.pid}\\.[0-9a-f]+\\.tmp$`));
  await writeFileAtomic(path, "new content");
  assert.equal(await readFile(path, "utf8"), "new content");
  assert.deepEqual(await readdir(dir), ["f.bin"]);
});

test("removeStaleTemps keeps temp files of live processes", async () => {
  const dir = await freshDir();
  const target = join(dir, "t");
  await writeFile(join(dir, `.t.${process.pid}.0123456789ab.tmp`), "");
  await writeFile(join(dir, `.t.${deadPid()}.0123456789ab.tmp`), "");
  await writeFile(join(dir, ".other.1.0123456789ab.tmp"), "");
  await writeFile(join(dir, `.t.5.${deadPid()}.0123456789ab.tmp`), ""); // a temp of target "t.5", not of "t"
  const removed = await removeStaleTemps(target);
  assert.equal(removed.length, 1);
  assert.deepEqual((await readdir(dir)).sort(), [".other.1.0123456789ab.tmp", `.t.${process.pid}.0123456789ab.tmp`, ...(await readdir(dir)).filter((n) => n.startsWith(".t.5."))].sort());
});

test("writeDirectoryAtomic creates, then replaces a folder with exactly the new files", async () => {
  const base = await freshDir();
  const dir = join(base, "model");
  await writeDirectoryAtomic(dir, { "config.json": "{}", "model.safetensors": new Uint8Array([1]) });
  assert.deepEqual((await readdir(dir)).sort(), ["config.json", "model.safetensors"]);
  await writeDirectoryAtomic(dir, { "vocab.txt": "[PAD]\n" });
  assert.deepEqual(await readdir(dir), ["vocab.txt"]);
  assert.deepEqual(await readdir(base), ["model"]);
});

test("writeDirectoryAtomic refuses file names that leave the folder, creating nothing", async () => {
  const base = await freshDir();
  for (const name of ["../x", "a/b", "..", ""]) {
    await assert.rejects(writeDirectoryAtomic(join(base, "model"), { [name]: "x" }), /must be a plain name inside the folder/);
  }
  assert.deepEqual(await readdir(base), []);
});

test("recoverDirectory undoes a swap interrupted after step 2, and cleans up after step 3", async () => {
  const base = await freshDir();
  const dir = join(base, "model");
  assert.equal(await recoverDirectory(dir), "missing");
  await writeDirectoryAtomic(dir, { a: "old" });
  assert.equal(await recoverDirectory(dir), "intact");
  // Crash after step 2: the old folder renamed aside, the new one complete in its temp folder.
  await rename(dir, `${dir}.old`);
  await mkdir(join(base, `.model.${deadPid()}.0123456789ab.tmp`));
  assert.equal(await recoverDirectory(dir), "restored");
  assert.equal(await readFile(join(dir, "a"), "utf8"), "old");
  // Crash after step 3: the new folder in place, the old one still beside it.
  await mkdir(`${dir}.old`);
  assert.equal(await recoverDirectory(dir), "cleaned");
  assert.deepEqual((await readdir(base)).filter((n) => !n.endsWith(".tmp")), ["model"]);
  // The next write removes the dead writer's temp folder too.
  await writeDirectoryAtomic(dir, { b: "new" });
  assert.deepEqual(await readdir(base), ["model"]);
  assert.deepEqual(await readdir(dir), ["b"]);
});

test("writeDirectoryAtomic recovers an interrupted swap before writing", async () => {
  const base = await freshDir();
  const dir = join(base, "model");
  await writeDirectoryAtomic(dir, { a: "old" });
  await rename(dir, `${dir}.old`);
  await writeDirectoryAtomic(dir, { b: "new" });
  assert.deepEqual(await readdir(base), ["model"]);
  assert.equal(await readFile(join(dir, "b"), "utf8"), "new");
});
