"""The benchmark's PyTorch peer, run by bench/orchestrate.ts: W4 and W4-tiny (a BERT fine-tuning step) here, W1, W2,
W3 and K1 in pytorch_encoder.py.

A peer, never a dependency: `npm run bench` starts it only where `python3` imports torch. It speaks the Node
children's protocol (bench/protocol.ts) as JSON lines: one message per line on stdin (setup, run, output,
reset-peak, release, exit), one answer per line on stdout (started, ready, ran, output, released, error).
argv[1] is the system spec as JSON: {"system": "pytorch", "threads": N}; with `--probe` instead, it prints torch's
version and the BLAS its matrix products run on, as one JSON object, and exits.

Every workload is set up from a safetensors file the parent wrote (bench/peers/pytorch.ts): tsformer's parameters
under tsformer's names, loaded here as a state_dict, and the inputs as `input.*`. W4's model is tsformer's BertModel
in plain torch: word + learned position + token-type-0 embeddings, the embedding LayerNorm and dropout,
torch.nn.TransformerEncoderLayer (post-LN, exact GELU, dropout on the attention probabilities, after attention,
after the activation and after the feed-forward: where tsformer puts it), BERT's tanh pooler on [CLS] and a linear
classifier; cross-entropy; torch.optim.AdamW with weight decay off for the parameters the file's metadata lists.
"""

import json
import math
import struct
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from pytorch_encoder import Forward, Gemm, Train, batch_of


def send(message):
    """One protocol message to the parent, as a JSON line on stdout."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def peak_rss_mib():
    """Peak resident set size since the start or the last reset (Linux VmHWM, else ru_maxrss), MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss():
    """Resets the kernel's peak-RSS mark (Linux), so the next peak_rss_mib covers what follows only."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # the peak keeps covering everything before


DTYPES = {"F32": torch.float32, "I32": torch.int32, "U8": torch.uint8}


def read_safetensors(path):
    """The tensors and metadata of a safetensors file (no `safetensors` package needed)."""
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    metadata = header.pop("__metadata__", {})
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        flat = torch.frombuffer(bytearray(data[base + start : base + end]), dtype=DTYPES[info["dtype"]])
        tensors[name] = flat.reshape(info["shape"])
    return tensors, metadata


class Bert(nn.Module):
    """BertModel with a classifier, laid out as tsformer's (see the module's docstring)."""

    def __init__(self, shape, labels, dropout):
        super().__init__()
        d, eps = shape["dModel"], 1e-12
        self.word = nn.Parameter(torch.empty(shape["vocab"], d))
        self.position = nn.Parameter(torch.empty(512, d))
        self.token_type = nn.Parameter(torch.empty(2, d))
        self.embedding_norm = nn.LayerNorm(d, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d, shape["heads"], shape["dFF"], dropout, activation="gelu", layer_norm_eps=eps, batch_first=True, norm_first=False
            )
            for _ in range(shape["layers"])
        )
        self.pooler = nn.Linear(d, d)
        self.classifier = nn.Linear(d, labels)

    def forward(self, ids, padding):
        """ids (batch, n) int64, padding (batch, n) bool with True = padding → logits (batch, labels)."""
        n = ids.shape[1]
        x = F.embedding(ids, self.word) + self.position[:n] + self.token_type[0]
        x = self.dropout(self.embedding_norm(x))
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=padding)
        return self.classifier(torch.tanh(self.pooler(x[:, 0])))


def torch_name(name):
    """tsformer's parameter name → (this model's state_dict key, the q/k/v slot of a packed in_proj or None)."""
    fixed = {"embedding.weight": "word", "positions.weight": "position", "token_types.weight": "token_type"}
    if name in fixed:
        return fixed[name], None
    if name.startswith("pooler.dense."):
        return "pooler." + name[len("pooler.dense.") :], None
    if not name.startswith("encoder.layers."):
        return name, None  # embedding_norm.*, classifier.*
    parts = name.split(".")  # encoder.layers.{i}.{module…}.{weight|bias}
    prefix, rest, kind = f"layers.{parts[2]}.", parts[3:-1], parts[-1]
    if rest[0] == "self_attn" and rest[1] in ("q_proj", "k_proj", "v_proj"):
        return f"{prefix}self_attn.in_proj_{kind}", "qkv".index(rest[1][0])
    if rest[0] == "ffn":
        return f"{prefix}{rest[1]}.{kind}", None
    return prefix + ".".join(rest + [kind]), None


def torch_state(tensors):
    """tsformer's parameters (the file's tensors but `input.*`) as this peer's state_dict, q/k/v packed into in_proj;
    and each key's tsformer name (a packed key: one of its q/k/v names, which all decay alike)."""
    state, names, packed = {}, {}, {}
    for name, t in tensors.items():
        if name.startswith("input."):
            continue
        key, slot = torch_name(name)
        names.setdefault(key, name)
        if slot is None:
            state[key] = t
        else:
            packed.setdefault(key, [None, None, None])[slot] = t
    for key, parts in packed.items():
        state[key] = torch.cat(parts, 0)
    return state, names


