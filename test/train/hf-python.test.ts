/**
 * What `tsformer train --init-from` writes is a Hugging Face folder PyTorch reads by the documented names: a
 * Python script (torch only, no `transformers`) parses config.json and model.safetensors byte by byte, runs
 * BertForSequenceClassification's forward pass in float64 and must give tsformer's logits. Skipped, saying why,
 * where python3 has no torch (install it with `apt-get install python3-torch`).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadBert } from "../../src/models/load-bert.ts";
import { noGrad } from "../../src/tensor/autograd.ts";
import { indexTensor } from "../../src/tensor/tensor.ts";
import { train } from "../../src/train/trainer.ts";
import { BERT_PLAIN, fineTuneConfig } from "./fine-tune-task.ts";

/** A python3 that imports torch, or null. */
function pythonWithTorch(): string | null {
  for (const python of ["python3", "/usr/bin/python3"]) {
    if (spawnSync(python, ["-c", "import torch"], { encoding: "utf8" }).status === 0) return python;
  }
  return null;
}

const python = pythonWithTorch();

test("a fine-tuned folder gives the same logits in PyTorch, read by Hugging Face's names", { skip: python ? false : "python3 with torch not found (apt-get install python3-torch to run this check)" }, async () => {
  const config = fineTuneConfig(mkdtempSync(join(tmpdir(), "tsformer-hfpy-")), BERT_PLAIN, { epochs: 1 });
  await train(config);
  const best = join(config.out, "best");
  const loaded = await loadBert(best);
  const rows = ["the movie was wonderful", "a sad dark story"].map((t) => loaded.tokenizer.encode(t, null, { maxLength: 6, truncation: "longest_first" }).inputIds);
  const ids = rows.map((r) => [...r, ...new Array<number>(6 - r.length).fill(0)].slice(0, 6));
  assert.ok(ids.every((r) => !r.includes(0)), "rows without padding (the script assumes none)");
  const ours = noGrad(() => loaded.model.forward(indexTensor(ids.flat(), [ids.length, 6])).logits!.data);
  const r = spawnSync(python!, [join(import.meta.dirname, "hf_bert_logits.py"), best, JSON.stringify(ids)], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const theirs = (JSON.parse(r.stdout) as number[][]).flat();
  assert.equal(theirs.length, ours.length);
  theirs.forEach((t, i) => assert.ok(Math.abs(t - ours[i]) <= 1e-5 + 1e-4 * Math.abs(t), `logit ${i}: tsformer ${ours[i]}, PyTorch ${t}`));
});
