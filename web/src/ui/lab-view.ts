/**
 * The lab page: for each interview question, the verdicts of `tsformer lab` on the notes' claims, the evidence,
 * metrics and charts, read from the results the build copied into the site. Sample data is labelled as such.
 * Predict, then reveal: each claim's verdict and evidence stay hidden until the learner answers (or asks to see
 * the answer), and where a claim carries a numeric guess the learner types an estimate first, then sees it beside the
 * measured value; the score is kept in localStorage only (web/src/quiz.ts).
 */
import { type NumericGuess, guessMiss, isClose } from "../../../src/lab/guess.ts";
import { formatShort, formatValue } from "../format.ts";
import type { Lang, StringKey, Translator } from "../i18n.ts";
import { EMPTY_QUIZ, QUIZ_CHOICES, type QuizChoice, type QuizState, claimKey, quizScore, verdictChoice } from "../quiz.ts";
import { type LabClaim, type LabEntry, type LabResult, QUESTION_IDS, type QuestionId, normalizeQuestionId } from "../site.ts";
import type { ViewContext } from "../state.ts";
import { el } from "./dom.ts";

/** Results fetched so far, by question id (fetched once per page). */
const results = new Map<QuestionId, LabResult | Error>();
let loading: Promise<void> | null = null;

/** Numbers typed but not yet submitted, by claim key: kept here so that a redraw (a status line, the language) keeps them. */
const drafts = new Map<string, string>();

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
  const choice = verdictChoice(verdict); // the quiz's reading of the verdict, so badge and score never disagree
  const tone = choice === "nuanced" ? "partly" : choice ?? "inconclusive";
  const known: Record<string, StringKey> = {
    supported: "verdict.supported", refuted: "verdict.refuted", nuanced: "verdict.nuanced", partly: "verdict.partly", "partly supported": "verdict.partly", inconclusive: "verdict.inconclusive",
  };
  return el("span", { class: `verdict ${tone}` }, known[v] ? t(known[v]) : verdict);
}

/** The verdict words of the quiz's answers. */
const CHOICE_KEYS: Record<QuizChoice, StringKey> = { supported: "verdict.supported", refuted: "verdict.refuted", nuanced: "verdict.nuanced" };

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

/** The score line and "Clear score". */
function scoreBar({ state, t, actions }: ViewContext): HTMLElement {
  const loaded = [...results].filter((r): r is [QuestionId, LabResult] => !(r[1] instanceof Error));
  const { right, answered, close, guessed } = quizScore(state.quiz, loaded);
  const anything = Object.keys(state.quiz.answers).length > 0 || Object.keys(state.quiz.guesses).length > 0 || state.quiz.shown.length > 0;
  const parts = [answered > 0 ? t("quiz.score", { right, answered }) : null, guessed > 0 ? t("quiz.scoreNumbers", { close, guessed }) : null].filter((p) => p !== null);
  const clear = (): void => {
    drafts.clear();
    actions.set({ quiz: EMPTY_QUIZ });
  };
  return el("div", { class: "quiz-bar" },
    el("p", {}, t("quiz.intro")),
    el("p", { class: "quiz-score" },
      el("strong", { "data-key": "quiz-score", "data-right": right, "data-answered": answered, "data-close": close, "data-guessed": guessed },
        parts.length > 0 ? parts.join(" · ") : t("quiz.scoreNone")),
      el("button", { type: "button", class: "small", "data-key": "quiz-clear", disabled: !anything, onclick: clear }, t("quiz.clear"))));
}

/** A number with its unit ("96.3 %", "0.963"). */
function withUnit(x: number, unit: string): string {
  return unit ? `${formatValue(x)} ${unit}` : formatValue(x);
}

/** The guess's question, the number box and its unit, shown before the verdict buttons. */
function guessInput(lang: Lang, g: NumericGuess, key: string, rowKey: string): { field: HTMLElement; input: HTMLInputElement } {
  const id = `${rowKey}-guess-input`;
  const input = el("input", {
    type: "number", step: "any", inputmode: "decimal", id, "data-key": id, class: "quiz-number", value: drafts.get(key) ?? "",
    oninput: () => drafts.set(key, input.value),
  });
  return {
    input,
    field: el("div", { class: "quiz-guess" },
      el("label", { class: "quiz-label", for: id }, lang === "zh" ? g.question_zh : g.question_en),
      el("span", { class: "quiz-number-row" }, input, g.unit ? el("span", { class: "quiz-unit" }, g.unit) : null)),
  };
}

/** After the reveal: the guess's question, the measured answer, and the learner's guess beside it with how close it was. */
function guessOutcome(t: Translator, lang: Lang, g: NumericGuess, guess: number | undefined, rowKey: string): HTMLElement {
  const answer = withUnit(g.answer, g.unit);
  let line: HTMLElement;
  if (guess === undefined) line = el("div", { class: "quiz-outcome", "data-key": `${rowKey}-guess-answer` }, t("quiz.measured", { answer }));
  else {
    const close = isClose(g, guess);
    const tolerance = g.closeness === "absolute" ? `±${withUnit(g.tolerance, g.unit)}` : `×${formatValue(g.tolerance)}`;
    const miss = guessMiss(g, guess);
    const vars = { guess: withUnit(guess, g.unit), answer, tolerance };
    const text = close ? t("quiz.guessClose", vars)
      : miss === null ? t("quiz.guessNotPositive", vars)
        : t("quiz.guessOff", { ...vars, miss: g.closeness === "absolute" ? withUnit(miss, g.unit) : t("quiz.factor", { factor: formatShort(miss) }) });
    line = el("div", { class: close ? "quiz-outcome right" : "quiz-outcome wrong", "data-key": `${rowKey}-guess-outcome`, "data-close": String(close) }, text);
  }
  return el("div", { class: "quiz-guess" },
    el("span", { class: "quiz-label" }, lang === "zh" ? g.question_zh : g.question_en),
    line,
    g.from_timings ? el("div", { class: "note" }, t("quiz.timings")) : null);
}

