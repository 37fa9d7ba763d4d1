/**
 * The explorer's fill-mask view end to end in a real Chromium: builds the site with the shipped masked-LM model
 * (models/mlm; the BertForMaskedLM test fixture until it exists), types a sentence with [MASK], masks and restores a
 * token by clicking it, and checks the top-10 candidates against `fillMask` run here in Node (scores within 1e-5,
 * token strings and filled-in sequences exact) and the [MASK] position's attention for a chosen layer and head (and
 * the mean of the heads) against the engine's attention probabilities; then the language switch, the phone width,
 * and a site without a masked-LM model (the view says how to get one; "Open model…" with a BertForMaskedLM folder
 * then feeds the view). Screenshots go to test-output/explorer/. The browser part skips only when no Chromium is
 * installed; the engine side (runFillMask against the library) and the page's masking helpers run in Node always.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { buildWeb } from "../../scripts/build-web.ts";
import { type RunningServer, startServer } from "../../src/cli/serve.ts";
import { encodeTexts } from "../../src/models/embeddings.ts";
import { type FillMaskCandidate, fillMask } from "../../src/models/fill-mask.ts";
import { type LoadedBert, loadBert, loadBertSync } from "../../src/models/load-bert.ts";
import { runFillMask } from "../../web/src/engine/fill-mask.ts";
import type { FillMaskResult } from "../../web/src/engine/protocol.ts";
import { explorerModel } from "../../web/src/engine/run.ts";
import { attentionRow, keptRestores, textFromTokens, toggleMask } from "../../web/src/fill-mask.ts";
import { chromiumMissingReason, findChromium, launchChromium, watchPageProblems } from "./browser.ts";

const SENTENCE = "the [MASK] was great .";
const FIXTURE_MLM = "test/fixtures/bert_train/bert_train_mlm_l2_h32";
/** The shipped masked-LM model, or the test fixture until models/mlm exists. */
const MLM_DIR = existsSync("models/mlm/config.json") ? "models/mlm" : FIXTURE_MLM;
const SHOTS = resolve("test-output/explorer");
const TOLERANCE = 1e-5;
const chromiumPath = findChromium();

/** A candidate as the page shows it: its data-score, its token text and its filled-in sequence (the title shows it). */
interface Shown {
  score: number;
  tokenStr: string;
  sequence: string;
}

/** The candidates of mask `m` on the page. */
function shownCandidates(page: Page, m: number): Promise<Shown[]> {
  return page.$$eval(`[data-key="fm-candidates-${m}"] li`, (lis) => lis.map((li) => ({
    score: Number(li.getAttribute("data-score")), tokenStr: li.querySelector(".fm-token-str")?.textContent ?? "",
    sequence: li.getAttribute("data-sequence") ?? "",
  })));
}

/**
 * Checks the page's top-10 against Node's: scores within 1e-5, token strings and sequences exact, in rank order —
 * except that two candidates whose Node scores are within 1e-5 (a tie the backends may order either way) may swap.
 */
function sameCandidates(shown: Shown[], expected: FillMaskCandidate[], what: string): void {
  const top = expected.slice(0, 10);
  assert.equal(shown.length, top.length, `${what}: number of candidates`);
  shown.forEach((s, k) => {
    assert.ok(Math.abs(s.score - top[k].score) <= TOLERANCE, `${what} #${k + 1}: page ${s.score}, engine ${top[k].score}`);
    const same = expected.find((e) => e.token_str === s.tokenStr && Math.abs(e.score - top[k].score) <= TOLERANCE);
    assert.ok(same, `${what} #${k + 1}: page shows ${JSON.stringify(s.tokenStr)}, engine ranks ${JSON.stringify(top[k].token_str)} there`);
    assert.equal(s.sequence, same.sequence, `${what} #${k + 1}: filled-in sequence`);
  });
}

/** Waits until the view shows the result of `text` (no run under way). */
async function resultFor(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => document.querySelector('[data-key="fm-results"]')?.getAttribute("data-text") === t
    && !document.querySelector('[data-key="fm-status"]')?.classList.contains("busy"), text);
}

/** The engine's attention row of `position` in Node: one head, or the mean of the heads. */
function attentionRowInNode(loaded: LoadedBert, text: string, layer: number, head: number | "mean", position: number): number[] {
  const a = encodeTexts(loaded, [text], { needWeights: true }).output.attentions[layer];
  const [, heads, n] = a.shape;
  const at = (h: number, j: number): number => a.data[(h * n + position) * n + j];
  return Array.from({ length: n }, (_, j) => (head === "mean" ? Array.from({ length: heads }, (_, h) => at(h, j)).reduce((x, y) => x + y, 0) / heads : at(head, j)));
}

