/**
 * The loading checks' peak memory is the child's own: a child spawned by a process that holds hundreds of MiB
 * reports its own high-water mark, not the parent's (Linux; elsewhere maxRSS has no VmHWM to replace it).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { timeCall } from "../../bench/load.ts";

test("timeCall reports the child's peak RSS, not the parent's memory it was forked from", { skip: existsSync("/proc/self/status") ? false : "needs Linux's /proc/self/status (VmHWM)" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tsformer-peak-"));
  try {
    const noop = join(dir, "noop.mjs");
    writeFileSync(noop, "");
    const held = new Float64Array(50e6).fill(1); // 400 MB, touched, in this process when the child is forked
    const r = timeCall(noop, []);
    assert.ok("peakKiB" in r, `the child ran: ${"error" in r ? r.error : ""}`);
    assert.ok(r.peakKiB > 1024, `a Node process has a peak of more than 1 MiB (got ${r.peakKiB} KiB)`);
    // The message reads `held`, so it stays reachable until the child has run.
    assert.ok(r.peakKiB < 200 * 1024, `an empty script peaked at ${Math.round(r.peakKiB / 1024)} MiB while this process held ${held.byteLength >> 20} MiB of one array`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
