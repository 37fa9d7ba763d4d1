"""The PyTorch peer's W1, W2 (encoder forward passes), W3 (a training step) and K1 (sgemm), run by pytorch_bert.py.

Each computes what tsformer computes (bench/runners/tsformer.ts), on the weights and inputs the parent wrote
(bench/peers/pytorch.ts), loaded as a state_dict by pytorch_bert.py:

- the encoder is TransformerEncoderModel as bench/workloads.ts configures it: token embeddings × √d_model, plus the
  sinusoidal table tsformer computed (sent as `input.positions`, so both add the same numbers), then post-LN
  torch.nn.TransformerEncoderLayer's (exact GELU, tsformer's LayerNorm ε, no dropout), the padding mask on the keys;
- W1 and W2 run it under torch.inference_mode(), eval mode: PyTorch's inference path (its fused encoder-layer
  kernel), every position computed, padded ones too, as tsformer and onnxruntime do; the output is the last hidden
  state;
- W3 adds EncoderClassifier's head (the mean over real tokens, a linear layer); a step is the forward pass,
  cross-entropy, backward and torch.optim.Adam (tsformer's betas and ε); the output is every step's loss;
- K1 is torch.mm into a preallocated output (as tsformer's matmul writes into its own).
"""

import json
import math

import torch
import torch.nn.functional as F
from torch import nn

# The model configuration (the file's `config` metadata) this peer computes: anything else would be another function.
SUPPORTED = {"positional": "sinusoidal", "normFirst": False, "activation": "gelu", "finalNorm": False, "embeddingNorm": False,
             "typeVocabSize": 0, "dropout": 0}


def checked_config(metadata):
    """The model configuration the parent wrote, refused unless this peer computes exactly that model."""
    config = json.loads(metadata["config"])
    wrong = {k: config.get(k) for k, v in SUPPORTED.items() if config.get(k) != v}
    if wrong:
        raise ValueError(f"the PyTorch encoder covers the benchmark's configuration only, not {wrong}")
    return config


class Encoder(nn.Module):
    """TransformerEncoderModel: (token embedding × √d) + sinusoidal positions, then post-LN encoder layers."""

    def __init__(self, shape, config, positions):
        super().__init__()
        d = shape["dModel"]
        self.scale = math.sqrt(d) if config["scaleEmbedding"] else 1.0
        self.word = nn.Parameter(torch.empty(shape["vocab"], d))
        self.register_buffer("positions", positions, persistent=False)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d, shape["heads"], shape["dFF"], 0.0, activation="gelu", layer_norm_eps=config["layerNormEps"], batch_first=True,
                norm_first=False,
            )
            for _ in range(shape["layers"])
        )

    def forward(self, ids, padding):
        """ids (batch, n) int64, padding (batch, n) bool with True = padding → hidden states (batch, n, d)."""
        x = F.embedding(ids, self.word) * self.scale + self.positions[: ids.shape[1]]
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=padding)
        return x


class Classifier(Encoder):
    """EncoderClassifier with mean pooling: the encoder, the mean over real tokens, a linear layer to the logits."""

    def __init__(self, shape, config, positions, labels):
        super().__init__(shape, config, positions)
        self.classifier = nn.Linear(shape["dModel"], labels)

    def forward(self, ids, padding):
        """ids, padding as Encoder's → logits (batch, labels)."""
        hidden = super().forward(ids, padding)
        keep = (~padding).unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * keep).sum(1) / keep.sum(1).clamp_min(1e-9)
        return self.classifier(pooled)


def batch_of(tensors, shape):
    """The file's inputs: token ids (int64), the padding mask (True = padding) and the labels."""
    size = (shape["batch"], shape["seq"])
    ids = tensors["input.ids"].long().reshape(size)
    padding = tensors["input.mask"].reshape(size) == 0
    return ids, padding, tensors["input.labels"].long()


class Forward:
    """W1, W2: one forward pass of the encoder a call; the output is the last call's hidden states."""

    def __init__(self, workload, tensors, metadata, state):
        shape = workload["shape"]
        self.model = Encoder(shape, checked_config(metadata), tensors["input.positions"])
        self.model.load_state_dict(state, strict=True)
        self.model.eval()
        self.ids, self.padding, _ = batch_of(tensors, shape)
        self.out = torch.empty(0)

    def run(self):
        """One forward pass."""
        with torch.inference_mode():
            self.out = self.model(self.ids, self.padding)

    def output(self):
        """The last hidden states, flattened."""
        return self.out.flatten().tolist()


class Train:
    """W3: forward, cross-entropy, backward and Adam, a call; the output is every step's loss so far."""

    def __init__(self, workload, tensors, metadata, state):
        shape = workload["shape"]
        self.model = Classifier(shape, checked_config(metadata), tensors["input.positions"], workload["labels"])
        self.model.load_state_dict(state, strict=True)
        self.model.train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=workload["lr"], betas=(0.9, 0.999), eps=1e-8)
        self.ids, self.padding, self.labels = batch_of(tensors, shape)
        self.losses = []

    def run(self):
        """One training step."""
        loss = F.cross_entropy(self.model(self.ids, self.padding), self.labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.losses.append(loss.item())

    def output(self):
        """Every step's loss, in order (warm-up steps included, as the other systems report them)."""
        return list(self.losses)


class Gemm:
    """K1: C = A·B of the file's operands, into a preallocated C."""

    def __init__(self, workload, tensors):
        s = workload["shape"]
        self.a = tensors["input.a"].reshape(s["m"], s["k"])
        self.b = tensors["input.b"].reshape(s["k"], s["n"])
        self.c = torch.empty(s["m"], s["n"])

    def run(self):
        """One product."""
        torch.mm(self.a, self.b, out=self.c)

    def output(self):
        """C, flattened."""
        return self.c.flatten().tolist()
