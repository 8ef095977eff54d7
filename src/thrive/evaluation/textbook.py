"""`thrive eval --baseline textbook`: the LangChain tutorial's retrieval recipe, as a
reference for Thrive's own retrieval on the same cases in the same run.

The recipe, as the tutorials write it:

* the guide's Markdown (each file of the corpus, its YAML front matter removed) split by
  `RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`, the tutorial's
  default separators, no knowledge of the guide's structure;
* the chunks embedded with the same bundled all-MiniLM-L6-v2 model as Thrive
  (`thrive.base.embeddings.encode`), into an in-memory Chroma collection (cosine space);
* the question as asked (the recipe has no profile and no conversation history) embedded
  the same way, and the 5 nearest chunks by cosine returned. It never declines.

A chunk knows nothing of sections, so to be scored with the same section-level metrics a
chunk counts for *every* section of the guide it overlaps: the guide's sections
(`thrive.knowledge.corpus.read_corpus`) are mapped back to character spans of the source
text (a section owns the lines of its text, and the heading lines just above them), and a
chunk's sections are those owning a line it covers, in the order they appear in it. A
question's ranked section list is the union of its chunks' sections in rank order, cut by
the same ir-measures code as Thrive's (`hit@1`, `recall@5`, `mrr`, `ndcg@5`).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import frontmatter
from chromadb.config import Settings as ChromaSettings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from thrive.base import embeddings
from thrive.knowledge.corpus import Section, guide_files, read_corpus

CHUNK_SIZE = 1000  # characters, the tutorial's numbers
CHUNK_OVERLAP = 200
TOP_K = 5
NAME = "textbook"
DESCRIPTION = (
    "LangChain tutorial recipe: RecursiveCharacterTextSplitter(1000, 200) over the guide's "
    "Markdown, MiniLM embeddings, in-memory Chroma, top-5 chunks by cosine for the question "
    "as asked; a chunk counts for every section it overlaps"
)


@dataclass(frozen=True)
class TextbookChunk:
    """One chunk of the recipe: its text, where it lies in its source, and the guide's
    sections it overlaps (in the order they appear in it)."""

    source: str
    start: int
    end: int
    text: str
    sections: tuple[str, ...]


@dataclass(frozen=True)
class OwnedLine:
    """A line of a guide's source text that belongs to a section: its non-blank span."""

    start: int
    end: int
    section_id: str


def guide_body(path: Path) -> str:
    """A guide file's Markdown as the corpus reader sees it: front matter removed."""
    return str(frontmatter.loads(path.read_bytes().decode("utf-8-sig")).content)


def _same(source_line: str, section_line: str) -> bool:
    """A section's line as it stands in the source; the action steps' first line is the
    text after the item's bold title, so a suffix counts too."""
    a, b = source_line.strip(), section_line.strip()
    return a == b or (bool(b) and a.endswith(b))


def section_lines(body: str, sections: Sequence[Section]) -> list[OwnedLine]:
    """Which lines of `body` belong to which of its `sections` (in the reader's order).

    Every section but the overview is matched line by line in document order; the
    overview's lines (the introduction and the text under each group heading, which the
    reader gives to the overview) are then matched among the lines left. A heading or item
    line that is in no section's text belongs to the section whose text follows it. Blank
    lines, and lines before nothing (none here), belong to no section.
    """
    lines = body.splitlines(keepends=True)
    offsets, at = [], 0
    for line in lines:
        offsets.append(at)
        at += len(line)
    owner: list[str | None] = [None] * len(lines)

    def claim(section: Section, cursor: int) -> int:
        for text_line in section.text.splitlines():
            if not text_line.strip():
                continue
            for j in range(cursor, len(lines)):
                if owner[j] is None and _same(lines[j], text_line):
                    owner[j] = section.section_id
                    cursor = j + 1
                    break
        return cursor

    cursor = 0
    for section in sections:
        if section.kind != "overview":
            cursor = claim(section, cursor)
    for section in sections:
        if section.kind == "overview":
            claim(section, 0)
    following: str | None = None  # the owner of the next non-blank line below
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].strip():
            continue
        if owner[i] is None:
            owner[i] = following
        following = owner[i]
    out = []
    for i, line in enumerate(lines):
        sid = owner[i]
        if sid is None or not line.strip():
            continue
        lead = len(line) - len(line.lstrip())
        out.append(OwnedLine(offsets[i] + lead, offsets[i] + len(line.rstrip()), sid))
    return out


