/**
 * The backend interface: raw kernels on Float32Arrays and sizes, with no Tensor and no autograd inside.
 * The op API (src/tensor/ops) calls these; a backend only computes. `reference` implements them in plain
 * TypeScript as the readable specification; faster backends implement the same contract and are tested
 * against it. Every kernel writes its whole output unless a parameter says it accumulates.
 */

/** C[b] = op(A[b]) · op(B[b]) for b < batch, with op(X) = Xᵀ when the matching trans flag is set. */
export interface MatmulParams {
  batch: number;
  /** Rows of op(A) and C. */
  m: number;
  /** Columns of op(B) and C. */
  n: number;
  /** Columns of op(A) = rows of op(B). */
  k: number;
  /** A is stored k×m (read transposed). */
  transA: boolean;
  /** B is stored n×k (read transposed): the layout of a PyTorch Linear weight. */
  transB: boolean;
  /** Elements between consecutive A matrices; 0 uses one A for the whole batch. */
  strideA: number;
  /** Elements between consecutive B matrices; 0 uses one B for the whole batch. */
  strideB: number;
  /** Add the product into C instead of overwriting it (gradient accumulation). */
  accumulate: boolean;
  /** A row of n values added to every row of C (a Linear layer's bias), fused into the product. */
  bias?: Float32Array | null;
  /**
   * GELU (exact or tanh form) applied to C after the product and bias, in the same pass (a feed-forward layer's
   * first half at inference: no gradient flows through the fused form). Not with `accumulate`.
   */
  activation?: "gelu" | "gelu_tanh" | null;
}

/** Element-wise functions of one input. */
export type UnaryOp = "relu" | "gelu" | "gelu_tanh" | "tanh" | "sigmoid" | "exp" | "log" | "neg" | "sqrt" | "abs";

/** Element-wise functions of two broadcast inputs. */
export type BinaryOp = "add" | "sub" | "mul" | "div";

/**
 * Scaled dot-product attention for every (batch, head):
 * `scores = Q·Kᵀ × scale (+ additive)`, masked entries set to -∞, `P = softmax(scores)` over keys
 * (a row with every key masked gives P = 0; a NaN score makes its row NaN, as in PyTorch), `out = P·V`.
 * Q is (batch, heads, nQ, dK); K (batch, heads, nK, dK); V (batch, heads, nK, dV), all contiguous.
 */
export interface AttentionParams {
  batch: number;
  heads: number;
  nQ: number;
  nK: number;
  dK: number;
  dV: number;
  scale: number;
  /** Query i may attend key j only if j ≤ i. */
  causal: boolean;
  /** (batch, nK): 1 = the key is attended, 0 = masked. Null: every key attended. */
  keyMask: Uint8Array | null;
  /** A float mask added to the scores, read through `additiveStrides` over (batch, heads, nQ, nK). */
  additiveMask: Float32Array | null;
  /** Strides of `additiveMask` over (batch, heads, nQ, nK); 0 on broadcast axes. */
  additiveStrides: readonly [number, number, number, number];
  /**
   * q, k, v and the output laid out (batch, n, heads, d), as the Q/K/V projections produce them, instead of
   * (batch, heads, n, d): the heads are read in place, without permutes, and attentionBackward writes dQ, dK and dV
   * in the same layout. Probabilities, scores and dScores stay (batch, heads, nQ, nK).
   */
  tokenMajor?: boolean;
}

/**
 * A Linear weight quantized to int8 per output channel, symmetric (src/nn/quantize.ts makes it; the scheme is in
 * README "int8 inference"). Backends may cache a packed copy keyed by this object, so treat it as immutable.
 */
export interface QuantizedWeight {
  /** (outFeatures, inFeatures) row-major, each in [−127, 127]. */
  values: Int8Array;
  /** Per output row j: W[j, :] ≈ values[j, :] × scales[j]. */
  scales: Float32Array;
  /** Per output row j: Σ_k values[j, k] (the activation zero point's correction). */
  columnSums: Int32Array;
  outFeatures: number;
  inFeatures: number;
}

/**
 * One Adam / AdamW step's constants (src/train/optim.ts computes them): the gradient used is g + l2·w (Adam's L2
 * penalty; 0 for AdamW), w is first multiplied by `shrink` (AdamW's 1 − lr·λ; 1 for Adam), and
 * `stepSize` = lr / (1 − β1ᵗ), `rootC2` = √(1 − β2ᵗ) are the bias corrections.
 */
export interface AdamStepParams {
  beta1: number;
  beta2: number;
  eps: number;
  l2: number;
  shrink: number;
  stepSize: number;
  rootC2: number;
}

