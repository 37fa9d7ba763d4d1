/** `tsformer serve`: static files with cross-origin isolation, nothing outside the site, clear errors. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileFor, startServer } from "../../src/cli/serve.ts";
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