def overlapped(start: int, end: int, owned: Sequence[OwnedLine]) -> tuple[str, ...]:
    """The sections owning a line that the span [start, end) covers, in order, once each."""
    found = [o.section_id for o in owned if start < o.end and end > o.start]
    return tuple(dict.fromkeys(found))


def build_chunks(corpus_dir: Path) -> list[TextbookChunk]:
    """Every chunk of the recipe over the corpus, with the sections it overlaps."""
    sections = read_corpus(corpus_dir)
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
    )
    chunks: list[TextbookChunk] = []
    for path in guide_files(corpus_dir):
        body = guide_body(path)
        owned = section_lines(body, [s for s in sections if s.source == path.name])
        for doc in splitter.create_documents([body]):
            start = int(doc.metadata["start_index"])
            end = start + len(doc.page_content)
            chunks.append(
                TextbookChunk(
                    path.name, start, end, doc.page_content, overlapped(start, end, owned)
                )
            )
    return chunks


class TextbookRetriever:
    """The recipe's index: the chunks in an in-memory Chroma collection. Use it as a
    context manager, so the collection is dropped afterwards."""

    def __init__(self, corpus_dir: Path) -> None:
        self.chunks = build_chunks(corpus_dir)
        self.client = chromadb.EphemeralClient(
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        self.collection = self.client.create_collection(
            f"textbook-{uuid.uuid4().hex[:12]}",
            embedding_function=None,
            metadata={"hnsw:space": "cosine"},
        )
        vectors = embeddings.encode([c.text for c in self.chunks], bulk=False)
        self.collection.add(
            ids=[str(i) for i in range(len(self.chunks))],
            embeddings=vectors.tolist(),
            documents=[c.text for c in self.chunks],
        )

    def __enter__(self) -> TextbookRetriever:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone: nothing to clean up
            self.client.delete_collection(self.collection.name)

    def search_chunks(self, questions: Sequence[str], k: int = TOP_K) -> list[list[TextbookChunk]]:
        """The k nearest chunks of each question, nearest first."""
        if not questions:
            return []
        vectors = embeddings.encode(list(questions), bulk=False)
        result = self.collection.query(
            query_embeddings=vectors.tolist(), n_results=min(k, len(self.chunks))
        )
        return [[self.chunks[int(i)] for i in ids] for ids in result["ids"]]

    def search(self, questions: Sequence[str], k: int = TOP_K) -> list[list[str]]:
        """Each question's ranked sections: its chunks' sections, in rank order, once each."""
        return [
            list(dict.fromkeys(sid for chunk in found for sid in chunk.sections))
            for found in self.search_chunks(questions, k)
        ]


def textbook_rankings(
    corpus_dir: Path, questions: Mapping[str, str], k: int = TOP_K
) -> dict[str, list[str]]:
    """{case id: ranked section ids} for each question, by the textbook recipe."""
    ids = list(questions)
    with TextbookRetriever(corpus_dir) as retriever:
        ranked = retriever.search([questions[i] for i in ids], k)
    return dict(zip(ids, ranked, strict=True))


def describe(chunks: Sequence[TextbookChunk]) -> dict[str, Any]:
    """The recipe's parameters and index size, for the report's meta."""
    return {
        "recipe": DESCRIPTION,
        "chunk_size": CHUNK_SIZE,
        "chunk_overlap": CHUNK_OVERLAP,
        "top_k": TOP_K,
        "chunks": len(chunks),
        "sections_per_chunk": round(sum(len(c.sections) for c in chunks) / len(chunks), 2)
        if chunks
        else 0,
        "query": "the question as asked (no profile, no history)",
    }
