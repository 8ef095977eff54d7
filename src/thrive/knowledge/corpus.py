"""Reading guides from `corpus/`: Markdown with YAML front matter, into sections and chunks.

The bundled guide has a known shape (threats, strategies, action steps, summary) and gets
the fixed section ids of DESIGN.md. Any other Markdown file gets slug ids from its headings.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from thrive.base.errors import CorpusError
from thrive.base.text import split_sentences
from thrive.knowledge.structure import guide_lines

KINDS = ("overview", "threat", "strategy", "action", "summary", "section")
# Bumped when parsing or chunking changes, so that every chunk hash changes with it.
PARSER_VERSION = "3"  # 2: line keys of structured sections; 3: question keys
MAX_FILE_BYTES = 5_000_000
KEY = "key"  # the granularity of a line key (see `_line_keys`); chunks are "chunk"


@dataclass(frozen=True)
class Section:
    """One citable part of a guide: a threat, a strategy, an action step, ..."""

    section_id: str
    title: str
    kind: str
    source: str
    text: str  # Markdown as written in the guide, for showing the passage to the user
    doc_title: str = ""
    # Plain-language questions this section answers, from the guide's `.questions.yaml`
    # sidecar and the `.examples.yaml` ones labelled with it: searched as extra keys of the
    # section, never shown.
    questions: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """ "Threat 2", "Strategy 5", "Action step 1" for the guide's numbered sections, else ""."""
        return label_of(self)


@dataclass(frozen=True)
class Chunk:
    """A piece of a section small enough to embed; `text` is what is embedded and searched."""

    chunk_id: str
    text: str
    metadata: dict[str, str | int] = field(hash=False)

    @property
    def section_id(self) -> str:
        return str(self.metadata["section_id"])

    @property
    def content_hash(self) -> str:
        return str(self.metadata["content_hash"])


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].strip("-") or "section"


def plain_text(markdown: str) -> str:
    """Markdown to readable plain text: no emphasis marks, bullets or Kramdown tags."""
    text = re.sub(r"\{:[^}]*\}", "", markdown)
    text = re.sub(r"^\s*(?:[*+-]|\d+\.)\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)", "", text)
    text = re.sub(r"^#+\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n\s*\n+", "\n", text)
    return text.strip()


# --- the bundled guide's shape ---------------------------------------------------------------

_GROUPS = (  # heading pattern -> kind of the items listed under it
    (re.compile(r"understanding the threats", re.I), "threat"),
    (re.compile(r"strateg", re.I), "strategy"),
    (re.compile(r"action steps", re.I), "action"),
    (re.compile(r"in summary", re.I), "summary"),
)
_BULLET_ITEM = re.compile(r"^\*\s+\*\*(\d+)\.\s*(.+?):?\*\*\s*$")
_NUMBERED_ITEM = re.compile(r"^(\d+)\.\s+\*\*(.+?):?\*\*:?\s*(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")


def _group_of(heading: str) -> str | None:
    for pattern, kind in _GROUPS:
        if pattern.search(heading):
            return kind
    return None


def _is_structured_guide(body: str) -> bool:
    headings = [m.group(2) for m in map(_HEADING.match, body.splitlines()) if m]
    kinds = {_group_of(h) for h in headings}
    return {"threat", "strategy", "action"} <= kinds


