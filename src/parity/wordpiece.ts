/**
 * Runs the `wordpiece/` tokenizer fixtures (test/fixtures/README.md §8): every vector of
 * vectors.json and batch_vectors.json, and every Hugging Face test fact, as one case each,
 * compared exactly. A case that throws becomes a failed result; the run itself never throws.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DataError } from "../errors.ts";
import { basicTokenize } from "../text/basic.ts";
import { isControl, isPunctuation, isWhitespace, splitWhitespace } from "../text/unicode.ts";
import { Vocabulary } from "../text/vocab.ts";
import { BertTokenizer, type BertTokenizerOptions } from "../text/wordpiece.ts";
import type { CaseResult, Comparison } from "./types.ts";

/** A parsed JSON object. */
type Json = Record<string, unknown>;

/** The tokenizer settings of a vector or fact, in fixture naming. */
interface Settings {
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
}

/** Reads and parses a JSON file; the error names the file. */
function readJson(path: string): Json {
  const data: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new DataError(`${path}: not a JSON object`);
  return data as Json;
}

/** The entries of a JSON array field; the error names the field. */
function entries(data: Json, name: string, file: string): Json[] {
  const list = data[name];
  if (!Array.isArray(list)) throw new DataError(`${file}: "${name}" is not an array`);
  return list as Json[];
}

/** One exact comparison: 0 when equal (deeply), Infinity otherwise. */
function exact(name: string, actual: unknown, expected: unknown): Comparison {
  return { name, worst: JSON.stringify(actual) === JSON.stringify(expected) ? 0 : Infinity };
}

