"""Start-up: bring the guide index up to date once per process, with visible progress.

The first run embeds the whole guide (tens of seconds on a small machine) and shows it in
an `st.status`; later runs find every chunk unchanged, show nothing and take milliseconds.
"""

from __future__ import annotations

import logging

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.elements.lib.mutable_status_container import StatusContainer

from thrive.base.errors import ThriveError
from thrive.ui import auth, resources, state

log = logging.getLogger(__name__)


def ensure_index(ctx: resources.PageContext) -> None:
    """Check the index once per process; build or update it when needed.

    A failure is kept for this session (see `index_error`) instead of being retried on
    every rerun; the chat offers "Try again" and "Rebuild" buttons.
    """
    key = resources.store_key(ctx.settings)
    shared = resources.index_state()
    action = st.session_state.pop(state.INDEX_ACTION, None)
    if key in shared.ready and action != "rebuild":
        st.session_state.pop(state.INDEX_ERROR, None)
        ctx.warm_up()
        return
    if state.INDEX_ERROR in st.session_state and action is None:
        return
    with shared.lock:  # two sessions of one process: the second waits, then finds it done
        if key in shared.ready and action != "rebuild":
            st.session_state.pop(state.INDEX_ERROR, None)
            return
        error = _build(ctx, rebuild=action == "rebuild")
    if error:
        st.session_state[state.INDEX_ERROR] = error
        return
    st.session_state.pop(state.INDEX_ERROR, None)
    shared.ready.add(key)
    if action == "rebuild":
        resources.forget_loaded()  # the coach still holds the replaced collection
        ctx = resources.context(auth.user_id())
    ctx.warm_up()


def index_error() -> str | None:
    """Why the guide cannot be searched in this session, or None when it can."""
    value = st.session_state.get(state.INDEX_ERROR)
    return str(value) if value else None


class _Progress:
    """The ingest's progress callback: opens an `st.status` on the first chunk to embed."""

    def __init__(self, slot: DeltaGenerator) -> None:
        self.slot = slot
        self.box: StatusContainer | None = None
        self.bar: DeltaGenerator | None = None

    def __call__(self, done: int, total: int) -> None:
        if total == 0:
            return
        if self.box is None or self.bar is None:
            self.box = self.slot.status("Preparing the guide (first run only)…", expanded=True)
            self.bar = self.box.progress(0.0)
        self.bar.progress(done / total, text=f"Reading the guide: {done} of {total} passages")


def _build(ctx: resources.PageContext, *, rebuild: bool) -> str | None:
    """Run the ingest, showing progress only when there is something to embed."""
    slot = st.empty()
    progress = _Progress(slot)

    def on_wait() -> None:
        slot.info("Another Thrive process is preparing the guide; waiting for it to finish…")

    try:
        report = ctx.coach.update_index(rebuild=rebuild, progress=progress, on_wait=on_wait)
    except ThriveError as err:
        slot.empty()
        return str(err)
    except Exception as err:  # chromadb's own errors: name the fix all the same
        log.exception("index check failed")
        slot.empty()
        return (
            f"The guide index cannot be used ({type(err).__name__}: {err}). "
            "Rebuild it with the button below, or run `thrive ingest --rebuild`."
        )
    if progress.box is not None:
        total = report.embedded + report.unchanged
        progress.box.update(
            label=f"Guide ready: {total} passages indexed in {report.seconds:.0f} s.",
            state="complete",
            expanded=False,
        )
    else:
        slot.empty()
    return None
