/**
 * `tsformer lab all --quick` as a user runs it: every question writes a well-formed result.json (claims quoted from
 * docs/notes.md, verdicts and how each was decided, evidence with numbers), a bilingual report.md and valid SVG
 * charts with data marks, and index.html links them all. Then determinism: the same question with the same seed
 * gives the same metrics, and `--check` finds no change in a rerun but names a changed number.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EXPLAIN_LINKS } from "../../src/lab/explain-links.ts";
import { decisionText, guessText } from "../../src/lab/report.ts";
import { QUESTIONS } from "../../src/lab/runner.ts";
import { QUESTION_IDS, type LabResult } from "../../src/lab/types.ts";
import { decide, ruleMetrics } from "../../src/lab/verdicts.ts";
import { cli } from "../cli/run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "tsformer-lab-"));
const quickOut = join(dir, "quick");

/** The notes as text a claim is quoted from: underline tags, link targets and Markdown escapes removed. */
function notesText(): string {
  return readFileSync("docs/notes.md", "utf8").replace(/<\/?u>/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/\\\*/g, "*");
}

/** Tags of an XML document balance, and it has one <svg> root. */
function assertWellFormedSvg(svg: string, what: string): void {
  assert.match(svg.trimStart(), /^<svg[\s>]/, `${what}: does not start with <svg>`);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([A-Za-z][\w:.-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `${what}: </${name}> closes the wrong element`);
    else stack.push(name);
  }
  assert.deepEqual(stack, [], `${what}: unclosed elements ${stack.join(", ")}`);
  // Data marks: a line, symbol or rect mark group with at least one drawn path.
  assert.match(svg, /<g class="mark-(?:line|symbol|rect)[^"]*role-mark[^"]*"[^>]*>(?:(?!<\/g>).)*<path[^>]* d="M/s, `${what}: no data marks`);
}

/** Metrics without the machine-dependent measurements. */
function reproducible(r: LabResult): unknown {
  const { timings: _timings, ...rest } = r.metrics;
  return rest;
}

test("lab all --quick: every question's result.json, report.md, charts and the index", () => {
  const r = cli(["lab", "all", "--quick", "--out", quickOut]);
  assert.equal(r.code, 0, r.stderr);
  const notes = notesText();
  const decidedBy: string[] = [];
  let guesses = 0;
  for (const id of QUESTION_IDS) {
    const folder = join(quickOut, id);
    const result = JSON.parse(readFileSync(join(folder, "result.json"), "utf8")) as LabResult;
    assert.equal(result.id, id);
    assert.ok(notes.includes(result.question_zh.replace(/^Q0\d：/, "")), `${id}: question_zh is not quoted from the notes`);
    assert.ok(result.question_en.length > 10);
    assert.equal(result.seed, 1);
    assert.equal(result.quick, true);
    assert.ok(typeof result.runtime_s === "number" && result.runtime_s >= 0);
    assert.ok(typeof result.metrics === "object" && result.metrics !== null);
    assert.ok(result.claims.length >= 2, `${id}: fewer than two claims`);
    const report = readFileSync(join(folder, "report.md"), "utf8");
    for (const c of result.claims) {
      assert.ok(notes.includes(c.claim_zh), `${id}: claim not quoted from the notes: ${c.claim_zh}`);
      assert.ok(["supported", "refuted", "nuanced"].includes(c.verdict), `${id}: verdict ${c.verdict}`);
      assert.ok(c.claim_en.length > 10);
      for (const e of [c.evidence, c.evidence_zh]) {
        assert.match(e, /\d/, `${id}: evidence without a number: ${e}`);
        assert.doesNotMatch(e, /undefined|\[object /, `${id}: evidence with a template hole: ${e}`);
      }
      assert.ok(report.includes(c.claim_zh) && report.includes(c.evidence) && report.includes(c.evidence_zh), `${id}: claim missing from report.md`);
      decidedBy.push(c.decided_by);
      if (c.decided_by === "measurement") {
        // The rule is one of the question's own, and re-applied to the recorded numbers it gives the verdict.
        assert.ok(Object.values(QUESTIONS[id].rules).some((r) => JSON.stringify(r) === JSON.stringify(c.rule)), `${id}: a rule the question does not export`);
        assert.deepEqual(Object.keys(c.measured), ruleMetrics(c.rule));
        assert.equal(decide(c.rule, c.measured), c.verdict, `${id}: the recorded numbers do not give the verdict`);
      } else {
        assert.equal(c.decided_by, "definition");
        assert.ok(c.reason.length > 20 && c.reason_zh.length > 10, `${id}: a verdict by definition without its reason`);
      }
      assert.ok(report.includes(decisionText(c, "en")) && report.includes(decisionText(c, "zh")), `${id}: report.md does not say how a verdict was decided`);
      if (c.guess) {
        guesses++;
        assert.ok(c.guess.question_en.endsWith("?") || c.guess.question_en.endsWith(".)"), `${id}: the quiz number is not asked as a question: ${c.guess.question_en}`);
        assert.ok(/[？）]$/.test(c.guess.question_zh), `${id}: the quiz number is not asked in Chinese: ${c.guess.question_zh}`);
        for (const q of [c.guess.question_en, c.guess.question_zh]) assert.doesNotMatch(q, /undefined|NaN|\[object /, `${id}: a template hole in ${q}`);
        // One unit string serves both languages, so only language-neutral units are allowed.
        assert.ok(["%", "×", ""].includes(c.guess.unit), `${id}: unit "${c.guess.unit}" reads differently in English and Chinese`);
        assert.ok(report.includes(guessText(c, "en")!) && report.includes(guessText(c, "zh")!), `${id}: report.md lacks the quiz number`);
      }
    }
    assert.ok(result.code === null || /^[0-9a-f]{4,}$/.test(result.code.commit), `${id}: code ${JSON.stringify(result.code)}`);
    assert.deepEqual(result.explain, EXPLAIN_LINKS[id], `${id}: the link to the Explain view`);
    assert.ok(report.includes(result.explain.en) && report.includes(result.explain.zh) && report.includes(`\`${result.explain.command}\``), `${id}: report.md lacks the Explain link`);
    for (const heading of ["## Verdicts · 结论", "## See it explained · 在解释视图中查看", "## What was run", "## 实验内容", "## Numbers · 数据", "## Verdicts and why", "## 结论与理由"]) {
      assert.ok(report.includes(heading), `${id}: report.md lacks "${heading}"`);
    }
    assert.match(report, /\n\| --- \|/, `${id}: report.md has no table`);
    assert.ok(result.charts.length >= 1, `${id}: no charts`);
    for (const c of result.charts) {
      assert.match(c, /^[\w-]+\.svg$/);
      assertWellFormedSvg(readFileSync(join(folder, c), "utf8"), `${id}/${c}`);
      assert.ok(report.includes(`](${c})`), `${id}: report.md does not show ${c}`);
    }
  }
  assert.equal(decidedBy.filter((d) => d === "measurement").length, 21);
  assert.equal(decidedBy.filter((d) => d === "definition").length, 9);
  assert.equal(guesses, 23, "claims with a number for the quiz");
  const html = readFileSync(join(quickOut, "index.html"), "utf8");
  const md = readFileSync(join(quickOut, "index.md"), "utf8");
  for (const id of QUESTION_IDS) {
    assert.ok(html.includes(`href="${id}/report.md"`) && md.includes(`(${id}/report.md)`), `index does not link ${id}`);
  }
});

test("lab: the same seed gives the same metrics (q02 rerun against the quick run)", () => {
  const first = join(quickOut, "q02", "result.json");
  assert.ok(existsSync(first), "the quick run must come first");
  const out = join(dir, "again");
  const r = cli(["lab", "q02", "--quick", "--seed", "1", "--out", out, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\{"id":"q02","verdicts":\[/);
  const a = JSON.parse(readFileSync(first, "utf8")) as LabResult;
  const b = JSON.parse(readFileSync(join(out, "q02", "result.json"), "utf8")) as LabResult;
  assert.deepEqual(reproducible(b), reproducible(a));
  assert.deepEqual(b.claims, a.claims);
});

test("lab --check: a rerun with the same numbers passes; a changed number is named, with exit code 1", () => {
  assert.ok(existsSync(join(quickOut, "q05", "result.json")), "the quick run must come first");
  const same = cli(["lab", "q05", "--out", quickOut, "--check"]);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /^q05: every number as in .* \(timings excluded\)/);
  const edited = join(dir, "edited");
  cpSync(join(quickOut, "q05"), join(edited, "q05"), { recursive: true });
  const file = join(edited, "q05", "result.json");
  const r = JSON.parse(readFileSync(file, "utf8")) as LabResult;
  writeFileSync(file, JSON.stringify({ ...r, metrics: { ...r.metrics, sentence_length: 9 } }));
  const changed = cli(["lab", "q05", "--out", edited, "--check"]);
  assert.equal(changed.code, 1);
  assert.match(changed.stdout, /^q05 metrics\.sentence_length: 9 → 8\n1 value\(s\) differ from /);
  const seeded = cli(["lab", "q05", "--out", edited, "--check", "--seed", "2"]);
  assert.equal(seeded.code, 1);
  assert.match(seeded.stderr, /^tsformer: --check reruns with the seed and mode recorded in /);
});

test("lab: a bad question or seed is a one-line error", () => {
  const r = cli(["lab", "q9", "--quick", "--out", join(dir, "bad")]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'tsformer: unknown question "q9" (choose q01…q08 or all)\n');
  const s = cli(["lab", "q05", "--seed", "-1", "--out", join(dir, "bad")]);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /^tsformer: --seed must be a non-negative integer/);
});
