/** The PyTorch fixtures: every public case passes on outputs, intermediates and gradients; a wrong value fails. */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runParity } from "../../src/parity/runner.ts";

const DIR = "test/fixtures/pytorch";

test("every public PyTorch case passes, comparing every stored tensor", () => {
  const results = runParity(DIR);
  const index = JSON.parse(readFileSync(join(DIR, "index.json"), "utf8")) as { cases: unknown[] };
  assert.equal(results.length, index.cases.length);
  for (const r of results) {
    const bad = r.compared.filter((c) => !(c.worst <= 1)).map((c) => `${c.name}: ${c.worst}`);
    assert.ok(r.passed, `${r.case}: ${r.error ?? ""} ${bad.join("; ")}`);
    assert.ok(r.compared.length > 0, `${r.case} compared nothing`);
  }
  const gradients = results.flatMap((r) => r.compared).filter((c) => c.name.startsWith("grad.")).length;
  assert.ok(gradients > 300, `only ${gradients} gradient comparisons`);
});

test("a case whose reference differs fails, naming the tensor", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tsformer-parity-"));
  cpSync(join(DIR, "mha_self_h2"), join(tmp, "mha_self_h2"), { recursive: true });
  writeFileSync(join(tmp, "index.json"), JSON.stringify({ format_version: 1, cases: [{ name: "mha_self_h2", op: "multi_head_attention", dir: "mha_self_h2" }] }));
  const file = join(tmp, "mha_self_h2", "attn_weights.f64");
  const bytes = readFileSync(file);
  const values = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  values[3] += 1e-3; // far beyond rtol 1e-4 / atol 1e-5
  writeFileSync(file, new Uint8Array(values.buffer));
  const [r] = runParity(tmp);
  assert.equal(r.passed, false);
  assert.ok(r.compared.some((c) => c.name === "attn_weights" && c.worst > 1));
});

test("a case with an unknown op is reported as failed, not thrown", () => {
  const tmp = mkdtempSync(join(tmpdir(), "tsformer-parity-"));
  cpSync(join(DIR, "softmax_stability"), join(tmp, "c"), { recursive: true });
  const meta = JSON.parse(readFileSync(join(tmp, "c", "case.json"), "utf8")) as Record<string, unknown>;
  meta.op = "flash_decoding";
  writeFileSync(join(tmp, "c", "case.json"), JSON.stringify(meta));
  writeFileSync(join(tmp, "index.json"), JSON.stringify({ cases: [{ name: "c", op: "flash_decoding", dir: "c" }] }));
  const [r] = runParity(tmp);
  assert.equal(r.passed, false);
  assert.match(r.error ?? "", /unsupported op 'flash_decoding'/);
});
