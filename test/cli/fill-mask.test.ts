/** `tsformer fill-mask` on a real BertForMaskedLM folder, as a user runs it: the table, --json, and one-line errors. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { candidateTable } from "../../src/cli/fill-mask.ts";
import { type FillMaskCandidate, fillMask, fillMaskPipeline } from "../../src/models/fill-mask.ts";
import { loadBert } from "../../src/models/load-bert.ts";

const MLM = "test/fixtures/bert_train/bert_train_mlm_l2_h32";
const PLAIN = "test/fixtures/bert_model/bert_model_l2_h32";

/** Runs `tsformer <args>` from source. */
function run(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts exit code 1, nothing on stdout and exactly one `tsformer: …` line on stderr matching `pattern`. */
function fails(args: string[], pattern: RegExp): void {
  const r = run(args);
  assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^tsformer: /);
  assert.match(lines[0], pattern);
}

test("one [MASK]: a table of the top 5 (rank, probability, token, sequence), the library's numbers on the same backend", async () => {
  const r = run(["--backend", "reference", "fill-mask", "--model", MLM, "the quick brown [MASK] jumps."]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const expected = fillMask(await loadBert(MLM), "the quick brown [MASK] jumps.")[0];
  assert.equal(r.stdout, `${candidateTable(expected)}\n`);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^rank {2}probability {2}token +sequence$/);
  assert.equal(lines.length, 6);
  lines.slice(1).forEach((line, i) => {
    const c = expected[i];
    assert.match(line, new RegExp(`^ {3}${i + 1} +${(100 * c.score).toFixed(2).replace(".", "\\.")}% {2}\\S+ +\\S`));
    assert.ok(line.endsWith(c.sequence));
  });
});

test("--json prints the pipeline's output: a flat list for one mask, one list per mask for several; --top-k sets the length", async () => {
  const l = await loadBert(MLM);
  const single = run(["--backend", "reference", "fill-mask", "--model", MLM, "--json", "the quick brown [MASK] jumps."]);
  assert.equal(single.code, 0, single.stderr);
  assert.equal(single.stdout.trimEnd().split("\n").length, 1);
  assert.deepEqual(JSON.parse(single.stdout), fillMaskPipeline(l, "the quick brown [MASK] jumps."));
  const multi = run(["--backend", "reference", "fill-mask", "--model", MLM, "--json", "--top-k", "3", "the [MASK] was [MASK] fun."]);
  assert.equal(multi.code, 0, multi.stderr);
  const lists = JSON.parse(multi.stdout) as FillMaskCandidate[][];
  assert.deepEqual(lists, fillMask(l, "the [MASK] was [MASK] fun.", { topK: 3 }));
  assert.deepEqual(lists.map((x) => x.length), [3, 3]);
  assert.ok(lists[1].every((c) => c.sequence.startsWith("[CLS] the [MASK] was") && c.sequence.endsWith(" fun. [SEP]")));
  // The default backend (WASM where it loads, summing in float32 lanes) gives the same candidates, the scores to float32 rounding.
  const fast = JSON.parse(run(["fill-mask", "--model", MLM, "--json", "--top-k", "3", "the [MASK] was [MASK] fun."]).stdout) as FillMaskCandidate[][];
  fast.forEach((list, m) => list.forEach((c, i) => {
    assert.deepEqual([c.token, c.token_str, c.sequence], [lists[m][i].token, lists[m][i].token_str, lists[m][i].sequence]);
    assert.ok(Math.abs(c.score - lists[m][i].score) <= 1e-5, `${c.score} vs ${lists[m][i].score}`);
  }));
});

test("several [MASK]s: one table per mask under a heading", () => {
  const r = run(["fill-mask", "--model", MLM, "--top-k", "2", "the [MASK] was [MASK] fun."]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.deepEqual([lines[0], lines[4], lines[5]], ["[MASK] 1 of 2", "", "[MASK] 2 of 2"]);
  assert.equal(lines.length, 9);
});

test("a text cut to --max-length that keeps its [MASK] is noted on stderr; one whose [MASK] is cut off is an error", () => {
  const kept = run(["fill-mask", "--model", MLM, "--max-length", "6", "--top-k", "1", "a [MASK] c d e f g"]);
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stderr, /^tsformer: note: 1 of 1 input\(s\) are longer than 6 tokens and were cut to 6 \(--max-length\)\n$/);
  fails(["fill-mask", "--model", MLM, "--max-length", "6", "a b c d e f [MASK]"], /the text is 9 tokens long .* cut to 6, which leaves out 1 of its 1 \[MASK\] token\(s\); shorten the text or move \[MASK\] earlier/);
});

test("without --model, fill-mask runs the shipped pretrained BERT (models/mlm)", async () => {
  const r = run(["--backend", "reference", "fill-mask", "--json", "the [MASK] was great ."]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), fillMask(await loadBert("models/mlm"), "the [MASK] was great .")[0]);
});

test("the shipped models/mlm answers with the English words its model card shows", async () => {
  const model = await loadBert("models/mlm");
  const top = (text: string, k: number): string[] => fillMask(model, text, { topK: k })[0].map((c) => c.token_str);
  // The figures of models/mlm/README.md ("Fill-mask, measured on this folder"); the 6-epoch model had "the" and "," in its top 3 for all five.
  assert.deepEqual(top("the [MASK] was great .", 2), ["film", "movie"]);
  assert.deepEqual(top("the president of the united [MASK] .", 2), ["states", "nations"]);
  assert.equal(top("this movie is one of the [MASK] films of the year .", 1)[0], "best");
});

test("bad input: one line that says what to do", () => {
  fails(["fill-mask", "--model", MLM, "no mask here"], /the text "no mask here" contains no \[MASK\] token; put \[MASK\] where a word should be predicted$/);
  fails(["fill-mask", "--model", PLAIN, "a [MASK]"], /no masked-LM head: it holds a BertModel checkpoint, whose weights have none of cls\.predictions\.transform\.dense\.weight, .*cls\.predictions\.bias; fill-mask needs a BertForMaskedLM folder, such as what tsformer pretrain writes$/);
  fails(["fill-mask", "--model", MLM, "--top-k", "0", "a [MASK]"], /--top-k "0" must be an integer ≥ 1$/);
  fails(["fill-mask", "--model", MLM, "--top-k", "five", "a [MASK]"], /--top-k "five" must be an integer ≥ 1$/);
  fails(["fill-mask", "--model", MLM, "--top-k", "302", "a [MASK]"], /--top-k "302" must be an integer from 1 to 301 \(the model's vocabulary size\)$/);
});
