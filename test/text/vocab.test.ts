import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CheckpointError } from "../../src/errors.ts";
import { BertTokenizer, Vocabulary } from "../../src/text/index.ts";

const SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/** Asserts `fn` throws a CheckpointError whose message matches `pattern`. */
function throwsCheckpoint(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof CheckpointError && pattern.test(e.message));
}

test("vocab.txt: line i is id i, split on \\n only, a trailing empty line dropped", () => {
  const v = Vocabulary.fromText([...SPECIALS, "a", "##a", "b c"].join("\n") + "\n");
  assert.equal(v.size, 8);
  assert.equal(v.idOf("a"), 5);
  assert.equal(v.idOf("b c"), 7);
  assert.equal(v.tokenOf(6), "##a");
  assert.equal(v.idOf("zzz"), undefined);
  assert.deepEqual([v.padId, v.unkId, v.clsId, v.sepId, v.maskId], [0, 1, 2, 3, 4]);
  // Only the last empty line is dropped, and "\r" stays part of the token.
  const crlf = Vocabulary.fromText([...SPECIALS, "x\r"].join("\n"));
  assert.equal(crlf.idOf("x\r"), 5);
  assert.equal(crlf.idOf("x"), undefined);
});

test("special ids are read from the vocabulary, never assumed", () => {
  const hf = Vocabulary.fromFile("test/fixtures/wordpiece/vocab_hf_test_setup.txt");
  assert.deepEqual([hf.unkId, hf.clsId, hf.sepId, hf.padId, hf.maskId], [0, 1, 2, 3, 4]);
  const uncased = Vocabulary.fromFile("test/vocab/bert-base-uncased/vocab.txt");
  assert.deepEqual([uncased.padId, uncased.unkId, uncased.clsId, uncased.sepId, uncased.maskId], [0, 100, 101, 102, 103]);
  assert.deepEqual(uncased.specialTokens(), SPECIALS);
});

test("toText writes vocab.txt back byte for byte", () => {
  const text = readFileSync("test/vocab/bert-base-uncased/vocab.txt", "utf8");
  assert.equal(Vocabulary.fromText(text).toText(), text);
  const v = Vocabulary.fromTokens([...SPECIALS, "é", "##é"]);
  assert.deepEqual(Vocabulary.fromText(v.toText()).tokens, v.tokens);
});

test("a duplicate token is an error naming the file and both lines", () => {
  throwsCheckpoint(() => Vocabulary.fromText([...SPECIALS, "a", "b", "a"].join("\n"), { source: "my/vocab.txt" }), /my\/vocab\.txt line 8: duplicate token "a" \(first at line 6\)/);
  throwsCheckpoint(() => Vocabulary.fromTokens(["[UNK]", "[UNK]"]), /token 1: duplicate token "\[UNK\]"/);
});

test("a missing [UNK], [CLS], [SEP] or [PAD] is an error naming the file", () => {
  for (const missing of ["[UNK]", "[CLS]", "[SEP]", "[PAD]"]) {
    const tokens = SPECIALS.filter((t) => t !== missing);
    throwsCheckpoint(() => Vocabulary.fromText(tokens.join("\n"), { source: "v.txt" }), new RegExp(`^v\\.txt: .*no \\${missing.slice(0, -1)}\\]`));
  }
  // [MASK] is optional; requireSpecials relaxes the check (HF's WordPiece test vocabulary has no [PAD]).
  assert.equal(Vocabulary.fromTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]"]).maskId, null);
  const relaxed = Vocabulary.fromFile("test/fixtures/wordpiece/vocab_hf_test_wordpiece.txt", { requireSpecials: ["[UNK]"] });
  throwsCheckpoint(() => relaxed.padId, /vocab_hf_test_wordpiece\.txt: no \[PAD\] token, which padding needs/);
  throwsCheckpoint(() => Vocabulary.fromTokens(["a\nb"]), /contains a newline/);
  throwsCheckpoint(() => new BertTokenizer(Vocabulary.fromTokens(["a"], { source: "t", requireSpecials: [] })), /t: no \[UNK\] token/);
});

/** A small Hugging Face tokenizer.json with a WordPiece model. */
function tokenizerJson(normalizer: object | null, vocab: Record<string, number>): object {
  return {
    version: "1.0",
    normalizer,
    pre_tokenizer: { type: "BertPreTokenizer" },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 6, vocab },
  };
}

const JSON_VOCAB = { "[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, Caf: 4, "##é": 5, "##e": 6, caf: 7, a: 8, "##a": 9 };

test("tokenizer.json: model.vocab, normalizer settings and max_input_chars_per_word", () => {
  const dir = mkdtempSync(join(tmpdir(), "tokjson-"));
  const path = join(dir, "tokenizer.json");
  const cased = { type: "BertNormalizer", clean_text: true, handle_chinese_chars: false, strip_accents: null, lowercase: false };
  writeFileSync(path, JSON.stringify(tokenizerJson(cased, JSON_VOCAB)));
  const v = Vocabulary.fromTokenizerJsonFile(path);
  assert.equal(v.size, 10);
  assert.equal(v.idOf("##é"), 5);
  assert.deepEqual(v.normalizer, { lowercase: false, stripAccents: null, handleChineseChars: false });
  assert.equal(v.maxInputCharsPerWord, 6);
  const tok = BertTokenizer.fromTokenizerJsonFile(path);
  assert.deepEqual(tok.encode("Café").tokens, ["[CLS]", "Caf", "##é", "[SEP]"]);
  assert.deepEqual(tok.tokenize("aaaaaa aaaaaaa"), ["a", "##a", "##a", "##a", "##a", "##a", "[UNK]"]);
  // Explicit options win over the file's settings.
  assert.deepEqual(BertTokenizer.fromTokenizerJsonFile(path, { doLowerCase: true }).tokenize("Café"), ["caf", "##e"]);

  // A BertNormalizer inside a Sequence is found too; no normalizer means none is reported.
  const seq = Vocabulary.fromTokenizerJson(JSON.stringify(tokenizerJson({ type: "Sequence", normalizers: [{ type: "NFC" }, { type: "BertNormalizer", lowercase: true }] }, JSON_VOCAB)));
  assert.deepEqual(seq.normalizer, { lowercase: true, stripAccents: null, handleChineseChars: true });
  assert.equal(Vocabulary.fromTokenizerJson(tokenizerJson(null, JSON_VOCAB)).normalizer, null);
});

test("tokenizer.json errors: not WordPiece, clashing or out-of-range ids, bad JSON", () => {
  throwsCheckpoint(() => Vocabulary.fromTokenizerJson({ model: { type: "BPE", vocab: {} } }), /not "WordPiece"/);
  throwsCheckpoint(() => Vocabulary.fromTokenizerJson(tokenizerJson(null, { ...JSON_VOCAB, a: 9 })), /id 9 is given to both/);
  throwsCheckpoint(() => Vocabulary.fromTokenizerJson(tokenizerJson(null, { ...JSON_VOCAB, a: 10 })), /"a"\] = 10 is not an id/);
  throwsCheckpoint(() => Vocabulary.fromTokenizerJson("{", { source: "x.json" }), /^x\.json: not valid JSON/);
  throwsCheckpoint(() => Vocabulary.fromTokenizerJson({}), /no "model" object/);
});
