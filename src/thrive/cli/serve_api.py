"""`thrive serve-api`: the HTTP API (FastAPI on uvicorn) beside the page.

The API is a face of its own: uvicorn imports it by name, as `thrive app` hands the page to
Streamlit, so the CLI never imports it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from thrive.base.errors import ThriveError
from thrive.cli.common import err_console, fail, settings_for

commands = typer.Typer()


@commands.command("serve-api")
def serve_api(
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 in a container.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the coach over HTTP: POST /v1/ask, /v1/exposure, /v1/niches; docs at /docs.
    The backend is THRIVE_LLM's; with THRIVE_API_TOKEN set, requests need that token."""
    import uvicorn

    auth = (
        "bearer token required" if settings_for().api_token else "no token (THRIVE_API_TOKEN unset)"
    )
    err_console.print(
        f"Thrive API: loading, then on http://{host}:{port} (docs at /docs), {auth}. "
        "Ctrl-C to stop."
    )
    try:
        uvicorn.run(
            "thrive.api:from_environment",
            factory=True,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
        )
    except ThriveError as err:  # from loading the coach: no index, a bad THRIVE_LLM
        raise fail(err) from err
