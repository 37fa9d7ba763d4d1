import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DataError, TsformerError } from "../../src/errors.ts";
import { NLP_CORPUS_FILES, findNlpCorpusDirectory, readNlpCorpus } from "../../src/text/nlp-corpus.ts";
import { nlpCorpusSentences } from "../../src/text/pretrain-corpus.ts";
import { OffensiveFilter, readLdnoobw } from "../../src/text/offensive-filter.ts";

const filter = new OffensiveFilter();

test("LDNOOBW entries match whole words and runs of words, in any case and around punctuation", () => {
  assert.deepEqual(filter.match("Kiss my ASS!"), { list: "ldnoobw", term: "ass" });
  assert.deepEqual(filter.match("see: 2 girls, 1 cup"), { list: "ldnoobw", term: "2 girls 1 cup" });
  assert.deepEqual(filter.match("the g-spot"), { list: "ldnoobw", term: "g-spot" });
  for (const clean of ["An assessment of the class.", "Scunthorpe United won 2 - 1.", "She passed the glass."]) {
    assert.equal(filter.match(clean), null, clean);
  }
});

test("obscenity catches inflections and disguises the word list misses", () => {
  assert.equal(readLdnoobw().includes("fucked"), false); // so the second list is what drops these
  for (const [sentence, term] of [["Several people fucked up.", "fuck"], ["f*ck this", "fuck"], ["The duck pissed him off", "piss"], ["you niggas know", "nigger"]]) {
    assert.deepEqual(filter.match(sentence), { list: "obscenity", term }, sentence);
  }
});

test("a given word list replaces LDNOOBW; entries without letters or digits never match", () => {
  const own = new OffensiveFilter(["Foo Bar", "baz", "🖕"]);
  assert.deepEqual(own.match("x foo  bar, y"), { list: "ldnoobw", term: "Foo Bar" });
  assert.deepEqual(own.match("BAZ."), { list: "ldnoobw", term: "baz" });
  for (const clean of ["foobar", "bazooka", "bar foo", "🖕 hello"]) assert.equal(own.match(clean), null, clean);
});

test("the installed lists: LDNOOBW's 403 English entries; a missing package says to run npm install", () => {
  assert.equal(readLdnoobw().length, 403);
  assert.throws(() => readLdnoobw(join(tmpdir(), "no-such-checkout", "x.js")), (e: unknown) => e instanceof TsformerError && /naughty-words.*run `npm install`$/.test(e.message));
  assert.throws(() => findNlpCorpusDirectory(join(tmpdir(), "no-such-checkout", "x.js")), (e: unknown) => e instanceof TsformerError && /nlp-corpus.*run `npm install`$/.test(e.message));
});

test("readNlpCorpus: 100 files in order, as written; nlpCorpusSentences collapses whitespace, drops letterless lines; bad files named", () => {
  const dir = mkdtempSync(join(tmpdir(), "nlp-corpus-"));
  try {
    mkdirSync(join(dir, "builds"));
    for (let i = 0; i < NLP_CORPUS_FILES; i++) writeFileSync(join(dir, "builds", `doc-${i}.json`), JSON.stringify(i === 0 ? ["  Hello\n  world ", "----", "42"] : [`line ${i}`]));
    assert.deepEqual(readNlpCorpus(dir).slice(0, 4), ["  Hello\n  world ", "----", "42", "line 1"]);
    const sentences = nlpCorpusSentences(dir);
    assert.equal(sentences.length, 1 + 99);
    assert.deepEqual(sentences.slice(0, 3), ["Hello world", "line 1", "line 2"]);
    assert.equal(sentences[99], "line 99");
    writeFileSync(join(dir, "builds", "doc-7.json"), "[\"ok\", 3]");
    assert.throws(() => readNlpCorpus(dir), (e: unknown) => e instanceof DataError && e.message.endsWith("doc-7.json: entry 1 is not a string"));
    writeFileSync(join(dir, "builds", "doc-7.json"), "{");
    assert.throws(() => readNlpCorpus(dir), (e: unknown) => e instanceof DataError && /doc-7\.json: not JSON/.test(e.message));
    rmSync(join(dir, "builds", "doc-7.json"));
    assert.throws(() => readNlpCorpus(dir), (e: unknown) => e instanceof TsformerError && /doc-7\.json: missing.*run `npm install`$/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const installed = findNlpCorpusDirectory();
  assert.equal(readNlpCorpus(installed).length, 100_000);
  assert.equal(nlpCorpusSentences(installed).length, 99_965); // the installed package: 35 letterless lines
});
