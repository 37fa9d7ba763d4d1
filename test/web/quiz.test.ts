/**
 * The lab quiz's logic without a browser (web/src/quiz.ts): reading old, damaged and current localStorage entries,
 * saving and clearing, scoring verdicts and numeric guesses, and when a guess counts as close (src/lab/guess.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type NumericGuess, guessMiss, isClose } from "../../src/lab/guess.ts";
import { EMPTY_QUIZ, QUIZ_KEY, type QuizState, claimKey, loadQuiz, quizScore, saveQuiz, verdictChoice } from "../../web/src/quiz.ts";
import type { LabClaim, LabResult } from "../../web/src/site.ts";

/** A localStorage stand-in holding one map. */
function memoryStorage(entries: Record<string, string> = {}): Pick<Storage, "getItem" | "setItem" | "removeItem"> & { map: Map<string, string> } {
  const map = new Map(Object.entries(entries));
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

/** The quiz state loaded from a stored value. */
const loaded = (stored: string): QuizState => loadQuiz(memoryStorage({ [QUIZ_KEY]: stored }));

const entropyGuess: NumericGuess = { question_en: "Entropy?", question_zh: "熵？", answer: 0.963, unit: "", closeness: "absolute", tolerance: 0.1, from_timings: false };
const speedGuess: NumericGuess = { question_en: "Speed-up?", question_zh: "加速？", answer: 4, unit: "×", closeness: "ratio", tolerance: 2, from_timings: true };

/** A result with the given claims (verdict and optional guess). */
function result(id: string, claims: { text: string; verdict: string; guess?: NumericGuess }[]): LabResult {
  return {
    id, question_en: id, question_zh: id, metrics: {}, seed: 0, runtime_s: 0,
    claims: claims.map((c): LabClaim => ({ claim_en: c.text, claim_zh: c.text, verdict: c.verdict, evidence: "", ...(c.guess ? { guess: c.guess } : {}) })),
  };
}

test("loadQuiz: nothing stored, an entry from before guesses, a damaged entry", () => {
  assert.deepEqual(loadQuiz(memoryStorage()), { answers: {}, guesses: {}, shown: [] });
  assert.deepEqual(loaded(JSON.stringify({ answers: { "Q04:a": "supported", "Q04:b": "nuanced" } })),
    { answers: { "Q04:a": "supported", "Q04:b": "nuanced" }, guesses: {}, shown: [] }, "an old entry keeps its answers and has no guesses");
  assert.deepEqual(loaded("{not json"), EMPTY_QUIZ);
  assert.deepEqual(loaded("null"), EMPTY_QUIZ);
  assert.deepEqual(loaded("[1, 2]"), EMPTY_QUIZ);
});

test("loadQuiz: damaged answers or guesses are dropped, the rest kept", () => {
  const state = loaded(JSON.stringify({
    answers: { "Q04:a": "supported", "Q04:b": "maybe", "Q04:c": 3 },
    guesses: { "Q04:a": 0.9, "Q04:b": "0.5", "Q04:c": null, "Q04:d": [1] },
  }));
  assert.deepEqual(state.answers, { "Q04:a": "supported" });
  assert.deepEqual(state.guesses, { "Q04:a": 0.9 });
  for (const guesses of ["oops", [0.5], null, 7]) {
    assert.deepEqual(loaded(JSON.stringify({ answers: { "Q04:a": "refuted" }, guesses })), { answers: { "Q04:a": "refuted" }, guesses: {}, shown: [] }, `guesses ${JSON.stringify(guesses)}`);
  }
});

test("saveQuiz: answers and guesses in one entry, read back; cleared when empty; what was only shown is not kept", () => {
  const storage = memoryStorage();
  const quiz: QuizState = { answers: { "Q04:a": "supported" }, guesses: { "Q04:a": 1.5 }, shown: ["Q01:x"] };
  saveQuiz(storage, quiz);
  assert.deepEqual(JSON.parse(storage.map.get(QUIZ_KEY)!), { answers: { "Q04:a": "supported" }, guesses: { "Q04:a": 1.5 } });
  assert.deepEqual(loadQuiz(storage), { ...quiz, shown: [] });
  saveQuiz(storage, EMPTY_QUIZ);
  assert.equal(storage.map.has(QUIZ_KEY), false, "clearing the score removes the entry");
});

test("isClose and guessMiss: absolute distance and ratio factor", () => {
  assert.ok(isClose(entropyGuess, 0.9));
  assert.ok(isClose(entropyGuess, 1.063), "the tolerance's edge counts as close");
  assert.ok(!isClose(entropyGuess, 0.8));
  assert.ok(!isClose(entropyGuess, NaN));
  assert.ok(Math.abs(guessMiss(entropyGuess, 0.8)! - 0.163) < 1e-12);
  assert.ok(isClose(speedGuess, 8) && isClose(speedGuess, 2) && isClose(speedGuess, 5));
  assert.ok(!isClose(speedGuess, 8.5) && !isClose(speedGuess, 1.9));
  assert.ok(!isClose(speedGuess, 0) && !isClose(speedGuess, -4), "a ratio guess must be positive");
  assert.equal(guessMiss(speedGuess, 12), 3);
  assert.equal(guessMiss(speedGuess, 1), 4, "the factor is the same either side of the answer");
  assert.equal(guessMiss(speedGuess, 0), null);
});

test("quizScore: verdicts right of answered, numbers close of guessed, only for claims the results still hold", () => {
  const q04 = result("Q04", [{ text: "a", verdict: "supported", guess: entropyGuess }, { text: "b", verdict: "partly supported" }]);
  const q05 = result("Q05", [{ text: "c", verdict: "refuted", guess: speedGuess }, { text: "d", verdict: "supported" }]);
  const [a, b] = q04.claims.map((c) => claimKey("Q04", c));
  const [c, d] = q05.claims.map((k) => claimKey("Q05", k));
  assert.equal(verdictChoice("partly supported"), "nuanced");
  const quiz: QuizState = {
    answers: { [a]: "supported", [b]: "refuted", [c]: "refuted", [d]: "supported", "Q09:gone": "supported" },
    // b and d carry no guess (d's number is ignored), and a claim no longer in the results counts nothing.
    guesses: { [a]: 0.5, [b]: 3, [c]: 6, [d]: 1, "Q09:gone": 1 },
    shown: [],
  };
  const results: [string, LabResult][] = [["Q04", q04], ["Q05", q05]];
  assert.deepEqual(quizScore(quiz, results), { right: 3, answered: 4, close: 1, guessed: 2 });
  assert.deepEqual(quizScore({ ...quiz, guesses: {} }, results), { right: 3, answered: 4, close: 0, guessed: 0 });
  assert.deepEqual(quizScore(EMPTY_QUIZ, results), { right: 0, answered: 0, close: 0, guessed: 0 });
});
