"""The HTTP API, a face like the CLI and the page: `create_app(settings)` over one `Coach`.

`thrive serve-api` serves it with uvicorn; the routes and their JSON are in DESIGN.md.
"""

from thrive.api.app import create_app, from_environment

__all__ = ["create_app", "from_environment"]
