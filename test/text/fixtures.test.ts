import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runWordpieceFixtures } from "../../src/parity/wordpiece.ts";

const DIR = "test/fixtures/wordpiece";

test("every wordpiece fixture case passes (vectors, batches, HF test facts)", () => {
  const results = runWordpieceFixtures(DIR, { facts: true });
  const index = JSON.parse(readFileSync(join(DIR, "index.json"), "utf8")) as { files: Record<string, number> };
  const expected = Object.values(index.files).reduce((a, b) => a + b, 0);
  assert.equal(results.length, expected, "one case per vector, batch vector and fact");
  const failed = results.filter((r) => !r.passed);
  const details = failed.map((r) => `${r.case} (${r.op}): ${r.error ?? r.compared.filter((c) => c.worst > 1).map((c) => c.name).join(", ")}`);
  assert.deepEqual(details, [], `failing cases:\n${details.join("\n")}`);
  // Every stage is exercised: full encodings, batches and the three kinds of HF facts.
  const ops = new Set(results.map((r) => r.op));
  for (const op of ["wordpiece", "wordpiece_batch", "basic_tokenizer", "wordpiece_tokenizer", "bert_tokenizer", "char_class"]) {
    assert.ok(ops.has(op), `no ${op} case`);
  }
  assert.ok(results.every((r) => r.compared.every((c) => c.worst === 0)));
});

test("without facts, the run has one case per vector and batch vector", () => {
  const index = JSON.parse(readFileSync(join(DIR, "index.json"), "utf8")) as { files: Record<string, number> };
  assert.equal(runWordpieceFixtures(DIR).length, index.files["vectors.json"] + index.files["batch_vectors.json"]);
});

test("the disputed vectors follow HF Python", () => {
  const byName = new Map(runWordpieceFixtures(DIR).map((r) => [r.case, r]));
  for (const id of ["disputed_cjk_extension_b", "disputed_greek_final_sigma", "disputed_unassigned_code_point", "disputed_nfc_cased", "disputed_empty_pair", "batch_disputed_pair_tie"]) {
    assert.equal(byName.get(id)?.passed, true, id);
  }
});

test("a broken case becomes a failed result with an error, and the run goes on", () => {
  const dir = mkdtempSync(join(tmpdir(), "wordpiece-"));
  writeFileSync(join(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hi"].join("\n") + "\n");
  const vector = (id: string, vocab: string, ids: number[]) => ({
    id, text: "hi", text_pair: null, vocab, do_lower_case: true, strip_accents: null, tokenize_chinese_chars: true,
    tokens: ["[CLS]", "hi", "[SEP]"], input_ids: ids, token_type_ids: [0, 0, 0],
  });
  const vectors = [vector("good", "vocab.txt", [2, 4, 3]), vector("missing_vocab", "nope.txt", [2, 4, 3]), vector("wrong_ids", "vocab.txt", [2, 5, 3])];
  writeFileSync(join(dir, "vectors.json"), JSON.stringify({ vectors }));
  writeFileSync(join(dir, "index.json"), JSON.stringify({ family: "wordpiece", files: { "vectors.json": 3, "batch_vectors.json": 1 } }));
  const results = runWordpieceFixtures(dir);
  const byName = new Map(results.map((r) => [r.case, r]));
  assert.equal(byName.get("good")?.passed, true);
  assert.equal(byName.get("missing_vocab")?.passed, false);
  assert.match(byName.get("missing_vocab")?.error ?? "", /nope\.txt/);
  const wrong = byName.get("wrong_ids");
  assert.equal(wrong?.passed, false);
  assert.deepEqual(wrong?.compared.filter((c) => c.worst > 1).map((c) => c.name), ["input_ids"]);
  assert.equal(wrong?.compared.find((c) => c.name === "input_ids")?.worst, Infinity);
  // A file listed in index.json but absent is one failed case, not a crash.
  assert.equal(byName.get("batch_vectors.json")?.passed, false);
});

test("a folder of another family is refused as one failed case", () => {
  const dir = mkdtempSync(join(tmpdir(), "wordpiece-"));
  writeFileSync(join(dir, "index.json"), JSON.stringify({ family: "pytorch" }));
  const results = runWordpieceFixtures(dir);
  assert.equal(results.length, 1);
  assert.equal(results[0].passed, false);
  assert.match(results[0].error ?? "", /family/);
});
