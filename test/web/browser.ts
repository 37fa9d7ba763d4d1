/** Finding and launching a system Chromium for the explorer's browser tests (playwright-core downloads no browser). */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Where Chromium is looked for: $CHROMIUM_PATH, then Debian's and other usual places. */
const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium", "/usr/bin/google-chrome"];

/** The first Chromium found, or null. */
export function findChromium(): string | null {
  return CANDIDATES.find((path): path is string => typeof path === "string" && path !== "" && existsSync(path)) ?? null;
}

/** Launches it headless, with nothing that reaches the network by itself. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}
