// Installs the benchmark's peers (bench/package.json: onnxruntime-node, TensorFlow.js) into bench/node_modules
// when they are missing or were installed from another bench/package-lock.json; otherwise does nothing.
// `npm run bench` runs it first, so the main `npm install` never fetches them. Quiet: one line on stderr (stdout stays
// the bench's own, `-- --json`), and npm's output only when it fails.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const BENCH = dirname(fileURLToPath(import.meta.url));
const LOCK = join(BENCH, "package-lock.json");
// Written after a successful install: the lockfile's hash, so an edited lockfile triggers a reinstall.
const STAMP = join(BENCH, "node_modules", ".tsformer-peers-lock-sha256");

/** The sha256 of the lockfile the peers are installed from. */
function lockHash() {
  return createHash("sha256").update(readFileSync(LOCK)).digest("hex");
}

/** Whether bench/node_modules holds the peers of the current lockfile. */
function installed() {
  return existsSync(STAMP) && readFileSync(STAMP, "utf8").trim() === lockHash();
}

/** The environment for the nested npm: without the outer `npm run`'s npm_* variables, which would point it at the main package. */
function npmEnv() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)));
  // onnxruntime-node's postinstall would download CUDA libraries from NuGet; npm 11 blocks it (allowScripts), older npm needs this.
  env.ONNXRUNTIME_NODE_INSTALL = "skip";
  return env;
}

if (!installed()) {
  process.stderr.write(`bench: installing the benchmark peers into ${relative(process.cwd(), join(BENCH, "node_modules")) || "."} (once)…\n`);
  // Under `npm run`, npm_execpath is the npm that runs us; run the same one.
  const npmCli = process.env.npm_execpath;
  const [command, args] = npmCli && /\.c?js$/.test(npmCli) ? [process.execPath, [npmCli]] : ["npm", []];
  const r = spawnSync(command, [...args, "ci", "--no-audit", "--no-fund"], { cwd: BENCH, env: npmEnv(), encoding: "utf8" });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
    process.stderr.write(`bench: installing the peers (npm ci in ${BENCH}) failed: ${r.error?.message ?? `exit code ${r.status ?? r.signal}`}\n`);
    process.exit(1);
  }
  writeFileSync(STAMP, `${lockHash()}\n`);
}
