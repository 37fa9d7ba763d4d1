/**
 * Every recipe in configs/ is one a user can run: it parses, has no unknown field, passes the config checks, and
 * every input it names that the repository ships (data, vocabularies, models; not runs/ outputs) exists.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readPretrainConfigFile, resolvePretrainConfig } from "../../src/train/pretrain-config.ts";
import { readTrainConfigFile, resolveTrainConfig } from "../../src/train/config.ts";

const files = readdirSync("configs").filter((f) => f.endsWith(".json")).map((f) => join("configs", f));

/** Paths a config names as inputs; outputs and files a build step writes (data/pretrain/, runs/) are left out. */
function shippedInputs(paths: (string | undefined)[]): string[] {
  return paths.filter((p): p is string => p !== undefined && !p.startsWith("runs/") && !p.startsWith("data/pretrain/"));
}

test("every config in configs/ resolves, and the shipped inputs it names exist", () => {
  assert.ok(files.length >= 9, `found ${files.length} configs`);
  for (const file of files) {
    if (file.startsWith("configs/pretrain")) {
      const c = resolvePretrainConfig(readPretrainConfigFile(file));
      for (const p of shippedInputs([...c.data.text, c.vocab.file, c.vocab.base])) assert.ok(existsSync(p), `${file}: ${p} does not exist`);
    } else {
      const c = resolveTrainConfig(readTrainConfigFile(file));
      for (const p of shippedInputs([c.data.train, c.data.dev, c.initFrom, c.vocab.file, c.vocab.base, ...c.distill.teachers])) {
        assert.ok(existsSync(p), `${file}: ${p} does not exist`);
      }
    }
  }
});
