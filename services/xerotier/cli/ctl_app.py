"""The ``xeroctl`` Typer app, its global options and the helpers every command module uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from xerotier.cli.output import OutputFormat, err_console
from xerotier.client.http import ApiError, XerotierClient
from xerotier.settings import Settings

app = typer.Typer(help="Xerotier model registry client.", no_args_is_help=True)
models_app = typer.Typer(help="Manage models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


class State:
    output: OutputFormat = OutputFormat.table
    api_url: str | None = None
    api_key: str | None = None

    def client(self) -> XerotierClient:
        settings = Settings()
        return XerotierClient(self.api_url or settings.api_url, self.api_key or settings.api_key)


state = State()


@app.callback()
def main_options(
    output: Annotated[
        OutputFormat, typer.Option("--output", "-o", help="json or table")
    ] = OutputFormat.table,
    api_url: Annotated[str | None, typer.Option(help="API base URL (env XEROTIER_API_URL)")] = None,
    api_key: Annotated[str | None, typer.Option(help="API key (env XEROTIER_API_KEY)")] = None,
) -> None:
    state.output, state.api_url, state.api_key = output, api_url, api_key


def call(action: Callable[[XerotierClient], Any]) -> Any:
    """Run ``action`` with a client; an API error becomes a one-line message and exit code 1."""
    try:
        with state.client() as client:
            return action(client)
    except ApiError as exc:
        prefix = f"Error ({exc.status})" if exc.status else "Error"
        err_console.print(f"{prefix}: {exc.message}", markup=False)
        raise typer.Exit(1) from None
