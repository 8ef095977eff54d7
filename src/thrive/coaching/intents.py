"""Chat messages that ask for a coaching tool, and running that tool for the chat.

"Which of my skills are at risk?" -> exposure, "suggest niches" -> niches, "make me a plan"
-> plan; anything else is None and goes to the chain as a question. Detection is a few
regular expressions, not a model: it is instant, the same with every backend, and a miss
costs little (the chain still answers from the guide).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, cast

from thrive.base.errors import InputError
from thrive.base.schema import Profile, as_profile
from thrive.coaching.tools import ActionPlan, Niche, NicheSuggestions, SkillExposure, parse_skills

if TYPE_CHECKING:
    from thrive.coaching.coach import Coach

Intent = Literal["exposure", "niches", "plan"]
INTENTS: tuple[Intent, ...] = ("exposure", "niches", "plan")

_RISK = r"(?:at risk|risky|exposed|exposure|vulnerable|replace\w*|automat\w*|safe|obsolete|future-proof)"
_EXPOSURE = [
    re.compile(rf"\b(?:skills?|services?|tasks?)\b[^.?!]{{0,60}}\b{_RISK}", re.I),
    re.compile(rf"\b{_RISK}\b[^.?!]{{0,40}}\b(?:skills?|services?)\b", re.I),
    re.compile(r"\b(?:exposure|risk) (?:check|score|scores|level)\b", re.I),
    re.compile(r"^\s*(?:is|are)\s+.+?\s+(?:at risk|exposed|replaceable|safe)\b", re.I),
    re.compile(r"\b(?:check|score|rate|assess)\b[^.?!]{0,30}\b(?:skills?|services?)\b", re.I),
]
_NICHES = re.compile(
    r"\b(?:suggest|recommend|find|which|what|ideas?|options?|give|list|pick|choose|good|"
    r"best|possible|some|show)\b[^.?!]{0,40}\bniches?\b|\bniches?\b[^.?!]{0,30}\b(?:ideas?|"
    r"suggestions?|options?|finder|for me)\b",
    re.I,
)
_PLAN = re.compile(
    r"\b(?:make|build|create|give|draft|write|generate|put together|need|want|prepare|show)\b"
    r"[^.?!]{0,40}\b(?:plan|roadmap)\b|\b(?:30|thirty)[- ]day\b|\baction plan\b",
    re.I,
)
_NEGATED = re.compile(r"\b(?:don't|do not|never|without)\b", re.I)
# 'Tell me more about the niche "<name>"' asks the coach about one niche the tools
# suggested; its name ("... Services", "... for me") must not send it back to a tool.
_TELL_MORE = re.compile(r"^\s*tell me (?:more )?about\b[^\"“]{0,40}[\"“]", re.I)
_NAMED_SKILLS = [
    re.compile(r":\s*(.+)$", re.S),
    re.compile(
        r"^\s*(?:is|are)\s+(?:my\s+)?(.+?)\s+(?:(?:skills?|services?|work)\s+)?"
        r"(?:at risk|exposed|replaceable|safe)\b",
        re.I,
    ),
]
_NOT_SKILLS = re.compile(r"^(?:i|me|my|it|they|these|those|my skills?|my services?|my work)$", re.I)


def detect_intent(text: str) -> Intent | None:
    """The tool a chat message asks for, or None for an ordinary question."""
    if not text or len(text) > 500 or _NEGATED.search(text) or _TELL_MORE.search(text):
        return None
    if _PLAN.search(text):
        return "plan"
    if _NICHES.search(text):
        return "niches"
    if any(p.search(text) for p in _EXPOSURE):
        return "exposure"
    return None


def skills_in(text: str) -> list[str]:
    """Skills named in the message itself ("Are copywriting and SEO at risk?",
    "check these: logo design; UX"), else []."""
    for pattern in _NAMED_SKILLS:
        match = pattern.search(text)
        if not match:
            continue
        named = re.sub(r"[?!.]+\s*$", "", match.group(1))
        parts = re.split(r";|,|\band\b|\n", named)
        skills = [p.strip() for p in parts if p.strip() and not _NOT_SKILLS.match(p.strip())]
        if skills:
            return skills
    return []


@dataclass
class ToolResult:
    """What a tool produced for the chat. `text` is Markdown for the conversation history;
    exactly one of `exposure`, `niches`, `plan` is set, or none when `text` asks for input."""

    intent: Intent
    text: str
    exposure: list[SkillExposure] | None = None
    niches: NicheSuggestions | None = None
    plan: ActionPlan | None = None

    @property
    def complete(self) -> bool:
        return any(x is not None for x in (self.exposure, self.niches, self.plan))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (e.g. kept with a chat message); `from_json` reads it back
        exactly, so a result is shown again without running its tool again."""
        data: dict[str, Any] = {"intent": self.intent, "text": self.text}
        if self.exposure is not None:
            data["exposure"] = [r.to_json() for r in self.exposure]
        if self.niches is not None:
            data["niches"] = {
                "niches": [{**n.to_json(), "score": n.score} for n in self.niches],
                "backend": self.niches.backend,
                "notice": self.niches.notice,
                "generic": self.niches.generic,
            }
        if self.plan is not None:
            data["plan"] = self.plan.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ToolResult:
        """The result `to_json` wrote. Raises `ValueError` for anything else."""
        try:
            intent = data["intent"]
            if intent not in INTENTS:
                raise ValueError(f"unknown intent {intent!r}")
            result = cls(cast(Intent, intent), str(data["text"]))
            if data.get("exposure") is not None:
                result.exposure = [SkillExposure.from_json(r) for r in data["exposure"]]
            if data.get("niches") is not None:
                found = data["niches"]
                result.niches = NicheSuggestions(
                    [Niche(**n) for n in found["niches"]],
                    backend=str(found.get("backend", "extractive")),
                    notice=str(found.get("notice", "")),
                    generic=bool(found.get("generic", False)),
                )
            if data.get("plan") is not None:
                result.plan = ActionPlan.from_json(data["plan"])
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"Not a tool result written by ToolResult.to_json: {err!r}") from err
        return result


