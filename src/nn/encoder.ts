/** The encoder layer and the stack of N layers (Vaswani et al. §3.1; Q07 steps 3–7). */
import { ShapeError } from "../errors.ts";
import { Rng } from "../tensor/random.ts";
import { checkInput } from "../tensor/checks.ts";
import type { Activation } from "../tensor/ops/elementwise.ts";
import { add } from "../tensor/ops/elementwise.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type AttentionMask } from "./masks.ts";
import { type MultiHeadAttentionOptions, MultiHeadAttention } from "./attention.ts";
import { FeedForward } from "./feedforward.ts";
import { Dropout, LayerNorm } from "./layernorm.ts";
import { Module, ModuleList } from "./module.ts";
import type { Trace } from "./trace.ts";

/** Options of one encoder layer. */
export interface EncoderLayerOptions {
  dModel: number;
  heads: number;
  dFF: number;
  activation?: Activation;
  /** Pre-LN (LayerNorm before each sub-layer) instead of the paper's post-LN (default false). */
  normFirst?: boolean;
  layerNormEps?: number;
  /** Dropout on each sub-layer's output (and inside attention and the FFN), in training. */
  dropout?: number;
  /**
   * Dropout between the FFN's two linear layers (default `dropout`, as PyTorch's nn.TransformerEncoderLayer; BERT
   * has none there: Hugging Face's BertIntermediate applies only the activation).
   */
  ffnDropout?: number;
  /** Residual connections around each sub-layer (default true; off only for the lab, Q07). */
  residual?: boolean;
  /** LayerNorm after/before each sub-layer (default true; off only for the lab, Q07). */
  layerNorm?: boolean;
  /** Attention switches: per-head width, scale, shared W_Q/W_K, additive scoring, bias. */
  attention?: Pick<MultiHeadAttentionOptions, "headDim" | "scale" | "shareQK" | "scoring" | "bias">;
  rng?: Rng;
}

/** What a layer's forward takes besides its input. */
export interface EncoderCall {
  attentionMask?: AttentionMask | null;
  causal?: boolean;
  additiveMask?: Tensor | null;
  needWeights?: boolean;
  trace?: Trace;
  /** This layer's head gate (see `AttentionCall.headGate`). */
  headGate?: Tensor | null;
}

/** What the stack's forward takes: a layer's call, with one head gate per layer instead of one. */
export interface EncoderStackCall extends Omit<EncoderCall, "headGate"> {
  /** Per layer, a (heads) or (batch, heads) gate on each head's output (null or missing: no gate). */
  headGates?: readonly (Tensor | null)[] | null;
}

/** The output of a layer, with its attention probabilities when asked. */
export interface EncoderLayerOutput {
  output: Tensor;
  weights: Tensor | null;
}

/**
 * One encoder layer: self-attention, then the feed-forward network, each wrapped in a residual connection
 * and LayerNorm. Parameter names follow PyTorch's `nn.TransformerEncoderLayer` (self_attn, norm1, norm2),
 * with W_Q/W_K/W_V stored separately and the FFN under `ffn.linear1` / `ffn.linear2`.
 */
export class EncoderLayer extends Module {
  readonly selfAttn: MultiHeadAttention;
  readonly ffn: FeedForward;
  readonly norm1: LayerNorm | null;
  readonly norm2: LayerNorm | null;
  readonly normFirst: boolean;
  readonly residual: boolean;
  private readonly dropout1: Dropout;
  private readonly dropout2: Dropout;

  constructor(options: EncoderLayerOptions) {
    super();
    const rng = options.rng ?? new Rng(0);
    const dropout = options.dropout ?? 0;
    const eps = options.layerNormEps ?? 1e-5;
    this.normFirst = options.normFirst ?? false;
    this.residual = options.residual ?? true;
    this.selfAttn = this.registerModule("self_attn", new MultiHeadAttention({
      dModel: options.dModel, heads: options.heads, dropout, rng, ...options.attention,
    }));
    this.ffn = this.registerModule("ffn", new FeedForward({
      dModel: options.dModel, dFF: options.dFF, activation: options.activation, dropout: options.ffnDropout ?? dropout, rng,
    }));
    const useNorm = options.layerNorm ?? true;
    this.norm1 = useNorm ? this.registerModule("norm1", new LayerNorm(options.dModel, eps)) : null;
    this.norm2 = useNorm ? this.registerModule("norm2", new LayerNorm(options.dModel, eps)) : null;
    this.dropout1 = this.registerModule("dropout1", new Dropout(dropout, rng));
    this.dropout2 = this.registerModule("dropout2", new Dropout(dropout, rng));
  }

