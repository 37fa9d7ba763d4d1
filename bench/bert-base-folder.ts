/**
 * A BERT-base-shaped Hugging Face folder with random weights (12 layers, d768, 12 heads, FFN 3072, vocab 30,522,
 * 512 positions: 109.5 M parameters, a 438 MB model.safetensors), for measuring how fast real models load. The
 * weights are random, so only the sizes mean anything. Never committed: the bench generates it in a temp folder.
 *
 *   node --import tsx bench/bert-base-folder.ts [DIR]   # writes the folder (default: a new temp folder), prints DIR
 */
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The sizes of a BERT folder (config.json's fields). */
export interface BertShape { layers: number; hidden: number; heads: number; ffn: number; vocab: number; positions: number; typeVocab: number }

/** BERT-base's sizes (bert-base-uncased's config.json). */
export const BERT_BASE: Readonly<BertShape> = { layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 30522, positions: 512, typeVocab: 2 };

/** The vocabulary shipped for the WordPiece tests: bert-base-uncased's 30,522 tokens. */
const VOCAB = fileURLToPath(new URL("../test/vocab/bert-base-uncased/vocab.txt", import.meta.url));

/** Every tensor of a HF BertModel checkpoint (names as save_pretrained writes them) with its shape. */
function bertTensors(b: BertShape): [name: string, shape: number[]][] {
  const { layers, hidden: h, ffn, vocab, positions, typeVocab } = b;
  const out: [string, number[]][] = [
    ["embeddings.word_embeddings.weight", [vocab, h]],
    ["embeddings.position_embeddings.weight", [positions, h]],
    ["embeddings.token_type_embeddings.weight", [typeVocab, h]],
    ["embeddings.LayerNorm.weight", [h]], ["embeddings.LayerNorm.bias", [h]],
    ["pooler.dense.weight", [h, h]], ["pooler.dense.bias", [h]],
  ];
  for (let i = 0; i < layers; i++) {
    const p = `encoder.layer.${i}.`;
    for (const part of ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]) {
      out.push([`${p}${part}.weight`, [h, h]], [`${p}${part}.bias`, [h]]);
    }
    out.push([`${p}intermediate.dense.weight`, [ffn, h]], [`${p}intermediate.dense.bias`, [ffn]]);
    out.push([`${p}output.dense.weight`, [h, ffn]], [`${p}output.dense.bias`, [h]]);
    for (const norm of ["attention.output.LayerNorm", "output.LayerNorm"]) out.push([`${p}${norm}.weight`, [h]], [`${p}${norm}.bias`, [h]]);
  }
  return out;
}

/** Fills `out` with small pseudo-random values (xorshift32, uniform in ±0.05: BERT's N(0, 0.02²) has a similar spread), or ones for LayerNorm gains. */
function fill(out: Float32Array, name: string, state: { s: number }): void {
  if (/LayerNorm\.weight$/.test(name)) {
    out.fill(1);
    return;
  }
  let s = state.s;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 - 0.5) * 0.1;
  }
  state.s = s;
}

/** What `writeBertBaseFolder` wrote. */
export interface GeneratedFolder {
  dir: string;
  weightsPath: string;
  /** Size of model.safetensors in bytes. */
  weightsBytes: number;
  parameters: number;
}

/**
 * Writes config.json, tokenizer_config.json, vocab.txt and model.safetensors of a BERT of shape `b` (F32, laid out as the reference writer
 * does: header padded to 8 bytes, tensors sorted by name) into `dir`, one tensor at a time (a few MB of memory).
 */
export function writeBertBaseFolder(dir: string, seed = 1, b: Readonly<BertShape> = BERT_BASE): GeneratedFolder {
  mkdirSync(dir, { recursive: true });
  const config = {
    architectures: ["BertModel"], model_type: "bert", hidden_size: b.hidden, num_hidden_layers: b.layers, num_attention_heads: b.heads,
    intermediate_size: b.ffn, hidden_act: "gelu", vocab_size: b.vocab, max_position_embeddings: b.positions, type_vocab_size: b.typeVocab,
    layer_norm_eps: 1e-12, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, initializer_range: 0.02, pad_token_id: 0,
    position_embedding_type: "absolute",
  };
  writeFileSync(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(join(dir, "tokenizer_config.json"), `${JSON.stringify({ do_lower_case: true, model_max_length: 512 })}\n`);
  copyFileSync(VOCAB, join(dir, "vocab.txt"));

  const tensors = bertTensors(b).sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)); // the reference order for one dtype
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = 4 * shape.reduce((n, d) => n * d, 1);
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = JSON.stringify(header);
  const padded = json.padEnd(Math.ceil(json.length / 8) * 8, " "); // ASCII names: characters are bytes
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(padded.length), true);
  const weightsPath = join(dir, "model.safetensors");
  const fd = openSync(weightsPath, "w");
  const state = { s: seed >>> 0 || 1 };
  let parameters = 0;
  try {
    writeSync(fd, length);
    writeSync(fd, padded);
    for (const [name, shape] of tensors) {
      const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
      fill(data, name, state);
      writeSync(fd, new Uint8Array(data.buffer));
      parameters += data.length;
    }
  } finally {
    closeSync(fd);
  }
  return { dir, weightsPath, weightsBytes: 8 + padded.length + offset, parameters };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "tsformer-bert-base-"));
  const made = writeBertBaseFolder(dir);
  process.stderr.write(`${made.parameters.toLocaleString("en-US")} parameters, ${(made.weightsBytes / 1e6).toFixed(0)} MB of weights\n`);
  process.stdout.write(`${made.dir}\n`);
}
