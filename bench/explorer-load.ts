/**
 * The explorer's "Open model…" on a BERT-base-shaped folder (issue 13 item 5: ≤ 6 s, with a progress bar), in headless
 * Chromium: builds the site without a default model, serves it, picks the folder's four files and times from the pick
 * to the first sentence's tokens on the page. Needs a system Chromium (test/web/browser.ts finds it).
 *
 *   node --import tsx bench/explorer-load.ts [--runs N] [--folder DIR]   # DIR: a folder from bench/bert-base-folder.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildWeb } from "../scripts/build-web.ts";
import { startServer } from "../src/cli/serve.ts";
import { findChromium, launchChromium } from "../test/web/browser.ts";
import { writeBertBaseFolder } from "./bert-base-folder.ts";

/** One timed "Open model…": milliseconds from the pick to the tokens, and the progress labels seen on the way. */
export interface ExplorerLoad {
  ms: number;
  /** Distinct texts of the progress bar's label, in the order they were sampled. */
  stages: string[];
}

/** Times `runs` loads of `folder` in fresh pages; null (with the reason) where no Chromium is installed. */
export async function timeExplorerLoads(folder: string, runs: number, log: (line: string) => void): Promise<ExplorerLoad[] | { skipped: string }> {
  const chromium = findChromium();
  if (!chromium) return { skipped: "no Chromium (apt-get install -y chromium, or set CHROMIUM_PATH)" };
  const tmp = mkdtempSync(join(tmpdir(), "tsformer-explorer-load-"));
  const site = await buildWeb({ out: join(tmp, "site"), model: null, lab: join(tmp, "no-lab"), log: false }); // no lab: an absent folder
  const server = await startServer(site.out, 0);
  const browser = await launchChromium(chromium);
  try {
    const out: ExplorerLoad[] = [];
    for (let i = 0; i < runs; i++) {
      const page = await (await browser.newContext({ locale: "en-US" })).newPage();
      await page.goto(server.url);
      await page.click('[data-key="open-model"]');
      const stages: string[] = [];
      const start = performance.now();
      await page.setInputFiles('[data-key="pick-files"]', ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"].map((f) => join(folder, f)));
      // Samples the progress label until the sentence's tokens are on the page (or the picker shows an error).
      for (;;) {
        const state = await page.evaluate(() => ({
          label: document.querySelector('[data-key="load-progress-label"]')?.textContent ?? null,
          error: document.querySelector('[data-key="picker-status"].error')?.textContent ?? null,
          done: document.querySelectorAll('[data-key="tokens"] .token-text').length > 0,
        }));
        if (state.error) throw new Error(`explorer: ${state.error}`);
        if (state.label && stages.at(-1) !== state.label) stages.push(state.label);
        if (state.done) break;
        await page.waitForTimeout(50);
      }
      out.push({ ms: performance.now() - start, stages });
      log(`explorer load ${i + 1}/${runs}: ${(out[i].ms / 1000).toFixed(2)} s`);
      await page.context().close();
    }
    return out;
  } finally {
    await browser.close();
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values: a } = parseArgs({ options: { runs: { type: "string", default: "3" }, folder: { type: "string" } } });
  const tmp = a.folder ? null : mkdtempSync(join(tmpdir(), "tsformer-bert-base-"));
  try {
    const folder = a.folder ?? writeBertBaseFolder(tmp as string).dir;
    const result = await timeExplorerLoads(folder, Number(a.runs), (line) => void process.stderr.write(`[bench] ${line}\n`));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
