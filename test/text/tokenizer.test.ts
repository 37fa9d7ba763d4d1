import assert from "node:assert/strict";
import { test } from "node:test";
import { CheckpointError, ConfigError } from "../../src/errors.ts";
import { BertTokenizer, Vocabulary, basicTokenize } from "../../src/text/index.ts";

const uncased = BertTokenizer.fromVocabFile("test/vocab/bert-base-uncased/vocab.txt");
/** A tiny vocabulary with the specials at unusual ids, so nothing can rely on 101/102. */
const tiny = new BertTokenizer(
  Vocabulary.fromTokens(["a", "[SEP]", "[UNK]", "[CLS]", "##a", "[PAD]", "b", "##b", "𝒜", "##𝒜", "##ab", "[MASK]"]),
);

test("empty, whitespace-only and control-only texts give [CLS] [SEP]", () => {
  for (const text of ["", " \t\n\u3000 ", "\u0001\u200b"]) {
    const e = uncased.encode(text);
    assert.deepEqual(e.tokens, ["[CLS]", "[SEP]"]);
    assert.deepEqual(e.inputIds, [101, 102]);
    assert.deepEqual(tiny.encode(text).inputIds, [3, 1]);
  }
  assert.deepEqual(uncased.tokenize(""), []);
});

test("a word of 100 code points is WordPiece-tokenized, one of 101 is [UNK]", () => {
  assert.deepEqual(tiny.tokenize("a".repeat(100)), ["a", ...Array<string>(99).fill("##a")]);
  assert.deepEqual(tiny.tokenize("a".repeat(101)), ["[UNK]"]);
  // The limit counts code points: 100 astral characters are 200 UTF-16 units.
  assert.equal(tiny.tokenize("𝒜".repeat(100)).length, 100);
  assert.deepEqual(tiny.tokenize("𝒜".repeat(101)), ["[UNK]"]);
  const short = new BertTokenizer(tiny.vocab, { maxInputCharsPerWord: 3 });
  assert.deepEqual(short.tokenize("aaa aaaa"), ["a", "##a", "##a", "[UNK]"]);
});

test("greedy longest match, and an unmatched position makes the whole word [UNK]", () => {
  assert.deepEqual(tiny.tokenize("aab"), ["a", "##ab"]);
  assert.deepEqual(tiny.tokenize("abc b"), ["[UNK]", "b"]);
  assert.deepEqual(uncased.tokenize("great😀 job👍!"), ["[UNK]", "[UNK]", "!"]);
  assert.deepEqual(uncased.tokenize("great 😀"), ["great", "[UNK]"]);
  assert.deepEqual(uncased.wordpieceTokenize("unaffable  Unaffable"), ["una", "##ffa", "##ble", "[UNK]"]);
});

test("basic stage: cleaning, CJK, accents, final sigma, punctuation", () => {
  assert.deepEqual(basicTokenize("zero\u200bwidth a\u2028b"), ["zerowidth", "a", "b"]);
  assert.deepEqual(basicTokenize("x\u{20000}y"), ["x", "\u{20000}", "y"]);
  assert.deepEqual(basicTokenize("x\u{20000}y", { tokenizeChineseChars: false }), ["x\u{20000}y"]);
  assert.deepEqual(basicTokenize("ΟΔΥΣΣΕΥΣ İ"), ["οδυσσευς", "i"]);
  assert.deepEqual(basicTokenize("Café", { doLowerCase: false }), ["Café"]);
  assert.deepEqual(basicTokenize("Café", { doLowerCase: true, stripAccents: false }), ["café"]);
  assert.deepEqual(basicTokenize("a+b−c €5"), ["a", "+", "b−c", "€5"]);
  assert.deepEqual(basicTokenize("Hi [UNK] !", { neverSplit: ["[UNK]"] }), ["hi", "[UNK]", "!"]);
});

test("special tokens written in the text are kept whole, case-sensitively", () => {
  assert.deepEqual(uncased.tokenize("is [MASK]."), ["is", "[MASK]", "."]);
  assert.deepEqual(uncased.encode("foo[SEP]bar").inputIds, [101, 29379, 102, 3347, 102]);
  assert.deepEqual(uncased.tokenize("[mask]"), ["[", "mask", "]"]);
  assert.deepEqual(tiny.tokenize("a[MASK]b"), ["a", "[MASK]", "b"]);
});

