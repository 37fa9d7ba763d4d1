/**
 * The engine worker: loads models and runs sentences off the page's main thread, so the page stays responsive and
 * the wasm thread pool can block in Atomics.wait (not allowed on a main thread). One request at a time, in order.
 */
import { useFastestBackend, wasmThreads } from "../../../src/backend/wasm/index.ts";
import { loadBertSync } from "../../../src/models/load-bert.ts";
import { mountFolder } from "../node-shims/virtual-folder.ts";
import type { BackendInfo, EngineReply, EngineRequest, ModelInfo } from "./protocol.ts";
import { type ExplorerModel, explorerModel, runSentence, transferables } from "./run.ts";

/** The parts of a dedicated worker's global scope used here (the project's lib is DOM, not WebWorker). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<EngineRequest>) => void) | null;
  postMessage(message: EngineReply, transfer?: Transferable[]): void;
  crossOriginIsolated?: boolean;
}

const scope = globalThis as unknown as WorkerScope;
let current: ExplorerModel | null = null;

/** Loads the kernels: wasm (SIMD, with threads when the page is cross-origin isolated) or the reference ones. */
async function init(): Promise<BackendInfo> {
  const name = await useFastestBackend();
  return { name, threads: name === "wasm" ? wasmThreads() : 1, isolated: scope.crossOriginIsolated === true };
}

/** Makes the folder `name` of these files the current model; the engine's own loader checks every file. */
function loadFiles(name: string, files: ReadonlyMap<string, Uint8Array>): ModelInfo {
  // Folder names become paths the loader's messages show; "/" would nest them.
  const dir = `/${name.replaceAll("/", "_") || "model"}`;
  mountFolder(dir, files);
  current = explorerModel(loadBertSync(dir), name);
  return current.info;
}

/** Fetches a model folder's files from the server the page came from. */
async function loadUrl(name: string, base: string, names: string[]): Promise<ModelInfo> {
  const files = new Map<string, Uint8Array>();
  for (const file of names) {
    const response = await fetch(new URL(file, base));
    if (!response.ok) throw new Error(`${new URL(file, base).pathname}: HTTP ${response.status}`);
    files.set(file, new Uint8Array(await response.arrayBuffer()));
  }
  return loadFiles(name, files);
}

/** Answers one request. */
async function handle(request: EngineRequest): Promise<{ value: unknown; transfer: Transferable[] }> {
  switch (request.kind) {
    case "init":
      return { value: await init(), transfer: [] };
    case "load-url":
      return { value: await loadUrl(request.name, request.base, request.files), transfer: [] };
    case "load-files":
      return { value: loadFiles(request.name, new Map(request.files.map((f) => [f.name, f.bytes]))), transfer: [] };
    case "run": {
      if (!current) throw new Error("no model is loaded");
      const result = runSentence(current, request.text, request.whatIf, request.int8);
      return { value: result, transfer: transferables(result) };
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

