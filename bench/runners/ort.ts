/**
 * onnxruntime on a workload: onnxruntime-node (native CPU execution provider) or onnxruntime-web (its WASM SIMD
 * build, loaded from node_modules), running the graph tsformer exported from the same weights (K1: a one-MatMul graph);
 * onnxruntime-web-int8 runs the int8 export (`exportOnnx(model, { quantize: "int8" })`) of those weights.
 */
import { readFileSync } from "node:fs";
import { OnnxGraphBuilder, OnnxType } from "../../src/io/onnx-graph.ts";
import type { SystemSpec } from "../protocol.ts";
import { type Workload, encoderInputs, gemmInputs } from "../workloads.ts";
import type { Runner } from "./runner.ts";

/** The part of the onnxruntime API both packages share (both re-export onnxruntime-common's). */
type Ort = Pick<typeof import("onnxruntime-node"), "InferenceSession" | "Tensor">;
type Session = Awaited<ReturnType<Ort["InferenceSession"]["create"]>>;

/** C = A·B with both operands as graph inputs (so nothing is folded at load time). */
function gemmGraph(m: number, n: number, k: number): Uint8Array {
  const g = new OnnxGraphBuilder();
  const a = g.input("a", OnnxType.float, [m, k]);
  const b = g.input("b", OnnxType.float, [k, n]);
  g.output("c", g.op("gemm", "MatMul", [a, b]), OnnxType.float, [m, n]);
  return g.encode({ opset: 17, producerName: "tsformer-bench", producerVersion: "0", graphName: "sgemm" });
}

/** Loads the package and creates the session with the spec's threads. */
async function session(spec: SystemSpec, model: Uint8Array): Promise<{ ort: Ort; session: Session }> {
  if (spec.system === "onnxruntime-node") {
    const ort = (await import("onnxruntime-node")) as unknown as Ort;
    const s = await ort.InferenceSession.create(model, {
      executionProviders: ["cpu"], intraOpNumThreads: spec.threads, interOpNumThreads: 1,
      executionMode: "sequential", graphOptimizationLevel: "all",
    });
    return { ort, session: s };
  }
  const web = await import("onnxruntime-web");
  web.env.wasm.numThreads = spec.threads;
  const ort = web as unknown as Ort;
  const s = await ort.InferenceSession.create(model, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  return { ort, session: s };
}

/** A runner for onnxruntime (node or web) on a forward or K1 workload. */
export async function ortRunner(w: Workload, spec: SystemSpec, onnxPath: string | null): Promise<Runner> {
  if (w.kind === "train" || w.kind === "bert-train") throw new Error(`onnxruntime runs inference only: no ${w.id}`);
  if (spec.system === "onnxruntime-web-int8" && w.kind !== "forward") throw new Error(`${spec.system} runs the forward workloads only: no ${w.id}`);
  if (w.kind === "gemm") {
    const { m, n, k } = w.shape;
    const { ort, session: s } = await session(spec, gemmGraph(m, n, k));
    const { a, b } = gemmInputs(w.shape);
    const feeds = { a: new ort.Tensor("float32", a, [m, k]), b: new ort.Tensor("float32", b, [k, n]) };
    let out: Float32Array = new Float32Array(0);
    return {
      run: async () => {
        out = (await s.run(feeds)).c.data as Float32Array;
      },
      output: () => out,
    };
  }
  if (!onnxPath) throw new Error("onnxruntime needs the exported model");
  const { ort, session: s } = await session(spec, readFileSync(onnxPath));
  const sh = w.shape;
  const inputs = encoderInputs(sh);
  const dims = [sh.batch, sh.seq];
  const feeds = {
    input_ids: new ort.Tensor("int64", BigInt64Array.from(inputs.ids, (v) => BigInt(v)), dims),
    attention_mask: new ort.Tensor("int64", BigInt64Array.from(inputs.mask, (v) => BigInt(v)), dims),
  };
  let out: Float32Array = new Float32Array(0);
  return {
    run: async () => {
      out = (await s.run(feeds)).last_hidden_state.data as Float32Array;
    },
    output: () => out,
  };
}
