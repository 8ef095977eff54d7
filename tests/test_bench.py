"""`thrive bench` reports every DESIGN.md key with sane values. It never asserts speed."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from thrive.bench import runner as bench
from thrive.cli.main import app
from thrive.knowledge.corpus import chunk_sections, read_corpus

DESIGN_KEYS = {
    "ingest_s",
    "reingest_unchanged_s",
    "retrieval_p50_ms",
    "retrieval_p95_ms",
    "retrieval_floor_p50_ms",
    "answer_extractive_p50_ms",
    "cold_start_s",
    "peak_rss_mb",
    "llamacpp_tokens_per_s",
    "llamacpp_floor_tokens_per_s",
    "scale",
}
SCALE_KEYS = {
    "chunks",
    "vectors",
    "ingest_chunks_per_s",
    "encode_floor_chunks_per_s",
    "retrieval_p50_ms",
}
# Smaller than --quick: the test checks the shape of the report, not the machine.
TINY = bench.BenchConfig(
    queries=6,
    profile_queries=4,
    answers=2,
    cold_starts=1,
    ingest_sizes=(8, 16),
    store_sizes=(40, 80),
    scale_queries=4,
    llama_tokens=4,
    llama_runs=1,
    quick=True,
)


def positive(value):
    return isinstance(value, float | int) and not isinstance(value, bool) and value > 0


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One tiny run through the real command: `thrive bench --quick --out FILE`."""
    root = tmp_path_factory.mktemp("bench")
    out = root / "out" / "bench.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bench.BenchConfig, "quick_run", classmethod(lambda cls: TINY))
        mp.setenv("THRIVE_VECTORSTORE_DIR", str(root / "untouched-store"))
        mp.setenv("THRIVE_DATA_DIR", str(root / "data"))
        result = CliRunner().invoke(app, ["bench", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return root, out, json.loads(out.read_text("utf-8"))


@pytest.mark.slow
@pytest.mark.integration
def test_the_report_has_every_design_key_with_sane_values(report):
    _, _, data = report
    assert data.keys() >= DESIGN_KEYS
    for key in DESIGN_KEYS - {"scale", "llamacpp_tokens_per_s", "llamacpp_floor_tokens_per_s"}:
        assert positive(data[key]) or (key == "reingest_unchanged_s" and data[key] >= 0), key
    assert data["retrieval_p50_ms"] <= data["retrieval_p95_ms"]
    ours, bare = data["llamacpp_tokens_per_s"], data["llamacpp_floor_tokens_per_s"]
    assert (ours is None) == (bare is None)
    if ours is None:
        assert "skipped" in data["details"]["llamacpp"]
    else:
        assert positive(ours) and positive(bare)


@pytest.mark.slow
@pytest.mark.integration
def test_scale_rows_say_how_their_vectors_were_made(report):
    _, _, data = report
    rows = data["scale"]
    assert [r["chunks"] for r in rows] == sorted(r["chunks"] for r in rows)
    assert {r["vectors"] for r in rows} == {"encoded", "perturbed"}
    for row in rows:
        assert row.keys() >= SCALE_KEYS
        assert positive(row["retrieval_p50_ms"])
        measured = [row["ingest_chunks_per_s"], row["encode_floor_chunks_per_s"]]
        if row["vectors"] == "encoded":
            assert all(positive(v) for v in measured)
        else:
            assert measured == [None, None]
    assert [r["chunks"] for r in rows if r["vectors"] == "perturbed"] == [40, 80]


@pytest.mark.slow
@pytest.mark.integration
def test_targets_ratios_plot_and_a_clean_workspace(report):
    root, out, data = report
    for name, verdict in data["targets"].items():
        assert verdict["met"] in (True, False, None), name
        assert verdict["met"] is None or math.isfinite(verdict["measured"]), name
    assert positive(data["ratios"]["retrieval"])
    assert data["run"]["quick"] is True
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert not (root / "untouched-store").exists()  # the bench works in a temporary folder


def test_synthetic_corpora_are_deterministic_one_chunk_sections(tmp_path, guide_settings):
    sentences = bench.guide_sentences(guide_settings)
    assert len(sentences) > 50
    for name in ("a", "b"):
        bench.write_synthetic_corpus(tmp_path / name, sentences, 30, seed=1)
    chunks = chunk_sections(read_corpus(tmp_path / "a"), guide_settings.chunk_words)
    assert len(chunks) == 30
    assert all(45 <= len(c.text.split()) <= guide_settings.chunk_words for c in chunks)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert all(
        (tmp_path / "a" / f).read_text("utf-8") == (tmp_path / "b" / f).read_text("utf-8")
        for f in files
    )


def test_perturbed_stores_grow_from_the_encoded_sample():
    rng = np.random.default_rng(0)
    sample = rng.normal(size=(10, 384)).astype(np.float32)
    sample /= np.linalg.norm(sample, axis=1, keepdims=True)
    texts = [f"Sentence {i}. Another {i}. A third {i}." for i in range(10)]
    out_texts, vectors = bench.perturbed(texts, sample, 25, seed=3)
    again_texts, again = bench.perturbed(texts, sample, 25, seed=3)
    assert out_texts == again_texts and np.array_equal(vectors, again)
    assert vectors.shape == (25, 384) and out_texts[:10] == texts
    assert np.array_equal(vectors[:10], sample)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # a perturbed copy stays close to its parent, not to the others
    best = (vectors[10:] @ sample.T).max(axis=1)
    assert (best > 0.8).all()


def test_questions_are_handed_out_once_and_repeatably():
    topics = ["competition", "devaluation", "niche down"]
    pool, again = bench.QuestionPool(topics, seed=2), bench.QuestionPool(topics, seed=2)
    first = pool.take(40)
    assert first == again.take(40)
    assert all(q.profile_text for q in first)
    rest = pool.take(1000)  # more than the templates can make: still all distinct
    questions = [q.question for q in first + rest]
    assert len(set(questions)) == len(questions) == 1040


def test_targets_are_judged_from_the_ratios():
    result = {
        "retrieval_p50_ms": 6.0,
        "retrieval_floor_p50_ms": 5.0,
        "reingest_unchanged_s": 0.2,
        "cold_start_s": 9.0,
        "llamacpp_tokens_per_s": None,
        "llamacpp_floor_tokens_per_s": None,
        "scale": [
            {
                "chunks": 100,
                "vectors": "encoded",
                "ingest_chunks_per_s": 40.0,
                "encode_floor_chunks_per_s": 60.0,
                "retrieval_p50_ms": 7.0,
                "retrieval_floor_p50_ms": 6.0,
            },
            {
                "chunks": 50_000,
                "vectors": "perturbed",
                "ingest_chunks_per_s": None,
                "encode_floor_chunks_per_s": None,
                "retrieval_p50_ms": 30.0,
                "retrieval_floor_p50_ms": 10.0,
            },
        ],
    }
    result["ratios"] = bench.ratios(result)
    verdicts = bench.targets(result)
    assert verdicts["retrieval_p50_vs_floor"]["met"] is True
    assert verdicts["retrieval_p50_vs_floor_at_largest"]["met"] is False
    assert verdicts["retrieval_p50_ms_at_largest"] == {
        "measured": 30.0,
        "target": "<= 25",
        "met": False,
        "chunks": 50_000,
    }
    assert verdicts["ingest_vs_encode_floor"]["met"] is False  # 40/60 < 0.8
    assert verdicts["reingest_unchanged_s"]["met"] is True
    assert verdicts["cold_start_s"]["met"] is False
    assert verdicts["llamacpp_vs_bare"]["met"] is None  # not measured


def test_the_plot_is_written_without_a_display(tmp_path):
    result = {
        "scale": [
            {
                "chunks": n,
                "vectors": v,
                "ingest_chunks_per_s": i,
                "encode_floor_chunks_per_s": f,
                "retrieval_p50_ms": 5.0,
                "retrieval_floor_p50_ms": 4.0,
            }
            for n, v, i, f in [(100, "encoded", 50.0, 55.0), (10_000, "perturbed", None, None)]
        ],
        "run": {"cpus": 2, "load_average_before": [0.1], "quick": True},
    }
    path = tmp_path / "plot.png"
    bench.write_plot(result, path)
    assert Path(path).read_bytes().startswith(b"\x89PNG")
