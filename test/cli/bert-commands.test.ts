/** `tsformer embed`, `similarity` and `attention` on a Hugging Face BERT folder, as a user runs them. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const MODEL = "test/fixtures/bert_model/bert_model_l2_h32";
const tmp = mkdtempSync(join(tmpdir(), "tsformer-bertcli-"));

/** Runs the commands through a commander program that registers them (src/cli/main.ts). */
function run(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8", input });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts exit code 1 and exactly one `tsformer: …` line on stderr matching `pattern`, nothing on stdout. */
function fails(args: string[], pattern: RegExp): void {
  const r = run(args);
  assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^tsformer: /);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, "");
}

interface EmbedJson { model: string; pooling: string; normalize: boolean; dimension: number; embeddings: { text: string; embedding: number[] }[] }

test("embed prints one JSON object with a vector per text; --normalize gives unit vectors; --pooling changes them", () => {
  const r = run(["embed", "--model", MODEL, "a charming journey", "the plot is thin"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const out = JSON.parse(r.stdout) as EmbedJson;
  assert.deepEqual([out.pooling, out.normalize, out.dimension, out.embeddings.length], ["mean", false, 32, 2]);
  assert.equal(out.embeddings[1].text, "the plot is thin");
  assert.equal(out.embeddings[0].embedding.length, 32);
  const unit = JSON.parse(run(["embed", "--model", MODEL, "--normalize", "a charming journey"]).stdout) as EmbedJson;
  assert.ok(Math.abs(Math.hypot(...unit.embeddings[0].embedding) - 1) < 1e-6);
  const cls = JSON.parse(run(["embed", "--model", MODEL, "--pooling", "cls", "a charming journey"]).stdout) as EmbedJson;
  assert.notDeepEqual(cls.embeddings[0].embedding, out.embeddings[0].embedding);
});

test("embed --input FILE prints NDJSON, one {text, embedding} per input line, matching the argument form; no progress bar off a TTY", () => {
  const file = join(tmp, "lines.txt");
  writeFileSync(file, "a charming journey\r\nthe plot is thin\n\nunflinchingly bleak and desperate\n");
  const r = run(["embed", "--model", MODEL, "--input", file, "--batch-size", "2"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "", "the progress bar appears only when stderr is a terminal");
  const rows = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { text: string; embedding: number[] });
  assert.deepEqual(rows.map((x) => x.text), ["a charming journey", "the plot is thin", "", "unflinchingly bleak and desperate"]);
  const args = JSON.parse(run(["embed", "--model", MODEL, "a charming journey"]).stdout) as EmbedJson;
  for (let i = 0; i < 32; i++) assert.ok(Math.abs(rows[0].embedding[i] - args.embeddings[0].embedding[i]) <= 1e-6);
  const stdin = run(["embed", "--model", MODEL, "--input", "-"], "the plot is thin\n");
  assert.equal(stdin.stdout.trimEnd().split("\n").length, 1);
});

test("similarity prints the cosine similarity, 1 for the same text; --json gives an object; a cut input is noted on stderr", () => {
  const same = run(["similarity", "--model", MODEL, "a charming journey", "a charming journey"]);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.stdout, "1.0000\n");
  const r = run(["similarity", "--model", MODEL, "a charming journey", "the plot is thin", "--json"]);
  const out = JSON.parse(r.stdout) as { a: string; b: string; pooling: string; similarity: number };
  assert.deepEqual([out.a, out.b, out.pooling], ["a charming journey", "the plot is thin", "mean"]);
  assert.ok(out.similarity > -1 && out.similarity < 1);
  const cut = run(["similarity", "--model", MODEL, "--max-length", "4", "a charming journey", "b"]);
  assert.equal(cut.code, 0, cut.stderr);
  assert.equal(cut.stderr, "tsformer: note: 1 of 2 input(s) are longer than 4 tokens and were cut to 4 (--max-length)\n");
});

test("attention prints heat maps per head, or JSON with the tokens and each head's rows summing to 1", () => {
  const r = run(["attention", "--model", MODEL, "the plot is thin", "--layer", "1", "--head", "3"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^tokens: \[CLS\] the plot is thin \[SEP\]$/m);
  assert.match(r.stdout, /attention, layer 1 head 3 \(row = query, shade = probability\)/);
  assert.equal((r.stdout.match(/attention, layer/g) ?? []).length, 1);
  const all = run(["attention", "--model", MODEL, "the plot is thin"]);
  assert.equal((all.stdout.match(/attention, layer/g) ?? []).length, 8, "2 layers × 4 heads");
  const j = JSON.parse(run(["attention", "--model", MODEL, "Great movie?", "--pair", "Not really.", "--layer", "0", "--json"]).stdout) as { tokens: string[]; attentions: { layer: number; head: number; weights: number[][] }[] };
  assert.deepEqual(j.tokens, ["[CLS]", "great", "movie", "?", "[SEP]", "not", "really", ".", "[SEP]"]);
  assert.deepEqual(j.attentions.map((a) => [a.layer, a.head]), [[0, 0], [0, 1], [0, 2], [0, 3]]);
  for (const a of j.attentions) for (const row of a.weights) assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5);
});

test("errors: exit code 1 and a single tsformer: line", () => {
  fails(["embed", "hello"], /--model DIR is required/);
  fails(["embed", "--model", MODEL], /nothing to embed: give texts/);
  fails(["embed", "--model", MODEL, "--input", join(tmp, "missing.txt")], /missing\.txt: cannot read the input file \(ENOENT\)/);
  fails(["embed", "--model", MODEL, "--pooling", "sum", "x"], /--pooling "sum" must be mean, cls or max/);
  fails(["embed", "--model", MODEL, "--max-length", "41", "x"], /--max-length "41" must be an integer from 2 to 40 \(config\.json max_position_embeddings\)/);
  fails(["similarity", "--model", join(tmp, "none"), "a", "b"], /none: no such folder/);
  fails(["attention", "--model", MODEL, "x", "--head", "4"], /--head "4" must be an integer from 0 to 3 \(the model has 4 heads\)/);
  const noBin = join(tmp, "bin-only");
  cpSync(MODEL, noBin, { recursive: true });
  unlinkSync(join(noBin, "model.safetensors"));
  writeFileSync(join(noBin, "pytorch_model.bin"), "");
  fails(["similarity", "--model", noBin, "a", "b"], /unpickling runs arbitrary code\. Convert it once with: python -c "from transformers import BertModel;/);
});

test("embed --input shows a progress bar on stderr when stderr is a terminal, keeping stdout clean NDJSON", (t) => {
  // `script` gives the command a pseudo-terminal; stdout is redirected to a file inside it, so the terminal sees only stderr.
  if (spawnSync("script", ["--version"]).status !== 0) return t.skip("no `script` command to give the test a terminal: install it (apt-get install -y bsdutils)");
  const input = join(tmp, "tty-lines.txt");
  const out = join(tmp, "tty-out.ndjson");
  writeFileSync(input, "a\nb\nc\n");
  const command = `"${process.execPath}" --import tsx src/cli/main.ts embed --model ${MODEL} --input ${input} --batch-size 1 > ${out}`;
  const r = spawnSync("script", ["-qec", command, "/dev/null"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /embedding \[.*\] 3\/3 lines/);
  const rows = readFileSync(out, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as { text: string });
  assert.deepEqual(rows.map((x) => x.text), ["a", "b", "c"]);
});
