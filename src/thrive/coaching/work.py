"""The person's work as a question or profile names it: "I'm a freelance translator",
"as a transcriptionist", "I edit wedding videos", an earlier question of the conversation,
or the profile's occupation and skills.

The offline coach opens with that work by name and its exposure, so the answer is about
this person before it is about the guide.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from thrive.base.schema import Profile
from thrive.coaching.safety import looks_like_injection

# "I'm a (freelance) translator", "I work as a bookkeeper", "as a voice-over artist, ..."
_ROLE = re.compile(
    r"\b(?:i\s*(?:'m|am)|i\s+work\s+as|i'?ve\s+been|as)\s+(?:a|an)\s+"
    r"(?:(?:freelance|self-employed|independent|solo|full-time|part-time)\s+)?"
    r"(?P<work>[a-z][a-z /&+-]{1,40}?)"  # two letters at least: "VA", "PA"
    r"(?=\s*(?:[.,;:!?)]|$|\s(?:and|but|who|with|for|in|at|on|since|from|so|mostly|now|i|i'm|"
    # ...or a verb in -ing: "illustrator doing children's books", "designer working"
    r"(?!(?:some|any|no|every)?things?\b)[a-z]+ing)\b))",
    re.I,
)
# "I edit wedding videos", "I do bookkeeping for small firms", "most of my gigs are data entry"
_ACTIVITY = re.compile(
    r"\bi\s+(?:mostly\s+|mainly\s+|only\s+|just\s+)?"
    r"(?P<verb>do|write|design|edit|make|build|manage|teach|tutor|translate|transcribe|"
    r"create|run|offer|sell|illustrate|photograph|record|code|develop|produce|draw|voice)\s+"
    r"(?P<work>[a-z][a-z /&+-]{2,40}?)"
    r"(?=\s*(?:[.,;:!?)]|$|\s(?:and|but|for|to|in|at|on|online|remotely|from|with|as)\b))"
    r"|\b(?:my\s+(?:gigs|work|jobs|projects|clients?\s+work)\s+(?:is|are)\s+(?:mostly\s+|mainly\s+)?"
    r"(?:simple\s+|basic\s+)?)(?P<work2>[a-z][a-z /&+-]{2,40}?)(?=\s*[.,;:!?]|$)",
    re.I,
)
_NOT_WORK = re.compile(
    r"^(?:(?:bit|little|tad|lot)\b.*|freelancer|beginner|newbie|student|parent|mum|mom|dad|"
    r"person|human|few|way|thing|something|anything|it|that|this|sure|worried|good|"
    r"client|customer|buyer)$",
    re.I,
)
# Adverbs that end a sentence, not part of the work: "I do data entry already", "the
# generic articles I do now".
_ADVERBS = r"now|today|nowadays|currently|already|too|also|anymore|lately|again|well|here|there"
_TRAILING_ADVERB = re.compile(rf"(?:^|\s+)(?:{_ADVERBS})$", re.I)
# Words just before a match that make it a question or a supposition, not the person's
# work: "what should I do this month?", "what do I do first?", "pretend I'm a client".
_NOT_A_STATEMENT = re.compile(
    r"\b(?:should|shall|can|could|would|will|must|might|may|do|does|did|what|how|why|where|"
    r"when|which|pretend|pretending|imagine|suppose|say)\s+$",
    re.I,
)


def _clean(work: str) -> str:
    work = " ".join(work.split()).strip(" -/&+")
    while _TRAILING_ADVERB.search(work):
        work = _TRAILING_ADVERB.sub("", work)
    return re.sub(r"^(?:the|my|some|a|an)\s+", "", work, flags=re.I)


def work_in(question: str, profile: Profile, earlier: Sequence[str] = ()) -> str | None:
    """The work the person names: in the question first ("I'm a translator"), else in
    their earlier questions of the conversation (`earlier`, newest first), else the
    profile's occupation, else its first skill or service. None when none names any."""
    for text in (question, *earlier):
        work = _stated_work(text)
        if work:
            return work
    # The profile's fields are free text: only what reads as the name of some work is used
    # (not "{{ settings.key }}", markup or an instruction someone typed there).
    named = [w for w in (profile.occupation, *profile.work()) if w and _names_work(w)]
    return named[0] if named else None


def _stated_work(text: str) -> str | None:
    """The work a sentence says is the person's own, if any."""
    for match in _ROLE.finditer(text):
        work = _clean(match.group("work"))
        if work and not _NOT_WORK.match(work) and not _asked(text, match):
            return work
    for match in _ACTIVITY.finditer(text):
        raw = match.group("work") or match.group("work2") or ""
        work = _clean(raw)
        if work and not _NOT_WORK.match(work) and not _asked(text, match):
            verb = (match.group("verb") or "").lower()
            # "I edit wedding videos" -> "editing wedding videos"; a bare noun stays as it is
            return f"{_GERUND.get(verb, verb)} {work}".strip() if verb else work
    return None


def named_part(work: str, profile: Profile) -> str:
    """The work without the verb `work_in` put in front of what a sentence says the person
    makes ("I sell blog posts" -> "selling blog posts" -> "blog posts"): whether the guide
    names the work depends on what is made (it names blog posts, not selling). The
    profile's own wording ("managing editor") is kept whole."""
    if work in (profile.occupation, *profile.work()):
        return work
    verb, _, made = work.partition(" ")
    return made if made and verb.lower() in _GERUND.values() else work


def _asked(text: str, match: re.Match[str]) -> bool:
    return bool(_NOT_A_STATEMENT.search(text[: match.start()]))


# Letters (any script), digits and the punctuation of job titles: "UX/UI designer",
# "voice-over artist", "A&R scout", "C++ developer".
_WORK_NAME = re.compile(r"^[^\W_][\w .,'’&/+()-]{1,79}$")


def _names_work(text: str) -> bool:
    return bool(_WORK_NAME.match(text.strip())) and not looks_like_injection(text)


_GERUND = {
    "do": "",
    "write": "writing",
    "design": "designing",
    "edit": "editing",
    "make": "making",
    "build": "building",
    "manage": "managing",
    "teach": "teaching",
    "tutor": "tutoring",
    "translate": "translating",
    "transcribe": "transcribing",
    "create": "creating",
    "run": "running",
    "offer": "offering",
    "sell": "selling",
    "illustrate": "illustrating",
    "photograph": "photographing",
    "record": "recording",
    "code": "coding",
    "develop": "developing",
    "produce": "producing",
    "draw": "drawing",
    "voice": "voicing",
}