/** A claim's verdict cell: the answer buttons until answered or shown, then the verdict and how the answer fared. */
function verdictCell({ state, t, actions }: ViewContext, key: string, c: DecidedClaim, rowKey: string): { cell: HTMLElement; revealed: boolean } {
  const quiz: QuizState = state.quiz;
  const correct = verdictChoice(c.verdict);
  const answer = quiz.answers[key];
  if (correct !== null && answer === undefined && !quiz.shown.includes(key)) {
    const number = c.guess ? guessInput(state.lang, c.guess, key, rowKey) : null;
    // The verdict and the number typed (if any) are recorded together; an empty box is no numeric guess.
    const choose = (choice: QuizChoice): void => {
      const typed = number && number.input.value.trim() !== "" ? Number(number.input.value) : NaN;
      const guesses = { ...quiz.guesses };
      if (Number.isFinite(typed)) guesses[key] = typed;
      else delete guesses[key];
      drafts.delete(key);
      actions.set({ quiz: { ...quiz, answers: { ...quiz.answers, [key]: choice }, guesses } });
    };
    const show = (): void => {
      drafts.delete(key);
      actions.set({ quiz: { ...quiz, shown: [...quiz.shown, key] } });
    };
    return {
      revealed: false,
      cell: el("td", { class: "quiz-ask" },
        number?.field,
        el("span", { class: "quiz-label" }, t(number ? "quiz.askAfterNumber" : "quiz.ask")),
        el("div", { class: "button-group", role: "group", "aria-label": t(number ? "quiz.askAfterNumber" : "quiz.ask") },
          QUIZ_CHOICES.map((choice) => el("button", { type: "button", class: "small", "data-key": `${rowKey}-${choice}`, onclick: () => choose(choice) }, t(CHOICE_KEYS[choice]))),
          el("button", { type: "button", class: "small quiz-show", "data-key": `${rowKey}-show`, onclick: show }, t("quiz.show")))),
    };
  }
  const outcome = answer === undefined ? (correct === null ? null : el("div", { class: "note", "data-key": `${rowKey}-outcome` }, t("quiz.unscored")))
    : el("div", { class: answer === correct ? "quiz-outcome right" : "quiz-outcome wrong", "data-key": `${rowKey}-outcome` },
      t(answer === correct ? "quiz.right" : "quiz.wrong", { answer: t(CHOICE_KEYS[answer]) }));
  const numbers = c.guess ? guessOutcome(t, state.lang, c.guess, answer === undefined ? undefined : quiz.guesses[key], rowKey) : null;
  return { revealed: true, cell: el("td", {}, verdictBadge(t, c.verdict), decidedBy(t, state.lang, c), outcome, numbers) };
}

/** One question's card. */
function questionCard(ctx: ViewContext, id: QuestionId, entry: LabEntry | undefined, sample: boolean): HTMLElement {
  const { state, t } = ctx;
  const lang = state.lang;
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
      el("tbody", {}, result.claims.map((c: DecidedClaim, k) => {
        const rowKey = `quiz-${id}-${k}`;
        const { cell, revealed } = verdictCell(ctx, claimKey(id, c), c, rowKey);
        return el("tr", { "data-key": rowKey, "data-revealed": String(revealed) },
          el("td", {}, lang === "zh" ? c.claim_zh : c.claim_en),
          cell,
          revealed ? el("td", {}, lang === "zh" && c.evidence_zh ? c.evidence_zh : valueText(c.evidence)) : el("td", { class: "note" }, t("quiz.hidden")));
      }))));
    if (result.explain) {
      body.push(el("p", { class: "explain-link", "data-key": `lab-explain-${id}` }, lang === "zh" ? result.explain.zh : result.explain.en, " ",
        el("button", { type: "button", onclick: () => ctx.actions.go("explain") }, t("lab.seeExplained", { panel: result.explain.panel }))));
    }
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
export function labView(ctx: ViewContext): HTMLElement {
  const { state, t, actions } = ctx;
  const lab = state.site.lab;
  if (lab) loadLabResults(lab.questions, () => actions.set({}));
  const entries = new Map((lab?.questions ?? []).map((e) => [normalizeQuestionId(e.id), e] as const));
  return el("section", { class: "view lab", "aria-labelledby": "lab-title" },
    el("h2", { id: "lab-title" }, t("lab.title")),
    el("p", { class: "intro" }, t("lab.intro")),
    lab?.sample ? el("p", { class: "sample-banner", role: "note", "data-key": "lab-sample" }, t("lab.sample")) : null,
    lab ? null : el("p", { class: "note", "data-key": "lab-none" }, t("lab.none")),
    lab?.index ? el("p", {}, el("a", { href: lab.index }, t("lab.index"))) : null,
    lab ? scoreBar(ctx) : null,
    QUESTION_IDS.map((id) => questionCard(ctx, id, entries.get(id), lab?.sample ?? false)));
}
