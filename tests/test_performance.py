"""No repeated work: what a question, a re-ingest or a reopened page costs, counted, not timed."""

import math

import pytest

from thrive.base import embeddings
from thrive.knowledge import store
from thrive.knowledge.corpus import chunk_sections, read_corpus
from thrive.knowledge.ingest import ingest
from thrive.knowledge.retrieval import GuideSearcher, LexicalIndex


class Counting:
    """A collection that counts the calls made to it."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if callable(attr):

            def counted(*args, **kwargs):
                self.calls.append(name)
                return attr(*args, **kwargs)

            return counted
        return attr


@pytest.fixture()
def searcher(guide_settings):
    return GuideSearcher.open(guide_settings)


@pytest.mark.parametrize("profile", ["", "logo design social media graphics"])
def test_a_search_is_one_embedding_call_and_one_chroma_query(searcher, monkeypatch, profile):
    counted = Counting(searcher.collection)
    monkeypatch.setattr(searcher, "collection", counted)
    encodes = []
    real = embeddings.encode
    monkeypatch.setattr(
        embeddings, "encode", lambda texts, **kw: encodes.append(texts) or real(texts, **kw)
    )
    result = searcher.search("Will clients pay me less because of AI?", profile_text=profile)
    assert result.hits
    assert len(encodes) == 1 and len(encodes[0]) == (2 if profile else 1)
    assert counted.calls.count("query") == 1
    assert set(counted.calls) <= {"query", "get"}  # get: only for lexical-only hits


def test_reopening_the_searcher_does_not_rebuild_the_lexical_index(guide_settings, monkeypatch):
    GuideSearcher.open(guide_settings)
    built = []
    monkeypatch.setattr(LexicalIndex, "__init__", lambda self, texts: built.append(texts))
    for _ in range(3):
        GuideSearcher.open(guide_settings)
    assert built == []


def test_a_new_corpus_version_replaces_the_old_searcher(fresh_settings):
    ingest(fresh_settings)
    first = GuideSearcher.open(fresh_settings)
    guide = fresh_settings.corpus_dir / "genai-threats-and-solutions.md"
    guide.write_text(guide.read_text("utf-8").replace("niche", "specialty", 1), "utf-8")
    ingest(fresh_settings)
    second = GuideSearcher.open(fresh_settings)
    assert second is not first and second.version != first.version
    assert first not in GuideSearcher._cache.values()  # the old BM25 index is let go
    assert GuideSearcher.open(fresh_settings) is second


def test_an_unchanged_re_ingest_loads_no_model(fresh_settings, monkeypatch):
    ingest(fresh_settings)

    def forbidden():
        raise AssertionError("nothing changed: no model may load")

    monkeypatch.setattr(embeddings, "load_model", forbidden)
    monkeypatch.setattr(embeddings, "load_encoder", forbidden)
    report = ingest(fresh_settings)
    n = len(chunk_sections(read_corpus(fresh_settings.corpus_dir), fresh_settings.chunk_words))
    assert report.embedded == 0 and report.unchanged == n > 21  # sections and line keys


def test_large_collections_are_read_a_page_at_a_time(searcher, monkeypatch):
    whole = store.all_chunks(searcher.collection)
    counted = Counting(searcher.collection)
    monkeypatch.setattr(store, "PAGE", 5)
    paged = store.all_chunks(counted)
    assert paged == whole and len(paged) > 21
    assert counted.calls.count("get") == math.ceil(len(whole) / 5)  # 5 a page, the rest last
