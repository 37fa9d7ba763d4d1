/** What every system offers the benchmark's child process. */

/** One system set up on one workload. */
export interface Runner {
  /** One call: a forward pass, a training step or a product; resolves once its result is in JavaScript memory. */
  run(): Promise<void>;
  /**
   * The last call's output (forward: last_hidden_state; K1: C; W3: the loss of every step so far), or for W4 the
   * dropout-free check run at setup (one step's loss, then the logits after it), for comparison across systems.
   */
  output(): Float32Array;
}
