"""Who is using the page: the single local user, or a person signed in with Streamlit's own
OIDC (`st.login`, `st.user`, `st.logout`).

Sign-in is on when Streamlit's secrets hold an `[auth]` section: `.streamlit/secrets.toml`,
or the file `THRIVE_SECRETS` names (`thrive app` hands it to Streamlit as `secrets.files`).
Without it the page serves the one user `local`, as before sign-in existed.

The storage key of a signed-in person is `oidc-` and a SHA-256 of the ID token's issuer and
subject (see `user_id_for`). It is used for storage only: never shown, never in a prompt.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit import config as st_config
from streamlit.errors import StreamlitSecretNotFoundError

from thrive.ui.text import plain

LOCAL_USER = "local"
SECRETS_ENV = "THRIVE_SECRETS"
# What Streamlit's OIDC client needs (see `st.login`): shared keys, then per provider.
SHARED_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
FIX = 'See "Sign-in" in the README, then restart the page.'


@dataclass(frozen=True)
class Account:
    """The person the page serves in this session."""

    user_id: str  # the storage key: never shown, never put in a prompt
    label: str  # how the page names them: name and e-mail, or the local user
    signed_in: bool

    @property
    def whose(self) -> str:
        """For sentences such as "kept for …"."""
        return self.label if self.signed_in else "this computer's single local user"


LOCAL = Account(LOCAL_USER, "Local user", signed_in=False)


def user_id_for(issuer: str, subject: str) -> str:
    """A stable storage key for one person at one identity provider.

    OIDC promises `sub` unique only within its issuer, so both go in. Hashed because some
    providers put an e-mail address in `sub` (this keeps it out of the database keys and
    logs) and to give every provider a fixed-length key. Unkeyed, so that rotating
    `cookie_secret` never orphans anyone's data."""
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()
    return f"oidc-{digest[:32]}"


def auth_section() -> Mapping[str, Any] | None:
    """The `[auth]` secrets, or None when sign-in is not configured. Raises `SignInProblem`
    when secrets are configured but cannot be read: the page then stops rather than serve
    everyone as the local user."""
    named = os.environ.get(SECRETS_ENV)
    if named:
        _check_named_file(Path(named).expanduser())
    try:
        section = st.secrets.get("auth")
    except StreamlitSecretNotFoundError as err:
        if getattr(err, "error_id", "") == "no-secrets-found" and not named:
            return None
        raise SignInProblem(f"The secrets for sign-in cannot be read: {err}. {FIX}") from None
    return section if isinstance(section, Mapping) and section else None


def _check_named_file(path: Path) -> None:
    if not path.is_file():
        raise SignInProblem(
            f"{SECRETS_ENV} names {path}, which is not a file. Point it at your secrets.toml "
            f"(with an [auth] section) or unset it, then restart the page."
        )
    files = [Path(f).resolve() for f in st_config.get_option("secrets.files") or []]
    if path.resolve() not in files:
        raise SignInProblem(
            f"{SECRETS_ENV} is set, but Streamlit was started without it. Start the page "
            f"with `thrive app`, or pass `--secrets.files {path}` to `streamlit run`."
        )


class SignInProblem(Exception):
    """Sign-in is configured but unusable; the message names the fix."""


def providers(section: Mapping[str, Any]) -> list[str]:
    """The providers to offer: named sub-sections (`[auth.google]`), else the default one."""
    named = [k for k, v in section.items() if isinstance(v, Mapping) and "client_id" in v]
    return named or ["default"]


def config_problem(section: Mapping[str, Any]) -> str | None:
    """What is missing from `[auth]`, as one sentence naming the fix; None when complete.
    Streamlit would raise on the sign-in button instead, with a traceback."""
    missing = [f"[auth] {k}" for k in SHARED_KEYS if not section.get(k)]
    for name in providers(section):
        where = section if name == "default" else section[name]
        label = "[auth]" if name == "default" else f"[auth.{name}]"
        missing += [f"{label} {k}" for k in PROVIDER_KEYS if not where.get(k)]
    redirect = str(section.get("redirect_uri") or "")
    if redirect and not redirect.rstrip("/").endswith("/oauth2callback"):
        return (
            f"Sign-in is misconfigured: [auth] redirect_uri is {redirect}, but it must be the "
            f"page's address followed by /oauth2callback. {FIX}"
        )
    if missing:
        return f"Sign-in is misconfigured: the secrets lack {', '.join(missing)}. {FIX}"
    return None


def _claim(name: str) -> str:
    value = st.user.get(name)
    return str(value).strip() if isinstance(value, str) else ""


def account() -> Account | None:
    """The person this session serves. None when the page must stop here: a sign-in screen
    or a configuration message has been drawn instead (nothing of anyone's data)."""
    try:
        section = auth_section()
    except SignInProblem as err:
        st.error(str(err), icon=":material/lock:")
        return None
    if section is None:
        return LOCAL
    problem = config_problem(section)
    if problem:
        st.error(problem, icon=":material/lock:")
        return None
    if not st.user.get("is_logged_in"):
        sign_in_screen(section)
        return None
    issuer, subject = _claim("iss"), _claim("sub")
    if not (issuer and subject):
        st.error(
            "Your sign-in provider did not say who you are (no issuer or subject in the ID "
            "token). Sign out and in again, or ask whoever runs this page to check it.",
            icon=":material/lock:",
        )
        st.button("Sign out", on_click=st.logout, key="thrive.sign_out")
        return None
    name, email = _claim("name"), _claim("email")
    label = f"{name} ({email})" if name and email and name != email else name or email
    return Account(user_id_for(issuer, subject), label or "Signed-in user", signed_in=True)


def user_id() -> str:
    """The storage key of this session's person, for the parts of the page the frame lets
    draw (`account()` found someone): `local` without sign-in. Raises `SignInProblem` when
    sign-in is on and nobody is signed in, so no part of the page ever falls back to the
    local user's data."""
    if auth_section() is None:
        return LOCAL_USER
    issuer, subject = _claim("iss"), _claim("sub")
    if not (st.user.get("is_logged_in") and issuer and subject):
        raise SignInProblem("Nobody is signed in. Sign in, then try again.")
    return user_id_for(issuer, subject)


def sign_in_screen(section: Mapping[str, Any]) -> None:
    """What a signed-out visitor sees: what Thrive is and the sign-in button(s), nothing
    else: no navigation, no sidebar, no data."""
    st.title(":material/eco: Thrive")
    st.markdown("Coaching for freelancers facing generative AI, grounded in one guide.")
    st.info(
        "Sign in to see your situation and conversations. Each person's data is kept "
        "apart: nobody else sees yours.",
        icon=":material/lock:",
    )
    for name in providers(section):
        label = "Sign in" if name == "default" else f"Sign in with {name.title()}"
        if st.button(label, type="primary", icon=":material/login:", key=f"thrive.login.{name}"):
            st.login() if name == "default" else st.login(name)


def sidebar(who: Account) -> None:
    """Who is signed in, and the sign-out button (nothing for the local user)."""
    if not who.signed_in:
        return
    st.sidebar.caption(f":material/account_circle: Signed in as {plain(who.label)}")
    st.sidebar.button(
        "Sign out", key="thrive.sign_out", icon=":material/logout:", on_click=st.logout
    )
