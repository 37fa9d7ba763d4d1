/** Writes a question's folder (result.json, report.md, charts as SVG) and the index (index.html, index.md) of a lab run. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { renderSvg } from "./charts.ts";
import { EXPLAIN_LINKS } from "./explain-links.ts";
import { fmt } from "./metrics.ts";
import { type Claim, type CodeVersion, type LabResult, type Question, type QuestionOutput, QUESTION_IDS, type Table, type Verdict } from "./types.ts";
import type { Condition, VerdictRule } from "./verdicts.ts";

/** Verdict names in both languages. */
export const VERDICT_LABEL: Record<Verdict, { en: string; zh: string; mark: string }> = {
  supported: { en: "supported", zh: "成立", mark: "✅" },
  refuted: { en: "refuted", zh: "不成立", mark: "❌" },
  nuanced: { en: "nuanced", zh: "部分成立", mark: "⚖️" },
};

/** How a verdict was decided, in both languages. */
const DECIDED_BY_LABEL: Record<Claim["decided_by"], { en: string; zh: string }> = {
  measurement: { en: "measurement", zh: "实测" },
  definition: { en: "definition", zh: "定义" },
};

/** A rule as one sentence: "**supported** if a > 0.05 and b < 1; otherwise **nuanced**" (or in Chinese). */
export function ruleText(rule: VerdictRule, lang: "en" | "zh"): string {
  const condition = (c: Condition): string => `${c.metric} ${c.comparison} ${c.threshold}`;
  const name = (v: Verdict): string => `**${VERDICT_LABEL[v][lang]}**`;
  if (lang === "en") {
    return [...rule.cases.map((c) => `${name(c.verdict)} if ${c.when.map(condition).join(" and ")}`), `otherwise ${name(rule.otherwise)}`].join("; ");
  }
  return [...rule.cases.map((c) => `若 ${c.when.map(condition).join(" 且 ")}，则${name(c.verdict)}`), `否则${name(rule.otherwise)}`].join("；");
}

/** How a claim's verdict was decided: the rule and the numbers it read, or the reason it holds by definition. */
export function decisionText(c: Claim, lang: "en" | "zh"): string {
  if (c.decided_by === "definition") return lang === "en" ? `Decided by definition: ${c.reason}` : `判定方式：按定义。${c.reason_zh}`;
  const measured = Object.entries(c.measured).map(([k, v]) => `${k} = ${v}`).join(", ");
  return lang === "en" ? `Decided by measurement: ${ruleText(c.rule, "en")}. Measured: ${measured}.` : `判定方式：实测。${ruleText(c.rule, "zh")}。实测值：${measured}。`;
}

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
  lines.push("## Verdicts · 结论", "", "| # | claim from the notes · 笔记原文 | verdict · 结论 | decided by · 判定方式 |", "| --- | --- | --- | --- |");
  out.claims.forEach((c, i) => lines.push(`| ${i + 1} | 「${c.claim_zh}」 | ${v(c)} | ${DECIDED_BY_LABEL[c.decided_by].en} · ${DECIDED_BY_LABEL[c.decided_by].zh} |`));
  lines.push("", "## What was run", "", out.method_en, "", "## 实验内容", "", out.method_zh, "");
  lines.push("## Numbers · 数据", "");
  for (const t of out.tables) lines.push(`### ${t.title_en} · ${t.title_zh}`, "", mdTable(t), "");
  if (out.charts.length > 0) {
    lines.push("## Charts · 图表", "");
    for (const c of out.charts) lines.push(`![${c.title_en} · ${c.title_zh}](${c.name}.svg)`, "");
  }
  const link = result.explain;
  lines.push("## See it explained · 在解释视图中查看", "", `${link.en} Explorer: Explain view, ${link.panel} (\`npm start\`); terminal: \`${link.command}\`.`, "",
    `${link.zh} 浏览器：解释视图（${link.panel}）；终端：\`${link.command}\`。`, "");
  lines.push("## Verdicts and why", "");
  out.claims.forEach((c, i) => {
    lines.push(`${i + 1}. 「${c.claim_zh}」`, `   *${c.claim_en}* — **${VERDICT_LABEL[c.verdict].en}**. ${c.evidence}`, "", `   ${decisionText(c, "en")}`, "", ...guessLines(c, "en"));
  });
  lines.push("## 结论与理由", "");
  out.claims.forEach((c, i) => {
    lines.push(`${i + 1}. 「${c.claim_zh}」 — **${VERDICT_LABEL[c.verdict].zh}**。${c.evidence_zh}`, "", `   ${decisionText(c, "zh")}`, "", ...guessLines(c, "zh"));
  });
  return `${lines.join("\n").trimEnd()}\n`;
}

/** The quiz's number for a claim, as the report states it: the question and this run's answer (nothing without one). */
export function guessText(c: Claim, lang: "en" | "zh"): string | null {
  if (!c.guess) return null;
  const answer = `${fmt(c.guess.answer)}${c.guess.unit === "%" ? "" : " "}${c.guess.unit}`.trimEnd();
  return lang === "en" ? `Quiz number (the explorer asks it before the verdict): ${c.guess.question_en} Measured: **${answer}**.`
    : `测验数字（浏览器在揭晓结论前提问）：${c.guess.question_zh} 实测：**${answer}**。`;
}