/** Checks the strip of mask `m` against Node's attention row. */
async function sameStrip(page: Page, m: number, expected: number[], what: string): Promise<void> {
  const weights = await page.$$eval(`[data-key="fm-strip-${m}"] li`, (lis) => lis.map((li) => Number(li.getAttribute("data-weight"))));
  assert.equal(weights.length, expected.length, `${what}: one cell per token`);
  weights.forEach((w, j) => assert.ok(Math.abs(w - expected[j]) <= TOLERANCE, `${what}, token ${j}: page ${w}, engine ${expected[j]}`));
}

/** Whether the page scrolls sideways (it must not). */
const fitsWidth = (page: Page, width: number): Promise<boolean> => page.evaluate((w) => document.documentElement.scrollWidth <= w, width);

test("runFillMask: fillMask's candidates and encodeTexts' attention of the same input; int8 and back", async () => {
  const loaded = await loadBert(MLM_DIR);
  const m = explorerModel(loadBertSync(MLM_DIR, { mlmHead: true }), "mlm");
  assert.equal(m.info.maskedLm, true);
  const text = "the [MASK] was [MASK] .";
  const r = runFillMask(m, text, { slot: "masked-lm" });
  const tokens = loaded.tokenizer.encode(text).tokens;
  assert.deepEqual(r.tokens, tokens);
  assert.deepEqual(r.masks, [2, 4]);
  assert.equal(r.slot, "masked-lm");
  assert.deepEqual(r.candidates, fillMask(loaded, text, { topK: 10 }), "the library's own candidates, exactly");
  const attentions = encodeTexts(loaded, [text], { needWeights: true }).output.attentions;
  r.attentions.forEach((a, l) => assert.deepEqual(a.data, attentions[l].data, `layer ${l} attention`));
  const n = tokens.length;
  assert.deepEqual(attentionRow(r, 0, 1, 4), Array.from(attentions[0].data.subarray((1 * n + 4) * n, (1 * n + 5) * n)), "layer 0, head 1, the second [MASK]'s row");
  const plain = runFillMask(m, "the movie was great .");
  assert.deepEqual([plain.masks, plain.candidates], [[], []], "no [MASK]: tokens and attention only");
  assert.equal(plain.tokens.length, 7);
  // The int8 switch quantizes the encoder and the head's dense layer; turning it off restores float32 bit for bit.
  const int8 = runFillMask(m, text, { int8: true });
  assert.equal(int8.int8, true);
  assert.notEqual(int8.candidates[0][0].score, r.candidates[0][0].score);
  assert.deepEqual(runFillMask(m, text).candidates, r.candidates);
  const noHead = explorerModel(loadBertSync("test/fixtures/bert_model/bert_seqcls_prefixed_l2_h40"), "seqcls");
  assert.equal(noHead.info.maskedLm, false);
  assert.throws(() => runFillMask(noHead, text), /no masked-LM head/);
});

test("masking by click: the text that tokenizes back, restoring, and which restores survive a run", async () => {
  const loaded = await loadBert(MLM_DIR);
  const tokensOf = (text: string): string[] => loaded.tokenizer.encode(text).tokens;
  assert.equal(textFromTokens(["[CLS]", "the", "play", "##s", "were", "[MASK]", ",", "[SEP]"]), "the plays were [MASK] ,");
  assert.equal(textFromTokens(["[CLS]", "##s", "a", "[SEP]"]), "##s a", "a leading continuation stays as it is");
  const result = (text: string): FillMaskResult => ({ text, slot: "masked-lm", tokens: tokensOf(text), ids: [], masks: [], candidates: [], attentions: [], truncated: false, int8: false, ms: 0 });
  const r = result("The film was GREAT .");
  const masked = toggleMask(r, {}, 4);
  assert.deepEqual(masked, { text: "the film was [MASK] .", restore: { 4: "great" } });
  assert.deepEqual(tokensOf(masked.text), ["[CLS]", "the", "film", "was", "[MASK]", ".", "[SEP]"], "the same positions after masking");
  const back = toggleMask(result(masked.text), masked.restore, 4);
  assert.deepEqual(back, { text: "the film was great .", restore: {} });
  assert.equal(toggleMask(r, {}, 0), null, "[CLS] cannot be masked");
  assert.equal(toggleMask(r, {}, 6), null, "[SEP] cannot be masked");
  assert.equal(toggleMask(result("the [MASK] ."), {}, 2), null, "a typed [MASK] has nothing to put back");
  assert.deepEqual(keptRestores({ 2: "film", 4: "great" }, result("the film was [MASK] .")), { 4: "great" });
});

