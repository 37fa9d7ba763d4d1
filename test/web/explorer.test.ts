/**
 * The explorer end to end in a real Chromium: builds the site, serves it, types a sentence and checks the page's
 * tokens, softmax values, prediction, attention lines and what-ifs against the engine run here in Node (same
 * checkpoint, same sentence, within 1e-5), then the language switch, the lab page and "Open model…". Screenshots go to
 * test-output/explorer/. Skips only when no Chromium is installed.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { buildWeb } from "../../scripts/build-web.ts";
import { type RunningServer, startServer } from "../../src/cli/serve.ts";
import { EncoderClassifier } from "../../src/models/classifier.ts";
import { encodeTexts } from "../../src/models/embeddings.ts";
import { loadBertSync } from "../../src/models/load-bert.ts";
import { maskFromLengths } from "../../src/nn/masks.ts";
import { encoderConfig } from "../../src/nn/model.ts";
import { Rng, indexTensor, noGrad } from "../../src/tensor/index.ts";
import { softmax } from "../../src/tensor/ops/nn.ts";
import { Vocabulary } from "../../src/text/vocab.ts";
import { type LoadedClassifier, loadCheckpoint } from "../../src/models/tsformer-checkpoint.ts";
import { checkpointFiles } from "../../src/train/checkpoint.ts";
import { chromiumMissingReason, findChromium, launchChromium, watchPageProblems } from "./browser.ts";

const SENTENCE = "The movie was good, but it was far too long";
const BERT_FOLDER = "test/fixtures/bert_model/bert_seqcls_prefixed_l2_h40";
const DEFAULT_MODEL = "models/default";
const NOTES_MODEL = "models/notes-encoder";
const SHOTS = resolve("test-output/explorer");
const TOLERANCE = 1e-5;
const chromiumPath = findChromium();

/**
 * The shipped notes' encoder (models/notes-encoder: ×√d_model, sinusoids, every step of the notes) when it exists, else
 * a small random checkpoint (2 layers, 4 heads) written to `dir`.
 */
function checkpointDir(dir: string): string {
  const shipped = resolve(NOTES_MODEL);
  if (existsSync(join(shipped, "config.json"))) return shipped;
  const words = ["the", "movie", "was", "good", ",", "but", "it", "far", "too", "long", "animal", "didn", "'", "t", "cross", "street", "because", "tired", "a", "bad"];
  const vocab = Vocabulary.fromTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...words]);
  const encoder = encoderConfig({ vocabSize: vocab.size, dModel: 32, heads: 4, dFF: 64, numLayers: 2, maxPositions: 64, dropout: 0 });
  const model = new EncoderClassifier({ encoder, pooling: "mean", labels: ["negative", "positive"] }, new Rng(11));
  const out = join(dir, "checkpoint");
  mkdirSync(out, { recursive: true });
  for (const [name, contents] of Object.entries(checkpointFiles(model, vocab, { doLowerCase: true, stripAccents: null, maxLength: 64 }))) {
    writeFileSync(join(out, name), contents);
  }
  return out;
}

/** The engine's own run of `text` in Node: tokens, attention per layer (1, h, n, n) and class probabilities. */
function reference(ck: LoadedClassifier, text: string, model = ck.model): { tokens: string[]; attentions: Float32Array[]; probs: Float32Array } {
  const enc = ck.tokenizer.encode(text, null, { maxLength: ck.config.tokenizer.maxLength, truncation: "longest_first" });
  const n = enc.inputIds.length;
  const out = noGrad(() => model.forward(indexTensor(enc.inputIds, [1, n]), { attentionMask: maskFromLengths([n], n), needWeights: true }));
  return { tokens: enc.tokens, attentions: out.attentions.map((a) => a.data), probs: noGrad(() => softmax(out.logits)).data };
}

/** A number as the page writes it (−∞, exponents, "−"). */
const parse = (text: string): number => Number(text.trim().replace("−∞", "-Infinity").replace("−", "-"));

/** Asserts |a − b| ≤ TOLERANCE. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= TOLERANCE, `${what}: page ${actual}, engine ${expected}`);
}

/** The p(label) the page shows in the prediction box. */
async function shownProbability(page: Page, label: string): Promise<number> {
  const text = await page.locator(`[data-key="prob-${label}"] .prob-label`).textContent();
  return parse((text ?? "").split("=").pop() ?? "");
}

let browser: Browser | null = null;
let server: RunningServer | null = null;
let tmp = "";