class BertStep:
    """W4 set up: the model, AdamW, the inputs, and the dropout-free check every system runs."""

    def __init__(self, workload, tensors, metadata, state, names):
        shape = workload["shape"]
        self.model = Bert(shape, workload["labels"], workload["dropout"])
        self.model.load_state_dict(state, strict=True)
        no_decay = set(json.loads(metadata["no_decay"]))
        params = dict(self.model.named_parameters())
        decays = {k: names[k] not in no_decay for k in params}
        groups = [
            {"params": [p for k, p in params.items() if decays[k]], "weight_decay": workload["weightDecay"]},
            {"params": [p for k, p in params.items() if not decays[k]], "weight_decay": 0.0},
        ]
        self.optimizer = torch.optim.AdamW(groups, lr=workload["lr"], betas=(0.9, 0.999), eps=1e-8)
        self.ids, self.padding, self.labels = batch_of(tensors, shape)
        self.model.eval()
        check_loss = self.step()
        with torch.no_grad():
            after = self.model(self.ids, self.padding)
        self.check = [check_loss] + after.flatten().tolist()
        self.model.train()

    def step(self):
        """One fine-tuning step; returns its loss."""
        loss = F.cross_entropy(self.model(self.ids, self.padding), self.labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def run(self):
        """One timed step (dropout on)."""
        self.step()

    def output(self):
        """The check: the dropout-free step's loss, then the logits after it."""
        return self.check


def set_up(workload, path):
    """The workload set up from the parent's file: an object with run() (one timed call) and output() (numbers)."""
    tensors, metadata = read_safetensors(path)
    if workload["kind"] == "gemm":
        return Gemm(workload, tensors)
    state, names = torch_state(tensors)
    if workload["kind"] == "bert-train":
        return BertStep(workload, tensors, metadata, state, names)
    return (Forward if workload["kind"] == "forward" else Train)(workload, tensors, metadata, state)


def probe():
    """torch's version and its BLAS: the library a product maps in (a distribution's torch uses the system's
    libblas.so.3 — the reference BLAS is ~20× slower than OpenBLAS), else the BLAS torch was built with (MKL wheels)."""
    torch.ones(8, 8) @ torch.ones(8, 8)
    blas = None
    try:
        with open("/proc/self/maps") as f:
            blas = next((line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()), None)
    except OSError:
        pass
    if blas is None:
        built = [part for part in torch.__config__.show().split(", ") if "BLAS_INFO=" in part]
        blas = built[0].strip() if built else "unknown"
    print(json.dumps({"version": torch.__version__, "blas": blas}))


def main():
    """`--probe`, or the protocol loop: set up, run and report the workloads the parent sends, one message a line."""
    if sys.argv[1] == "--probe":
        return probe()
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.set_num_interop_threads(1)
    send({"type": "started"})
    current = None
    for line in sys.stdin:
        message = json.loads(line)
        kind = message["type"]
        try:
            if kind == "setup":
                started = time.perf_counter()
                current = set_up(message["workload"], message["modelPath"])
                send({"type": "ready", "loadMs": (time.perf_counter() - started) * 1000, "loadPeakMiB": peak_rss_mib()})
            elif kind == "run":
                if current is None:
                    raise RuntimeError("no workload set up")
                started = time.perf_counter()
                current.run()
                send({"type": "ran", "ms": (time.perf_counter() - started) * 1000})
            elif kind == "output":
                send({"type": "output", "data": [x if math.isfinite(x) else None for x in current.output()]})
            elif kind == "reset-peak":
                reset_peak_rss()
                send({"type": "ran", "ms": 0})
            elif kind == "release":
                peak = peak_rss_mib()
                current = None
                send({"type": "released", "runPeakMiB": peak})
            else:
                return
        except Exception as e:  # noqa: BLE001 — every failure goes back to the parent, which drops the system
            send({"type": "error", "message": f"pytorch: {type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