let browser: Browser | null = null;
const servers: RunningServer[] = [];
let tmp = "";

if (!chromiumPath) {
  test("fill-mask view in a browser", { skip: chromiumMissingReason() }, () => {});
} else {
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "tsformer-fill-mask-"));
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test("fill-mask: top-10 and the [MASK]'s attention equal the engine's, click to mask, languages, phone width", { timeout: 90_000 }, async () => {
    const loaded = await loadBert(MLM_DIR);
    const layers = loaded.config.numHiddenLayers;
    const heads = loaded.config.numAttentionHeads;
    const defaultModel = existsSync("models/default/config.json") ? "models/default" : null;
    const site = await buildWeb({ out: join(tmp, "site"), model: defaultModel, maskedLm: MLM_DIR, lab: join(tmp, "no-lab"), log: false });
    assert.deepEqual(site.manifest.maskedLmModel?.files.slice(0, 3), ["config.json", "model.safetensors", "vocab.txt"]);
    const server = await startServer(site.out, 0);
    servers.push(server);
    browser = await launchChromium(chromiumPath);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US" });
    const page = await context.newPage();
    const problems = watchPageProblems(page, server.url);

    // The view loads the shipped model by itself; an example runs, then the typed sentence.
    await page.goto(`${server.url}#fill-mask`);
    await page.waitForSelector('[data-key="fm-results"]');
    assert.match((await page.locator('[data-key="fm-model"]').textContent()) ?? "", /shipped with this site/);
    await page.click('[data-key="fm-example-1"]');
    await resultFor(page, "he went to the [MASK] to buy some bread .");
    await page.fill('[data-key="fm-sentence"]', SENTENCE);
    await page.click('[data-key="fm-run"]');
    await resultFor(page, SENTENCE);
    const tokens = loaded.tokenizer.encode(SENTENCE).tokens;
    assert.deepEqual(await page.$$eval('[data-key="fm-tokens"] .token-text', (es) => es.map((e) => e.textContent)), tokens);
    sameCandidates(await shownCandidates(page, 0), fillMask(loaded, SENTENCE, { topK: 11 })[0], `"${SENTENCE}"`);
    const percent = await page.locator('[data-key="fm-candidate-0-0"] .fm-p').textContent();
    const best = (await shownCandidates(page, 0))[0].score;
    assert.equal(percent, `${(best * 100).toFixed(2)}%`, "the percentage is the score's");
    await page.screenshot({ path: join(SHOTS, "1280-fill-mask.png"), fullPage: true });

    // The attention of the [MASK]: the mean of the heads of layer 0 (the start), then the last layer, one head.
    const mask = tokens.indexOf("[MASK]");
    await sameStrip(page, 0, attentionRowInNode(loaded, SENTENCE, 0, "mean", mask), "layer 0, mean of heads");
    const last = layers - 1;
    const head = Math.min(1, heads - 1);
    await page.click(`[data-key="fm-layer-${last}"]`);
    await page.click(`[data-key="fm-head-${head}"]`);
    await page.waitForFunction((h) => document.querySelector(`[data-key="fm-head-${h}"]`)?.getAttribute("aria-pressed") === "true", head);
    await sameStrip(page, 0, attentionRowInNode(loaded, SENTENCE, last, head, mask), `layer ${last}, head ${head}`);
    await page.click('[data-key="fm-head-mean"]');
    await page.waitForSelector('[data-key="fm-head-mean"][aria-pressed="true"]');
    await sameStrip(page, 0, attentionRowInNode(loaded, SENTENCE, last, "mean", mask), `layer ${last}, mean of heads`);

    // Clicking "great" masks it (exBERT's gesture): the text, both masks' candidates and their attention follow.
    const great = tokens.indexOf("great");
    const twoMasks = "the [MASK] was [MASK] .";
    await page.click(`[data-key="fm-token-${great}"]`);
    await resultFor(page, twoMasks);
    assert.equal(await page.inputValue('[data-key="fm-sentence"]'), twoMasks);
    assert.equal(await page.getAttribute(`[data-key="fm-token-${great}"]`, "title"), "Put back “great”");
    const expected = fillMask(loaded, twoMasks, { topK: 11 });
    assert.equal(await page.locator('[data-key^="fm-mask-"]').count(), 2, "one panel per [MASK]");
    sameCandidates(await shownCandidates(page, 0), expected[0], `"${twoMasks}" first mask`);
    sameCandidates(await shownCandidates(page, 1), expected[1], `"${twoMasks}" second mask`);
    await sameStrip(page, 1, attentionRowInNode(loaded, twoMasks, last, "mean", great), `"${twoMasks}" second mask, layer ${last}, mean`);
    await page.click(`[data-key="fm-head-0"]`);
    await page.waitForSelector('[data-key="fm-head-0"][aria-pressed="true"]');
    await sameStrip(page, 1, attentionRowInNode(loaded, twoMasks, last, 0, great), `"${twoMasks}" second mask, layer ${last}, head 0`);
    await page.screenshot({ path: join(SHOTS, "1280-fill-mask-two-masks.png"), fullPage: true });
    assert.ok(await page.locator(`[data-key="fm-token-${mask}"]`).isDisabled(), "a typed [MASK] has nothing to put back");
    assert.ok(await page.locator('[data-key="fm-token-0"]').isDisabled(), "[CLS] cannot be masked");
    // Clicking the masked token puts the word back.
    await page.click(`[data-key="fm-token-${great}"]`);
    await resultFor(page, SENTENCE);
    sameCandidates(await shownCandidates(page, 0), fillMask(loaded, SENTENCE, { topK: 11 })[0], "after putting “great” back");

    // 中文: the view's labels change with the language.
    await page.click('[data-key="lang-switch"]');
    assert.equal(await page.locator("#fill-title").textContent(), "完形填空（掩码预测）");
    assert.equal(await page.locator('[data-key="nav-fill-mask"]').textContent(), "完形填空");
    assert.equal(await page.locator('[data-key="fm-run"]').textContent(), "预测");
    assert.equal(await page.locator('[data-key="fm-head-mean"]').textContent(), "各头平均");
    assert.match((await page.locator('[data-key="fm-mask-0"] h4').first().textContent()) ?? "", /最可能的 10 个预测/);
    assert.match((await page.locator('[data-key="fm-model"]').textContent()) ?? "", /掩码语言模型.*本站点内置/);
    await page.screenshot({ path: join(SHOTS, "1280-fill-mask-zh.png"), fullPage: true });

    // Phone width: nothing scrolls sideways, in English and Chinese, with two masks.
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, locale: "en-US", deviceScaleFactor: 2 });
    const small = await phone.newPage();
    small.on("pageerror", (e) => problems.push(`phone page error: ${e.message}`));
    await small.goto(`${server.url}#fill-mask`);
    await small.waitForSelector('[data-key="fm-results"]');
    await small.click('[data-key="fm-example-2"]');
    await resultFor(small, "she opened the [MASK] and walked [MASK] .");
    assert.ok(await fitsWidth(small, 375), "the fill-mask view fits 375 px");
    await small.screenshot({ path: join(SHOTS, "375-fill-mask.png"), fullPage: true });
    await small.click('[data-key="lang-switch"]');
    assert.ok(await fitsWidth(small, 375), "the Chinese fill-mask view fits 375 px");
    await small.screenshot({ path: join(SHOTS, "375-fill-mask-zh.png"), fullPage: true });
    await phone.close();
    assert.deepEqual(problems, []);
  });

  test("fill-mask without a masked-LM model: says how to get one; Open model… with a BertForMaskedLM folder feeds the view", { timeout: 60_000 }, async () => {
    const site = await buildWeb({ out: join(tmp, "bare"), model: null, maskedLm: null, lab: join(tmp, "no-lab"), log: false });
    assert.equal(site.manifest.maskedLmModel, null);
    const server = await startServer(site.out, 0);
    servers.push(server);
    browser ??= await launchChromium(chromiumPath);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US" });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(`${server.url}#fill-mask`);
    const none = (await page.locator('[data-key="fm-none"]').textContent()) ?? "";
    assert.match(none, /No masked-LM model is available/);
    assert.match(none, /tsformer pretrain/);
    assert.match(none, /Open model….*BertForMaskedLM/);
    await page.screenshot({ path: join(SHOTS, "1280-fill-mask-none.png") });

    // The opened folder has a masked-LM head: the view uses it (the main model's place in the worker).
    await page.click('[data-key="open-model"]');
    await page.setInputFiles('[data-key="pick-files"]', ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"].map((f) => join(FIXTURE_MLM, f)));
    await page.waitForSelector('[data-key="fm-results"]');
    assert.match((await page.locator('[data-key="fm-model"]').textContent()) ?? "", /the model you opened/);
    const fixture = await loadBert(FIXTURE_MLM);
    await page.fill('[data-key="fm-sentence"]', SENTENCE);
    await page.click('[data-key="fm-run"]');
    await resultFor(page, SENTENCE);
    sameCandidates(await shownCandidates(page, 0), fillMask(fixture, SENTENCE, { topK: 11 })[0], "opened BertForMaskedLM folder");
    assert.deepEqual(problems, []);
  });
}
