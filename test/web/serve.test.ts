/** `tsformer serve`: static files with cross-origin isolation, nothing outside the site, clear errors. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, test } from "node:test";
import { type OpenFile, fileFor, startServer } from "../../src/cli/serve.ts";
import { ConfigError } from "../../src/errors.ts";

const tmp = mkdtempSync(join(tmpdir(), "tsformer-serve-"));
const site = join(tmp, "site");
mkdirSync(join(site, "lab"), { recursive: true });
writeFileSync(join(site, "index.html"), "<!doctype html><title>x</title>");
writeFileSync(join(site, "app.js"), "export {};");
writeFileSync(join(tmp, "secret.txt"), "outside the site");
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A raw request (the path is sent as written, not normalised). */
function get(port: number, path: string, method = "GET"): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("serves the site cross-origin isolated, and nothing outside it", async () => {
  const server = await startServer(site, 0);
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await get(server.port, "/");
    assert.equal(index.status, 200);
    assert.equal(index.headers["cross-origin-opener-policy"], "same-origin");
    assert.equal(index.headers["cross-origin-embedder-policy"], "require-corp");
    assert.match(String(index.headers["content-security-policy"]), /default-src 'self'/);
    assert.match(String(index.headers["content-type"]), /text\/html/);
    const js = await get(server.port, "/app.js?v=1");
    assert.equal(js.status, 200);
    assert.match(String(js.headers["content-type"]), /javascript/);
    assert.equal(js.headers["cross-origin-embedder-policy"], "require-corp", "workers need the headers too");
    for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/lab/..%2f..%2fsecret.txt", "/missing.js", "/lab"]) {
      assert.equal((await get(server.port, path)).status, 404, path);
    }
    assert.equal((await get(server.port, "/", "POST")).status, 405);
  } finally {
    await server.close();
  }
});

test("a folder without index.html and a busy port are one-line errors", async () => {
  assert.throws(() => startServer(tmp, 0), (e: Error) => e instanceof ConfigError && /npm run build:web/.test(e.message));
  const first = await startServer(site, 0);
  try {
    await assert.rejects(startServer(site, first.port), (e: Error) => e instanceof ConfigError && /in use/.test(e.message));
  } finally {
    await first.close();
  }
});

test("fileFor keeps paths inside the root", () => {
  assert.equal(fileFor(site, "/"), join(site, "index.html"));
  assert.equal(fileFor(site, "/%E0%A4%A"), null, "bad percent-encoding");
  assert.equal(fileFor(site, "/a\0b"), null);
});

/** An error as fs raises it: a message and a code. */
function fsError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** A GET that resolves when the connection ends, complete or not (a reset mid-body is an outcome, not a rejection). */
function fetchOutcome(port: number, path: string): Promise<{ status: number; complete: boolean }> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path }, (res) => {
      res.on("error", () => undefined);
      res.on("close", () => resolve({ status: res.statusCode ?? 0, complete: res.complete }));
      res.resume();
    });
    req.on("error", () => resolve({ status: 0, complete: false }));
    req.end();
  });
}

test("a file that cannot be opened, stat'ed or read gets 404 or 500 and one log line; the server keeps serving", async () => {
  // Running as root, permissions do not bite: the failures are injected through the server's file opener.
  const failures: Record<string, () => Promise<OpenFile>> = {
    "/app.js?gone": () => Promise.reject(fsError("ENOENT", "no such file or directory, open 'app.js'")), // removed after the lookup
    "/app.js?denied": () => Promise.reject(fsError("EACCES", "permission denied, open 'app.js'")),
    "/app.js?stat": async () => {
      const handle = await open(join(site, "app.js"));
      return { stat: () => Promise.reject(fsError("EIO", "i/o error, fstat")), createReadStream: () => handle.createReadStream(), close: () => handle.close() };
    },
    "/app.js?read": async () => ({ // fails after the headers went out: the response can only be cut off
      stat: () => Promise.resolve({ size: 100, isFile: () => true }),
      createReadStream: () => {
        let reads = 0;
        // the failure comes a moment after the first bytes, so they (and the headers) reach the client first
        return new Readable({
          read() {
            if (reads++ === 0) this.push("partial");
            else setTimeout(() => this.destroy(fsError("EIO", "i/o error, read")), 50);
          },
        });
      },
      close: () => Promise.resolve(),
    }),
  };
  const lines: string[] = [];
  let current = "";
  const server = await startServer(site, 0, {
    openFile: (path) => failures[current]?.() ?? open(path),
    log: (line) => lines.push(line),
  });
  try {
    const expected: Record<string, number> = { "/app.js?gone": 404, "/app.js?denied": 500, "/app.js?stat": 500, "/app.js?read": 200 };
    for (const [path, status] of Object.entries(expected)) {
      current = path;
      const outcome = await fetchOutcome(server.port, path);
      assert.equal(outcome.status, status, path);
      if (path === "/app.js?read") assert.equal(outcome.complete, false, "a read error cuts the response off");
      current = "";
      assert.equal((await get(server.port, "/app.js")).status, 200, `still serving after ${path}`);
    }
    assert.equal(lines.length, 4, lines.join("\n"));
    for (const [i, code] of ["ENOENT", "EACCES", "EIO", "EIO"].entries()) {
      assert.ok(!lines[i].includes("\n") && lines[i].includes(code) && lines[i].includes("/app.js"), lines[i]);
    }
  } finally {
    await server.close();
  }
});

test("a path that is not a file is a 404 and its handle is closed once; a failing close is logged, not lost", async () => {
  const lines: string[] = [];
  let closes = 0;
  let settledCloses = 0;
  let closeFails = false;
  const server = await startServer(site, 0, {
    openFile: async (path) => {
      const handle = await open(path);
      return {
        stat: () => handle.stat(),
        createReadStream: () => handle.createReadStream(),
        close: async () => {
          closes++;
          const fails = closeFails; // decided when the close starts: the flag may flip before it settles
          try {
            await handle.close();
          } finally {
            settledCloses++;
          }
          if (fails) throw fsError("EIO", "i/o error, close");
        },
      };
    },
    log: (line) => lines.push(line),
  });
  try {
    assert.equal((await get(server.port, "/lab")).status, 404, "a folder");
    assert.equal(closes, 1);
    // the response goes out before the close settles: wait for it, so that the next close is the first to fail
    for (let i = 0; i < 100 && settledCloses < 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(lines.length, 0, lines.join("\n"));
    closeFails = true;
    assert.equal((await get(server.port, "/lab")).status, 404, "a folder whose handle fails to close");
    assert.equal((await get(server.port, "/app.js", "HEAD")).status, 200, "HEAD closes the handle too");
    assert.equal(closes, 3);
    // the close failure is logged when the close settles, which may be just after the response went out
    for (let i = 0; i < 100 && lines.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(lines.length, 2, lines.join("\n"));
    for (const line of lines) assert.ok(line.includes("EIO") && line.includes("close"), line);
    closeFails = false;
    assert.equal((await get(server.port, "/app.js")).status, 200, "still serving");
  } finally {
    await server.close();
  }
});