  /** x (batch, n, dModel) → (batch, n, dModel). */
  forward(x: Tensor, call: EncoderCall = {}): EncoderLayerOutput {
    const trace = call.trace;
    const norm = (ln: LayerNorm | null, t: Tensor): Tensor => (ln ? ln.forward(t) : t);
    // Q07 step 4: the residual connection adds the sub-layer's input back to its output.
    const residual = (input: Tensor, out: Tensor): Tensor => (this.residual ? add(input, out) : out);
    const attend = (t: Tensor): { out: Tensor; weights: Tensor | null } => {
      const r = this.selfAttn.forward(t, {
        attentionMask: call.attentionMask, causal: call.causal, additiveMask: call.additiveMask,
        needWeights: call.needWeights, trace: trace?.scope("self_attn"), headGate: call.headGate,
      });
      return { out: this.dropout1.forward(r.output), weights: r.weights };
    };
    if (this.normFirst) {
      // Pre-LN: h1 = x + SA(LN1(x)); out = h1 + FFN(LN2(h1)).
      const a = attend(norm(this.norm1, x));
      trace?.record("sa_out", a.out);
      const h1 = trace?.record("h1", residual(x, a.out)) ?? residual(x, a.out);
      const f = this.dropout2.forward(this.ffn.forward(norm(this.norm2, h1), trace?.scope("ffn")));
      trace?.record("ff_out", f);
      const output = residual(h1, f);
      trace?.record("output", output);
      return { output, weights: a.weights };
    }
    // Post-LN (the paper, BERT): Q07 steps 3–7. Each "Add & Norm" is LayerNorm(input + sub-layer output): with
    // nothing to trace, one row pass (LayerNorm.forwardSum, the same arithmetic); else the sum is recorded.
    const addNorm = (ln: LayerNorm | null, input: Tensor, out: Tensor, sumName: string): Tensor => {
      if (!trace && ln && this.residual) return ln.forwardSum(input, out);
      const sum = residual(input, out);
      trace?.record(sumName, sum);
      return norm(ln, sum);
    };
    const a = attend(x); // step 3: multi-head self-attention
    trace?.record("sa_out", a.out);
    const h1 = addNorm(this.norm1, x, a.out, "residual1"); // steps 4–5: residual, LayerNorm
    trace?.record("h1", h1);
    const f = this.dropout2.forward(this.ffn.forward(h1, trace?.scope("ffn"))); // step 6: FFN
    trace?.record("ff_out", f);
    const output = addNorm(this.norm2, h1, f, "residual2"); // step 7: residual and LayerNorm again
    trace?.record("output", output);
    return { output, weights: a.weights };
  }
}

/** Options of `Encoder`: a layer's options, the number of layers and an optional final LayerNorm. */
export interface EncoderOptions extends EncoderLayerOptions {
  numLayers: number;
  /** A LayerNorm after the last layer (usual with pre-LN). Default false. */
  finalNorm?: boolean;
}

/** The output of the stack: the last hidden state, every layer's output, and attention probabilities when asked. */
export interface EncoderOutput {
  output: Tensor;
  /** Output of each layer, in order (the input not included). */
  layerOutputs: Tensor[];
  /** Per layer (batch, heads, n, n), when `needWeights`. */
  attentions: Tensor[];
}

/** N identical encoder layers applied in sequence (PyTorch's `nn.TransformerEncoder`: `layers.{i}`, `norm`). */
export class Encoder extends Module {
  readonly layers: ModuleList<EncoderLayer>;
  readonly norm: LayerNorm | null;

  constructor(options: EncoderOptions) {
    super();
    const rng = options.rng ?? new Rng(0);
    const layers = Array.from({ length: options.numLayers }, () => new EncoderLayer({ ...options, rng }));
    this.layers = this.registerModule("layers", new ModuleList(layers));
    this.norm = options.finalNorm ? this.registerModule("norm", new LayerNorm(options.dModel, options.layerNormEps ?? 1e-5)) : null;
  }

  /** Runs every layer; `call.trace` receives `layers.{i}.…` entries. */
  forward(x: Tensor, call: EncoderStackCall = {}): EncoderOutput {
    checkInput("encoder: input", x.data, x.shape);
    const { headGates, ...layerCall } = call;
    if (headGates && headGates.length !== this.layers.items.length) {
      throw new ShapeError(`encoder: ${headGates.length} head gates for ${this.layers.items.length} layers`);
    }
    const layerOutputs: Tensor[] = [];
    const attentions: Tensor[] = [];
    let h = x;
    this.layers.items.forEach((layer, i) => {
      const r = layer.forward(h, { ...layerCall, trace: call.trace?.scope(`layers.${i}`), headGate: headGates?.[i] ?? null });
      h = r.output;
      layerOutputs.push(h);
      if (r.weights) attentions.push(r.weights);
    });
    const output = this.norm ? this.norm.forward(h) : h;
    return { output, layerOutputs, attentions };
  }
}
