/** Inputs longer than a model takes are cut to its length, and the CLI says so: truncation is never silent. */
import type { BertTokenizer } from "../text/wordpiece.ts";

/**
 * Writes a note to stderr when some texts (or text pairs) tokenize to more than `maxLength` tokens, [CLS] and
 * [SEP] included; `why` says where the limit comes from.
 */
export function noteTruncation(tokenizer: BertTokenizer, inputs: readonly (string | readonly [string, string])[], maxLength: number, why: string): void {
  const long = inputs.filter((input) => {
    const ids = typeof input === "string" ? tokenizer.encode(input).inputIds : tokenizer.encode(input[0], input[1]).inputIds;
    return ids.length > maxLength;
  }).length;
  if (long === 0) return;
  process.stderr.write(`tsformer: note: ${long} of ${inputs.length} input(s) are longer than ${maxLength} tokens and were cut to ${maxLength} (${why})\n`);
}
