"""Sign-in on the page, driven by AppTest with `at.user` (the identity `st.user` reads) and
`at.secrets` (the `[auth]` section that switches sign-in on).

AppTest cannot follow `st.login` to a provider (tests/test_signin_browser.py does, in a real
browser); it can seat a signed-in or signed-out person on the real page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from streamlit.testing.v1 import AppTest

from page_driver import APP, ask
from thrive.base.schema import AnswerRequest
from thrive.base.settings import Settings
from thrive.base.storage import UserData
from thrive.models.base import Backend
from thrive.models.extractive import ExtractiveBackend
from thrive.models.registry import _FACTORIES, register
from thrive.ui import situation
from thrive.ui.auth import user_id_for
from thrive.ui.privacy import CONFIRM, where_kept

ISSUER = "http://127.0.0.1:9/"  # never called: AppTest seats the user directly
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret-long-enough",
    "client_id": "thrive",
    "client_secret": "thrive-secret",
    "server_metadata_url": f"{ISSUER}.well-known/openid-configuration",
}
ALICE = {"sub": "alice-sub-7f3a", "name": "Alice Archer", "email": "alice@example.com"}
BOB = {"sub": "bob-sub-91c2", "name": "Bob Baker", "email": "bob@example.com"}
QUESTION = "I write blog posts and product descriptions. Am I at risk?"


def page(user: dict[str, Any] | None, auth: dict[str, Any] | None = AUTH) -> AppTest:
    """The page for `user` (None: signed out) with sign-in configured by `auth`."""
    at = AppTest.from_file(str(APP), default_timeout=180)
    if auth is not None:
        at.secrets["auth"] = dict(auth)
    at.user = {"is_logged_in": True, "iss": ISSUER, **user} if user else {"is_logged_in": False}
    at.run()
    assert not at.exception, at.exception
    return at


def data_of(data_dir: Path, user: dict[str, Any]) -> UserData:
    return UserData(data_dir, user_id=user_id_for(ISSUER, user["sub"]))


def shown(at: AppTest) -> str:
    """Every text the page shows, main area and sidebar."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "info", "error", "success", "title")
        for e in getattr(at, kind)
    ]
    parts += [b.label for b in at.button] + [m.markdown[0].value for m in at.chat_message]
    parts += [str(getattr(e, "value", "")) for e in at.text_input]
    return "\n".join(str(p) for p in parts)


def save_skills(at: AppTest, skills: str) -> None:
    at.text_input(key=situation.SKILLS).input(skills)
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception, at.exception


# -- signed out and misconfigured ------------------------------------------------------------


def test_a_signed_out_visitor_sees_only_the_sign_in_screen(data_dir: Path) -> None:
    # Alice has data; a signed-out visitor must see none of it.
    alice = page(ALICE)
    save_skills(alice, "copywriting, SEO")
    ask(alice, QUESTION)

    at = page(None)
    assert [b.label for b in at.button] == ["Sign in"]
    assert any("Sign in to see your situation" in i.value for i in at.info)
    assert not at.chat_input and not at.chat_message
    assert not at.sidebar.expander and not at.text_input  # no situation form, no data panel
    assert "copywriting" not in shown(at) and QUESTION not in shown(at)


