/**
 * The lab's "predict, then reveal" quiz: the learner answers each claim (supported, refuted or nuanced) before its
 * verdict and evidence are shown; where a claim carries a numeric guess (src/lab/guess.ts), the learner also estimates
 * that number first. Answers and guesses are kept in this browser's localStorage only and never sent anywhere.
 */
import { isClose } from "../../src/lab/guess.ts";
import type { LabClaim, LabResult } from "./site.ts";

/** What a learner can answer: the lab's three verdicts. */
export const QUIZ_CHOICES = ["supported", "refuted", "nuanced"] as const;

/** One answer. */
export type QuizChoice = (typeof QUIZ_CHOICES)[number];

/**
 * The quiz's state: answers and numeric guesses by claim key (stored), and claims revealed without an answer (this
 * page only).
 */
export interface QuizState {
  answers: Record<string, QuizChoice>;
  guesses: Record<string, number>;
  shown: string[];
}

/** The state of a quiz nobody has answered yet. */
export const EMPTY_QUIZ: QuizState = { answers: {}, guesses: {}, shown: [] };

/**
 * A score: right answers out of the answered claims that this site's results still hold, and close guesses out of
 * the guesses whose claims still carry a numeric guess.
 */
export interface QuizScore {
  right: number;
  answered: number;
  close: number;
  guessed: number;
}

/** The localStorage key of the answers and guesses. */
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

/** The entries of `saved[field]` that `keep` accepts (none when the field is missing or not an object). */
function savedEntries<T>(saved: unknown, field: string, keep: (value: unknown) => value is T): Record<string, T> {
  const kept: Record<string, T> = {};
  if (!saved || typeof saved !== "object" || !(field in saved)) return kept;
  const entries: unknown = (saved as Record<string, unknown>)[field];
  if (!entries || typeof entries !== "object" || Array.isArray(entries)) return kept;
  for (const [key, value] of Object.entries(entries)) if (keep(value)) kept[key] = value;
  return kept;
}

const isChoice = (value: unknown): value is QuizChoice => (QUIZ_CHOICES as readonly unknown[]).includes(value);
const isFiniteNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/**
 * The answers and guesses saved in `storage` (none when absent or unreadable). An entry written before guesses
 * existed has none; a damaged answer or guess is dropped on its own, keeping the rest.
 */
export function loadQuiz(storage: Pick<Storage, "getItem">): QuizState {
  try {
    const saved: unknown = JSON.parse(storage.getItem(QUIZ_KEY) ?? "{}");
    return { answers: savedEntries(saved, "answers", isChoice), guesses: savedEntries(saved, "guesses", isFiniteNumber), shown: [] };
  } catch {
    return EMPTY_QUIZ; // a damaged entry starts the quiz afresh rather than breaking the page
  }
}

/** Saves the answers and guesses (only them: what was revealed without an answer is forgotten on reload). */
export function saveQuiz(storage: Pick<Storage, "setItem" | "removeItem">, quiz: QuizState): void {
  if (Object.keys(quiz.answers).length === 0 && Object.keys(quiz.guesses).length === 0) storage.removeItem(QUIZ_KEY);
  else storage.setItem(QUIZ_KEY, JSON.stringify({ answers: quiz.answers, guesses: quiz.guesses }));
}

/** The score over the claims of `results` that were answered, and over those whose number was guessed. */
export function quizScore(quiz: QuizState, results: Iterable<[string, LabResult]>): QuizScore {
  const score: QuizScore = { right: 0, answered: 0, close: 0, guessed: 0 };
  for (const [id, result] of results) {
    for (const claim of result.claims) {
      const key = claimKey(id, claim);
      const guess = quiz.guesses[key];
      if (guess !== undefined && claim.guess) {
        score.guessed++;
        if (isClose(claim.guess, guess)) score.close++;
      }
      const answer = quiz.answers[key];
      if (answer === undefined) continue;
      score.answered++;
      if (answer === verdictChoice(claim.verdict)) score.right++;
    }
  }
  return score;
}