/** Runs one case, turning an exception into a failed result. */
function runCase(name: string, op: string, body: () => Comparison[]): CaseResult {
  try {
    const compared = body();
    if (compared.length === 0) throw new DataError(`case ${name}: nothing to compare`);
    return { case: name, op, passed: compared.every((c) => c.worst <= 1), compared };
  } catch (e) {
    return { case: name, op, passed: false, compared: [], error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/** Tokenizers by vocabulary path and settings, so each vocabulary is read once per run. */
class TokenizerCache {
  private readonly vocabs = new Map<string, Vocabulary>();
  private readonly tokenizers = new Map<string, BertTokenizer>();

  get(file: string, vocab: unknown, settings: Settings | null | undefined): BertTokenizer {
    if (typeof vocab !== "string") throw new DataError(`${file}: "vocab" is not a path`);
    const path = resolve(dirname(file), vocab); // relative to the JSON file's folder
    const options: BertTokenizerOptions = {
      doLowerCase: settings?.do_lower_case ?? true,
      stripAccents: settings?.strip_accents ?? null,
      tokenizeChineseChars: settings?.tokenize_chinese_chars ?? true,
    };
    const key = `${path}\u0000${JSON.stringify(options)}`;
    let tokenizer = this.tokenizers.get(key);
    if (tokenizer === undefined) {
      let v = this.vocabs.get(path);
      // HF's WordpieceTokenizer test vocabulary has no [PAD]: only [UNK] is needed up front.
      if (v === undefined) this.vocabs.set(path, (v = Vocabulary.fromFile(path, { requireSpecials: ["[UNK]"] })));
      tokenizer = new BertTokenizer(v, options);
      this.tokenizers.set(key, tokenizer);
    }
    return tokenizer;
  }
}

/** A fixture's `truncation`: "longest_first"/true, false, or null/absent (undefined: HF's default). */
function truncationOf(t: unknown): "longest_first" | false | undefined {
  if (t === "longest_first" || t === true) return "longest_first";
  if (t === false) return false;
  if (t === null || t === undefined) return undefined;
  throw new DataError(`unsupported truncation ${JSON.stringify(t)}`);
}

/** One entry of vectors.json: basic words, then the full encoding. */
function vectorCase(v: Json, file: string, cache: TokenizerCache): Comparison[] {
  const tok = cache.get(file, v.vocab, v as Settings);
  const text = String(v.text);
  const pair = typeof v.text_pair === "string" ? v.text_pair : null;
  const out: Comparison[] = [];
  if (v.basic_tokens !== undefined) out.push(exact("basic_tokens", tok.basicTokenize(text), v.basic_tokens));
  if (pair !== null && v.basic_tokens_pair !== undefined) out.push(exact("basic_tokens_pair", tok.basicTokenize(pair), v.basic_tokens_pair));
  // vectors.json has no truncation fields today; honour them if a vector carries them.
  const maxLength = typeof v.max_length === "number" ? v.max_length : undefined;
  const enc = tok.encode(text, pair, { maxLength, truncation: truncationOf(v.truncation) });
  out.push(exact("tokens", enc.tokens, v.tokens), exact("input_ids", enc.inputIds, v.input_ids));
  out.push(exact("token_type_ids", enc.tokenTypeIds, v.token_type_ids));
  if (v.attention_mask !== undefined) out.push(exact("attention_mask", enc.attentionMask, v.attention_mask));
  return out;
}

/** Splits a flat (batch, length) array into rows. */
function rowsOf(flat: ArrayLike<number>, batch: number, length: number): number[][] {
  return Array.from({ length: batch }, (_, r) => Array.from({ length }, (_, i) => flat[r * length + i]));
}

/** One entry of batch_vectors.json: padding + truncation of a whole batch. */
function batchCase(v: Json, file: string, cache: TokenizerCache): Comparison[] {
  const tok = cache.get(file, v.vocab, v as Settings);
  const inputs = entries(v, "inputs", file).map((i) => ({ text: String(i.text), textPair: typeof i.text_pair === "string" ? i.text_pair : null }));
  const padding = v.padding === "max_length" ? "max_length" : v.padding === false ? false : "longest";
  const truncation = truncationOf(v.truncation);
  const maxLength = typeof v.max_length === "number" ? v.max_length : undefined;
  const b = tok.encodeBatch(inputs, { padding, truncation, maxLength });
  return [
    exact("tokens", b.rows.map((r) => r.tokens), v.tokens),
    exact("input_ids", rowsOf(b.inputIds, b.batch, b.length), v.input_ids),
    exact("token_type_ids", rowsOf(b.tokenTypeIds, b.batch, b.length), v.token_type_ids),
    exact("attention_mask", rowsOf(b.attentionMask, b.batch, b.length), v.attention_mask),
  ];
}

/** HF's character-class checks, one comparison per character. */
function charClassCase(expected: unknown): Comparison[] {
  const fns: Record<string, (ch: string) => boolean> = { _is_whitespace: isWhitespace, _is_control: isControl, _is_punctuation: isPunctuation };
  const out: Comparison[] = [];
  for (const [name, sets] of Object.entries(expected as Record<string, Record<string, string[]>>)) {
    const fn = fns[name];
    if (fn === undefined) throw new DataError(`unknown character class ${name}`);
    for (const [truth, chars] of Object.entries(sets)) {
      for (const ch of chars) out.push(exact(`${name}(${JSON.stringify(ch)})`, fn(ch), truth === "true"));
    }
  }
  return out;
}

/** The never_split list written in a fact's component, e.g. `never_split=['[UNK]']`. */
function neverSplitOf(component: string): string[] {
  const list = /never_split=\[((?:'[^']*'(?:,\s*)?)*)\]/.exec(component)?.[1] ?? "";
  return [...list.matchAll(/'([^']*)'/g)].map((m) => m[1]);
}

/** One fact of hf_test_facts.json, matched against the stage its component names. */
function factCase(f: Json, file: string, cache: TokenizerCache): [string, Comparison[]] {
  const component = String(f.component);
  const settings = (f.settings ?? null) as Settings | null;
  if (component.startsWith("character classes")) return ["char_class", charClassCase(f.expected)];
  if (component.startsWith("BasicTokenizer")) {
    const words = basicTokenize(String(f.input), {
      doLowerCase: settings?.do_lower_case ?? true,
      stripAccents: settings?.strip_accents ?? null,
      tokenizeChineseChars: settings?.tokenize_chinese_chars ?? true,
      neverSplit: neverSplitOf(component),
    });
    return ["basic_tokenizer", [exact("tokens", words, f.expected)]];
  }
  const tok = cache.get(file, f.vocab, settings);
  if (component.startsWith("WordpieceTokenizer")) {
    // WordPiece alone: whitespace-split words, no lower-casing.
    const pieces = splitWhitespace(String(f.input)).flatMap((w) => tok.wordpieceTokenize(w));
    return ["wordpiece_tokenizer", [exact("tokens", pieces, f.expected)]];
  }
  if (Array.isArray(f.input)) {
    const [a, b] = f.input.map(String);
    const ids = f.expected_ids as { single: number[]; pair: number[] };
    return ["bert_tokenizer", [exact("single", tok.encode(a).inputIds, ids.single), exact("pair", tok.encode(a, b).inputIds, ids.pair)]];
  }
  const withSpecials = /add_special_tokens=True/.test(component);
  const tokens = withSpecials ? tok.encode(String(f.input)).tokens : tok.tokenize(String(f.input));
  const out = [exact("tokens", tokens, f.expected)];
  if (Array.isArray(f.expected_ids)) out.push(exact("ids", tok.convertTokensToIds(tokens), f.expected_ids));
  return ["bert_tokenizer", out];
}

/**
 * Runs every case of a `wordpiece/` fixture folder (its `index.json` lists the files): one case per vector and
 * per batch vector. With `facts`, Hugging Face's own test facts (hf_test_facts.json) run as cases too; the
 * parity command leaves them out so its summary counts vectors and batch vectors only.
 */
export function runWordpieceFixtures(dir: string, options: { facts?: boolean } = {}): CaseResult[] {
  const results: CaseResult[] = [];
  let index: Json;
  try {
    index = readJson(join(dir, "index.json"));
    if (index.family !== "wordpiece") throw new DataError(`${dir}/index.json: family is ${JSON.stringify(index.family)}, not "wordpiece"`);
  } catch (e) {
    return [runCase("index.json", "wordpiece", () => { throw e; })];
  }
  const cache = new TokenizerCache();
  const files = (index.files ?? { "vectors.json": null, "batch_vectors.json": null, "hf_test_facts.json": null }) as Record<string, unknown>;
  for (const [name, count] of Object.entries(files)) {
    if (name === "hf_test_facts.json" && !options.facts) continue;
    const file = join(dir, name);
    let list: Json[];
    let run: (entry: Json, i: number) => CaseResult;
    try {
      const data = readJson(file);
      if (name === "vectors.json") {
        list = entries(data, "vectors", file);
        run = (v, i) => runCase(String(v.id ?? `vector_${i}`), "wordpiece", () => vectorCase(v, file, cache));
      } else if (name === "batch_vectors.json") {
        list = entries(data, "batch_vectors", file);
        run = (v, i) => runCase(String(v.id ?? `batch_${i}`), "wordpiece_batch", () => batchCase(v, file, cache));
      } else if (name === "hf_test_facts.json") {
        list = entries(data, "facts", file);
        run = (f, i) => {
          let op = "hf_fact";
          const result = runCase(`hf_fact_${i}_${String(f.test)}`, op, () => {
            const [stage, compared] = factCase(f, file, cache);
            op = stage;
            return compared;
          });
          return { ...result, op };
        };
      } else {
        throw new DataError(`${file}: no runner for this file`);
      }
      if (typeof count === "number" && count !== list.length) {
        const message = `${file}: index.json says ${count} entries, the file has ${list.length}`;
        results.push(runCase(`${name}:count`, "wordpiece", () => { throw new DataError(message); }));
      }
    } catch (e) {
      results.push(runCase(name, "wordpiece", () => { throw e; }));
      continue;
    }
    list.forEach((entry, i) => results.push(run(entry, i)));
  }
  return results;
}
