/** The page's side of the engine worker: typed requests that resolve to the worker's replies. */
import type { EngineReply, EngineRequest, EngineValues } from "./engine/protocol.ts";

/** A request without its id (the client numbers them). */
type Request<K extends EngineRequest["kind"]> = Omit<Extract<EngineRequest, { kind: K }>, "id">;

/** Talks to one engine worker. */
export class EngineClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(workerUrl: URL) {
    this.worker = new Worker(workerUrl, { type: "module" });
    this.worker.onmessage = (event: MessageEvent<EngineReply>) => {
      const reply = event.data;
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(reply.error));
    };
    this.worker.onerror = (event) => {
      const error = new Error(`engine worker: ${event.message || "failed to start"}`);
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
  }

  /** Sends a request; bytes listed in `transfer` move to the worker instead of being copied. */
  request<K extends EngineRequest["kind"]>(request: Request<K> & { kind: K }, transfer: Transferable[] = []): Promise<EngineValues[K]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as EngineValues[K]), reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }
}
