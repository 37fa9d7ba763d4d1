/**
 * The inputs of a BERT fixture case (test/fixtures/README.md §7.3, §9), checked from case.json's `inputs`: a row
 * with a text is tokenized and must give the stored tokens (after the masked-LM replacements its `mlm` entries
 * list); a row built from ids (`"text": null`) keeps its stored tokens. Every row's tokens must then map to the
 * stored ids through vocab.txt, and give the stored token types, mask, lengths and labels. The model runs on the
 * stored tensors, so these checks stay separate from the numeric ones.
 */
import { ConfigError } from "../errors.ts";
import { SPECIAL_TOKENS } from "../text/vocab.ts";
import type { BertTokenizer } from "../text/wordpiece.ts";
import { type FixtureCase, compareWith } from "./fixture.ts";
import type { Comparison } from "./types.ts";

/** One masked-LM replacement of a row: what the position held (`label_token`) and what it holds now. */
interface MlmEdit { position: number; how: string; labelToken: string }

/** A row of case.json `inputs`. */
interface CaseRow {
  text: string | null;
  textPair: string | null;
  tokens: string[];
  label: string | null;
  mlm: MlmEdit[];
}

/** The label id the loss ignores (PyTorch's ignore_index), at positions without a masked-LM target. */
export const IGNORE_INDEX = -100;

/** Reads case.json's `inputs`; errors name the case and the row. */
function caseRows(c: FixtureCase): CaseRow[] {
  const raw = c.raw.inputs;
  if (!Array.isArray(raw) || raw.length === 0) throw new ConfigError(`${c.name}: case.json has no "inputs"`);
  return (raw as Record<string, unknown>[]).map((x, i) => {
    if (x.text !== null && typeof x.text !== "string") throw new ConfigError(`${c.name}: inputs[${i}].text is neither a string nor null`);
    if (!Array.isArray(x.tokens) || !x.tokens.every((t) => typeof t === "string")) throw new ConfigError(`${c.name}: inputs[${i}].tokens is not a list of tokens`);
    const mlm = Array.isArray(x.mlm) ? (x.mlm as Record<string, unknown>[]).map((m, j) => {
      if (!Number.isInteger(m.position) || typeof m.how !== "string" || typeof m.label_token !== "string") {
        throw new ConfigError(`${c.name}: inputs[${i}].mlm[${j}] needs an integer "position" and strings "how" and "label_token"`);
      }
      return { position: m.position as number, how: m.how, labelToken: m.label_token };
    }) : [];
    return {
      text: x.text, textPair: typeof x.text_pair === "string" ? x.text_pair : null, tokens: x.tokens as string[],
      label: typeof x.label === "string" ? x.label : null, mlm,
    };
  });
}

/** The token a masked-LM replacement puts at its position ("mask", "random:<token>" or "keep"), or null for an unknown kind. */
function replacement(edit: MlmEdit, original: string): string | null {
  if (edit.how === "mask") return SPECIAL_TOKENS.mask;
  if (edit.how === "keep") return original;
  return edit.how.startsWith("random:") ? edit.how.slice("random:".length) : null;
}

/** Token types of an id-built row, as the tokenizer assigns them: 0 through the first [SEP], 1 after it. */
function typesOf(tokens: readonly string[]): number[] {
  const firstSep = tokens.indexOf(SPECIAL_TOKENS.sep);
  return tokens.map((_, i) => (firstSep >= 0 && i > firstSep ? 1 : 0));
}

/**
 * Checks the case's stored inputs (`input_ids`, `token_type_ids`, `attention_mask`, `lengths`, and `labels` when
 * stored) against its rows, exactly. `labelNames` are the model's classes (for a row's `label`), null for none.
 */
export function checkBertInputs(c: FixtureCase, tokenizer: BertTokenizer, labelNames: readonly string[] | null): Comparison[] {
  const rows = caseRows(c);
  const ids = c.tensors.get("input_ids");
  if (!ids || ids.shape.length !== 2 || ids.shape[0] !== rows.length) throw new ConfigError(`${c.name}: input_ids must be (${rows.length}, n), one row per inputs entry`);
  const n = ids.shape[1];
  const vocab = tokenizer.vocab;
  let sameTokens = true;
  const ours = { ids: [] as number[], types: [] as number[], mask: [] as number[], lengths: [] as number[], mlmLabels: [] as number[] };
  for (const row of rows) {
    let tokens: string[];
    let types: number[];
    if (row.text !== null) {
      const enc = tokenizer.encode(row.text, row.textPair);
      tokens = [...enc.tokens];
      types = enc.tokenTypeIds;
      for (const edit of row.mlm) {
        const now = tokens[edit.position] === edit.labelToken ? replacement(edit, edit.labelToken) : null;
        if (now === null) sameTokens = false;
        else tokens[edit.position] = now;
      }
      sameTokens &&= JSON.stringify([...tokens, ...new Array<string>(Math.max(n - tokens.length, 0)).fill(SPECIAL_TOKENS.pad)]) === JSON.stringify(row.tokens);
    } else {
      // Built from ids (e.g. a lone [CLS]): no text to tokenize, so its stored tokens are what the ids must spell.
      const padAt = row.tokens.indexOf(SPECIAL_TOKENS.pad);
      tokens = row.tokens.slice(0, padAt >= 0 ? padAt : row.tokens.length);
      types = typesOf(tokens);
    }
    const labels = new Array<number>(n).fill(IGNORE_INDEX);
    for (const edit of row.mlm) labels[edit.position] = vocab.idOf(edit.labelToken) ?? Number.NaN;
    for (let i = 0; i < n; i++) {
      const real = i < tokens.length;
      ours.ids.push(real ? (vocab.idOf(tokens[i]) ?? Number.NaN) : vocab.padId);
      ours.types.push(real ? types[i] : 0);
      ours.mask.push(real ? 1 : 0);
    }
    ours.lengths.push(tokens.length);
    ours.mlmLabels.push(...labels);
  }
  const out: Comparison[] = [{ name: "tokens", worst: sameTokens ? 0 : Infinity }];
  const check = (name: string, actual: ArrayLike<number>): void => {
    const expected = c.tensors.get(name);
    if (expected) out.push(compareWith(name, actual, expected));
  };
  check("input_ids", ours.ids);
  check("token_type_ids", ours.types);
  check("attention_mask", ours.mask);
  check("lengths", ours.lengths);
  const labels = c.tensors.get("labels");
  if (labels?.shape.length === 2) check("labels", ours.mlmLabels);
  else if (labels) check("labels", rows.map((r) => (r.label !== null && labelNames ? labelNames.indexOf(r.label) : Number.NaN)));
  return out;
}