/** The kernels every backend provides. */
export interface Backend {
  /** Name used by `setBackend` and `--backend`. */
  readonly name: string;
  /** Batched matrix product; see MatmulParams. */
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, p: MatmulParams): void;
  /** out = f(x), element-wise. */
  unary(op: UnaryOp, x: Float32Array, out: Float32Array): void;
  /** dx = dy ⊙ f'(x), element-wise (`y` = f(x) is given for ops whose derivative is cheaper from it). */
  unaryBackward(op: UnaryOp, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** out = x × mul + add, element-wise. */
  affine(x: Float32Array, mul: number, add: number, out: Float32Array): void;
  /** out = a ∘ b with broadcasting: `aStrides`/`bStrides` give each input's strides over `outShape` (0 = broadcast). */
  binary(op: BinaryOp, a: Float32Array, aStrides: readonly number[], b: Float32Array, bStrides: readonly number[],
    out: Float32Array, outShape: readonly number[]): void;
  /** out = x where mask is 0, `value` where mask is 1; `maskStrides` read the mask over `shape` (0 = broadcast). */
  maskedFill(x: Float32Array, mask: Uint8Array, maskStrides: readonly number[], value: number, out: Float32Array,
    shape: readonly number[]): void;
  /** Sums `x` (shape `xShape`) down to `outShape`, which `xShape` broadcasts from (the gradient of broadcasting). */
  sumTo(x: Float32Array, xShape: readonly number[], out: Float32Array, outShape: readonly number[]): void;
  /** Reduces the middle axis of an (outer, axis, inner) view: out[o, i] = Σ or max over the axis; argmax when asked. */
  reduce(op: "sum" | "max", x: Float32Array, outer: number, axis: number, inner: number, out: Float32Array,
    argmax: Int32Array | null): void;
  /** out = x with axes permuted: out axis i is input axis perm[i]. */
  permute(x: Float32Array, shape: readonly number[], perm: readonly number[], out: Float32Array): void;
  /** Softmax over the last axis of (rows, cols), max-subtracted; a row of all -∞ gives zeros, a row holding NaN gives NaN. */
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** dx = y ⊙ (dy − Σ(dy ⊙ y)) per row. */
  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void;
  /** log-softmax over the last axis of (rows, cols); a row of all -∞ gives -∞, a row holding NaN gives NaN. */
  logSoftmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** dx = dy − softmax(x) Σ dy per row, from y = logSoftmax(x). */
  logSoftmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void;
  /**
   * LayerNorm over the last axis: y = (x − mean) / sqrt(var + eps) · gamma + beta, var biased (÷ cols).
   * Also writes each row's mean and rstd = 1/sqrt(var + eps) for the backward pass. With `residual`, normalises
   * x + residual instead (summed in float32, as `binary` add would: the same bits), in one pass over the rows.
   */
  layerNorm(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, out: Float32Array,
    mean: Float32Array, rstd: Float32Array, rows: number, cols: number, eps: number, residual?: Float32Array | null): void;
  /** Gradients of layerNorm: writes dx; adds into dgamma and dbeta when they are given. */
  layerNormBackward(x: Float32Array, gamma: Float32Array | null, mean: Float32Array, rstd: Float32Array,
    dy: Float32Array, dx: Float32Array | null, dgamma: Float32Array | null, dbeta: Float32Array | null,
    rows: number, cols: number): void;
  /** The index of the first NaN or ±∞ in x, or −1 (the finiteness checks of loaded weights and layer inputs). */
  firstNonFinite(x: Float32Array): number;
  /** out[i, :] = table[ids[i], :] (embedding lookup); ids are checked by the caller. */
  gather(table: Float32Array, cols: number, ids: Int32Array, out: Float32Array): void;
  /** dTable[ids[i], :] += dOut[i, :] (the gradient of gather). */
  scatterAdd(dOut: Float32Array, cols: number, ids: Int32Array, dTable: Float32Array): void;
  /** One Adam / AdamW update of parameters `w` and moments `m`, `v` in place from gradients `g` (all of one length). */
  adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, p: AdamStepParams): void;
  /** shadow ← decay·shadow + (1 − decay)·w in place, in double precision, stored as float32 (a weight average's update). */
  averageStep(shadow: Float32Array, w: Float32Array, decay: number): void;
  /**
   * `length` zeros in the memory this backend computes in (WASM memory for `wasm`, where kernels then read and
   * write them in place, without copies), for long-lived state such as optimizer moments. Freed when unreachable.
   */
  allocate(length: number): Float32Array;
  /**
   * Step memory (see src/tensor/memory.ts): between `openStepMemory` and `closeStepMemory`, `stepArray` hands out
   * zeroed arrays in the memory this backend computes in, reused by the next step instead of garbage-collected, so
   * kernels read and write a training step's activations and gradients in place. An array from `stepArray` is valid
   * only until the close; it holds zeros unless `zero` is false (for a result a kernel overwrites). Null: none here
   * (no such memory, or the step outgrew it), and the caller allocates an ordinary array. Opens nest; only the
   * outermost close ends the step.
   */
  openStepMemory(): void;
  stepArray(length: number, zero?: boolean): Float32Array | null;
  closeStepMemory(): void;
  /** Scaled dot-product attention; writes `out` and, when given, the probabilities and the scaled, unmasked scores. */
  attention(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, p: AttentionParams,
    probs: Float32Array | null, scores: Float32Array | null): void;
  /** Gradients of attention from its probabilities; writes dq, dk, dv (each may be null when not needed). */
  attentionBackward(q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array, dOut: Float32Array,
    dq: Float32Array | null, dk: Float32Array | null, dv: Float32Array | null, p: AttentionParams,
    dScores: Float32Array | null): void;
  /**
   * out (rows, outFeatures) = x (rows, inFeatures) · Wᵀ (+ bias) in int8: each row of x quantized to 7-bit
   * unsigned with its own scale and zero point, an exact int32 product with the int8 weight, then
   * y = ((f32(acc) × rowScale) × weightScale) + bias, each step rounded to float32. Every backend computes the
   * same integers and the same float32 steps, so results are bit-identical across backends and thread counts.
   * `activation` (GELU) then runs over each block of rows while it is in cache, with the backend's own `unary`
   * code: the same bits as the unfused product followed by `unary` on that backend.
   */
  matmulInt8(x: Float32Array, w: QuantizedWeight, bias: Float32Array | null, out: Float32Array, rows: number,
    activation?: MatmulParams["activation"]): void;
}
