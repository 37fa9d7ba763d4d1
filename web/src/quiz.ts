/**
 * The lab's "predict, then reveal" quiz: the learner answers each claim (supported, refuted or nuanced) before its
 * verdict and evidence are shown. Answers are kept in this browser's localStorage only and never sent anywhere.
 */
import type { LabClaim, LabResult } from "./site.ts";

/** What a learner can answer: the lab's three verdicts. */
export const QUIZ_CHOICES = ["supported", "refuted", "nuanced"] as const;

/** One answer. */
export type QuizChoice = (typeof QUIZ_CHOICES)[number];

/** The quiz's state: answers by claim key (stored), and claims revealed without an answer (this page only). */
export interface QuizState {
  answers: Record<string, QuizChoice>;
  shown: string[];
}

/** A score: right answers out of the answered claims that this site's results still hold. */
export interface QuizScore {
  right: number;
  answered: number;
}

/** The localStorage key of the answers. */
export const QUIZ_KEY = "tsformer-explorer-quiz";

/** A claim's key: the question and the claim's English text (a rebuilt lab keeps the answers of unchanged claims). */
export function claimKey(questionId: string, claim: LabClaim): string {
  return `${questionId}:${claim.claim_en}`;
}

/** The quiz answer a verdict counts as ("partly supported" is nuanced), or null for one that cannot be guessed (inconclusive). */
export function verdictChoice(verdict: string): QuizChoice | null {
  const v = verdict.toLowerCase();
  if (/refut|false|wrong|not supported/.test(v)) return "refuted";
  if (/part|mixed|nuanc/.test(v)) return "nuanced";
  if (/support|true|confirm|holds/.test(v)) return "supported";
  return null;
}

/** The answers saved in `storage` (none when absent or unreadable). */
export function loadQuiz(storage: Pick<Storage, "getItem">): QuizState {
  try {
    const saved: unknown = JSON.parse(storage.getItem(QUIZ_KEY) ?? "{}");
    const answers: Record<string, QuizChoice> = {};
    if (saved && typeof saved === "object" && "answers" in saved && saved.answers && typeof saved.answers === "object") {
      for (const [key, value] of Object.entries(saved.answers)) if ((QUIZ_CHOICES as readonly unknown[]).includes(value)) answers[key] = value as QuizChoice;
    }
    return { answers, shown: [] };
  } catch {
    return { answers: {}, shown: [] }; // a damaged entry starts the quiz afresh rather than breaking the page
  }
}

/** Saves the answers (only them: what was revealed without an answer is forgotten on reload). */
export function saveQuiz(storage: Pick<Storage, "setItem" | "removeItem">, quiz: QuizState): void {
  if (Object.keys(quiz.answers).length === 0) storage.removeItem(QUIZ_KEY);
  else storage.setItem(QUIZ_KEY, JSON.stringify({ answers: quiz.answers }));
}

/** The score over the claims of `results` that were answered. */
export function quizScore(quiz: QuizState, results: Iterable<[string, LabResult]>): QuizScore {
  let right = 0;
  let answered = 0;
  for (const [id, result] of results) {
    for (const claim of result.claims) {
      const answer = quiz.answers[claimKey(id, claim)];
      if (answer === undefined) continue;
      answered++;
      if (answer === verdictChoice(claim.verdict)) right++;
    }
  }
  return { right, answered };
}
