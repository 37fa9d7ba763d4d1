/** Files that ship with tsformer, found relative to the package (works from src/ and from dist/). */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The absolute path of a file shipped in the package, e.g. `models/mlm`. */
export function shippedPath(relative: string): string {
  // src/io and dist/io are both two levels below the package root
  const root = resolve(here, "..", "..");
  const path = join(root, relative);
  return existsSync(path) ? path : resolve(relative);
}
