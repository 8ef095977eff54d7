"""The two embedding engines agree: ONNX Runtime (queries, answers) and sentence-transformers
(bulk); the ONNX export is made once and shared."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from thrive.base import embeddings, onnx_engine
from thrive.knowledge.corpus import chunk_sections, read_corpus

TEXTS = [
    "Will clients pay me less because of AI?",
    "   How do I niche down as a copywriter?   ",  # sentence-transformers strips
    "",
    "a",
    "Café résumé naïve — “quotes” and emoji 🙂 are tokenized the same way.",
    "word " * 400,  # longer than the model's 256 tokens: truncated alike
]


@pytest.fixture(scope="module")
def guide_texts(guide_settings):
    return [c.text for c in chunk_sections(read_corpus(guide_settings.corpus_dir))]


def test_onnx_engine_matches_sentence_transformers(guide_texts):
    texts = TEXTS + guide_texts
    assert isinstance(embeddings.load_encoder(), onnx_engine.OnnxEncoder)
    light = embeddings.encode(texts, bulk=False)
    heavy = embeddings.encode(texts, bulk=True)
    assert light.shape == heavy.shape == (len(texts), embeddings.DIMENSIONS)
    assert light.dtype == np.float32
    assert np.abs(light - heavy).max() < 1e-5
    assert np.allclose(np.linalg.norm(light, axis=1), 1.0, atol=1e-5)


def test_a_text_gets_the_same_vector_alone_or_in_a_batch(guide_texts):
    engine = embeddings.load_encoder()
    batch = engine.encode(guide_texts[:7])
    alone = np.stack([engine.encode([t])[0] for t in guide_texts[:7]])
    assert np.abs(batch - alone).max() < 1e-5  # padding must not leak into the mean


def test_a_question_embedded_twice_is_computed_once(monkeypatch):
    engine = embeddings.load_encoder()
    calls = []
    real = engine.encode
    monkeypatch.setattr(
        engine, "encode", lambda texts, **kw: calls.append(texts) or real(texts, **kw)
    )
    question = "Is anyone else asking whether AI will take my transcription work?"
    first = embeddings.encode([question])
    both = embeddings.encode([question, question + " fintech copywriting"])
    assert calls == [[question], [question + " fintech copywriting"]]
    assert np.array_equal(both[0], first[0])


def test_short_lists_use_the_light_engine_by_default(monkeypatch):
    def no_torch():
        raise AssertionError("a query must not load sentence-transformers")

    monkeypatch.setattr(embeddings, "load_model", no_torch)
    assert embeddings.encode(["Am I at risk?"]).shape == (1, embeddings.DIMENSIONS)
    assert embeddings.encode([]).shape == (0, embeddings.DIMENSIONS)


def test_answering_a_question_never_imports_torch(guide_settings):
    code = (
        "import sys\n"
        "from thrive.coaching.coach import Coach\n"
        "from thrive.base.settings import Settings\n"
        f"s = Settings(corpus_dir={str(guide_settings.corpus_dir)!r}, "
        f"vectorstore_dir={str(guide_settings.vectorstore_dir)!r}, llm='extractive')\n"
        "answer = Coach.from_settings(s).ask('Will clients pay me less because of AI?')\n"
        "assert answer.citations, answer.text\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'onnx') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stderr[-2000:]


def _fake_export(calls: list[Path], seconds: float = 0.0):
    def export(model_dir: Path, out: Path) -> None:
        calls.append(out)
        time.sleep(seconds)
        (out / onnx_engine.MODEL_FILE).write_bytes(b"graph")
        (out / onnx_engine.MANIFEST).write_text("{}")

    return export


def test_the_model_is_exported_once_and_reused(tmp_path, monkeypatch):
    calls: list[Path] = []
    monkeypatch.setattr(onnx_engine, "_export", _fake_export(calls, seconds=0.3))
    model_dir = Path(embeddings.model_path())
    found: list[Path] = []
    threads = [
        threading.Thread(
            target=lambda: found.append(onnx_engine.ensure_exported(model_dir, tmp_path))
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1  # the others waited for it, then used its file
    assert found == [onnx_engine.export_dir(model_dir, tmp_path) / onnx_engine.MODEL_FILE] * 3
    assert onnx_engine.ensure_exported(model_dir, tmp_path) == found[0]
    assert len(calls) == 1
    # Only the finished export is left: its temporary folder was renamed into place.
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [found[0].parent.name]


def test_an_interrupted_export_leaves_nothing_that_would_be_loaded(tmp_path, monkeypatch):
    model_dir = Path(embeddings.model_path())

    def crash(model_dir: Path, out: Path) -> None:
        (out / onnx_engine.MODEL_FILE).write_bytes(b"half a graph")
        raise KeyboardInterrupt

    monkeypatch.setattr(onnx_engine, "_export", crash)
    with pytest.raises(KeyboardInterrupt):
        onnx_engine.ensure_exported(model_dir, tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]
    calls: list[Path] = []
    monkeypatch.setattr(onnx_engine, "_export", _fake_export(calls))
    onnx_engine.ensure_exported(model_dir, tmp_path)
    assert len(calls) == 1
