/** The PyTorch fixtures pass on the wasm backend, on 1 and 2 threads; the previous backend is restored after. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { getBackend, setBackend } from "../../src/backend/registry.ts";
import { registerBackend } from "../../src/backend/registry.ts";
import { runParity } from "../../src/parity/runner.ts";
import { THREAD_COUNTS, wasmWithThreads } from "./wasm-helpers.ts";

for (const threads of THREAD_COUNTS) {
  test(`every PyTorch fixture case passes on the wasm backend with ${threads} thread(s)`, async () => {
    const wasm = await wasmWithThreads(threads);
    registerBackend(wasm); // the "wasm" name now means this one
    const previous = getBackend().name;
    setBackend("wasm");
    try {
      const results = runParity("test/fixtures/pytorch");
      assert.ok(results.length >= 30, `only ${results.length} cases`);
      for (const r of results) {
        const bad = r.compared.filter((c) => !(c.worst <= 1)).map((c) => `${c.name}: ${c.worst}`);
        assert.ok(r.passed, `${r.case}: ${r.error ?? ""} ${bad.join("; ")}`);
        assert.ok(r.compared.length > 0, `${r.case} compared nothing`);
      }
    } finally {
      setBackend(previous);
    }
    assert.equal(getBackend().name, previous);
  });
}
