"""all-MiniLM-L6-v2's forward pass in NumPy: the embedding model without torch.

Why it exists: importing torch, transformers and sentence-transformers takes 5-10 s on a
2-core machine, longer than everything else a first answer needs. The model is a 6-layer
BERT followed by mean pooling and normalisation; for a query or a passage's sentences that
is a few small matrix products per layer, which NumPy runs in milliseconds. It reads the
same weight and tokenizer files as sentence-transformers and gives the same vectors (largest
difference ~2e-7, checked by tests/test_embeddings.py).

Bulk encoding stays on sentence-transformers: torch's fused kernels are several times faster
per text on long batches, which is what an ingest of thousands of chunks needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3*hidden): query, key and value projections side by side
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


def _erf(x: np.ndarray) -> np.ndarray:
    """erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): NumPy has none, and BERT's
    GELU is the exact erf form, not the tanh approximation."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = (((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
    poly = (poly + 0.254829592) * t
    return sign * (1.0 - poly * np.exp(-a * a))


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    return centred / np.sqrt(var + eps) * gain + bias


class MiniLM:
    """A sentence-transformers BERT model with mean pooling, run in NumPy (float32)."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file
        from threadpoolctl import ThreadpoolController
        from tokenizers import Tokenizer

        self._threads = ThreadpoolController()

        config = json.loads((model_dir / "config.json").read_text("utf-8"))
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text("utf-8"))
        if not pooling.get("pooling_mode_mean_tokens") or config.get("hidden_act") != "gelu":
            raise ValueError(f"{model_dir} is not a mean-pooled BERT with GELU")
        self.max_seq_length = int(st_config.get("max_seq_length", 256))
        self.lowercase = bool(st_config.get("do_lower_case", False))
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))

        w = load_file(str(model_dir / "model.safetensors"))
        w = {k.removeprefix("bert."): v.astype(np.float32, copy=False) for k, v in w.items()}
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])

        def t(name: str) -> np.ndarray:  # torch's Linear stores (out, in); we multiply x @ W
            return np.ascontiguousarray(w[name].T)

        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv = ("query", "key", "value")
            self.layers.append(
                _Layer(
                    qkv_w=np.concatenate([t(f"{p}attention.self.{n}.weight") for n in qkv], 1),
                    qkv_b=np.concatenate([w[f"{p}attention.self.{n}.bias"] for n in qkv]),
                    out_w=t(f"{p}attention.output.dense.weight"),
                    out_b=w[f"{p}attention.output.dense.bias"],
                    ln1_g=w[f"{p}attention.output.LayerNorm.weight"],
                    ln1_b=w[f"{p}attention.output.LayerNorm.bias"],
                    up_w=t(f"{p}intermediate.dense.weight"),
                    up_b=w[f"{p}intermediate.dense.bias"],
                    down_w=t(f"{p}output.dense.weight"),
                    down_b=w[f"{p}output.dense.bias"],
                    ln2_g=w[f"{p}output.LayerNorm.weight"],
                    ln2_b=w[f"{p}output.LayerNorm.bias"],
                )
            )

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length embeddings, one row per text, as `SentenceTransformer.encode` gives."""
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        # Longest first and batched by length, as sentence-transformers does: less padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        # One BLAS thread: the matrices are small, and OpenBLAS's spinning workers made this
        # up to 10x slower on a 2-core machine busy with anything else (measured in `bench`).
        with self._threads.limit(limits=1, user_api="blas"):
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                out[idx] = self._forward([texts[i] for i in idx])
        return out

    def _forward(self, texts: list[str]) -> np.ndarray:
        # sentence-transformers strips each text (and lowercases only if configured to).
        clean = [t.strip().lower() if self.lowercase else t.strip() for t in texts]
        encodings = self.tokenizer.encode_batch(clean)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        batch, length = ids.shape
        heads, size = self.heads, self.hidden // self.heads

        x = self.word[ids] + self.position[:length] + self.token_type
        x = _layer_norm(x, *self.emb_ln, self.eps)
        # Padding gets a large negative score before the softmax (HF uses float32's minimum).
        pad = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(size))
        for layer in self.layers:
            qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(batch, length, 3, heads, size)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # each (batch, heads, length, size)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + pad
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = scores / scores.sum(-1, keepdims=True)
            context = (attn @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            x = _layer_norm(
                context @ layer.out_w + layer.out_b + x, layer.ln1_g, layer.ln1_b, self.eps
            )
            up = x @ layer.up_w + layer.up_b
            up = 0.5 * up * (1.0 + _erf(up * np.float32(1.0 / np.sqrt(2.0))))
            x = _layer_norm(
                up @ layer.down_w + layer.down_b + x, layer.ln2_g, layer.ln2_b, self.eps
            )
        summed = (x * mask[:, :, None]).sum(1)
        pooled = summed / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
