/** The malformed-input corpus (test/fixtures/malformed, made by scripts/make-malformed-corpus.ts): each file gives its one-line error. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { TsformerError } from "../../src/errors.ts";
import { readSafetensorsFile } from "../../src/io/safetensors.ts";
import { loadBert } from "../../src/models/load-bert.ts";
import { Vocabulary } from "../../src/text/vocab.ts";
import { readTrainConfigFile, resolveTrainConfig } from "../../src/train/config.ts";
import { readDataset } from "../../src/train/data.ts";

const DIR = "test/fixtures/malformed";
interface Entry { path: string; loader: string; expect: string; labels?: string[]; note: string }
const manifest = JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")) as Entry[];

const loaders: Record<string, (path: string, e: Entry) => Promise<unknown>> = {
  safetensors: (p) => readSafetensorsFile(p),
  "bert-folder": (p) => loadBert(p),
  vocab: async (p) => Vocabulary.fromFile(p),
  data: async (p, e) => readDataset(p, { labels: e.labels }),
  "train-config": async (p) => resolveTrainConfig(readTrainConfigFile(p), { data: { train: "x.txt" } }),
};

test("every corpus entry is refused with a typed one-line error that says what is wrong", async () => {
  assert.ok(manifest.length >= 30);
  for (const entry of manifest) {
    const load = loaders[entry.loader];
    assert.ok(load, `no loader ${entry.loader}`);
    await assert.rejects(load(join(DIR, entry.path), entry), (e: Error) => {
      assert.ok(e instanceof TsformerError, `${entry.path}: ${e.name} ${e.message}`);
      assert.ok(!e.message.includes("\n"), `${entry.path}: multi-line`);
      assert.ok(e.message.includes(entry.expect), `${entry.path}: "${e.message}" lacks "${entry.expect}"`);
      return true;
    }, entry.path);
  }
});
