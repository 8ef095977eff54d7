"""Bad input through the Python API gets one `InputError` naming the fix, never a
KeyError, TypeError or pydantic's ValidationError."""

import pytest

from thrive.base.errors import BackendUnavailable, InputError
from thrive.base.schema import AnswerRequest, Profile, as_profile
from thrive.models.chat_model import ChatModelBackend

BAD_HISTORY = [
    [{"content": "no role"}],
    [{"role": "system", "content": "not a turn of the conversation"}],
    [{"role": "user"}],
    [{"role": "user", "content": 42}],
    ["just a string"],
    [None],
    [{"role": "user", "content": "caf\udce9 menus"}],  # a JSON escape can spell a lone surrogate
]


@pytest.mark.parametrize("history", BAD_HISTORY)
def test_a_malformed_history_item_is_named(coach, history):
    with pytest.raises(InputError) as err:
        coach.ask("What should I do about it?", history=history)
    assert str(err.value).startswith("History item 1 ")


BAD_PROFILES = [
    {"experience_years": "many"},
    {"experience_years": -3},
    {"skills": [{"nested": "object"}] * 60},
    {"goals": "x" * 100_000},
    {"occupation": "y" * 100_000},
    {"skills": ["z" * 100_000]},
    ["a", "list"],
    "a string",
    {"occupation": "caf\udce9 owner"},
    {"skills": ["caf\udce9 menus"]},
]


@pytest.mark.parametrize("profile", BAD_PROFILES)
def test_a_bad_profile_is_an_input_error(coach, profile):
    with pytest.raises(InputError) as err:
        coach.ask("Am I at risk?", profile=profile)
    assert "profile" in str(err.value).lower()


def test_good_profiles_still_pass():
    profile = as_profile({"skills": "copywriting; SEO", "experience_years": 4, "goals": "grow"})
    assert profile.skills == ["copywriting", "SEO"] and profile.experience_years == 4
    assert as_profile(None) == Profile()


class _BrokenModel:
    """A chat model whose reply cannot be parsed, as a malformed server answer would be."""

    def __or__(self, _other):
        return self

    def stream(self, _messages):
        yield "half an answer"
        raise ValueError("Expecting value: line 1 column 1 (char 0)")


def test_an_unknown_error_from_a_chat_model_is_a_backend_failure():
    backend = ChatModelBackend(_BrokenModel(), "openai-compatible:test")  # type: ignore[arg-type]
    request = AnswerRequest("q", [], Profile(), [], [("user", "q")])
    with pytest.raises(BackendUnavailable) as err:
        list(backend.stream(request))
    assert "openai-compatible:test" in str(err.value) and "extractive" in str(err.value)
