/** Writes a question's folder (result.json, report.md, charts as SVG) and the index (index.html, index.md) of a lab run. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { renderSvg } from "./charts.ts";
import { type Claim, type LabResult, type Question, type QuestionOutput, QUESTION_IDS, type Table, type Verdict } from "./types.ts";

/** Verdict names in both languages. */
export const VERDICT_LABEL: Record<Verdict, { en: string; zh: string; mark: string }> = {
  supported: { en: "supported", zh: "成立", mark: "✅" },
  refuted: { en: "refuted", zh: "不成立", mark: "❌" },
  nuanced: { en: "nuanced", zh: "部分成立", mark: "⚖️" },
};

/** Markdown table (pipes in cells escaped). */
function mdTable(t: Table): string {
  const cell = (v: string | number): string => String(v).replace(/\|/g, "\\|");
  return [
    `| ${t.columns.map(cell).join(" | ")} |`,
    `| ${t.columns.map(() => "---").join(" | ")} |`,
    ...t.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

/** The bilingual report of one question. */
export function reportMarkdown(q: Question, out: QuestionOutput, result: LabResult): string {
  const lines: string[] = [];
  const v = (c: Claim): string => `${VERDICT_LABEL[c.verdict].mark} ${VERDICT_LABEL[c.verdict].en} · ${VERDICT_LABEL[c.verdict].zh}`;
  lines.push(`# ${q.id.toUpperCase()} · ${q.title}`, "");
  lines.push(`> ${q.question_zh}`, ">", `> ${q.question_en}`, "");
  lines.push(`Seed ${result.seed} · ${result.quick ? "quick run · 快速运行" : "full run · 完整运行"} · ${result.runtime_s.toFixed(1)} s. ` +
    "Every number below was measured on tsformer by `tsformer lab " + q.id + "`. 以下所有数字均由 `tsformer lab " + q.id + "` 在 tsformer 上实测。", "");
  if (result.quick) {
    lines.push("> Quick run: smaller sizes and fewer steps, so the verdicts can differ from the full run's (`tsformer lab " + q.id + "`, published in docs/lab). " +
      "快速运行：规模和步数都缩小了，结论可能与完整运行（docs/lab）不同，以完整运行为准。", "");
  }
  lines.push("## Verdicts · 结论", "", "| # | claim from the notes · 笔记原文 | verdict · 结论 |", "| --- | --- | --- |");
  out.claims.forEach((c, i) => lines.push(`| ${i + 1} | 「${c.claim_zh}」 | ${v(c)} |`));
  lines.push("", "## What was run", "", out.method_en, "", "## 实验内容", "", out.method_zh, "");
  lines.push("## Numbers · 数据", "");
  for (const t of out.tables) lines.push(`### ${t.title_en} · ${t.title_zh}`, "", mdTable(t), "");
  if (out.charts.length > 0) {
    lines.push("## Charts · 图表", "");
    for (const c of out.charts) lines.push(`![${c.title_en} · ${c.title_zh}](${c.name}.svg)`, "");
  }
  lines.push("## Verdicts and why", "");
  out.claims.forEach((c, i) => {
    lines.push(`${i + 1}. 「${c.claim_zh}」`, `   *${c.claim_en}* — **${VERDICT_LABEL[c.verdict].en}**. ${c.evidence}`, "");
  });
  lines.push("## 结论与理由", "");
  out.claims.forEach((c, i) => {
    lines.push(`${i + 1}. 「${c.claim_zh}」 — **${VERDICT_LABEL[c.verdict].zh}**。${c.evidence_zh}`, "");
  });
  return `${lines.join("\n").trimEnd()}\n`;
}

/** Writes result.json, report.md and every chart of a question into `<outDir>/<id>/`. */
export async function writeQuestion(outDir: string, q: Question, out: QuestionOutput, meta: { seed: number; quick: boolean; runtime_s: number }): Promise<LabResult> {
  const dir = join(outDir, q.id);
  mkdirSync(dir, { recursive: true });
  const result: LabResult = {
    id: q.id, title: q.title, question_zh: q.question_zh, question_en: q.question_en,
    claims: out.claims, metrics: out.metrics, seed: meta.seed, quick: meta.quick, runtime_s: Number(meta.runtime_s.toFixed(2)),
    charts: out.charts.map((c) => `${c.name}.svg`),
  };
  for (const c of out.charts) writeFileSync(join(dir, `${c.name}.svg`), await renderSvg(c.spec));
  // Atomic: `readResults` parses every result.json of the folder, so an interrupted run must not leave half of one.
  await writeFileAtomic(join(dir, "result.json"), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, "report.md"), reportMarkdown(q, out, result));
  return result;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Every result.json present in the folder, in question order. */
export function readResults(outDir: string): LabResult[] {
  return QUESTION_IDS.map((id) => join(outDir, id, "result.json"))
    .filter((p) => existsSync(p))
    .map((p) => JSON.parse(readFileSync(p, "utf8")) as LabResult);
}

/** Writes index.md and index.html over every question found in the folder. */
export function writeIndex(outDir: string): void {
  const results = readResults(outDir);
  const seeds = [...new Set(results.map((r) => r.seed))].join(", ");
  const mode = results.every((r) => r.quick) ? "quick" : results.some((r) => r.quick) ? "mixed quick/full" : "full";
  const total = results.reduce((t, r) => t + r.runtime_s, 0);
  const made = `Made by \`tsformer lab\` (seed ${seeds}, ${mode} run, ${total.toFixed(0)} s in all); rerun one question with \`tsformer lab q05\`, all with \`tsformer lab all\`. ` +
    `由 \`tsformer lab\` 生成（种子 ${seeds}，${mode === "full" ? "完整" : "快速"}运行，共 ${total.toFixed(0)} 秒）。`;
  const md: string[] = ["# tsformer lab · 面试笔记实验室", "",
    "Each claim of the interview notes (docs/notes.md) tested on the real engine. 笔记中的每个论断都在真实引擎上做了实验。", "", made, "",
    "| question · 问题 | claims · 论断 | verdicts · 结论 | report · 报告 |", "| --- | --- | --- | --- |"];
  for (const r of results) {
    const verdicts = r.claims.map((c) => VERDICT_LABEL[c.verdict].mark).join(" ");
    md.push(`| **${r.id.toUpperCase()}** ${r.title} | ${r.claims.length} | ${verdicts} | [report.md](${r.id}/report.md) · [result.json](${r.id}/result.json) |`);
  }
  md.push("", "✅ supported · 成立  ❌ refuted · 不成立  ⚖️ nuanced · 部分成立", "");
  writeFileSync(join(outDir, "index.md"), md.join("\n"));
  const sections = results.map((r) => {
    const claims = r.claims.map((c) => `<li><span class="v ${c.verdict}">${VERDICT_LABEL[c.verdict].en} · ${VERDICT_LABEL[c.verdict].zh}</span> 「${escapeHtml(c.claim_zh)}」<br><em>${escapeHtml(c.claim_en)}</em><br>${escapeHtml(c.evidence)}<br>${escapeHtml(c.evidence_zh)}</li>`).join("\n");
    const charts = r.charts.map((c) => `<a href="${r.id}/${c}"><img src="${r.id}/${c}" alt="${escapeHtml(c)}"></a>`).join("\n");
    return `<section id="${r.id}"><h2>${r.id.toUpperCase()} · ${escapeHtml(r.title)}</h2>
<p class="q">${escapeHtml(r.question_zh)}<br>${escapeHtml(r.question_en)}</p>
<p><a href="${r.id}/report.md">report.md</a> · <a href="${r.id}/result.json">result.json</a> · seed ${r.seed} · ${r.quick ? "quick" : "full"} · ${r.runtime_s} s</p>
<ol>${claims}</ol>
<div class="charts">${charts}</div></section>`;
  }).join("\n");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tsformer lab</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}
.v{font-weight:bold;padding:0 .4em;border-radius:3px}.supported{background:#d4f4d4}.refuted{background:#f8d0d0}.nuanced{background:#f8ecc0}
.charts img{max-width:48%;margin:.3em;border:1px solid #ddd}.q{color:#444}li{margin-bottom:.6em}</style></head>
<body><h1>tsformer lab · 面试笔记实验室</h1>
<p>Each claim of the interview notes tested on the real engine, with the numbers, the charts and a verdict. 笔记中的每个论断都在真实引擎上实验：数据、图表与结论。</p>
<p>${escapeHtml(made.replace(/`/g, ""))}</p>
<nav>${results.map((r) => `<a href="#${r.id}">${r.id.toUpperCase()}</a>`).join(" · ")}</nav>
${sections}
</body></html>
`;
  writeFileSync(join(outDir, "index.html"), html);
}
