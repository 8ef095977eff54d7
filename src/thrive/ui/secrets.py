"""The API key from Streamlit's secrets (`.streamlit/secrets.toml`), for the page only.

The environment wins; without it, a root-level `OPENAI_API_KEY` (or `THRIVE_OPENAI_API_KEY`)
in the secrets file is used. It stays a `SecretStr` on the settings, like one from the
environment.
"""

from __future__ import annotations

import streamlit as st
from pydantic import SecretStr

from thrive.base.settings import Settings

_NAMES = ("OPENAI_API_KEY", "THRIVE_OPENAI_API_KEY")


def with_streamlit_secrets(settings: Settings) -> Settings:
    """`settings` with the key from Streamlit's secrets when the environment set none."""
    if settings.api_key():
        return settings
    try:
        found = next((str(st.secrets[n]) for n in _NAMES if n in st.secrets), None)
    except (FileNotFoundError, OSError, ValueError):  # no secrets file, or not valid TOML
        return settings
    if not found:
        return settings
    return settings.model_copy(update={"openai_api_key": SecretStr(found)})
