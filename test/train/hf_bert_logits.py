"""Reads a Hugging Face BertForSequenceClassification folder the way `transformers` does — config.json fields,
safetensors by its documented layout, tensors by their documented HF names — and prints the logits of BERT's
forward pass (modeling_bert.py semantics, eval mode) for the given ids as JSON. Needs only torch (no
`transformers`): tsformer's tests run it where python3 has torch, to check what `tsformer train` writes.

usage: python3 hf_bert_logits.py FOLDER '[[ids...], ...]'   (rows of equal length, no padding)
"""
import json
import math
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin : 8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def main():
    folder, ids_json = sys.argv[1], sys.argv[2]
    config = json.load(open(f"{folder}/config.json"))
    assert config["model_type"] == "bert" and config["architectures"] == ["BertForSequenceClassification"]
    assert config.get("position_embedding_type", "absolute") == "absolute" and config["hidden_act"] == "gelu"
    w = {k: v.double() for k, v in read_safetensors(f"{folder}/model.safetensors").items()}
    ids = torch.tensor(json.loads(ids_json))
    hidden, heads, eps = config["hidden_size"], config["num_attention_heads"], config["layer_norm_eps"]
    head_dim = hidden // heads

    def linear(x, name):
        return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]

    def norm(x, name):
        return torch.nn.functional.layer_norm(x, (hidden,), w[f"{name}.weight"], w[f"{name}.bias"], eps)

    b, n = ids.shape
    x = w["bert.embeddings.word_embeddings.weight"][ids] + w["bert.embeddings.position_embeddings.weight"][:n]
    x = norm(x + w["bert.embeddings.token_type_embeddings.weight"][0], "bert.embeddings.LayerNorm")
    for layer in range(config["num_hidden_layers"]):
        p = f"bert.encoder.layer.{layer}."
        split = lambda t: t.view(b, n, heads, head_dim).transpose(1, 2)
        q, k, v = (split(linear(x, p + f"attention.self.{m}")) for m in ("query", "key", "value"))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head_dim), dim=-1)
        context = (probs @ v).transpose(1, 2).reshape(b, n, hidden)
        a = norm(linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        f = torch.nn.functional.gelu(linear(a, p + "intermediate.dense"))
        x = norm(linear(f, p + "output.dense") + a, p + "output.LayerNorm")
    pooled = torch.tanh(linear(x[:, 0], "bert.pooler.dense"))
    logits = linear(pooled, "classifier")
    assert logits.shape[1] == len(config["id2label"])
    print(json.dumps(logits.tolist()))


if __name__ == "__main__":
    main()
