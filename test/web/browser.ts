/** Finding and launching a system Chromium for the explorer's browser tests (playwright-core downloads no browser). */
import { existsSync } from "node:fs";
import { type Browser, type Page, chromium } from "playwright-core";

/** Debian's and other usual places of Chromium, looked at after $CHROMIUM_PATH. */
const USUAL_PLACES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium", "/usr/bin/google-chrome"];

/** $CHROMIUM_PATH, or null where it is unset or empty. */
function chromiumPathVariable(): string | null {
  return process.env.CHROMIUM_PATH ? process.env.CHROMIUM_PATH : null;
}

/** The first Chromium found ($CHROMIUM_PATH, then the usual places), or null. */
export function findChromium(): string | null {
  const set = chromiumPathVariable();
  return [...(set ? [set] : []), ...USUAL_PLACES].find((path) => existsSync(path)) ?? null;
}

/** Why findChromium() found none and how to get one, in one line: the skip reason of the browser tests. */
export function chromiumMissingReason(): string {
  const set = chromiumPathVariable();
  const looked = [...(set ? [`CHROMIUM_PATH=${set}`] : []), ...USUAL_PLACES].join(", ");
  return `Chromium not found at ${looked}: install it (apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium executable`;
}

/** Launches it headless, with nothing that reaches the network by itself. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/**
 * Collects what must not happen on an explorer page: page errors, console errors, and requests that leave the
 * local server (the page works offline). The tests assert the returned list stays empty.
 */
export function watchPageProblems(page: Page, serverUrl: string): string[] {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => void (m.type() === "error" && problems.push(`console: ${m.text()}`)));
  page.on("request", (r) => void (/^(blob|data):/.test(r.url()) || r.url().startsWith(serverUrl) || problems.push(`request to ${r.url()}`)));
  return problems;
}
