"""The guide's niche patterns, and the niches and human-centric skills the guide itself names.

The guide's niches combine a skill, an industry and something AI cannot do well:
"Cybersecurity Content Writer", "UX Design for Healthcare AI Applications", "AI Ethics
Consulting", "creative direction for marketing campaigns". Each pattern below is one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from thrive.knowledge.guide import Guide

# Used when the profile names skills but no industry: the industries of the guide's own
# niche examples ("UX Design for Healthcare AI Applications", "Cybersecurity Content Writer").
GUIDE_DOMAINS = ("healthcare", "cybersecurity")
_QUOTED = re.compile(r"[\"“]([^\"”]{4,80}?),?[\"”]")
_LABELLED = re.compile(r"^([A-Z][^:.]{3,60}):\s")


@dataclass(frozen=True)
class Pattern:
    """A way the guide builds a niche. Names and steps are filled with {skill}/{domain}."""

    key: str
    name: str
    example: str  # the guide's own example of the pattern, quoted in the why
    source: str  # the section the example comes from
    reason: str
    strategies: tuple[str, ...]
    steps: tuple[str, str, str]
    needs_skill: bool = True


PATTERNS = (
    Pattern(
        "specialist",
        "{Skill} Specialist for {Domain}",
        "Cybersecurity Content Writer",
        "strategy-2",
        "deep {domain} knowledge turns {skill} into expert-level work that generic AI output "
        "cannot match",
        ("strategy-2", "strategy-1"),
        (
            "Write one in-depth {skill} piece on a hard {domain} question, using sources you "
            "checked yourself.",
            'Retitle your profile and portfolio "{niche}" and put that piece first.',
            "Pitch it to three {domain} companies that need specialised knowledge, not volume.",
        ),
    ),
    Pattern(
        "emerging-tech",
        "{Skill} for {Domain} AI Applications",
        "UX Design for Healthcare AI Applications",
        "strategy-2",
        "it pairs your {skill} with a specific industry and an emerging technology, where "
        "understanding people and context matters most",
        ("strategy-2", "strategy-6"),
        (
            "Try two AI products used in {domain} and note where their users still need a "
            "human {skill} judgement.",
            "Take a short course on AI in {domain} and list three problems your {skill} "
            "can solve there.",
            "Offer one {domain} AI team a small paid {skill} review to build a case study.",
        ),
    ),
    Pattern(
        "direction",
        "{Skill} Strategy and Direction for {Domain}",
        "creative direction for marketing campaigns",
        "strategy-7",
        "you set the vision and strategy for {domain} clients and let AI tools handle execution",
        ("strategy-7", "strategy-1", "strategy-3"),
        (
            "Turn one past {skill} job into a case study about the strategy behind it, not "
            "just the output.",
            "Offer a {domain} client a strategy session: their goals, audience and a plan "
            "where AI drafts and you direct.",
            "Price the work per project outcome rather than per deliverable.",
        ),
    ),
    Pattern(
        "ai-consulting",
        "AI Adoption Consulting for {Skill} in {Domain}",
        "AI Ethics Consulting",
        "strategy-2",
        "{domain} teams that use AI for {skill} need human judgement on quality, ethics and "
        "responsible implementation",
        ("strategy-7", "strategy-2", "strategy-3"),
        (
            "List how AI is changing {skill} in {domain} and the risks a client must manage "
            "(accuracy, bias, privacy).",
            "Turn that list into a one-page AI-readiness checklist and share it with two "
            "{domain} contacts.",
            'Package a fixed-price "responsible AI plan" for {skill} in {domain}.',
        ),
    ),
    Pattern(
        "partner",
        "Long-Term {Skill} Partner for {Domain} Businesses",
        "strong, long-term client relationships",
        "strategy-4",
        "{domain} clients pay for someone who understands their context, builds trust and "
        "tailors the work, which generic AI output does not",
        ("strategy-4", "strategy-5"),
        (
            "Ask two past or current {domain} clients what they would hand to a trusted "
            "{skill} partner.",
            "Design a monthly retainer around their answers: regular check-ins plus the "
            "{skill} work itself.",
            "Publish one post showing how you approach {skill} for {domain} businesses.",
        ),
    ),
    Pattern(
        "domain-ethics",
        "Responsible AI Consulting for {Domain}",
        "AI Ethics Consulting",
        "strategy-2",
        "{domain} businesses need help with the ethical challenges of AI implementation, "
        "which calls for judgement rather than generation",
        ("strategy-2", "strategy-7"),
        (
            "Read two recent reports on AI in {domain} and note the ethical questions they raise.",
            "Write a short guide answering one of those questions for {domain} businesses.",
            "Offer a free 30-minute AI risk review to three {domain} organisations.",
        ),
        needs_skill=False,
    ),
)


def human_centric_skills(guide: Guide) -> list[str]:
    """The guide's labelled examples of human-centric work ("Strategic Content Creation",
    "Complex Design Solutions", ...), lower-cased for use as skills."""
    labels = [m.group(1) for m in map(_LABELLED.match, guide.lines("strategy-1")) if m]
    return [label.lower() for label in labels] or ["strategy consulting"]


def guide_examples(guide: Guide) -> list[tuple[str, str]]:
    """The niches the guide itself names (quoted in strategy 2), with their sentences."""
    out = []
    for line in guide.lines("strategy-2"):
        for name in _QUOTED.findall(line):
            out.append((name.strip(), line))
    return out
