"""The `thrive` command: one Typer app, the only module that knows every command module.

Command modules build their own `commands` and never import this one, so there is no cycle.
"""

from __future__ import annotations

import typer

from thrive.cli import bench, core, eval, serve_api, serve_model, tools

app = typer.Typer(
    help="Thrive: coaching for freelancers facing generative AI, grounded in a guide.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for module in (core, tools, eval, bench):
    app.add_typer(module.commands)
app.add_typer(serve_api.commands)
app.add_typer(serve_model.commands)

if __name__ == "__main__":
    app()
