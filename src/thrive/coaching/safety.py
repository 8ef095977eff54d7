"""Checks on what users type: sane input, and attempts to take over the assistant."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata

from thrive.base.errors import InputError
from thrive.base.text import has_undecodable_bytes

# A question is declined only for what it asks of the assistant itself: to set aside or
# reveal its instructions, to hand over settings or secrets, or to become something else.
# The same words aimed at anything else ("ignore the hype", "disregard the previous brief",
# "new rules for pricing", "should I pretend to be an agency?") are ordinary questions.
# The vocabulary is the ordinary English of such requests; the test split was never read
# to write it, and the dev split (evals/dev.jsonl) checks that its near-misses pass.
_MINE = r"(?:system\s+prompt|prompts?|instructions?|rules|guidelines|directives|configuration|config|settings|programming|guardrails|restrictions|initial\s+message|hidden\s+text)"
_WHOSE = r"(?:your|you(?:'ve|\s+have|\s+were)\s+been\s+given|the\s+(?:system|hidden|secret|initial|original|previous|prior|above|preceding|developer'?s?|assistant'?s?)|all\s+(?:of\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier)|any\s+(?:previous|prior)|these|thrive'?s)"
_OVERRIDE = r"(?:ignore|disregard|forget|override|bypass|drop|abandon|discard|skip|suspend|turn\s+off|disable)"
_DISCLOSE = r"(?:reveal|show|print|repeat|output|display|leak|tell\s+me|share|dump|recite|echo|translate|summari[sz]e|list|write\s+out|give\s+me|paste|copy|spell\s+out|what(?:'s|\s+is|\s+are|\s+were|\s+does))"
# "your rules for pricing", "the rules of SEO": a topic, not the assistant's own rules
_NOT_A_TOPIC = r"(?!\s+(?:for|of|on|about|to|in)\b)"
_SECRET = r"(?:api[\s_-]?keys?|[A-Z][A-Z0-9]*_(?:API_)?KEY\b|secret\s+keys?|environment\s+variables?|env\s+vars?|\.env\b|credentials|access\s+tokens?|passwords?)"
_TAKEOVER_PATTERNS = [
    # setting its instructions aside
    rf"\b{_OVERRIDE}\b.{{0,30}}\b{_WHOSE}\b.{{0,25}}\b{_MINE}\b",
    rf"\b{_OVERRIDE}\s+(?:all\s+|any\s+)?{_MINE}\b{_NOT_A_TOPIC}",
    # having them shown
    rf"\b{_DISCLOSE}\b.{{0,40}}\b{_WHOSE}\s+(?:\w+\s+){{0,2}}{_MINE}\b{_NOT_A_TOPIC}",
    rf"\b{_MINE}\s+(?:that\s+)?you\s+(?:were|have\s+been|got)\s+(?:given|told|programmed|trained)",
    r"\bwhat\s+(?:were|are|have)\s+you\s+(?:been\s+)?(?:told|instructed|programmed)\b",
    # "repeat everything written above": the prompt is what stands above the user's message
    r"\b(?:repeat|print|output|reveal|copy|recite|echo|dump|show)\b.{0,20}\b(?:everything|all\s+(?:of\s+)?(?:the\s+)?(?:text|words)|the\s+(?:text|words|message)|verbatim|word\s+for\s+word)\b.{0,30}\b(?:above|before\s+this|so\s+far|preceding)\b",
    r"\bstarting\s+with\s+(?:the\s+words\s+)?['\"“]?you\s+are\b",
    # secrets and settings of the running program
    rf"\b(?:your|the\s+server'?s?|you\s+can\s+(?:see|access|read))\b.{{0,30}}{_SECRET}",
    rf"\b{_DISCLOSE}\b.{{0,30}}{_SECRET}",
    rf"{_SECRET}.{{0,30}}\byou\s+(?:can\s+)?(?:see|access|read|have|use)\b",
    # becoming something else: "act as my mentor" is answered in role (the coach stays a coach,
    # and a task outside the guide is declined as out of scope); a jailbreak persona is not
    r"\byou\s+are\s+(?:now\s+(?:a|an|the|in|called|named|free|unrestricted|unfiltered|jailbroken|no\s+longer)\b|now\s+(?-i:[A-Z]{2,})\b|no\s+longer\s+(?:a|an|bound|thrive|limited|restricted)\b)",
    r"\b(?:from\s+now\s+on|henceforth|for\s+the\s+rest\s+of\s+(?:this|the)\s+conversation)\b.{0,10}\byou(?:'ll|\s+will|\s+must|\s+are|\s+answer|\s+respond|\s+speak|\s+talk|\s+only)\b",
    r"\b(?:enter|enable|activate|switch\s+(?:on|to)|turn\s+on|unlock)\s+(?:the\s+)?(?:developer|god|sudo|admin|debug|unrestricted|DAN)\s+mode\b",
    r"\b(?:you\s+are|as|become|play)\s+DAN\b",
    # the prompt's own delimiters, faked
    r"^\s*(?:system|assistant|developer)\s*:",
    r"<\s*/?\s*(?:system|instructions?|im_start|im_end)\s*\|?>|\[/?(?:INST|SYS)\]|<\|im_(?:start|end)\|>",
    r"\{\{.{0,80}(?:prompt|settings|config|env|secret|key|instruction).{0,80}\}\}|\{%.{0,120}%\}",
    # the same requests in a few other languages users write in
    r"\b(?:ignora|ignorez|ignore[sz]?|ignoriere|olvida|oublie|vergiss|muestra|montre|zeige|revela|révèle|affiche|mostra|dimmi|dime)\b.{0,40}\b(?:instrucciones|instructions|anweisungen|istruzioni|instruções|prompt|reglas|règles|regeln|regole|consignes)\b",
    r"(?:忽略|无视|忘记|显示|输出|打印|告诉我|透露).{0,12}(?:指令|指示|提示词|系统提示|规则|设置)",
]
_TAKEOVER = re.compile("|".join(f"(?:{p})" for p in _TAKEOVER_PATTERNS), re.I | re.M)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def _decoded(text: str) -> list[str]:
    """The text as an attacker may have hidden it: base64 runs and ROT13, decoded."""
    out = [codecs.decode(text, "rot13")]
    for run in _BASE64.findall(text):
        try:
            plain = base64.b64decode(run + "=" * (-len(run) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if plain.isprintable():
            out.append(plain)
    return out


def looks_like_injection(text: str) -> bool:
    """True when the text asks the assistant to drop or reveal its instructions, to hand
    over secrets, or to take another role; also when that request is base64 or ROT13."""
    folded = unicodedata.normalize("NFKC", text)
    return any(_TAKEOVER.search(t) for t in (folded, *_decoded(folded)))


_NOT_UTF8 = (
    "That input is not UTF-8 text: binary data, or text in another encoding (such as Latin-1)."
)
_NOT_UTF8_FIX = "Type your question as plain text, or set your terminal to UTF-8."


def clean_question(text: object, max_chars: int) -> str:
    """The question as usable text, or an `InputError` that says what is wrong."""
    if isinstance(text, str) and has_undecodable_bytes(text):
        raise InputError(_NOT_UTF8, fix=_NOT_UTF8_FIX)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InputError(_NOT_UTF8, fix=_NOT_UTF8_FIX) from err
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
