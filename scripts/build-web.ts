/**
 * Builds the explorer as a static site (default `web/dist/`): the page and the engine worker bundled with esbuild from
 * the TypeScript sources (the same engine code as the command line), the shipped default model, the shipped
 * masked-LM model (for the fill-mask view), and the lab results.
 *
 *   node --import tsx scripts/build-web.ts [--out DIR] [--model DIR | --no-model] [--masked-lm DIR | --no-masked-lm] [--lab DIR]
 *
 * The model is `--model`, else $TSFORMER_MODEL, else `models/default/`; the masked-LM model (a BertForMaskedLM folder,
 * as `tsformer pretrain` writes) is `--masked-lm`, else `models/mlm/` when it exists; the lab results are `--lab`, else
 * `docs/lab/` (the full results shipped in the repository; `npm run build:lab` rewrites them). In the browser bundle, Node's built-in modules are replaced
 * by web/src/node-shims/: the loaders' file reads are served from in-memory folders, so no `node:` import remains.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Plugin, build } from "esbuild";
import { requireMaskedLmHead } from "../src/models/fill-mask.ts";
import { loadBertSync } from "../src/models/load-bert.ts";
import { type LabEntry, type SiteManifest, normalizeQuestionId } from "../web/src/site.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WEB = join(ROOT, "web");
const SHIMS = join(WEB, "src", "node-shims");

/** What to build. */
export interface BuildWebOptions {
  /** Output folder (default web/dist). */
  out?: string;
  /** The default model's folder; null builds a site without one (visitors open their own). */
  model?: string | null;
  /** The notes' encoder offered beside the default (default models/notes-encoder when it exists); null builds a site without one. */
  notesModel?: string | null;
  /** The BertForMaskedLM folder of the fill-mask view (default models/mlm when it exists); null builds a site without one. */
  maskedLm?: string | null;
  /** Folder of `tsformer lab` results; a missing or empty folder means none. */
  lab?: string;
  /** Print what was built (default true). */
  log?: boolean;
}

/** What was built. */
export interface BuildWebReport {
  out: string;
  manifest: SiteManifest;
  /** Bytes of the page and worker bundles. */
  bundleBytes: number;
}

/** Node built-ins the engine imports → their browser stand-ins. Anything else is a build error. */
const NODE_SHIMS: Record<string, string> = {
  "node:fs": "fs.ts", "node:fs/promises": "fs-promises.ts", "node:path": "path.ts", "node:buffer": "buffer.ts", "node:crypto": "crypto.ts",
};

/** Resolves `node:*` imports to web/src/node-shims/, failing the build for any module without a stand-in. */
const nodeShims: Plugin = {
  name: "node-shims",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      const shim = NODE_SHIMS[args.path];
      if (shim) return { path: join(SHIMS, shim) };
      return { errors: [{ text: `${args.path} (imported by ${relative(ROOT, args.importer)}) has no browser stand-in in web/src/node-shims/` }] };
    });
  },
};

/** A folder to ship: the option (null: none; a folder that is not a model is an error), or `models/<fallback>` when it exists. */
function shippedModelDir(option: string | null | undefined, fallback: string): string | null {
  if (option === null) return null;
  const dir = option ?? join(ROOT, "models", fallback);
  if (existsSync(join(dir, "config.json"))) return resolve(dir);
  if (option !== undefined) throw new Error(`build-web: ${dir} is not a model folder (no config.json)`);
  return null;
}

/** The model folder to ship: the option, $TSFORMER_MODEL (when set and not empty), or models/default when it exists. */
export function defaultModelDir(option?: string | null): string | null {
  return shippedModelDir(option === undefined ? process.env.TSFORMER_MODEL || undefined : option, "default");
}

/** The masked-LM folder to ship: the option, or models/mlm when it exists. */
export function maskedLmDir(option?: string | null): string | null {
  return shippedModelDir(option, "mlm");
}

/** The notes' encoder to ship beside the default: the option, or models/notes-encoder when it exists. */
export function notesModelDir(option?: string | null): string | null {
  return shippedModelDir(option, "notes-encoder");
}

