/** The explorer's server under hostile input: traversal variants, symlinks out, huge and malformed requests, load. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startServer } from "../../src/cli/serve.ts";

const tmp = mkdtempSync(join(tmpdir(), "tsformer-harden-"));
const site = join(tmp, "site");
mkdirSync(join(site, "sub"), { recursive: true });
writeFileSync(join(site, "index.html"), "<!doctype html><title>ok</title>");
writeFileSync(join(tmp, "secret.txt"), "SECRET");
symlinkSync(join(tmp, "secret.txt"), join(site, "link.txt"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Sends raw bytes and resolves with whatever comes back before the socket closes (or 2 s pass). */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.on("data", (d) => (answer += d.toString()));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on("error", () => undefined);
    socket.write(bytes);
    socket.end();
  });
}

test("path traversal in every encoding, and a symbolic link out of the site, are refused", async () => {
  const server = await startServer(site, 0);
  try {
    const attempts = [
      "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt", "/sub/..%2f..%2fsecret.txt",
      "/sub/%2e%2e%2f%2e%2e%2fsecret.txt", "/%252e%252e/secret.txt", "/..%5csecret.txt", "/sub/..\\..\\secret.txt",
      "//..//..//secret.txt", "/%00index.html", "/index.html%00.txt", "/%c0%ae%c0%ae/secret.txt", "/link.txt",
      `/${"../".repeat(20)}etc/passwd`, "/%", "/%zz",
    ];
    for (const path of attempts) {
      const r = await get(server.port, path);
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
      assert.ok(!r.body.includes("SECRET"), `${path} leaked the file`);
    }
    assert.equal((await get(server.port, "/")).status, 200);
  } finally {
    await server.close();
  }
});

test("oversized and malformed requests are refused, and the server keeps answering under a bounded load", async () => {
  const server = await startServer(site, 0);
  try {
    const big = await get(server.port, "/", { "x-filler": "a".repeat(64 * 1024) });
    assert.equal(big.status, 431, "headers over the limit");
    for (const junk of ["GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "\u0000\u0001\u0002\r\n\r\n", "GET /\r\nHost: x\r\n\r\n", `GET /${"x".repeat(70_000)} HTTP/1.1\r\n\r\n`]) {
      const answer = await raw(server.port, junk);
      assert.ok(answer === "" || /^HTTP\/1\.1 (400|404|405|414|431|505)/.test(answer), `answer to ${JSON.stringify(junk.slice(0, 20))}: ${answer.slice(0, 40)}`);
    }
    // 600 requests, 30 at a time, with malformed ones mixed in: every good one gets its 200
    let ok = 0;
    for (let round = 0; round < 20; round++) {
      const batch = Array.from({ length: 30 }, (_, i) => i % 10 === 9 ? raw(server.port, "BAD\r\n\r\n").then(() => null) : get(server.port, "/"));
      const results = await Promise.all(batch);
      ok += results.filter((r) => r !== null && r.status === 200).length;
    }
    assert.equal(ok, 20 * 27);
    assert.equal((await get(server.port, "/index.html")).status, 200, "still up");
  } finally {
    await server.close();
  }
});
