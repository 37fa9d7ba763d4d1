/**
 * A small builder for ONNX graphs: nodes, initializers, typed graph inputs and outputs, encoded as a ModelProto
 * with the `onnx-proto` message types (protobufjs). Knows nothing about Transformers; src/models/onnx-export.ts uses it.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;

/** Element types the builder writes (TensorProto.DataType values). */
export const OnnxType = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9 } as const;

/** An element type of `OnnxType`. */
export type OnnxElementType = (typeof OnnxType)[keyof typeof OnnxType];

/** A node attribute: a float, an int, a list of ints or a string (the only kinds the exporter needs). */
export type OnnxAttribute = { f: number } | { i: number } | { ints: readonly number[] } | { s: string };

/** A dimension of a graph input or output: a fixed size or a named dynamic axis. */
export type OnnxDim = number | string;

/** Options of `OnnxGraphBuilder.encode`. */
export interface OnnxModelInfo {
  /** The default-domain opset the graph's nodes follow. */
  opset: number;
  producerName: string;
  producerVersion: string;
  graphName: string;
  docString?: string;
  /** Key–value metadata stored in the model (`metadata_props`). */
  metadata?: Record<string, string>;
}

// IR version 8 (ONNX 1.10–1.12): opset 17 is defined from ONNX 1.12, which still writes IR 8.
const IR_VERSION = 8;

/** Little-endian bytes of a typed array (every supported host is little-endian, as ONNX's raw_data is). */
function rawBytes(data: Float32Array | BigInt64Array | Int32Array | Int8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function attributeProto(name: string, value: OnnxAttribute): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if ("f" in value) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.f });
  if ("i" in value) return onnx.AttributeProto.create({ name, type: T.INT, i: value.i });
  if ("ints" in value) return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...value.ints] });
  return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value.s) });
}

function valueInfo(name: string, elemType: OnnxElementType, dims: readonly OnnxDim[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Collects a graph node by node; value names are made unique per scope. */
export class OnnxGraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  /** Number of nodes so far. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** A fresh value name under `scope` (e.g. `encoder.layers.0.self_attn/MatMul_12`). */
  fresh(scope: string, what: string): string {
    let name: string;
    do name = `${scope}/${what}_${this.counter++}`; while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, elemType: OnnxElementType, dims: readonly OnnxDim[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares a graph output: `value` (a computed value) is renamed to `name` through an Identity node. */
  output(name: string, value: string, elemType: OnnxElementType, dims: readonly OnnxDim[]): void {
    this.names.add(name);
    this.nodes.push(onnx.NodeProto.create({ opType: "Identity", input: [value], output: [name], name: `${name}/Identity` }));
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** A float32 initializer (weights, tables); returns its name. */
  floatTensor(name: string, data: Float32Array, dims: readonly number[]): string {
    return this.initializer(name, OnnxType.float, rawBytes(data), dims);
  }

  /** An int64 initializer; returns its name. */
  int64Tensor(name: string, values: readonly number[], dims: readonly number[]): string {
    return this.initializer(name, OnnxType.int64, rawBytes(BigInt64Array.from(values, (v) => BigInt(v))), dims);
  }

  /** An int8 initializer (quantized weights); returns its name. */
  int8Tensor(name: string, data: Int8Array, dims: readonly number[]): string {
    return this.initializer(name, OnnxType.int8, rawBytes(data), dims);
  }

  /** An int32 initializer (integer sums of quantized weights); returns its name. */
  int32Tensor(name: string, data: Int32Array, dims: readonly number[]): string {
    return this.initializer(name, OnnxType.int32, rawBytes(data), dims);
  }

  /** Stores an initializer under a name not used before. */
  private initializer(name: string, dataType: OnnxElementType, rawData: Uint8Array, dims: readonly number[]): string {
    if (this.names.has(name)) throw new Error(`onnx export: initializer name '${name}' used twice`);
    this.names.add(name);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType, rawData }));
    return name;
  }

  /** A float32 constant (a scalar when `dims` is empty), shared between every use of the same value. */
  constFloat(values: readonly number[], dims: readonly number[] = []): string {
    return this.shared(`f:${dims.join("x")}:${values.join(",")}`, (i) => this.floatTensor(`const/f${i}`, Float32Array.from(values), dims));
  }

  /** An int64 constant (1-D unless `dims` says otherwise), shared between uses. */
  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.shared(`i:${dims.join("x")}:${values.join(",")}`, (i) => this.int64Tensor(`const/i${i}`, values, dims));
  }

  /** The constant stored under `key`, made on first use (`make` gets the constant's number, for its name). */
  private shared(key: string, make: (index: number) => string): string {
    let name = this.constants.get(key);
    if (!name) {
      name = make(this.constants.size);
      this.constants.set(key, name);
    }
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  op(scope: string, opType: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}): string {
    const out = this.fresh(scope, opType);
    this.nodes.push(onnx.NodeProto.create({
      opType,
      input: [...inputs],
      output: [out],
      name: out,
      attribute: Object.entries(attributes).map(([k, v]) => attributeProto(k, v)),
    }));
    return out;
  }

  /** The serialized ModelProto. */
  encode(info: OnnxModelInfo): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: "", version: info.opset }],
      producerName: info.producerName,
      producerVersion: info.producerVersion,
      docString: info.docString ?? "",
      metadataProps: Object.entries(info.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: info.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
