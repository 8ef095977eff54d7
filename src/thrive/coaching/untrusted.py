"""Untrusted text on its way into a prompt: the question, the history, the profile's fields
and the corpus's passages all arrive as *data*, never as instructions.

Each reaches a model inside a delimited block (`<user_message>`, `<profile>`, `<passage>`),
and whatever inside it looks like a delimiter is neutralised first, so that no text can close
its block and speak as the system. Sentences that try to take over the assistant (the same
meaning-based screen the typed question goes through) are set aside with a visible marker:
the rest of the turn, field or passage is still used, so one hostile sentence in a pasted
résumé does not cost the user their answer.
"""

from __future__ import annotations

import re
from dataclasses import replace

from thrive.base.schema import GuideSentence, Passage, Turn
from thrive.base.text import split_sentences
from thrive.coaching.safety import looks_like_injection

SET_ASIDE = "[instruction-like text set aside]"

# Chat-template and prompt delimiters of the common model families, and ours: `<...>` tags
# (ours, ChatML's `<|im_start|>`, Gemma's `<start_of_turn>`), Llama's `[INST]`/`<<SYS>>`, and
# template syntax (`{{ }}`, `{% %}`) in case a server-side template renders message text.
_ANGLE = str.maketrans({"<": "‹", ">": "›"})
_BRACKET_ROLES = re.compile(r"\[(/?)(INST|SYS)\]", re.I)
_TEMPLATE = re.compile(r"\{([{%#])|([}%#])\}")
# "System:" at the start of a line imitates a role header in plain-text prompt formats.
_ROLE_LINE = re.compile(r"^(\s*)(system|assistant|developer|user|human)(\s*:)", re.I | re.M)


def neutralise(text: str) -> str:
    """`text` with everything that could pass for a delimiter made inert, still readable."""
    text = text.translate(_ANGLE)
    text = _BRACKET_ROLES.sub(lambda m: f"({m.group(1)}{m.group(2)})", text)
    text = _TEMPLATE.sub(lambda m: f"{{ {m.group(1)}" if m.group(1) else f"{m.group(2)} }}", text)
    return _ROLE_LINE.sub(r"\1\2 (quoted)\3", text)


def set_aside_instructions(text: str) -> str:
    """`text` with each line or sentence that asks to take over the assistant replaced by
    a marker. Whole lines are checked first: an attack may span sentences."""
    out = []
    for line in text.split("\n"):
        if not looks_like_injection(line):
            out.append(line)
            continue
        kept = [s if not looks_like_injection(s) else SET_ASIDE for s in split_sentences(line)]
        # The line as a whole asked for it even if no sentence alone did: set it all aside.
        out.append(" ".join(kept) if SET_ASIDE in kept else SET_ASIDE)
    return "\n".join(out)


def as_data(text: str) -> str:
    """Untrusted text ready to sit inside a data block."""
    return neutralise(set_aside_instructions(text))


def block(tag: str, text: str, **attributes: str) -> str:
    """`<tag a="...">text</tag>`; attribute values are neutralised like the text."""
    attrs = "".join(
        f' {k}="{neutralise(v).replace(chr(34), chr(39))}"' for k, v in attributes.items()
    )
    return f"<{tag}{attrs}>\n{as_data(text)}\n</{tag}>"


def profile_block(description: str) -> str:
    """The profile, as `Profile.describe` words it, as a data block."""
    return block("profile", description)


def user_block(text: str) -> str:
    return block("user_message", text)


def history_content(turn: Turn) -> str:
    """A turn of the history as the model sees it: the user's turns are data blocks; the
    assistant's were ours but arrive back from the caller, so they are screened too."""
    return user_block(turn.content) if turn.role == "user" else as_data(turn.content)


def passages_block(passages: list[Passage]) -> str:
    return (
        "\n".join(block("passage", p.text, id=p.section_id, title=p.title) for p in passages)
        or "<passage>(none)</passage>"
    )


def screened_passage(passage: Passage) -> Passage:
    """A passage with instruction-like sentences set aside, for every backend alike: a guide
    file dropped into `corpus/` is data too, and the offline coach quotes sentences as-is."""
    if not looks_like_injection(passage.text) and not any(
        looks_like_injection(s.text) for s in passage.sentences
    ):
        return passage
    sentences = tuple(s for s in passage.sentences if not looks_like_injection(s.text)) or (
        GuideSentence(SET_ASIDE),
    )
    return replace(passage, text=set_aside_instructions(passage.text), sentences=sentences)
