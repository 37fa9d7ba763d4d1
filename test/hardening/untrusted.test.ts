/** Nothing read from a file is ever run: the sources contain no eval, no Function constructor, no process spawning, no vm on data. */
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "assembly" || name === "generated" ? [] : sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

test("src/ and web/src/ never evaluate code or spawn processes", () => {
  const files = [...sources("src"), ...sources("web/src")];
  assert.ok(files.length > 50);
  for (const file of files) {
    const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""); // comments may mention them
    assert.doesNotMatch(code, /(^|[^.\w])eval\s*\((?!\)\s*:)/, `${file}: eval`); // not the method eval(): this
    assert.doesNotMatch(code, /new\s+Function\s*\(/, `${file}: Function constructor`);
    assert.doesNotMatch(code, /["'](node:)?child_process["']/, `${file}: child_process`);
    // node:vm only with a constant string (the lab reaches V8's gc that way), never with data
    assert.doesNotMatch(code, /runIn\w*Context\(\s*[^"'\s]|new\s+Script\(/, `${file}: vm with non-constant code`);
    assert.doesNotMatch(code, /pickle\.load|unpickle\(/i, `${file}: unpickling`);
  }
});
