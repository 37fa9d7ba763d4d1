/**
 * The explorer's page code that needs no browser: both languages complete, the browser stand-ins for Node modules,
 * the lab ids, picking a model folder, and the static build (bundles free of Node imports, the sample lab labelled).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildWeb } from "../../scripts/build-web.ts";
import { SECURITY_HEADERS } from "../../src/cli/serve.ts";
import { STRINGS, detectLanguage, translate } from "../../web/src/i18n.ts";
import { Buffer as ShimBuffer } from "../../web/src/node-shims/buffer.ts";
import { existsSync as vExists, readFileSync as vRead, statSync as vStat } from "../../web/src/node-shims/fs.ts";
import { basename, dirname, join as vJoin } from "../../web/src/node-shims/path.ts";
import { mountFolder } from "../../web/src/node-shims/virtual-folder.ts";
import { normalizeQuestionId } from "../../web/src/site.ts";
import { modelFolderFiles, pickName } from "../../web/src/ui/model-picker.ts";

const tmp = mkdtempSync(join(tmpdir(), "tsformer-explorer-page-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("every string has English and Chinese, with the same placeholders", () => {
  const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const [key, [en, zh]] of Object.entries(STRINGS)) {
    assert.ok(en.trim() !== "" && zh.trim() !== "", `${key} is empty in a language`);
    assert.deepEqual(placeholders(zh), placeholders(en), `${key}: placeholders differ`);
    // Formulas and names read the same in both languages; everything else must be translated.
    if (!/^(step\.(scaled|scale|softmax|av|wo)|model\.kind\.bert|int8\.badge|export\.(svg|png))$/.test(key)) assert.notEqual(zh, en, `${key} is not translated`);
  }
  assert.equal(translate("zh", "status.done", { ms: 3 }), "用时 3 毫秒。");
  assert.equal(translate("en", "attention.head", { h: 2 }), "Head 2");
});

test("the language follows the browser's preferences", () => {
  assert.equal(detectLanguage(["zh-CN", "en"]), "zh");
  assert.equal(detectLanguage(["zh-TW"]), "zh");
  assert.equal(detectLanguage(["en-GB", "zh-CN"]), "en");
  assert.equal(detectLanguage(["fr-FR", "zh"]), "zh");
  assert.equal(detectLanguage(["fr-FR"]), "en");
});

test("the browser's node:fs serves mounted folders with Node's error codes", () => {
  mountFolder("/models/picked", new Map([["config.json", new TextEncoder().encode('{"a": "é"}')]]));
  assert.equal(vExists("/models/picked"), true);
  assert.equal(vExists("/models/picked/config.json"), true);
  assert.equal(vRead("/models/picked/./config.json", "utf8"), '{"a": "é"}');
  assert.equal(vStat("/models/picked").isDirectory(), true);
  assert.equal(vStat("/models/picked/config.json").isFile(), true);
  assert.throws(() => vRead("/models/picked/vocab.txt"), (e: NodeJS.ErrnoException) => e.code === "ENOENT");
  mountFolder("/models/picked", new Map([["vocab.txt", new Uint8Array([97])]]));
  assert.equal(vExists("/models/picked/config.json"), false, "mounting replaces the folder's files");
  assert.equal(vJoin("/a", "b/../c", "d.json"), "/a/c/d.json");
  assert.equal(dirname("/a/b/c.json"), "/a/b");
  assert.equal(basename("/a/b/c.json"), "c.json");
  assert.equal(ShimBuffer.byteLength("é中"), Buffer.byteLength("é中"));
  assert.equal(ShimBuffer.compare(ShimBuffer.from("ab"), ShimBuffer.from("b")), Buffer.compare(Buffer.from("ab"), Buffer.from("b")));
});

test("lab question ids", () => {
  assert.equal(normalizeQuestionId("q4"), "Q04");
  assert.equal(normalizeQuestionId("Q08"), "Q08");
  assert.equal(normalizeQuestionId("q09"), null);
  assert.equal(normalizeQuestionId("intro"), null);
});

test("a picked folder yields the files next to config.json", () => {
  const file = (path: string): File => Object.defineProperty(new File(["x"], path.split("/").pop()!), "webkitRelativePath", { value: path });
  const picked = [file("runs/model/config.json"), file("runs/model/model.safetensors"), file("runs/model/vocab.txt"), file("runs/model/old/config.json"), file("runs/notes.txt")];
  assert.deepEqual(modelFolderFiles(picked).map((f) => f.webkitRelativePath), ["runs/model/config.json", "runs/model/model.safetensors", "runs/model/vocab.txt"]);
  assert.equal(pickName(modelFolderFiles(picked), "files"), "model");
  const loose = [new File(["x"], "config.json"), new File(["x"], "vocab.txt")];
  assert.equal(modelFolderFiles(loose).length, 2);
  assert.equal(pickName(loose, "selected files"), "selected files");
});

test("the static build: bundles, the shipped models, the lab results marked as a sample", async () => {
  const report = await buildWeb({
    out: join(tmp, "site"), model: "test/fixtures/bert_model/bert_seqcls_prefixed_l2_h40", notesModel: "test/fixtures/bert_model/bert_seqcls_prefixed_l2_h40", maskedLm: "test/fixtures/bert_train/bert_train_mlm_l2_h32", lab: "test/web/fixtures/lab-sample", log: false,
  });
  for (const f of ["index.html", "style.css", "app.js", "engine-worker.js", "site.json", "models/default/config.json", "models/default/model.safetensors", "models/notes-encoder/model.safetensors", "models/mlm/model.safetensors", "lab/q04/entropy-vs-dk.svg"]) {
    assert.ok(existsSync(join(report.out, f)), `${f} is in the site`);
  }
  // The page's meta policy is the one `tsformer serve` sends, so a static host without the header allows no more.
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(readFileSync(join(report.out, "index.html"), "utf8"))?.[1];
  assert.equal(csp, SECURITY_HEADERS["Content-Security-Policy"]);
  const manifest = JSON.parse(readFileSync(join(report.out, "site.json"), "utf8"));
  assert.deepEqual(manifest.defaultModel.files, ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"]);
  assert.deepEqual(manifest.maskedLmModel, { name: "bert_train_mlm_l2_h32", files: ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"] }, "only the engine's files, not the fixture's reference tensors");
  assert.equal(manifest.lab.sample, true);
  assert.equal(manifest.lab.index, "lab/index.html");
  assert.deepEqual(manifest.lab.questions.map((q: { id: string }) => q.id), ["Q01", "Q04"]);
  assert.deepEqual(manifest.lab.questions[1].charts, ["entropy-vs-dk.svg"]);
  assert.equal(manifest.notesModel.name, "bert_seqcls_prefixed_l2_h40");
  const none = await buildWeb({ out: join(tmp, "bare"), model: null, notesModel: null, maskedLm: null, lab: join(tmp, "no-such-folder"), log: false });
  assert.deepEqual(none.manifest, { defaultModel: null, notesModel: null, maskedLmModel: null, lab: null });
  await assert.rejects(buildWeb({ out: join(tmp, "x"), model: join(tmp, "missing"), log: false }), /not a model folder/);
  // The fill-mask view needs the masked-LM head: a classifier folder is refused, naming what is missing.
  await assert.rejects(buildWeb({ out: join(tmp, "y"), model: null, maskedLm: "test/fixtures/bert_model/bert_seqcls_prefixed_l2_h40", log: false }), /no masked-LM head/);
});
