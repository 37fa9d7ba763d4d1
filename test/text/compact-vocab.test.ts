import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ConfigError } from "../../src/errors.ts";
import { BertTokenizer, Vocabulary, compactVocabulary, unknownRate } from "../../src/text/index.ts";

const base = Vocabulary.fromFile("test/vocab/bert-base-uncased/vocab.txt");
const baseTok = new BertTokenizer(base);

/** The texts of an SST-2 file (`<label> <text>` a line). */
function sst2(path: string): string[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => line.replace(/^\S+\s/, ""));
}

const CORPUS = ["The unflinchingly bleak movie.", "A bleak, bleak journey; unbelievably good!", "Café naïve — 東京"];

test("keeps the specials first, every corpus character in both forms, and the corpus pieces", () => {
  const v = compactVocabulary(base, CORPUS, { extraCharacters: "" });
  assert.deepEqual(v.tokens.slice(0, 5), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
  for (const word of CORPUS.flatMap((t) => baseTok.basicTokenize(t))) {
    for (const ch of word) {
      assert.ok(v.has(ch) && v.has(`##${ch}`), `character ${ch} kept in both forms`);
    }
  }
  for (const piece of ["un", "##fl", "##ching", "bleak", "journey", "cafe", "東"]) assert.ok(v.has(piece), piece);
  assert.ok(!v.has("zebra") && !v.has("%"));
  assert.ok(v.size < 200);
  // The base order is kept: ids increase with the base ids.
  const baseIds = v.tokens.map((t) => base.idOf(t) ?? -1);
  assert.deepEqual(baseIds, [...baseIds].sort((a, b) => a - b));
});

test("without maxSize every corpus text is tokenized exactly as by the base vocabulary", () => {
  const texts = sst2("data/sst2/stsa.binary.dev").slice(0, 300);
  const tok = new BertTokenizer(compactVocabulary(base, texts));
  for (const text of texts) assert.deepEqual(tok.tokenize(text), baseTok.tokenize(text), text);
});

test("a new word made of kept characters never becomes [UNK], even under a tight maxSize", () => {
  const v = compactVocabulary(base, CORPUS, { maxSize: 62, extraCharacters: "" });
  assert.equal(v.size, 62);
  assert.ok(v.has("bleak") && !v.has("journey"), "the most frequent piece fills the room left");
  const tok = new BertTokenizer(v);
  for (const word of ["bleakly", "journeyman", "unbelievable", "yuoj", "café—東"]) {
    assert.ok(!tok.tokenize(word).includes("[UNK]"), word);
  }
  // A character the corpus never used is not kept (unless extraCharacters asks for it).
  assert.deepEqual(tok.tokenize("zebra"), ["[UNK]"]);
  assert.ok(!new BertTokenizer(compactVocabulary(base, CORPUS)).tokenize("zebra").includes("[UNK]"));
});

test("minFrequency drops rare pieces; a maxSize below the guaranteed tokens is an error", () => {
  const all = compactVocabulary(base, CORPUS, { extraCharacters: "" });
  const frequent = compactVocabulary(base, CORPUS, { minFrequency: 2, extraCharacters: "" });
  assert.ok(frequent.has("bleak") && !frequent.has("journey") && all.has("journey"));
  assert.throws(() => compactVocabulary(base, CORPUS, { maxSize: 10 }), ConfigError);
});

test("SST-2: a compact vocabulary from the training set gives no [UNK] on the dev set", () => {
  const train = sst2("data/sst2/stsa.binary.train");
  const dev = sst2("data/sst2/stsa.binary.dev");
  assert.equal(train.length, 6920);
  assert.equal(dev.length, 872);
  const v = compactVocabulary(base, train);
  const rate = unknownRate(new BertTokenizer(v), dev);
  const baseRate = unknownRate(baseTok, dev);
  console.log(`SST-2 compact vocabulary: ${v.size} tokens (base ${base.size}); dev [UNK] ${rate.unknown}/${rate.pieces} pieces (base ${baseRate.unknown}/${baseRate.pieces})`);
  assert.ok(v.size < base.size / 2);
  assert.equal(rate.unknown, baseRate.unknown);
  // The training set itself gets no [UNK] the base would not give.
  assert.equal(unknownRate(new BertTokenizer(v), train).unknown, unknownRate(baseTok, train).unknown);
  const capped = compactVocabulary(base, train, { maxSize: 4000 });
  assert.equal(capped.size, 4000);
  assert.equal(unknownRate(new BertTokenizer(capped), dev).unknown, baseRate.unknown);
});