def exposure_markdown(results: list[SkillExposure]) -> str:
    """A Markdown table of exposure results, most exposed first."""
    rows = [
        "| Skill | Score | Level | Threats | Strategies |",
        "| --- | ---: | --- | --- | --- |",
    ]
    ordered = sorted(results, key=lambda r: -r.score)
    for r in ordered:
        threats = " ".join(f"[{t}]" for t in r.threats)
        strategies = " ".join(f"[{s}]" for s in r.strategies)
        rows.append(f"| {r.skill} | {r.score} | {r.level} | {threats} | {strategies} |")
    whys = [f"- **{r.skill}**: {r.why}" for r in ordered]
    return "\n".join([*rows, "", *whys])


def run_intent(
    coach: Coach,
    intent: Intent,
    question: str = "",
    profile: Profile | dict[str, Any] | None = None,
    start: date | None = None,
) -> ToolResult:
    """Run the tool `intent` names for this message and profile. Raises `ThriveError` only
    for problems the user must fix elsewhere (a missing guide); missing input is a
    `ToolResult` whose `text` says what to give."""
    person = as_profile(profile)
    if intent == "exposure":
        skills = skills_in(question) or person.work()
        if not skills:
            return ToolResult(
                intent,
                'Tell me which skills to check, for example: "Are copywriting and logo design '
                'at risk?", or add your skills to your profile.',
            )
        try:
            results = coach.exposure(parse_skills(skills))
        except InputError as err:
            return ToolResult(intent, str(err))
        return ToolResult(intent, exposure_markdown(results), exposure=results)
    if intent == "niches":
        niches = coach.niches(person)
        return ToolResult(intent, niches.to_markdown(), niches=niches)
    plan = coach.plan(person, start=start)
    return ToolResult(intent, plan.to_summary(), plan=plan)