if (!chromiumPath) {
  test("explorer in a browser", { skip: chromiumMissingReason() }, () => {});
} else {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "tsformer-explorer-"));
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test("explorer: pipeline, attention, what-if, languages, lab and Open model in Chromium", { timeout: 55_000 }, async () => {
    const modelDir = checkpointDir(tmp);
    const ck = loadCheckpoint(modelDir);
    // With both shipped models the page opens on the default (a pretrained BERT) and the checks below run after its
    // switch to the notes' encoder; without them, the random checkpoint is the site's only model.
    const shippedPair = modelDir === resolve(NOTES_MODEL) && existsSync(join(DEFAULT_MODEL, "config.json"));
    const site = await buildWeb({
      out: join(tmp, "site"), model: shippedPair ? DEFAULT_MODEL : modelDir, notesModel: shippedPair ? NOTES_MODEL : null, lab: "test/web/fixtures/lab-sample", log: false,
    });
    assert.equal(site.manifest.lab?.sample, true, "the fixture lab results are marked as a sample");
    server = await startServer(site.out, 0);
    browser = await launchChromium(chromiumPath);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US" });
    const page = await context.newPage();
    const problems = watchPageProblems(page, server!.url);

    await page.goto(server.url);
    await page.waitForSelector('[data-key="prediction-main"]');
    assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true, "the server's COOP/COEP make the page cross-origin isolated");
    if (shippedPair) {
      assert.match((await page.locator('[data-key="model-summary"]').textContent()) ?? "", /^default model \(BERT\): 2 layer\(s\), 4 heads of d_k = 32, d_model 128/);
      await page.click('[data-key="switch-model"]');
      await page.waitForFunction(() => /^the notes' encoder, trained from scratch \(tsformer architecture\)/.test(document.querySelector('[data-key="model-summary"]')?.textContent ?? ""));
      assert.equal(await page.locator('[data-key="switch-model"]').textContent(), "Back to the default model");
    }

    // Tokens: the page's WordPiece output is the engine's.
    const ref = reference(ck, SENTENCE);
    await page.fill('[data-key="sentence"]', SENTENCE);
    await page.click('[data-key="run"]');
    await page.waitForFunction((expected) => [...document.querySelectorAll('[data-key="tokens"] .token-text')].map((e) => e.textContent).join(" ") === expected, ref.tokens.join(" "));

    // Softmax row of "it" in the last layer, second head: the "Show numbers" table, a hovered cell and the keyboard readout.
    const layers = ck.config.classifier.encoder.numLayers;
    const heads = ck.config.classifier.encoder.heads;
    const layer = layers - 1;
    const head = Math.min(1, heads - 1);
    const n = ref.tokens.length;
    const it = ref.tokens.indexOf("it");
    await page.click(`[data-key="pipe-layer-${layer}"]`);
    await page.click(`[data-key="pipe-head-${head}"]`);
    await page.click('[data-key="pipe-softmax-numbers"]');
    const rows = await page.$$eval('[data-key="pipe-softmax-table"] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
    assert.equal(rows.length, n);
    const expectedRow = ref.attentions[layer].subarray((head * n + it) * n, (head * n + it + 1) * n);
    rows[it].forEach((text, j) => near(parse(text), expectedRow[j], `softmax layer ${layer} head ${head} row "it" column ${j}`));
    const canvas = page.locator('[data-key="pipe-softmax-canvas"]');
    await canvas.hover({ position: { x: 2 * 22 + 11, y: it * 22 + 11 } });
    const hovered = (await page.locator('[data-key="pipe-softmax-readout"]').textContent()) ?? "";
    assert.ok(hovered.startsWith(`it → ${ref.tokens[2]}: `), hovered);
    near(parse(hovered.split(": ")[1]), expectedRow[2], "hovered softmax cell");
    await canvas.focus();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowRight");
    const readout = (await page.locator('[data-key="pipe-softmax-readout"]').textContent()) ?? "";
    near(parse(readout.split(": ")[1]), ref.attentions[layer][head * n * n + 1], "softmax cell (0, 1) read with the arrow keys");

    // Prediction.
    for (const [k, label] of ck.config.classifier.labels.entries()) near(await shownProbability(page, label), ref.probs[k], `p(${label})`);
    await page.screenshot({ path: join(SHOTS, "1280-pipeline.png") });
    await page.locator("#step-softmax").screenshot({ path: join(SHOTS, "1280-softmax-step.png") });

    // Attention: model view thumbnails, and the head view's lines from the focused token "it".
    await page.click('[data-key="nav-attention"]');
    const thumbs = page.locator('[data-key="model-view"] button.thumb');
    await thumbs.nth(layers * heads - 1).waitFor(); // the view renders after the click returns; count() does not wait
    assert.equal(await thumbs.count(), layers * heads);
    await page.click(`[data-key="hv-query-${it}"]`);
    const lines = await page.$$eval('[data-key="head-view"] line', (ls) => ls.map((l) => [Number(l.dataset.head), Number(l.dataset.from), Number(l.dataset.to), Number(l.dataset.weight)]));
    let expectedLines = 0;
    for (let h = 0; h < heads; h++) for (let j = 0; j < n; j++) if (ref.attentions[layer][(h * n + it) * n + j] >= 0.01) expectedLines++;
    assert.equal(lines.length, expectedLines, "one line per head and key with weight ≥ 0.01");
    for (const [h, from, to, w] of lines) {
      assert.equal(from, it);
      near(w, ref.attentions[layer][(h * n + it) * n + to], `head view line it → ${ref.tokens[to]} (head ${h})`);
    }
    await page.screenshot({ path: join(SHOTS, "1280-attention.png"), fullPage: true });

    // What if: padding with the mask changes nothing; without it, attention reaches [PAD]; scaling off matches the engine's scale: 1.
    await page.click('[data-key="nav-whatif"]');
    await page.selectOption('[data-key="wi-padding"]', "4");
    await page.waitForSelector('[data-key="wi-measures"]');
    const measure = async (key: string, column: number): Promise<number> => parse((await page.locator(`[data-key="${key}"] td`).nth(column).textContent()) ?? "");
    assert.equal(await measure("wi-m-pad", 1), 0, "masked padding gets no attention");
    assert.ok(await measure("wi-m-hidden", 1) <= TOLERANCE, "masked padding leaves the real tokens' outputs unchanged");
    await page.click('[data-key="wi-mask"]');
    await page.waitForFunction(() => Number(document.querySelector('[data-key="wi-m-pad"] td:nth-of-type(2)')?.textContent) > 0);
    await page.click('[data-key="wi-reset"]');
    await page.waitForSelector('[data-key="wi-baseline"]');
    await page.click('[data-key="wi-scaling"]');
    await page.waitForSelector('[data-key="wi-measures"]');
    const unscaled = new EncoderClassifier({ ...ck.config.classifier, encoder: { ...ck.config.classifier.encoder, attention: { scale: 1 } } });
    unscaled.loadStateDict(ck.model.stateDict());
    const refUnscaled = reference(ck, SENTENCE, unscaled);
    const afterText = (await page.locator('[data-key="wi-m-prediction"] td').nth(1).textContent()) ?? "";
    const k = refUnscaled.probs.indexOf(Math.max(...refUnscaled.probs));
    near(parse(/p = ([^)]+)\)/.exec(afterText)?.[1] ?? ""), refUnscaled.probs[k], "prediction with scaling off");
    await page.screenshot({ path: join(SHOTS, "1280-whatif.png"), fullPage: true });

    // int8: the model quantized in the page; the prediction stays, its probability moves a little, the final vectors
    // keep a cosine ≥ 0.99 to float32, and switching back restores the float32 numbers.
    await page.click('[data-key="wi-reset"]');
    await page.waitForSelector('[data-key="wi-baseline"]');
    const firstLabel = ck.config.classifier.labels[0];
    const fp32P = await shownProbability(page, firstLabel);
    await page.click('[data-key="wi-int8"]');
    await page.waitForSelector('[data-key="int8-cosine"]');
    assert.ok(await page.locator('[data-key="prediction-int8"]').isVisible(), "the prediction is marked int8");
    const cosine = parse((await page.locator('[data-key="int8-cosine"]').textContent()) ?? "");
    assert.ok(cosine >= 0.99 && cosine < 1, `int8 cosine to float32 ${cosine}`);
    const int8P = await shownProbability(page, firstLabel);
    assert.ok(int8P !== fp32P && Math.abs(int8P - fp32P) < 0.05, `p(${firstLabel}): float32 ${fp32P}, int8 ${int8P}`);
    assert.match((await page.locator('[data-key="int8-note"]').textContent()) ?? "", /W_Q, W_K, W_V, W_O.*LayerNorm, softmax and attention .* stay float32/);
    await page.screenshot({ path: join(SHOTS, "1280-int8.png"), fullPage: true });
    await page.click('[data-key="wi-int8"]');
    await page.waitForSelector('[data-key="prediction-int8"]', { state: "detached" });
    near(await shownProbability(page, firstLabel), fp32P, "p after switching int8 off");

    // Lab: the sample fixture, labelled as such, with its claims and chart.
    await page.click('[data-key="nav-lab"]');
    await page.waitForSelector('[data-key="lab-claims-Q04"]');
    assert.match((await page.locator('[data-key="lab-sample"]').textContent()) ?? "", /SAMPLE DATA/);
    assert.equal(await page.locator('[data-key="lab-claims-Q04"] tbody tr').count(), 2);
    assert.ok(await page.locator('[data-key="lab-Q04"] img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), "the chart loads");
    assert.match((await page.locator('[data-key="lab-Q04"]').textContent()) ?? "", /nuanced/);
    await page.screenshot({ path: join(SHOTS, "1280-lab.png"), fullPage: true });

    // 中文: every view switches language.
    await page.click('[data-key="lang-switch"]');
    assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
    assert.equal(await page.locator('[data-key="nav-pipeline"]').textContent(), "逐步流程");
    assert.match((await page.locator("#lab-title").textContent()) ?? "", /实验/);
    assert.match((await page.locator('[data-key="lab-claims-Q01"]').textContent()) ?? "", /成立/);
    await page.screenshot({ path: join(SHOTS, "1280-lab-zh.png") });
    await page.click('[data-key="nav-pipeline"]');
    await page.screenshot({ path: join(SHOTS, "1280-pipeline-zh.png") });

    // Open model…: a Hugging Face BertForSequenceClassification folder, loaded in the page, predicts as in Node.
    await page.click('[data-key="lang-switch"]');
    await page.click('[data-key="open-model"]');
    await page.setInputFiles('[data-key="pick-files"]', [join(BERT_FOLDER, "vocab.txt")]);
    await page.waitForSelector('[data-key="picker-status"].error');
    assert.match((await page.locator('[data-key="picker-status"]').textContent()) ?? "", /Could not load the model: .*config\.json: not found/);
    await page.setInputFiles('[data-key="pick-files"]', ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"].map((f) => join(BERT_FOLDER, f)));
    await page.waitForFunction(() => /BERT/.test(document.querySelector('[data-key="model-summary"]')?.textContent ?? ""));
    const bert = loadBertSync(BERT_FOLDER);
    await page.waitForFunction((expected) => [...document.querySelectorAll('[data-key="tokens"] .token-text')].map((e) => e.textContent).join(" ") === expected,
      bert.tokenizer.encode(SENTENCE).tokens.join(" "));
    const bertProbs = noGrad(() => softmax(encodeTexts(bert, [SENTENCE]).output.logits!)).data;
    for (const [i, label] of (bert.config.labels ?? []).entries()) near(await shownProbability(page, label), bertProbs[i], `BERT folder p(${label})`);
    await page.screenshot({ path: join(SHOTS, "1280-bert-folder.png") });

    // Phone width, Chinese from the browser's language: no sideways scrolling of the page itself.
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, locale: "zh-CN", deviceScaleFactor: 2 });
    const small = await phone.newPage();
    small.on("pageerror", (e) => problems.push(`phone page error: ${e.message}`));
    await small.goto(server.url);
    await small.waitForSelector('[data-key="prediction-main"]');
    assert.equal(await small.getAttribute("html", "lang"), "zh-CN", "the language follows the browser");
    assert.ok(await small.evaluate(() => document.documentElement.scrollWidth <= 375), "the page fits 375 px");
    await small.screenshot({ path: join(SHOTS, "375-pipeline-zh.png") });
    await small.click('[data-key="nav-whatif"]');
    await small.click('[data-key="wi-merge"]');
    await small.waitForSelector('[data-key="wi-measures"]');
    assert.ok(await small.evaluate(() => document.documentElement.scrollWidth <= 375), "the what-if view fits 375 px");
    await small.screenshot({ path: join(SHOTS, "375-whatif-zh.png"), fullPage: true });
    await small.click('[data-key="wi-int8"]');
    await small.waitForSelector('[data-key="int8-cosine"]');
    assert.match((await small.locator('[data-key="int8-note"]').textContent()) ?? "", /余弦相似度/);
    assert.ok(await small.evaluate(() => document.documentElement.scrollWidth <= 375), "the int8 note fits 375 px");
    await small.screenshot({ path: join(SHOTS, "375-int8-zh.png"), fullPage: true });
    // `tsformer serve --quantize int8` prints the address with ?quantize=int8: the page starts quantized
    await small.goto(`${server.url}?quantize=int8`);
    await small.waitForSelector('[data-key="prediction-int8"]');
    await phone.close();

    assert.deepEqual(problems, []);
  });
}
