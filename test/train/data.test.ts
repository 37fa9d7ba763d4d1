/** Labelled data files: three formats, and every problem reported with file and line. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DataError } from "../../src/errors.ts";
import { parseDataset, readDataset } from "../../src/train/data.ts";

const tmp = mkdtempSync(join(tmpdir(), "tsformer-data-"));

test("SST-2 lines, TSV with a header, TSV without, and JSONL", () => {
  const lines = parseDataset("1 a good film\n0 a bad one\n\n1 fine\n", "x.txt");
  assert.deepEqual(lines.labels, ["0", "1"]);
  assert.deepEqual(lines.examples.map((e) => [e.text, e.label, e.line]), [["a good film", 1, 1], ["a bad one", 0, 2], ["fine", 1, 4]]);
  const tsv = parseDataset("sentence\tlabel\nnice one\t1\nmeh\t0\n", "x.tsv");
  assert.deepEqual(tsv.examples.map((e) => [e.text, e.label, e.line]), [["nice one", 1, 2], ["meh", 0, 3]]);
  const bare = parseDataset("pos\tgreat\nneg\tawful\n", "x.tsv");
  assert.deepEqual(bare.labels, ["neg", "pos"]);
  const jsonl = parseDataset('{"text": "yes", "label": "pos"}\n{"text": "no", "label": "neg"}\n', "x.jsonl");
  assert.deepEqual(jsonl.examples.map((e) => e.label), [1, 0]);
  assert.deepEqual(parseDataset("2 a\n10 b\n1 c\n", "x.txt").labels, ["1", "2", "10"]);
});

test("bad data is reported with file and line", () => {
  const cases: [string, string, RegExp][] = [
    ["x.txt", "1 good\n1\n", /^x\.txt:2: expected "<label> <text>"/],
    ["x.txt", "1 good\n0    \n", /^x\.txt:2: empty text$/],
    ["x.jsonl", '{"text": "a", "label": 1}\n{"text": "b"}\n', /^x\.jsonl:2: missing "label"/],
    ["x.jsonl", '{"text": "a", "label": 1}\n{oops\n', /^x\.jsonl:2: invalid JSON/],
    ["x.tsv", "text\tlabel\nfine\t\n", /^x\.tsv:2: missing label$/],
    ["x.tsv", "text\tlabel\njust text\n", /^x\.tsv:2: expected 2 tab-separated columns, found 1$/],
  ];
  for (const [file, content, pattern] of cases) {
    assert.throws(() => parseDataset(content, file), (e: Error) => e instanceof DataError && pattern.test(e.message), `${file}: ${content}`);
  }
  assert.throws(() => parseDataset("2 odd\n", "x.txt", { labels: ["0", "1"] }), (e: Error) => e.message === 'x.txt:1: unknown label "2" (the model knows: 0, 1)');
  const latin1 = join(tmp, "latin1.txt");
  writeFileSync(latin1, Buffer.concat([Buffer.from("1 fine\n0 caf"), Buffer.from([0xe9]), Buffer.from("\n")]));
  assert.throws(() => readDataset(latin1), (e: Error) => e instanceof DataError && e.message === `${latin1}:2: not valid UTF-8 (save the file as UTF-8)`);
  assert.throws(() => readDataset(join(tmp, "none.txt")), /none\.txt: cannot read \(ENOENT\)/);
});