def _parse_structured(body: str, source: str, doc_title: str) -> list[Section]:
    """Walk the guide line by line: group headings switch the kind, numbered items open
    sections. Text before the first threat is the overview; group intros join it."""
    sections: list[Section] = []
    current: dict[str, object] | None = None
    overview: list[str] = []
    group: str | None = None
    counters = {"threat": 0, "strategy": 0, "action": 0}

    def close() -> None:
        nonlocal current
        if current is not None:
            lines = current["lines"]
            assert isinstance(lines, list)
            sections.append(
                Section(
                    section_id=str(current["id"]),
                    title=str(current["title"]),
                    kind=str(current["kind"]),
                    source=source,
                    text="\n".join(lines).strip(),
                    doc_title=doc_title,
                )
            )
        current = None

    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading:
            kind = _group_of(heading.group(2))
            if kind is not None:
                close()
                group = kind
                if kind == "summary":
                    # 'In Summary, "<guide title>" =  Adaptability ... are Key:'
                    title = heading.group(2).split("=")[-1].strip(' :"')
                    current = {
                        "id": "summary",
                        "title": f"In summary: {title}",
                        "kind": "summary",
                        "lines": [],
                    }
                continue
        item = None
        if group in ("threat", "strategy"):
            item = _BULLET_ITEM.match(line)
            rest = ""
        elif group == "action":
            item = _NUMBERED_ITEM.match(line)
            rest = item.group(3) if item else ""
        if item and group is not None:
            close()
            counters[group] += 1
            current = {
                "id": f"{group}-{counters[group]}",
                "title": item.group(2).strip(),
                "kind": group,
                "lines": [rest] if rest else [],
            }
            continue
        if current is not None:
            lines = current["lines"]
            assert isinstance(lines, list)
            lines.append(line)
        elif not line.strip().startswith(("* TOC", "{:toc}")):
            overview.append(line)
    close()
    intro = "\n".join(overview).strip()
    title_match = re.search(r"^#+\s*(.+)$", intro, re.MULTILINE)
    overview_title = title_match.group(1).strip() if title_match else doc_title
    if title_match:  # the title is kept apart, not repeated in the text
        intro = (intro[: title_match.start()] + intro[title_match.end() :]).strip()
    return [Section("overview", overview_title, "overview", source, intro, doc_title), *sections]


def _parse_generic(body: str, source: str, doc_title: str, taken: set[str]) -> list[Section]:
    splitter = MarkdownHeaderTextSplitter(
        headers_to_split_on=[("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")],
        strip_headers=True,
    )
    sections = []
    for doc in splitter.split_text(body):
        text = doc.page_content.strip()
        if not text:
            continue
        title = next(
            (doc.metadata[h] for h in ("h4", "h3", "h2", "h1") if h in doc.metadata),
            doc_title or Path(source).stem,
        )
        base = slugify(title)
        section_id, n = base, 2
        while section_id in taken:
            section_id, n = f"{base}-{n}", n + 1
        taken.add(section_id)
        sections.append(Section(section_id, title, "section", source, text, doc_title))
    return sections


def read_guide(path: Path, taken: set[str] | None = None) -> list[Section]:
    """Parse one Markdown guide into sections. `taken` holds ids already used in the corpus."""
    taken = set() if taken is None else taken
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CorpusError(
            f"Cannot read {path}: {err.strerror}.", fix="Check the file's permissions."
        ) from err
    if len(raw) > MAX_FILE_BYTES:
        raise CorpusError(
            f"{path} is {len(raw) // 1_000_000} MB; guides are limited to 5 MB.",
            fix="Split it into smaller Markdown files.",
        )
    if b"\x00" in raw:
        raise CorpusError(
            f"{path} looks binary, not Markdown.",
            fix="Remove it from corpus/ or convert it to Markdown.",
        )
    try:
        post = frontmatter.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise CorpusError(f"{path} is not UTF-8 text.", fix="Save it as UTF-8.") from err
    except Exception as err:  # yaml raises several types for bad front matter
        raise CorpusError(
            f"{path} has malformed YAML front matter: {err}",
            fix="Fix or remove the block between the --- lines.",
        ) from err
    doc_title = str(post.metadata.get("title") or path.stem)
    source = path.name
    if _is_structured_guide(post.content) and not taken & {"overview", "threat-1"}:
        sections = _parse_structured(post.content, source, doc_title)
        taken.update(s.section_id for s in sections)
    else:
        sections = _parse_generic(post.content, source, doc_title, taken)
    sections = with_questions(sections, questions_file(path))
    return with_examples(sections, examples_file(path))


def questions_file(guide: Path) -> Path:
    """`guide.md`'s question keys: `guide.questions.yaml` beside it (optional)."""
    return guide.with_name(f"{guide.stem}.questions.yaml")


def examples_file(guide: Path) -> Path:
    """`guide.md`'s labelled example questions: `guide.examples.yaml` beside it (optional)."""
    return guide.with_name(f"{guide.stem}.examples.yaml")


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_sidecar(path: Path, blob: bytes, shape: str) -> Any:
    """A guide's YAML sidecar (question keys, outside topics) as data, or a CorpusError
    that names the file and the shape it should have."""
    try:
        # libyaml's parser where PyYAML was built with it: the sidecars' ~4,000 lines take
        # ~0.1 s instead of ~2.4 s in pure Python, on every ingest and every searcher opened.
        return yaml.load(blob.decode("utf-8"), Loader=_SAFE_LOADER)  # a safe loader
    except (UnicodeDecodeError, yaml.YAMLError) as err:
        raise CorpusError(
            f"{path} cannot be read as YAML: {err}",
            fix=f"Fix the file ({shape}) or remove it.",
        ) from err