/** Clears the output folder: web/dist, an empty folder or an earlier build (with site.json); refuses any other. */
function prepareOut(out: string): void {
  if (existsSync(out)) {
    const entries = readdirSync(out);
    if (out !== join(WEB, "dist") && entries.length > 0 && !entries.includes("site.json")) throw new Error(`build-web: ${out} is not empty and holds no earlier build (site.json); choose another --out`);
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
}

/** Copies a model's files into out/models/<place> (the engine's files only); returns its manifest entry. */
function copyModelFiles(dir: string, out: string, place: "default" | "notes-encoder" | "mlm"): { name: string; files: string[] } {
  const wanted = ["config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json"];
  const files = wanted.filter((f) => existsSync(join(dir, f)));
  const target = join(out, "models", place);
  mkdirSync(target, { recursive: true });
  for (const f of files) copyFileSync(join(dir, f), join(target, f));
  return { name: basename(dir), files };
}

/** Copies a classifier's files into out/models/<place> after checking that the engine loads it. */
function copyModel(dir: string, out: string, place: "default" | "notes-encoder"): { name: string; files: string[] } {
  loadBertSync(dir); // the site must not ship a model the page cannot load
  return copyModelFiles(dir, out, place);
}

/** Copies a BertForMaskedLM folder into out/models/mlm after checking that the engine loads it with its masked-LM head. */
function copyMaskedLm(dir: string, out: string): SiteManifest["maskedLmModel"] {
  const loaded = loadBertSync(dir, { mlmHead: true }); // as the page's worker loads it
  requireMaskedLmHead(loaded); // the fill-mask view needs cls.predictions.*
  return copyModelFiles(dir, out, "mlm");
}

/** Files of a lab question folder that the page shows or links to. */
const LAB_FILE = /^(result\.json|report\.md|[\w.-]+\.(svg|png))$/;

/** Copies the lab results (`<lab>/<id>/result.json`, report.md, SVG charts; `<lab>/index.html`) into out/lab/. */
function copyLab(dir: string, out: string): SiteManifest["lab"] {
  if (!existsSync(dir)) return null;
  const folders = [dir, ...readdirSync(dir).map((d) => join(dir, d)).filter((d) => statSync(d).isDirectory())];
  const questions: LabEntry[] = [];
  for (const folder of folders) {
    const files = readdirSync(folder).filter((f) => LAB_FILE.test(f) && statSync(join(folder, f)).isFile());
    if (!files.includes("result.json")) continue;
    const result = JSON.parse(readFileSync(join(folder, "result.json"), "utf8")) as { id?: unknown };
    const id = normalizeQuestionId(String(result.id ?? basename(folder)));
    if (!id) throw new Error(`build-web: ${join(folder, "result.json")} has id ${JSON.stringify(result.id)}, not one of q01…q08`);
    const target = join(out, "lab", id.toLowerCase());
    mkdirSync(target, { recursive: true });
    for (const f of files) copyFileSync(join(folder, f), join(target, f));
    questions.push({
      id, dir: `lab/${id.toLowerCase()}/`, result: "result.json", charts: files.filter((f) => /\.(svg|png)$/.test(f)).sort(),
      report: files.includes("report.md") ? "report.md" : null,
    });
  }
  if (questions.length === 0) return null;
  // The lab's index.html links its questions as <id>/…, so it keeps that layout beside them.
  const index = existsSync(join(dir, "index.html")) ? "lab/index.html" : null;
  if (index) copyFileSync(join(dir, "index.html"), join(out, index));
  // A sample (test fixture) says so with a SAMPLE.md file; the page then labels every card as sample data.
  return { sample: existsSync(join(dir, "SAMPLE.md")), index, questions: questions.sort((a, b) => a.id.localeCompare(b.id)) };
}

/** Builds the site. */
export async function buildWeb(options: BuildWebOptions = {}): Promise<BuildWebReport> {
  const log = options.log ?? true;
  const out = resolve(options.out ?? join(WEB, "dist"));
  const modelDir = defaultModelDir(options.model);
  const mlmDir = maskedLmDir(options.maskedLm);
  const notesDir = notesModelDir(options.notesModel);
  if (!existsSync(join(ROOT, "src/backend/wasm/generated/kernels.ts"))) {
    execFileSync(process.execPath, [join(ROOT, "scripts/build-wasm.mjs")], { stdio: "inherit" }); // the kernels are generated, git-ignored
  }
  prepareOut(out);
  const result = await build({
    entryPoints: { app: join(WEB, "src/main.ts"), "engine-worker": join(WEB, "src/engine/worker.ts") },
    outdir: out, bundle: true, format: "esm", platform: "browser", target: "es2022", sourcemap: "linked",
    // No syntax minification: it would fold the wasm backend's variable `import(specifier)` of Node modules into a literal import.
    minifyWhitespace: true, minifyIdentifiers: true,
    plugins: [nodeShims], logLevel: "warning", metafile: true,
  });
  let bundleBytes = 0;
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    if (!file.endsWith(".js")) continue;
    bundleBytes += info.bytes;
    // esbuild lists every import left in an output; a Node module there would fail in the browser.
    const nodeImport = info.imports.find((i) => i.path.startsWith("node:"));
    if (nodeImport) throw new Error(`build-web: ${basename(file)} still imports ${nodeImport.path}`);
  }
  copyFileSync(join(WEB, "index.html"), join(out, "index.html"));
  copyFileSync(join(WEB, "style.css"), join(out, "style.css"));
  const manifest: SiteManifest = {
    defaultModel: modelDir ? copyModel(modelDir, out, "default") : null,
    notesModel: notesDir ? copyModel(notesDir, out, "notes-encoder") : null,
    maskedLmModel: mlmDir ? copyMaskedLm(mlmDir, out) : null,
    lab: copyLab(resolve(options.lab ?? join(ROOT, "docs", "lab")), out),
  };
  writeFileSync(join(out, "site.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  if (log) {
    const model = modelDir ? relative(ROOT, modelDir) || modelDir : "none (pass --model DIR or set TSFORMER_MODEL)";
    const mlm = mlmDir ? relative(ROOT, mlmDir) || mlmDir : "none (tsformer pretrain writes models/mlm; or pass --masked-lm DIR)";
    const lab = manifest.lab ? `${manifest.lab.questions.length} question(s)${manifest.lab.sample ? " (SAMPLE data)" : ""}` : "none yet (npm run build:lab)";
    const notes = notesDir ? relative(ROOT, notesDir) || notesDir : "none";
    process.stdout.write(`build-web: ${relative(ROOT, out) || out}: bundles ${(bundleBytes / 1024).toFixed(0)} KiB, model ${model}, notes' encoder ${notes}, masked-LM model ${mlm}, lab results ${lab}\n`);
  }
  return { out, manifest, bundleBytes };
}

/** Parses the command line. */
function parseArgs(argv: string[]): BuildWebOptions {
  const options: BuildWebOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`build-web: ${arg} needs a value`);
      return v;
    };
    if (arg === "--out") options.out = value();
    else if (arg === "--model") options.model = value();
    else if (arg === "--no-model") options.model = null;
    else if (arg === "--masked-lm") options.maskedLm = value();
    else if (arg === "--no-masked-lm") options.maskedLm = null;
    else if (arg === "--notes-model") options.notesModel = value();
    else if (arg === "--no-notes-model") options.notesModel = null;
    else if (arg === "--lab") options.lab = value();
    else throw new Error(`build-web: unknown option ${arg} (use --out DIR, --model DIR, --no-model, --notes-model DIR, --no-notes-model, --masked-lm DIR, --no-masked-lm, --lab DIR)`);
  }
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    const report = await buildWeb(parseArgs(process.argv.slice(2)));
    if (!report.manifest.defaultModel) process.stderr.write("build-web: warning: no default model (models/default/ does not exist yet); the page will ask visitors to open one\n");
    if (!report.manifest.maskedLmModel) process.stderr.write("build-web: warning: no masked-LM model (models/mlm/ does not exist yet: tsformer pretrain writes it); the fill-mask view will say how to get one\n");
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
