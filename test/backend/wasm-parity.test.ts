/** The PyTorch fixtures pass on the wasm backend, on 1 and 2 threads; the previous backend is restored after. */
import { test } from "node:test";
import { THREAD_COUNTS, assertFixturesPass, wasmWithThreads } from "./wasm-helpers.ts";

for (const threads of THREAD_COUNTS) {
  test(`every PyTorch fixture case passes on the wasm backend with ${threads} thread(s)`, async () => {
    assertFixturesPass(await wasmWithThreads(threads));
  });
}