def with_questions(sections: list[Section], path: Path) -> list[Section]:
    """The sections with their question keys from `path`, when that file exists.

    Why keys written as questions: a freelancer's question ("am I toast?") and the guide's
    statement ("GenAI excels at automating tasks ...") share few words and sit far apart
    for a small embedding model; a question that the section answers, in everyday words,
    sits close to it (doc2query, Nogueira et al. 2019, written by hand from the guide
    instead of by a model, since none can run here)."""
    if not path.is_file():
        return sections
    data = read_sidecar(path, path.read_bytes(), "a mapping of section id to a list of questions")
    ids = {s.section_id for s in sections}
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(q, str) for q in v) for v in data.values()
    ):
        raise CorpusError(
            f"{path} must map each section id to a list of questions.",
            fix="Fix the file or remove it; the guide is searched without it.",
        )
    unknown = sorted(set(map(str, data)) - ids)
    if unknown:
        raise CorpusError(
            f"{path} names sections its guide does not have: {', '.join(unknown)}.",
            fix=f"Use the guide's section ids ({', '.join(sorted(ids))}) or remove the file.",
        )
    return [
        replace(s, questions=tuple(q.strip() for q in data.get(s.section_id, []) if q.strip()))
        for s in sections
    ]


def with_examples(sections: list[Section], path: Path) -> list[Section]:
    """The sections with the example questions of `path` added to their question keys,
    when that file exists: each example is a key of every section it is labelled with.

    Why a second kind of key: a freelancer's question usually draws on several sections at
    once (the threat behind their worry, and the strategies and steps that answer it),
    while a question key is written for one. An example labelled with all of them pulls
    them up together when a question like it comes."""
    if not path.is_file():
        return sections
    shape = "a list of {question, sections}"
    data = read_sidecar(path, path.read_bytes(), shape)
    if not isinstance(data, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("question"), str)
        and e["question"].strip()
        and isinstance(e.get("sections"), list)
        and e["sections"]
        and all(isinstance(s, str) for s in e["sections"])
        for e in data
    ):
        raise CorpusError(
            f"{path} must be {shape}: each a non-empty question and a list of section ids.",
            fix="Fix the file or remove it; the guide is searched without it.",
        )
    ids = {s.section_id for s in sections}
    unknown = sorted({s for e in data for s in e["sections"]} - ids)
    if unknown:
        raise CorpusError(
            f"{path} names sections its guide does not have: {', '.join(unknown)}.",
            fix=f"Use the guide's section ids ({', '.join(sorted(ids))}) or remove the file.",
        )
    extra: dict[str, list[str]] = {}
    for example in data:
        for section_id in dict.fromkeys(example["sections"]):
            extra.setdefault(section_id, []).append(example["question"].strip())
    return [replace(s, questions=(*s.questions, *extra.get(s.section_id, ()))) for s in sections]


def guide_files(corpus_dir: Path) -> list[Path]:
    """Markdown files in the corpus; the bundled guide sorts first so it keeps its ids."""
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"The corpus folder {corpus_dir} does not exist.",
            fix="Create it and put the guide's Markdown in it, or set THRIVE_CORPUS_DIR.",
        )
    files = sorted(p for p in corpus_dir.rglob("*.md") if p.is_file())
    files.sort(key=lambda p: p.name != "genai-threats-and-solutions.md")
    return files


def read_corpus(corpus_dir: Path) -> list[Section]:
    taken: set[str] = set()
    sections: list[Section] = []
    for path in guide_files(corpus_dir):
        sections.extend(read_guide(path, taken))
    if not sections:
        raise CorpusError(
            f"No guide text found in {corpus_dir}.", fix="Add at least one Markdown (.md) file."
        )
    return sections


def label_of(section: Section) -> str:
    """ "Threat 2", "Strategy 5", "Action step 1" for the guide's numbered sections, else ""."""
    return _label(section.section_id, section.kind)


