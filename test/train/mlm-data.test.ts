/** Masked-LM data: corpus files, packing into sequences, and BERT's 15 % / 80-10-10 masking. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Rng } from "../../src/tensor/index.ts";
import { Vocabulary } from "../../src/text/vocab.ts";
import { BERT_MASKING, IGNORE_INDEX, maskTokens, maskVocabulary, packSequences, readCorpusFile } from "../../src/train/mlm-data.ts";

const tmp = (): string => mkdtempSync(join(tmpdir(), "tsformer-mlm-data-"));

test("a corpus file is documents of sentences; empty, binary and non-UTF-8 files are one-line errors", () => {
  const dir = tmp();
  const good = join(dir, "good.txt");
  writeFileSync(good, "first sentence .\r\nsecond one .\n\n\n  third , new document .  \n");
  assert.deepEqual(readCorpusFile(good), [["first sentence .", "second one ."], ["third , new document ."]]);
  const empty = join(dir, "empty.txt");
  writeFileSync(empty, "\n  \n\n");
  assert.throws(() => readCorpusFile(empty), /empty.txt: the corpus file is empty/);
  const binary = join(dir, "model.bin");
  writeFileSync(binary, Uint8Array.from([104, 105, 0, 1, 2]));
  assert.throws(() => readCorpusFile(binary), /model.bin: not a text file \(a NUL byte at byte 2\)/);
  const latin1 = join(dir, "latin1.txt");
  writeFileSync(latin1, Uint8Array.from([99, 97, 102, 0xe9, 10]));
  assert.throws(() => readCorpusFile(latin1), /latin1.txt: not valid UTF-8/);
  assert.throws(() => readCorpusFile(join(dir, "missing.txt")), /missing.txt: cannot read the corpus file \(ENOENT\)/);
});

const CLS = 101;
const SEP = 102;

test("packing fills sequences with whole sentences in order, [SEP] as configured, and cuts only over-long sentences", () => {
  const docs = [[[1, 2, 3], [4, 5]], [[6, 7, 8, 9]], [[10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]]];
  const byDocument = packSequences(docs, { maxLength: 10, separator: "document", clsId: CLS, sepId: SEP });
  assert.deepEqual(byDocument, [
    [CLS, 1, 2, 3, 4, 5, SEP], // the next document does not fit: it starts a new sequence
    [CLS, 6, 7, 8, 9, SEP],
    [CLS, 10, 11, 12, 13, 14, 15, 16, 17, SEP], // 11 tokens > 8 of room: cut
    [CLS, 18, 19, 20, SEP],
  ]);
  const bySentence = packSequences(docs, { maxLength: 12, separator: "sentence", clsId: CLS, sepId: SEP });
  assert.deepEqual(bySentence[0], [CLS, 1, 2, 3, SEP, 4, 5, SEP]);
  for (const s of [...byDocument, ...bySentence]) {
    assert.ok(s.length <= 12 && s[0] === CLS && s.at(-1) === SEP, `${s}`);
  }
  // every ordinary token survives, in corpus order
  const ordinary = (seqs: number[][]): number[] => seqs.flat().filter((id) => id !== CLS && id !== SEP);
  assert.deepEqual(ordinary(byDocument), docs.flat(2));
  assert.deepEqual(ordinary(bySentence), docs.flat(2));
  assert.throws(() => packSequences(docs, { maxLength: 3, separator: "document", clsId: CLS, sepId: SEP }), /maxLength must be an integer ≥ 4/);
});

/** A vocabulary: the specials, 40 words and 10 continuation pieces. */
function testVocab(): Vocabulary {
  return Vocabulary.fromTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...Array.from({ length: 40 }, (_, i) => `w${i}`), ...Array.from({ length: 10 }, (_, i) => `##c${i}`)]);
}

test("masking chooses round(15 %) of the ordinary tokens, never specials or padding, and replaces 80/10/10", () => {
  const vocab = testVocab();
  const mv = maskVocabulary(vocab);
  const rng = new Rng(11);
  const counts = { mask: 0, random: 0, kept: 0 };
  for (let trial = 0; trial < 2000; trial++) {
    const n = 5 + rng.int(60);
    const ids = [2, ...Array.from({ length: n }, () => 5 + rng.int(40)), 3, 0, 0];
    const { inputIds, labels } = maskTokens(ids, mv, BERT_MASKING, rng);
    const chosen = labels.flatMap((l, i) => (l === IGNORE_INDEX ? [] : [i]));
    assert.equal(chosen.length, Math.max(1, Math.round(0.15 * n)));
    for (const i of chosen) {
      assert.ok(i >= 1 && i <= n, "only ordinary positions are chosen");
      assert.equal(labels[i], ids[i], "the label is the original token");
      if (inputIds[i] === mv.maskId) counts.mask++;
      else if (inputIds[i] === ids[i]) counts.kept++;
      else {
        counts.random++;
        assert.ok(!mv.specialIds.has(inputIds[i]), "a random replacement is an ordinary token");
      }
    }
    inputIds.forEach((id, i) => {
      if (labels[i] === IGNORE_INDEX) assert.equal(id, ids[i], "positions not chosen are unchanged");
    });
  }
  const total = counts.mask + counts.random + counts.kept;
  // a random replacement equals the original 1 time in 50 here, so "kept" is 10 % + 0.2 %
  assert.ok(Math.abs(counts.mask / total - 0.8) < 0.015, `[MASK] ${counts.mask / total}`);
  assert.ok(Math.abs(counts.random / total - 0.098) < 0.012, `random ${counts.random / total}`);
  assert.ok(Math.abs(counts.kept / total - 0.102) < 0.012, `kept ${counts.kept / total}`);
});

test("whole-word masking chooses a word's ## pieces with its first piece; a vocabulary without [MASK] is refused", () => {
  const vocab = testVocab();
  const mv = maskVocabulary(vocab);
  const rng = new Rng(3);
  const cont = (i: number): number => 45 + i; // ##c0…
  for (let trial = 0; trial < 300; trial++) {
    const ids = [2];
    for (let w = 0; w < 20; w++) {
      ids.push(5 + rng.int(40));
      for (let k = rng.int(3); k > 0; k--) ids.push(cont(rng.int(10)));
    }
    ids.push(3);
    const { labels } = maskTokens(ids, mv, { ...BERT_MASKING, wholeWord: true }, rng);
    const ordinary = ids.length - 2;
    const chosen = labels.filter((l) => l !== IGNORE_INDEX).length;
    assert.ok(chosen <= Math.round(0.15 * ordinary) && chosen >= Math.round(0.15 * ordinary) - 2, `${chosen} of ${ordinary}`);
    for (let i = 1; i < ids.length - 1; i++) {
      if (mv.isContinuation(ids[i])) assert.equal(labels[i] === IGNORE_INDEX, labels[i - 1] === IGNORE_INDEX, "a piece is chosen with the piece before it");
    }
  }
  assert.throws(() => maskVocabulary(Vocabulary.fromTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])), /has no \[MASK\] token/);
});