/** The report lines of a claim's quiz number (none without one). */
function guessLines(c: Claim, lang: "en" | "zh"): string[] {
  const text = guessText(c, lang);
  return text === null ? [] : [`   ${text}`, ""];
}

/** Writes result.json, report.md and every chart of a question into `<outDir>/<id>/`. */
export async function writeQuestion(outDir: string, q: Question, out: QuestionOutput, meta: { seed: number; quick: boolean; runtime_s: number; code: CodeVersion | null }): Promise<LabResult> {
  const dir = join(outDir, q.id);
  mkdirSync(dir, { recursive: true });
  const result: LabResult = {
    id: q.id, title: q.title, question_zh: q.question_zh, question_en: q.question_en,
    claims: out.claims, metrics: out.metrics, seed: meta.seed, quick: meta.quick, runtime_s: Number(meta.runtime_s.toFixed(2)),
    code: meta.code, charts: out.charts.map((c) => `${c.name}.svg`), explain: EXPLAIN_LINKS[q.id],
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

/** The code versions of the results, e.g. "commit 78c1095 with uncommitted changes to src/ or models/". */
function codeText(results: LabResult[]): { en: string; zh: string } {
  const versions = [...new Set(results.map((r) => (r.code ? `${r.code.commit}${r.code.uncommitted_changes ? "+" : ""}` : "unknown")))];
  const dirty = results.some((r) => r.code?.uncommitted_changes);
  return {
    en: `commit ${versions.join(", ")}${dirty ? " (+: with uncommitted changes to src/ or models/)" : ""}`,
    zh: `提交 ${versions.join("、")}${dirty ? "（+：src/ 或 models/ 有未提交的修改）" : ""}`,
  };
}

/** Writes index.md and index.html over every question found in the folder. */
export function writeIndex(outDir: string): void {
  const results = readResults(outDir);
  const seeds = [...new Set(results.map((r) => r.seed))].join(", ");
  const mode = results.every((r) => r.quick) ? "quick" : results.some((r) => r.quick) ? "mixed quick/full" : "full";
  const total = results.reduce((t, r) => t + r.runtime_s, 0);
  const code = codeText(results);
  const made = `Made by \`tsformer lab\` from ${code.en} (seed ${seeds}, ${mode} run, ${total.toFixed(0)} s in all); rerun one question with \`tsformer lab q05\`, all with \`tsformer lab all\`, ` +
    "and check that a rerun still gives every number here with `npm run build:lab -- --check`. " +
    `由 \`tsformer lab\` 基于${code.zh}生成（种子 ${seeds}，${mode === "full" ? "完整" : "快速"}运行，共 ${total.toFixed(0)} 秒）；\`npm run build:lab -- --check\` 重新运行并核对每个数字。`;
  const allClaims = results.flatMap((r) => r.claims);
  const measured = allClaims.filter((c) => c.decided_by === "measurement").length;
  const decided = `Of the ${allClaims.length} verdicts, ${measured} follow from measured numbers by the rule printed under each claim in its report, and ${allClaims.length - measured} are fixed by definition (shapes, arithmetic, the code), with the reason. ` +
    `${allClaims.length} 个结论中，${measured} 个由实测数字按报告中列出的规则判定，${allClaims.length - measured} 个按定义（形状、算术、代码）判定，并写明理由。`;
  const md: string[] = ["# tsformer lab · 面试笔记实验室", "",
    "Each claim of the interview notes (docs/notes.md) tested on the real engine. 笔记中的每个论断都在真实引擎上做了实验。", "", made, "", decided, "",
    "| question · 问题 | claims · 论断 | verdicts · 结论 | measured · definition · 实测 · 定义 | report · 报告 |", "| --- | --- | --- | --- | --- |"];
  for (const r of results) {
    const verdicts = r.claims.map((c) => VERDICT_LABEL[c.verdict].mark).join(" ");
    const byMeasurement = r.claims.filter((c) => c.decided_by === "measurement").length;
    md.push(`| **${r.id.toUpperCase()}** ${r.title} | ${r.claims.length} | ${verdicts} | ${byMeasurement} · ${r.claims.length - byMeasurement} | [report.md](${r.id}/report.md) · [result.json](${r.id}/result.json) |`);
  }
  md.push("", "✅ supported · 成立  ❌ refuted · 不成立  ⚖️ nuanced · 部分成立", "");
  writeFileSync(join(outDir, "index.md"), md.join("\n"));
  const sections = results.map((r) => {
    const claims = r.claims.map((c) => `<li><span class="v ${c.verdict}">${VERDICT_LABEL[c.verdict].en} · ${VERDICT_LABEL[c.verdict].zh}</span> 「${escapeHtml(c.claim_zh)}」<br><em>${escapeHtml(c.claim_en)}</em><br>${escapeHtml(c.evidence)}<br>${escapeHtml(c.evidence_zh)}<br><small>${escapeHtml(decisionText(c, "en").replace(/\*\*/g, ""))}</small></li>`).join("\n");
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
<p>${escapeHtml(decided)}</p>
<nav>${results.map((r) => `<a href="#${r.id}">${r.id.toUpperCase()}</a>`).join(" · ")}</nav>
${sections}
</body></html>
`;
  writeFileSync(join(outDir, "index.html"), html);
}