def _label(section_id: str, section_kind: object) -> str:
    kind, _, number = section_id.partition("-")
    names = {"threat": "Threat", "strategy": "Strategy", "action": "Action step"}
    if section_kind in names and kind == section_kind and number.isdigit():
        return f"{names[kind]} {number}"
    return ""


def heading_of(metadata: Mapping[str, object]) -> str:
    """ "Threat 2: Increased Competition": what each of a section's chunks starts with, from
    a chunk's metadata."""
    label = _label(str(metadata.get("section_id", "")), metadata.get("kind"))
    title = str(metadata.get("section_title", ""))
    return f"{label}: {title}" if label else title


def tuning_pairs(chunks: Iterable[Any]) -> list[tuple[str, str]]:
    """(question key, its section's heading) for every question key among `chunks` (Chunk
    or StoredChunk): what the search encoder is fine-tuned on (tuned.py)."""
    return [(c.text, heading_of(c.metadata)) for c in chunks if is_question_key(c.chunk_id)]


def chunk_sections(sections: Iterable[Section], chunk_words: int = 180) -> list[Chunk]:
    """Split sections into chunks of about `chunk_words` words, each titled with its section
    (the title makes a short chunk findable by what it is about)."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_words,
        chunk_overlap=max(10, chunk_words // 8),
        length_function=lambda s: len(s.split()),
        separators=["\n\n", "\n", ". ", " "],
        keep_separator="end",
    )
    chunks: list[Chunk] = []
    for section in sections:
        body = plain_text(section.text)
        pieces = splitter.split_text(body) if body else [""]
        for i, piece in enumerate(pieces):
            heading = (
                f"{label_of(section)}: {section.title}" if label_of(section) else section.title
            )
            text = f"{heading}. {piece}" if piece else heading
            digest = hashlib.sha256(
                f"{PARSER_VERSION}|{chunk_words}|{section.source}|{section.section_id}|{text}".encode()
            ).hexdigest()[:16]
            chunks.append(
                _chunk(section, f"{section.section_id}#{i}", text, i, len(chunks), digest)
            )
        if section.kind != "section":
            chunks += _line_keys(section, heading, body, chunk_words, len(chunks))
        chunks += _question_keys(section, chunk_words, len(chunks))
    return chunks


def is_question_key(chunk_id: str) -> bool:
    """True for the id of a question key (`threat-1#q3`), as `_question_keys` names them."""
    return "#q" in chunk_id


def _question_keys(section: Section, chunk_words: int, order: int) -> list[Chunk]:
    """The section's questions as search keys, each on its own (a question embeds closest
    to other questions, so no heading is put in front)."""
    keys = []
    for j, question in enumerate(section.questions):
        digest = hashlib.sha256(
            f"{PARSER_VERSION}|{chunk_words}|{section.source}|{section.section_id}|q|{question}".encode()
        ).hexdigest()[:16]
        keys.append(_chunk(section, f"{section.section_id}#q{j}", question, -1, order + j, digest))
    return keys


def _chunk(
    section: Section, chunk_id: str, text: str, index: int, order: int, digest: str
) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        text=text,
        metadata={
            "section_id": section.section_id,
            "section_title": section.title,
            "kind": section.kind,
            "source": section.source,
            "doc_title": section.doc_title,
            "chunk_index": index,
            "order": order,
            "content_hash": digest,
            "granularity": KEY if index < 0 else "chunk",
        },
    )


def _line_keys(
    section: Section, heading: str, body: str, chunk_words: int, order: int
) -> list[Chunk]:
    """Each line of a structured guide section (its claim, each example) as an extra search
    key of that section: a question about one example ("data entry") finds the section even
    where the whole chunk's vector is about something broader. Keys are searched, never
    shown; a hit on one stands for its section."""
    keys: list[Chunk] = []
    lines = [line.text for line in guide_lines(body)]
    # A line longer than a chunk is keyed by its sentences.
    pieces = [
        s for t in lines for s in (split_sentences(t) if len(t.split()) > chunk_words else [t])
    ]
    for j, piece in enumerate(pieces):
        if len(piece.split()) < 4:
            continue
        text = f"{heading}. {piece}"
        digest = hashlib.sha256(
            f"{PARSER_VERSION}|{chunk_words}|{section.source}|{section.section_id}|key|{text}".encode()
        ).hexdigest()[:16]
        keys.append(
            _chunk(section, f"{section.section_id}#k{j}", text, -1, order + len(keys), digest)
        )
    return keys
