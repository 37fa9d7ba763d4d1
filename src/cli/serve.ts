/**
 * `tsformer serve [--dir DIR] [--port N]`: serves the explorer (the static site `npm run build:web` makes) on
 * 127.0.0.1. Every response is cross-origin isolated (COOP same-origin + COEP require-corp), which lets the page's
 * wasm backend use threads, and carries a Content-Security-Policy that allows no other host.
 */
import { existsSync, realpathSync } from "node:fs";
import { open } from "node:fs/promises";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import { type Readable, pipeline } from "node:stream";
import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import { intOption, quantizeOption } from "./model-option.ts";
import { shippedPath } from "../io/shipped.ts";

/** The port when neither --port nor $PORT is given. */
const DEFAULT_PORT = 8080;

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8", ".map": "application/json; charset=utf-8", ".svg": "image/svg+xml",
  ".png": "image/png", ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
  ".safetensors": "application/octet-stream", ".wasm": "application/wasm",
};

/** Headers on every response: cross-origin isolation (threads in the page) and a policy that allows only this server. */
export const SECURITY_HEADERS: Record<string, string> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Content-Security-Policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-cache",
};

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** An open file as the server reads it (fs/promises' FileHandle is one; tests pass failing ones). */
export interface OpenFile {
  stat(): Promise<{ size: number; isFile(): boolean }>;
  createReadStream(): Readable;
  close(): Promise<void>;
}

/** Options of `startServer`. */
export interface ServeOptions {
  /** The address to bind (default 127.0.0.1). */
  host?: string;
  /** Opens a file for reading (default: fs/promises `open`). */
  openFile?: (path: string) => Promise<OpenFile>;
  /** Receives one line per request that failed on the server's side (default: standard error). */
  log?: (line: string) => void;
}

/** The file a URL path names inside `root` (symbolic links resolved), or null when it is outside or missing. */
export function fileFor(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split("?")[0].split("#")[0]);
  } catch {
    return null;
  }
  if (path.includes("\0")) return null;
  const file = resolve(root, `.${path.endsWith("/") ? `${path}index.html` : path}`);
  // Only files inside the site: "/../x" resolves outside root, and so does a symbolic link that points out.
  const inside = (p: string): boolean => p === root || p.startsWith(root + sep);
  if (!inside(file)) return null;
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return null; // missing (or removed just now): a lookup never throws
  }
  return inside(real) ? real : null;
}

/** Answers with a status and a one-line plain-text body. */
function answer(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8" });
  response.end(`${body}\n`);
}

/** The status for a file that could not be opened: 404 when it is not there (any more), else 500. */
function statusFor(e: unknown): number {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR" ? 404 : 500;
}

/**
 * Sends one file. Size and bytes come from one open handle, so a file replaced or removed after the lookup is
 * sent whole or not at all; an open or stat failure is a 404/500 and a read failure after the headers cuts the
 * response off. Either way one line is logged and the server goes on: this never throws or rejects. The handle is
 * closed in one place: by the stream once one is piped, else in `finally`, where a failure to close is logged too
 * (unless an earlier failure of this request was, which is the one worth reporting).
 */
async function sendFile(file: string, request: IncomingMessage, response: ServerResponse,
  openFile: (path: string) => Promise<OpenFile>, log: (line: string) => void): Promise<void> {
  let logged = false;
  const failed = (e: unknown): void => {
    logged = true;
    log(`tsformer serve: ${request.method} ${request.url}: ${String((e as Error).message).split("\n")[0]}`);
  };
  let handle: OpenFile;
  try {
    handle = await openFile(file);
  } catch (e) {
    failed(e);
    answer(response, statusFor(e), statusFor(e) === 404 ? "not found" : "cannot read the file");
    return;
  }
  let streaming = false;
  try {
    let info: { size: number; isFile(): boolean };
    try {
      info = await handle.stat();
    } catch (e) {
      failed(e);
      answer(response, 500, "cannot read the file");
      return;
    }
    if (!info.isFile()) {
      answer(response, 404, "not found");
      return;
    }
    response.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": MIME[extname(file)] ?? "application/octet-stream", "Content-Length": info.size });
    if (request.method === "HEAD") {
      response.end();
      return;
    }
    // pipeline destroys both ends on an error, so a failed read ends this response (and only it) and frees the file
    const stream = handle.createReadStream();
    streaming = true;
    pipeline(stream, response, (e) => {
      if (e && e.code !== "ERR_STREAM_PREMATURE_CLOSE") failed(e); // premature close: the client went away
    });
  } finally {
    if (!streaming) await handle.close().catch((e: unknown) => (logged ? undefined : failed(e)));
  }
}

/** Starts serving `dir` on host:port (port 0 picks a free one). */
export function startServer(dir: string, port: number, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const openFile = options.openFile ?? ((path: string) => open(path, "r"));
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const root = existsSync(dir) ? realpathSync(dir) : resolve(dir);
  if (!existsSync(join(root, "index.html"))) {
    throw new ConfigError(`${dir}: no index.html; build the explorer first with: npm run build:web`);
  }
  // Bounded requests: headers ≤ 16 KiB (Node's default, named here), 10 s to send them, 30 s per request; the
  // server reads no request bodies. A malformed request gets 400 from Node and never stops the server.
  const server: Server = createServer({ maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 30_000 }, (request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") return answer(response, 405, "method not allowed");
    const file = fileFor(root, request.url ?? "/");
    if (!file) return answer(response, 404, "not found");
    void sendFile(file, request, response, openFile, log);
  });
  return new Promise((resolveStart, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      reject(e.code === "EADDRINUSE" ? new ConfigError(`port ${port} is in use; choose another with --port N or PORT=N`) : e);
    });
    server.listen(port, host, () => {
      const actual = (server.address() as AddressInfo).port;
      resolveStart({
        url: `http://${host}:${actual}/`, port: actual,
        close: () => new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

/** Registers the command. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(`serves the explorer (built by npm run build:web) on 127.0.0.1 (port: --port, else $PORT, else ${DEFAULT_PORT})`)
    .option("--dir <dir>", "the built site (default: web/dist)")
    .option("--port <n>", "the port")
    .option("--quantize <kind>", "int8: the printed address opens the explorer with its int8 switch on (?quantize=int8); the page quantizes the model itself")
    .action(async (options: { dir?: string; port?: string; quantize?: string }) => {
      try {
        const port = intOption(options.port !== undefined ? "--port" : "PORT", options.port ?? process.env.PORT, 0, 65535) ?? DEFAULT_PORT;
        const query = quantizeOption(options.quantize) === "int8" ? "?quantize=int8" : "";
        const server = await startServer(options.dir ?? shippedPath("web/dist"), port);
        process.stdout.write(`tsformer explorer: ${server.url}${query}  (Ctrl+C to stop)\n`);
        const stop = (): void => void server.close().then(() => process.exit(0));
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      } catch (e) {
        process.stderr.write(`tsformer: ${(e as Error).message.split("\n")[0]}\n`);
        process.exitCode = 1;
      }
    });
}
