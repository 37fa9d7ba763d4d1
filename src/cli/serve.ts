/**
 * `tsformer serve [--dir DIR] [--port N]`: serves the explorer (the static site `npm run build:web` makes) on
 * 127.0.0.1. Every response is cross-origin isolated (COOP same-origin + COEP require-corp), which lets the page's
 * wasm backend use threads, and carries a Content-Security-Policy that allows no other host.
 */
import { createReadStream, existsSync, realpathSync, statSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve, sep } from "node:path";
import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import { intOption } from "./model-option.ts";
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

/** The file a URL path names inside `root`, or null when it is outside, missing or not a file. */
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
  if (!inside(file) || !existsSync(file)) return null;
  const real = realpathSync(file);
  return inside(real) && statSync(real).isFile() ? real : null;
}

/** Starts serving `dir` on host:port (port 0 picks a free one). */
export function startServer(dir: string, port: number, host = "127.0.0.1"): Promise<RunningServer> {
  const root = existsSync(dir) ? realpathSync(dir) : resolve(dir);
  if (!existsSync(join(root, "index.html"))) {
    throw new ConfigError(`${dir}: no index.html; build the explorer first with: npm run build:web`);
  }
  // Bounded requests: headers ≤ 16 KiB (Node's default, named here), 10 s to send them, 30 s per request; the
  // server reads no request bodies. A malformed request gets 400 from Node and never stops the server.
  const server: Server = createServer({ maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 30_000 }, (request, response) => {
    const readable = request.method === "GET" || request.method === "HEAD";
    const file = readable ? fileFor(root, request.url ?? "/") : null;
    if (!file) {
      const status = readable ? 404 : 405;
      response.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8" });
      response.end(status === 404 ? "not found\n" : "method not allowed\n");
      return;
    }
    response.writeHead(200, {
      ...SECURITY_HEADERS, "Content-Type": MIME[extname(file)] ?? "application/octet-stream", "Content-Length": statSync(file).size,
    });
    if (request.method === "HEAD") response.end();
    else createReadStream(file).pipe(response);
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
    .action(async (options: { dir?: string; port?: string }) => {
      try {
        const port = intOption(options.port !== undefined ? "--port" : "PORT", options.port ?? process.env.PORT, 0, 65535) ?? DEFAULT_PORT;
        const server = await startServer(options.dir ?? shippedPath("web/dist"), port);
        process.stdout.write(`tsformer explorer: ${server.url}  (Ctrl+C to stop)\n`);
        const stop = (): void => void server.close().then(() => process.exit(0));
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      } catch (e) {
        process.stderr.write(`tsformer: ${(e as Error).message.split("\n")[0]}\n`);
        process.exitCode = 1;
      }
    });
}
