"""Saved vectors: texts this machine has embedded before are not embedded again."""

import logging
from pathlib import Path

import numpy as np
import pytest

from conftest import make_settings
from thrive.base import embeddings
from thrive.base.saved_vectors import SavedVectors, model_key
from thrive.knowledge.ingest import ingest
from thrive.knowledge.retrieval import GuideSearcher
from thrive.knowledge.store import GuideIndex, connect, get_all

GUIDE = """# Pricing in the age of AI

## Value pricing
Charge for the outcome a client buys, not for the hours it took you.

## Retainers
A monthly retainer turns one-off gigs into steady income and a closer relationship.

## Rush fees
Work needed within a day costs more, because it displaces other clients' work.
"""


@pytest.fixture()
def saved(tmp_path, monkeypatch):
    """A private file of saved vectors, empty to start with, for the bundled model."""
    file = SavedVectors(
        tmp_path / "saved.sqlite3",
        model_key(embeddings.MODEL_NAME, Path(embeddings.model_path())),
        embeddings.DIMENSIONS,
    )
    monkeypatch.setattr(embeddings, "saved_vectors", lambda: file)
    return file


@pytest.fixture()
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "pricing.md").write_text(GUIDE, "utf-8")
    return folder


@pytest.fixture()
def encoded(monkeypatch):
    """Every list of texts the model is asked to embed, in order."""
    calls: list[list[str]] = []
    real = embeddings.encode

    def spy(texts, *args, **kwargs):
        calls.append(list(texts))
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(embeddings, "encode", spy)
    return calls


def store_vectors(settings):
    collection = GuideIndex(connect(settings), settings.collection).require_active()
    got = get_all(collection, ["embeddings"])
    return dict(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))


def test_a_new_store_of_texts_embedded_before_embeds_none_of_them(tmp_path, saved, corpus, encoded):
    first = make_settings(tmp_path / "first", corpus_dir=corpus)
    assert ingest(first).added == 3
    assert sum(map(len, encoded)) == 3
    encoded.clear()

    second = make_settings(tmp_path / "second", corpus_dir=corpus)
    report = ingest(second)
    assert report.added == 3 and encoded == []
    one, two = store_vectors(first), store_vectors(second)
    assert one.keys() == two.keys()
    for chunk_id in one:
        np.testing.assert_array_equal(one[chunk_id], two[chunk_id])
    found = GuideSearcher.open(second).search("Should I charge a retainer every month?")
    assert found.hits[0].chunk.metadata["section_id"] == "retainers"


def test_only_an_edited_text_is_embedded_in_a_new_store(tmp_path, saved, corpus, encoded):
    ingest(make_settings(tmp_path / "first", corpus_dir=corpus))
    guide = corpus / "pricing.md"
    guide.write_text(guide.read_text("utf-8").replace("costs more", "costs half again"), "utf-8")
    encoded.clear()
    report = ingest(make_settings(tmp_path / "second", corpus_dir=corpus))
    assert report.added == 3
    assert len(encoded) == 1 and len(encoded[0]) == 1 and "half again" in encoded[0][0]


def test_ingest_without_reuse_embeds_everything_and_saves_nothing(tmp_path, saved, corpus, encoded):
    ingest(make_settings(tmp_path / "first", corpus_dir=corpus), reuse_vectors=False)
    assert sum(map(len, encoded)) == 3
    assert not saved.path.exists()


def test_an_unreadable_file_is_moved_aside_and_the_ingest_goes_on(
    tmp_path, saved, corpus, caplog, encoded
):
    saved.path.write_bytes(b"\x00\xffnot a database at all" * 100)
    with caplog.at_level(logging.WARNING):
        report = ingest(make_settings(tmp_path / "first", corpus_dir=corpus))
    assert report.added == 3
    aside = list(tmp_path.glob("saved.sqlite3.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"\x00\xffnot a database")
    assert "unreadable" in caplog.text and str(aside[0]) in caplog.text
    # A new file was started with this ingest's vectors: the next store embeds nothing.
    encoded.clear()
    assert ingest(make_settings(tmp_path / "second", corpus_dir=corpus)).added == 3
    assert encoded == []


def test_vectors_are_kept_per_model_and_checked_for_shape(tmp_path):
    path = tmp_path / "saved.sqlite3"
    mine = SavedVectors(path, "model-a", 4)
    mine.save(["hello", "world"], np.array([[1, 0, 0, 0], [0, 1, 0, 0]], dtype=np.float32))
    got = mine.lookup(["world", "hello", "unseen"])
    assert set(got) == {"hello", "world"}
    np.testing.assert_array_equal(got["world"], [0, 1, 0, 0])
    assert SavedVectors(path, "model-b", 4).lookup(["hello"]) == {}
    assert SavedVectors(path, "model-a", 8).lookup(["hello"]) == {}  # not this shape


def test_the_oldest_vectors_go_past_the_limit(tmp_path, monkeypatch):
    from thrive.base import saved_vectors

    monkeypatch.setattr(saved_vectors, "MAX_VECTORS", 3)
    file = SavedVectors(tmp_path / "saved.sqlite3", "m", 2)
    for i in range(5):
        file.save([f"text {i}"], np.array([[i, i]], dtype=np.float32))
    assert set(file.lookup([f"text {i}" for i in range(5)])) == {"text 2", "text 3", "text 4"}


def test_texts_that_are_not_utf8_are_saved_like_any_other(tmp_path):
    file = SavedVectors(tmp_path / "saved.sqlite3", "m", 2)
    odd = "caf\udce9"  # a lone surrogate, as Python hands over undecodable bytes
    file.save([odd], np.array([[1, 2]], dtype=np.float32))
    np.testing.assert_array_equal(file.lookup([odd])[odd], [1, 2])


def test_a_damaged_row_is_embedded_anew_not_a_crash(tmp_path):
    import sqlite3

    file = SavedVectors(tmp_path / "saved.sqlite3", "m", 2)
    file.save(["fine", "damaged"], np.array([[1, 2], [3, 4]], dtype=np.float32))
    with sqlite3.connect(file.path) as db:
        db.execute("UPDATE vectors SET vector = ? WHERE id = 2", (b"\x00" * 7,))
    assert set(file.lookup(["fine", "damaged"])) == {"fine"}