def test_named_providers_each_get_a_sign_in_button(data_dir: Path) -> None:
    auth = {k: AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    auth["google"] = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    auth["okta"] = dict(auth["google"])
    at = page(None, auth)
    assert [b.label for b in at.button] == ["Sign in with Google", "Sign in with Okta"]


@pytest.mark.parametrize(
    ("drop", "named"),
    [("client_secret", "[auth] client_secret"), ("cookie_secret", "[auth] cookie_secret")],
)
def test_a_misconfigured_auth_section_shows_one_message_naming_the_fix(
    data_dir: Path, drop: str, named: str
) -> None:
    at = page(None, {k: v for k, v in AUTH.items() if k != drop})
    assert not at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    message = at.error[0].value
    assert named in message and 'See "Sign-in" in the README' in message
    assert not at.button and not at.chat_input  # neither sign-in nor anyone's data


def test_a_redirect_uri_without_the_callback_path_is_named(data_dir: Path) -> None:
    at = page(None, {**AUTH, "redirect_uri": "http://127.0.0.1:8501/"})
    assert len(at.error) == 1 and "/oauth2callback" in at.error[0].value


# -- signed in -------------------------------------------------------------------------------


def test_two_signed_in_users_see_only_their_own_data(data_dir: Path) -> None:
    alice = page(ALICE)
    save_skills(alice, "copywriting, SEO")
    ask(alice, QUESTION)
    assert any(
        "Signed in as Alice Archer (alice@example.com)" in c.value for c in alice.sidebar.caption
    )
    assert any(b.label == "Sign out" for b in alice.sidebar.button)

    bob = page(BOB)
    assert bob.text_input(key=situation.SKILLS).value == ""  # not Alice's situation
    assert not any(b.key and b.key.startswith("thrive.open.") for b in bob.button)
    save_skills(bob, "logo design")
    ask(bob, "Should I learn to use image generators?")

    a, b = data_of(data_dir, ALICE), data_of(data_dir, BOB)
    assert a.load_profile()["skills"] == ["copywriting", "SEO"]
    assert b.load_profile()["skills"] == ["logo design"]
    assert [c.title for c in a.conversations()] != [c.title for c in b.conversations()]
    assert UserData(data_dir).conversations() == []  # nothing landed on the local user

    # A new session of each shows their own conversation in the list, and only that.
    again = page(ALICE)
    opened = [x.key for x in again.button if x.key and x.key.startswith("thrive.open.")]
    assert opened == [f"thrive.open.{a.conversations()[0].id}"]
    assert again.text_input(key=situation.SKILLS).value == "copywriting, SEO"

    # Bob deletes all his data; Alice's stays.
    bob.checkbox(key=CONFIRM).check().run()
    bob.button(key="thrive.delete_all").click().run()
    assert not bob.exception
    assert b.conversations() == [] and b.load_profile() == {}
    assert len(a.conversations()) == 1 and a.load_profile()["skills"] == ["copywriting", "SEO"]


def test_a_conversation_link_of_another_user_opens_nothing(data_dir: Path) -> None:
    alice = ask(page(ALICE), QUESTION)
    conv_id = data_of(data_dir, ALICE).conversations()[0].id
    assert alice.query_params.get("c") == conv_id
    bob = AppTest.from_file(str(APP), default_timeout=180)
    bob.secrets["auth"] = dict(AUTH)
    bob.user = {"is_logged_in": True, "iss": ISSUER, **BOB}
    bob.query_params["c"] = conv_id  # Alice's link, pasted by Bob
    bob.run()
    assert not bob.exception and not bob.chat_message
    assert QUESTION not in shown(bob)


def test_sign_out_returns_to_the_sign_in_screen(data_dir: Path) -> None:
    at = page(ALICE)
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in"] and not at.chat_input


def test_your_data_says_what_where_and_for_whom(data_dir: Path) -> None:
    signed_in = "\n".join(c.value for c in page(ALICE).sidebar.caption)
    assert "Kept for Alice Archer (alice@example.com)" in signed_in
    for what in ("situation", "conversations", "messages", "feedback", "progress of your plan"):
        assert what in signed_in
    assert str((data_dir / "thrive.sqlite3").resolve()) in signed_in.replace("\\", "")
    assert "leaves everyone else's data" in signed_in

    local = page(None, auth=None)  # no [auth]: the one local user, as before sign-in
    text = "\n".join(c.value for c in local.sidebar.caption)
    assert "Kept for this computer's single local user" in text
    assert not any(b.label == "Sign out" for b in local.button)


def test_a_shared_database_is_named_by_its_host_never_its_password() -> None:
    where = where_kept(
        Path("x"), "postgresql+psycopg://thrive:s3cret-pw@db.example.org:5432/thrive"
    )
    assert where == "in the shared database on db.example.org:5432, database thrive"
    assert "s3cret" not in where and "thrive:" not in where


# -- the user id stays out of prompts and answers ------------------------------------------


class RecordingBackend(ExtractiveBackend):
    """The offline coach, keeping every request it was handed (the prompt included)."""

    seen: ClassVar[list[AnswerRequest]] = []

    def stream(self, request: AnswerRequest) -> Iterator[str]:
        RecordingBackend.seen.append(request)
        return super().stream(request)


@pytest.fixture()
def recording(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Iterator[list[AnswerRequest]]:
    def factory(model: str, settings: Settings) -> Backend:
        return RecordingBackend()

    register("recording")(factory)
    RecordingBackend.seen = []
    monkeypatch.setenv("THRIVE_LLM", "recording:x")
    yield RecordingBackend.seen
    _FACTORIES.pop("recording", None)


def test_the_user_id_is_never_in_a_prompt_or_an_answer(
    data_dir: Path, recording: list[AnswerRequest]
) -> None:
    user_id = user_id_for(ISSUER, ALICE["sub"])
    at = page(ALICE)
    save_skills(at, "copywriting")
    ask(at, QUESTION)
    assert recording, "the page did not reach the backend"
    assert data_of(data_dir, ALICE).conversations(), "the question was not kept for Alice"
    prompt = "\n".join(content for request in recording for _, content in request.messages)
    assert "copywriting" in prompt  # the prompt does carry her situation
    for secret in (user_id, ALICE["sub"], user_id.removeprefix("oidc-")):
        assert secret not in prompt
        assert secret not in repr(recording)
        assert secret not in shown(at)


# -- THRIVE_SECRETS ----------------------------------------------------------------------------


def test_thrive_secrets_naming_a_missing_file_stops_the_page(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THRIVE_SECRETS", str(tmp_path / "nowhere.toml"))
    at = page(None, auth=None)
    assert len(at.error) == 1 and "THRIVE_SECRETS names" in at.error[0].value
    assert not at.chat_input and not at.button  # never the local user's page instead


def test_thrive_secrets_unknown_to_streamlit_names_the_launch_to_use(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "secrets.toml"
    named.write_text('[auth]\nredirect_uri = "http://127.0.0.1:8501/oauth2callback"\n')
    monkeypatch.setenv("THRIVE_SECRETS", str(named))
    at = page(None, auth=None)  # started without --secrets.files: [auth] would go unread
    assert len(at.error) == 1 and "thrive app" in at.error[0].value
    assert not at.chat_input


def test_thrive_app_refuses_a_missing_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from thrive.cli.main import app

    monkeypatch.setenv("THRIVE_SECRETS", str(tmp_path / "nowhere.toml"))
    result = CliRunner().invoke(app, ["app", "--no-open", "--port", "9"])
    assert result.exit_code == 1
    assert "THRIVE_SECRETS names" in result.output and "nowhere.toml" in result.output
