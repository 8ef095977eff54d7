"""Checks on what users type: sane input, and attempts to take over the assistant."""

from __future__ import annotations

import re
import unicodedata

from thrive.base.errors import InputError

# Phrases that try to replace the coach's instructions or pull them out. Kept as data so the
# eval set's injection cases and this list can be read side by side.
_INJECTION_PATTERNS = [
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rules|prompts?|guidelines|guide|context|everything|above|previous)\b",
    r"\b(reveal|show|print|repeat|output|display|leak|give|tell|share|what(?:'s| is| are))\b.{0,30}\b(system|initial|hidden|original|secret|developer)\s+(prompt|instructions?|message|rules)\b",
    r"\b(your|the)\s+(system|hidden|secret|initial|original|internal)\s+(prompt|instructions?|rules|message)\b",
    r"\byou\s+are\s+(now|no\s+longer)\b",
    r"\b(from\s+now\s+on|henceforth)\b.{0,40}\b(you|act|respond|answer|behave)\b",
    r"\b(pretend|roleplay|role-play)\b.{0,30}\b(to\s+be|you\s+are|as)\b",
    # "Act as a ..." as an order (a sentence start, "please", "you will"), not "I act as a PM"
    r"(?:^|[.!?:]\s+|\bplease\s+|\bnow\s+|\byou\s+(?:will|must|should|shall)\s+)act\s+as\b",
    r"\b(jailbreak|DAN\b|developer\s+mode|god\s+mode|sudo\s+mode)",
    # "repeat everything written above": the prompt is what stands above the user's message
    r"\b(repeat|print|output|reveal|copy|recite|echo|dump)\b.{0,20}\b(everything|all\s+(of\s+)?(the\s+)?(text|words)|the\s+(text|words|message)|verbatim|word\s+for\s+word)\b.{0,30}\b(above|before\s+this|so\s+far|preceding)\b",
    r"\bstarting\s+with\s+(the\s+words\s+)?['\"]?you\s+are\b",
    r"^\s*(system|assistant)\s*:",
    r"\bnew\s+(instructions|rules|persona)\b",
    r"<\s*/?\s*(system|instructions?)\s*>",
]
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _INJECTION_PATTERNS), re.I | re.M)


def looks_like_injection(text: str) -> bool:
    """True when the text tries to change the assistant's role or extract its prompt."""
    return bool(_INJECTION.search(unicodedata.normalize("NFKC", text)))


def clean_question(text: object, max_chars: int) -> str:
    """The question as usable text, or an `InputError` that says what is wrong."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InputError(
                "That input is binary data, not text.", fix="Type your question as plain text."
            ) from err
    if not isinstance(text, str):
        raise InputError("A question must be text.", fix="Type your question as plain text.")
    if "\x00" in text:
        raise InputError(
            "That input contains binary data.", fix="Type your question as plain text."
        )
    # Control characters other than line breaks and tabs carry nothing a coach can use.
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    text = text.strip()
    if not text:
        raise InputError(
            "The question is empty.", fix='Ask something, e.g. "I write blog posts. Am I at risk?"'
        )
    if len(text) > max_chars:
        raise InputError(
            f"The question is {len(text):,} characters long; the limit is {max_chars:,}.",
            fix="Shorten it to the part you want coaching on.",
        )
    return text
