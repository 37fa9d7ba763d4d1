/**
 * The lab page: for each interview question, the verdicts of `tsformer lab` on the notes' claims, the evidence,
 * metrics and charts, read from the results the build copied into the site. Sample data is labelled as such.
 */
import { formatShort } from "../format.ts";
import type { Lang, StringKey, Translator } from "../i18n.ts";
import { type LabClaim, type LabEntry, type LabResult, QUESTION_IDS, type QuestionId, normalizeQuestionId } from "../site.ts";
import type { ViewContext } from "../state.ts";
import { el } from "./dom.ts";

/** Results fetched so far, by question id (fetched once per page). */
const results = new Map<QuestionId, LabResult | Error>();
let loading: Promise<void> | null = null;

/** Fetches every entry's result.json; `done` redraws once they are in. */
function loadLabResults(entries: LabEntry[], done: () => void): void {
  if (loading) return;
  loading = Promise.all(entries.map(async (entry) => {
    const id = normalizeQuestionId(entry.id);
    if (!id || !entry.result) return;
    try {
      const response = await fetch(entry.dir + entry.result);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      results.set(id, (await response.json()) as LabResult);
    } catch (e) {
      results.set(id, e instanceof Error ? e : new Error(String(e)));
    }
  })).then(done);
}

/** A verdict in the page's language when it is one of the usual words, else as the lab wrote it; and its tone. */
function verdictBadge(t: Translator, verdict: string): HTMLElement {
  const v = verdict.toLowerCase();
  const tone = /refut|false|wrong|not supported/.test(v) ? "refuted" : /part|mixed|nuanc/.test(v) ? "partly" : /support|true|confirm|holds/.test(v) ? "supported" : "inconclusive";
  const known: Record<string, StringKey> = {
    supported: "verdict.supported", refuted: "verdict.refuted", nuanced: "verdict.nuanced", partly: "verdict.partly", "partly supported": "verdict.partly", inconclusive: "verdict.inconclusive",
  };
  return el("span", { class: `verdict ${tone}` }, known[v] ? t(known[v]) : verdict);
}

/** How the lab decided a claim's verdict, as result.json records it (absent in results written before it did). */
type DecidedClaim = LabClaim & { decided_by?: string; measured?: Record<string, number>; reason?: string; reason_zh?: string };

/** One line under the verdict: decided by measurement (the numbers the rule read on hover) or by definition (the reason). */
function decidedBy(t: Translator, lang: Lang, c: DecidedClaim): HTMLElement | null {
  if (c.decided_by === "definition") return el("div", { class: "note", "data-key": "decided-by", title: (lang === "zh" ? c.reason_zh : c.reason) ?? "" }, t("lab.byDefinition"));
  if (c.decided_by !== "measurement") return null;
  const numbers = Object.entries(c.measured ?? {}).map(([k, v]) => `${k} = ${formatShort(v)}`).join(", ");
  return el("div", { class: "note", "data-key": "decided-by", title: numbers }, t("lab.byMeasurement"));
}

/** Any JSON value as short text: numbers to 4 digits, long arrays cut. */
function valueText(value: unknown): string {
  if (typeof value === "number") return formatShort(value);
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    const shown = value.slice(0, 8).map(valueText).join(", ");
    return `[${shown}${value.length > 8 ? `, … (${value.length})` : ""}]`;
  }
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** The question without a leading "Q04:" / "Q04：" (the card's heading already names it). */
function questionText(question: string): string {
  return question.replace(/^Q\d+\s*[:：]\s*/, "");
}

/** One question's card. */
function questionCard(t: Translator, lang: Lang, id: QuestionId, entry: LabEntry | undefined, sample: boolean): HTMLElement {
  const result = results.get(id);
  const heading = el("h3", { id: `lab-${id.toLowerCase()}-title`, tabindex: -1 }, `${id} · `,
    result && !(result instanceof Error) ? questionText(lang === "zh" ? result.question_zh : result.question_en) : t(`q.${id}` as StringKey),
    sample && result ? el("span", { class: "sample-tag" }, t("lab.sampleTag")) : null);
  const body: (HTMLElement | null)[] = [];
  if (!entry || !entry.result) body.push(el("p", { class: "note" }, t("lab.notRun")));
  else if (result instanceof Error) body.push(el("p", { class: "error" }, t("lab.loadError", { path: entry.dir + entry.result, message: result.message })));
  else if (result) {
    body.push(el("table", { class: "claims", "data-key": `lab-claims-${id}` },
      el("thead", {}, el("tr", {}, ["lab.claim", "lab.verdict", "lab.evidence"].map((k) => el("th", { scope: "col" }, t(k as StringKey))))),
      el("tbody", {}, result.claims.map((c: DecidedClaim) => el("tr", {},
        el("td", {}, lang === "zh" ? c.claim_zh : c.claim_en),
        el("td", {}, verdictBadge(t, c.verdict), decidedBy(t, lang, c)),
        el("td", {}, lang === "zh" && c.evidence_zh ? c.evidence_zh : valueText(c.evidence)))))));
    const metrics = Object.entries(result.metrics ?? {});
    if (metrics.length > 0) {
      body.push(el("details", {}, el("summary", {}, t("lab.metrics")),
        el("table", { class: "metrics" }, el("tbody", {}, metrics.map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, valueText(v))))))));
    }
    const run = [t("lab.seed", { seed: result.seed }), t("lab.runtime", { s: formatShort(result.runtime_s) }), result.quick ? t("lab.quick") : null];
    body.push(el("p", { class: "note" }, run.filter((x) => x !== null).join(" · ")));
  }
  // The lab's own chart order when result.json gives one, else the folder's.
  const charts = entry ? (result && !(result instanceof Error) && result.charts ? result.charts.filter((c) => entry.charts.includes(c)) : entry.charts) : [];
  if (entry && charts.length > 0) {
    body.push(el("div", { class: "charts" }, charts.map((chart) => el("figure", {},
      el("img", { src: entry.dir + chart, alt: t("lab.chart", { name: chart.replace(/\.svg$/, "").replaceAll(/[-_]/g, " ") }), loading: "lazy" }),
      el("figcaption", {}, chart)))));
  }
  if (entry?.report) body.push(el("p", {}, el("a", { href: entry.dir + entry.report }, t("lab.report"))));
  return el("article", { class: sample ? "lab-card sample" : "lab-card", id: `lab-${id.toLowerCase()}`, "aria-labelledby": `lab-${id.toLowerCase()}-title`, "data-key": `lab-${id}` }, heading, body);
}

/** The lab view. */
export function labView({ state, t, actions }: ViewContext): HTMLElement {
  const lab = state.site.lab;
  if (lab) loadLabResults(lab.questions, () => actions.set({}));
  const entries = new Map((lab?.questions ?? []).map((e) => [normalizeQuestionId(e.id), e] as const));
  return el("section", { class: "view lab", "aria-labelledby": "lab-title" },
    el("h2", { id: "lab-title" }, t("lab.title")),
    el("p", { class: "intro" }, t("lab.intro")),
    lab?.sample ? el("p", { class: "sample-banner", role: "note", "data-key": "lab-sample" }, t("lab.sample")) : null,
    lab ? null : el("p", { class: "note", "data-key": "lab-none" }, t("lab.none")),
    lab?.index ? el("p", {}, el("a", { href: lab.index }, t("lab.index"))) : null,
    QUESTION_IDS.map((id) => questionCard(t, state.lang, id, entries.get(id), lab?.sample ?? false)));
}
