/**
 * The engine worker: loads models and runs sentences off the page's main thread, so the page stays responsive and
 * the wasm thread pool can block in Atomics.wait (not allowed on a main thread). One request at a time, in order.
 */
import { useFastestBackend, wasmThreads } from "../../../src/backend/wasm/index.ts";
import { type HfDecodeSettings, readHfDecodeSettings } from "../../../src/models/fill-mask.ts";
import { loadBertSync } from "../../../src/models/load-bert.ts";
import { mountFolder } from "../node-shims/virtual-folder.ts";
import { runExplain } from "./explain.ts";
import { fillMaskTransferables, runFillMask } from "./fill-mask.ts";
import type { BackendInfo, EngineReply, EngineRequest, ModelInfo, ModelSlot } from "./protocol.ts";
import { type ExplorerModel, explorerModel, runSentence, transferables } from "./run.ts";

/** The parts of a dedicated worker's global scope used here (the project's lib is DOM, not WebWorker). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<EngineRequest>) => void) | null;
  postMessage(message: EngineReply, transfer?: Transferable[]): void;
  crossOriginIsolated?: boolean;
}

const scope = globalThis as unknown as WorkerScope;
/** The loaded models by place: "main" (every view) and "masked-lm" (the site's BertForMaskedLM, for fill-mask). */
const models: Record<ModelSlot, ExplorerModel | null> = { main: null, "masked-lm": null };

/** Loads the kernels: wasm (SIMD, with threads when the page is cross-origin isolated) or the reference ones. */
async function init(): Promise<BackendInfo> {
  const name = await useFastestBackend();
  return { name, threads: name === "wasm" ? wasmThreads() : 1, isolated: scope.crossOriginIsolated === true };
}

/** Fill-mask's decoder settings of a mounted folder, read now (a later mount may replace its files); none if unreadable. */
function decodeSettings(dir: string): HfDecodeSettings | undefined {
  try {
    return readHfDecodeSettings(dir);
  } catch {
    return undefined; // fillMask then reads them itself and reports the file's error when fill-mask runs
  }
}

/**
 * Makes the folder `name` of these files the model in `slot`; the engine's own loader checks every file, and loads
 * the masked-LM head (`cls.predictions.*`) of a BertForMaskedLM folder, which the fill-mask view uses.
 */
function loadFiles(name: string, files: ReadonlyMap<string, Uint8Array>, slot: ModelSlot = "main"): ModelInfo {
  // Folder names become paths the loader's messages show; "/" would nest them.
  const folder = name.replaceAll("/", "_") || "model";
  const dir = slot === "main" ? `/${folder}` : `/${slot}/${folder}`;
  mountFolder(dir, files);
  const model = explorerModel(loadBertSync(dir, { mlmHead: true }), name);
  if (model.info.maskedLm) model.decode = decodeSettings(dir);
  models[slot] = model;
  return model.info;
}

/** Fetches a model folder's files from the server the page came from. */
async function loadUrl(name: string, base: string, names: string[], slot: ModelSlot = "main"): Promise<ModelInfo> {
  const files = new Map<string, Uint8Array>();
  for (const file of names) {
    const response = await fetch(new URL(file, base));
    if (!response.ok) throw new Error(`${new URL(file, base).pathname}: HTTP ${response.status}`);
    files.set(file, new Uint8Array(await response.arrayBuffer()));
  }
  return loadFiles(name, files, slot);
}

/** Answers one request. */
async function handle(request: EngineRequest): Promise<{ value: unknown; transfer: Transferable[] }> {
  switch (request.kind) {
    case "init":
      return { value: await init(), transfer: [] };
    case "load-url":
      return { value: await loadUrl(request.name, request.base, request.files, request.slot), transfer: [] };
    case "load-files":
      return { value: loadFiles(request.name, new Map(request.files.map((f) => [f.name, f.bytes])), request.slot), transfer: [] };
    case "run": {
      const main = models.main;
      if (!main) throw new Error("no model is loaded");
      const result = runSentence(main, request.text, request.whatIf, { int8: request.int8, compare: request.compare });
      return { value: result, transfer: transferables(result) };
    }
    case "fill-mask": {
      const model = models[request.slot];
      if (!model) throw new Error(request.slot === "main" ? "no model is loaded" : "the masked-LM model is not loaded");
      const result = runFillMask(model, request.text, { topK: request.topK, int8: request.int8, slot: request.slot });
      return { value: result, transfer: fillMaskTransferables(result) };
    }
    case "explain": {
      const main = models.main;
      if (!main) throw new Error("no model is loaded");
      return { value: runExplain(main, request.text, { target: request.target, maskedHeads: request.maskedHeads }), transfer: [] };
    }
  }
}

// Requests are chained so a slow load never overlaps a run.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (event) => {
  const request = event.data;
  queue = queue.then(async () => {
    try {
      const { value, transfer } = await handle(request);
      scope.postMessage({ id: request.id, ok: true, value }, transfer);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      scope.postMessage({ id: request.id, ok: false, error: message.split("\n")[0] });
    }
  });
};