test("pairs: token types, an empty second text, and longest_first truncation", () => {
  const e = tiny.encode("a", "b");
  assert.deepEqual(e.tokens, ["[CLS]", "a", "[SEP]", "b", "[SEP]"]);
  assert.deepEqual(e.inputIds, [3, 0, 1, 6, 1]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 1, 1]);
  assert.deepEqual(uncased.encode("Hello", "").tokens, ["[CLS]", "hello", "[SEP]", "[SEP]"]);
  const words = (s: string, n: number) => Array.from({ length: n }, () => s).join(" ");
  // 5 + 5 pieces into 10 - 3 = 7 slots: HF Python cuts the second on ties → 4 + 3.
  const t = tiny.encode(words("a", 5), words("b", 5), { maxLength: 10 });
  assert.deepEqual(t.tokens, ["[CLS]", "a", "a", "a", "a", "[SEP]", "b", "b", "b", "[SEP]"]);
  assert.deepEqual(t.tokenTypeIds, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  // Only the longer sequence is cut while it is longer.
  assert.equal(tiny.encode(words("a", 2), words("b", 9), { maxLength: 8 }).tokens.join(" "), "[CLS] a a [SEP] b b b [SEP]");
  // A single text keeps its first maxLength - 2 pieces.
  assert.deepEqual(tiny.encode(words("a", 6), null, { maxLength: 5 }).tokens, ["[CLS]", "a", "a", "a", "[SEP]"]);
  assert.equal(tiny.encode(words("a", 6), null, { maxLength: 5, truncation: false }).tokens.length, 8);
  // HF Python leaves a single text whole when not even one piece would remain.
  assert.equal(tiny.encode(words("a", 3), null, { maxLength: 2 }).tokens.length, 5);
  // Both sequences can be cut to nothing; [CLS]/[SEP] stay.
  assert.deepEqual(tiny.encode("a a", "b", { maxLength: 3 }).tokens, ["[CLS]", "[SEP]", "[SEP]"]);
});

test("batches: padding to the longest row, to max_length, flattened row-major", () => {
  const b = tiny.encodeBatch(["a a a", { text: "b", textPair: "a" }, ""]);
  assert.equal(b.batch, 3);
  assert.equal(b.length, 5);
  assert.ok(b.inputIds instanceof Int32Array && b.tokenTypeIds instanceof Int32Array && b.attentionMask instanceof Uint8Array);
  assert.deepEqual([...b.inputIds], [3, 0, 0, 0, 1, 3, 6, 1, 0, 1, 3, 1, 5, 5, 5]);
  assert.deepEqual([...b.tokenTypeIds], [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual([...b.attentionMask], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  assert.deepEqual(b.rows[2].tokens, ["[CLS]", "[SEP]", "[PAD]", "[PAD]", "[PAD]"]);

  const m = tiny.encodeBatch(["a", "a a a a a a a a"], { padding: "max_length", maxLength: 6, truncation: "longest_first" });
  assert.equal(m.length, 6);
  assert.deepEqual([...m.attentionMask], [1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  assert.throws(() => tiny.encodeBatch(["a a a a a a a a"], { padding: "max_length", maxLength: 6 }), ConfigError);
  assert.throws(() => tiny.encodeBatch(["a"], { padding: "max_length" }), ConfigError);
  assert.throws(() => tiny.encodeBatch(["a", "a a"], { padding: false }), ConfigError);
  assert.equal(tiny.encodeBatch(["a", "b"], { padding: false }).length, 3);
  // With no padding, maxLength alone turns truncation on (HF's rule).
  assert.equal(tiny.encodeBatch(["a a a a"], { padding: false, maxLength: 4 }).length, 4);
});

test("padding needs a [PAD] token; its absence names the vocabulary", () => {
  const noPad = new BertTokenizer(Vocabulary.fromTokens(["[UNK]", "[CLS]", "[SEP]", "a"], { source: "nopad.txt", requireSpecials: ["[UNK]"] }));
  assert.deepEqual(noPad.encode("a").inputIds, [1, 3, 2]);
  assert.throws(() => noPad.encodeBatch(["a", "a a"]), (e: unknown) => e instanceof CheckpointError && /nopad\.txt.*\[PAD\]/.test(e.message));
});

test("decode joins pieces and merges ## continuations", () => {
  const ids = uncased.encode("Unflinchingly bleak, isn't it?").inputIds;
  assert.equal(uncased.decode(ids), "[CLS] unflinchingly bleak , isn ' t it ? [SEP]");
  assert.equal(uncased.decode(ids, { skipSpecialTokens: true }), "unflinchingly bleak , isn ' t it ?");
  assert.equal(uncased.decode(ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: true }), "unflinchingly bleak, isn't it?");
  assert.equal(tiny.decode([0, 10, 2, 4]), "aab [UNK] ##a");
  assert.throws(() => tiny.decode([99]));
  assert.equal(uncased.vocabSize, 30522);
});
