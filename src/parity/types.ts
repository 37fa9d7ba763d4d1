/** What the fixture runner reports for one case. */

/** How one compared tensor (or token sequence) did: `worst` ≤ 1 passes. */
export interface Comparison {
  /** The name of the compared tensor in the case (e.g. `attn_weights`, `grad.W_Q`, `input_ids`). */
  name: string;
  /** Worst element of |actual − expected| / (atol + rtol·|expected|); for exact comparisons 0 (equal) or Infinity. */
  worst: number;
  /** Set for a stored tensor the runner did not compute (its `worst` is Infinity: the case fails). */
  status?: "not computed";
}

/** The result of running one case. */
export interface CaseResult {
  /** The case name (a directory name, or a vector id for the tokenizer family). */
  case: string;
  /** The op or family the case exercises (`softmax`, `multi_head_attention`, `wordpiece`, …). */
  op: string;
  passed: boolean;
  compared: Comparison[];
  /** Why the case failed, when it could not be run at all (missing file, unsupported op, exception). */
  error?: string;
}
