/** `tsformer parity` as a user runs it: one line per case, a summary line, exit codes, --json. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cli } from "./run-cli.ts";

test("parity prints one line per case and a summary, exit 0 when all pass", () => {
  const r = cli(["parity", "test/fixtures/pytorch"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.at(-1), "30 passed, 0 failed");
  assert.equal(lines.filter((l) => l.startsWith("PASS ")).length, 30);
});

test("parity --json prints one object per case with worst ratios", () => {
  const r = cli(["parity", "test/fixtures/pytorch", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const objects = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { case: string; op: string; passed: boolean; compared: { name: string; worst: number }[] });
  assert.equal(objects.length, 30);
  for (const o of objects) {
    assert.equal(o.passed, true);
    assert.ok(o.compared.every((c) => typeof c.name === "string" && c.worst <= 1));
  }
});

test("a missing folder is one error line and exit 1, without a stack trace", () => {
  const r = cli(["parity", "no/such/folder"]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^tsformer: no\/such\/folder\/index\.json: cannot read the fixture index/);
});
