"""The ``xeroctl`` Typer app, its global options and the helpers every command module uses.

Where the API URL and key come from, first found wins: ``--api-url``/``--api-key``, then
``XEROTIER_API_URL``/``XEROTIER_API_KEY``, then the config file's profile (``--profile``, else
``XEROTIER_PROFILE``, else the file's ``current``), then the default URL.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from xerotier.cli import config_file
from xerotier.cli.output import OutputFormat, err_console, layout
from xerotier.client.http import ApiError, XerotierClient

DEFAULT_API_URL = "http://127.0.0.1:8000"
KEY_HINT = (
    "Set a key with --api-key, the XEROTIER_API_KEY variable, or `xeroctl login` "
    "(mint one with `xerotier keys create --project <slug>`)."
)

app = typer.Typer(help="Xerotier model registry client.", no_args_is_help=True)
models_app = typer.Typer(help="Manage models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@dataclass
class Target:
    """The API URL and key in use, and where each came from (flag, environment, profile, default)."""

    api_url: str
    api_key: str | None
    url_source: str
    key_source: str
    profile: str


class State:
    output: OutputFormat = OutputFormat.table
    api_url: str | None = None
    api_key: str | None = None
    profile: str | None = None

    def target(self) -> Target:
        try:
            config = config_file.load()
        except config_file.ConfigError as exc:
            err_console.print(f"Error: {exc.message}", markup=False)
            raise typer.Exit(1) from None
        profile = config_file.active_profile(config, self.profile)
        saved = config.profile(profile)
        url, url_source = _first(
            (self.api_url, "--api-url"),
            (os.environ.get("XEROTIER_API_URL"), "XEROTIER_API_URL"),
            (saved.get("api_url"), f"profile {profile}"),
            (DEFAULT_API_URL, "default"),
        )
        key, key_source = _first(
            (self.api_key, "--api-key"),
            (os.environ.get("XEROTIER_API_KEY"), "XEROTIER_API_KEY"),
            (saved.get("api_key"), f"profile {profile}"),
            (None, "none"),
        )
        return Target(url or DEFAULT_API_URL, key, url_source, key_source, profile)

    def client(self) -> XerotierClient:
        target = self.target()
        return XerotierClient(target.api_url, target.api_key)


def _first(*candidates: tuple[str | None, str]) -> tuple[str | None, str]:
    for value, source in candidates:
        if value:
            return value, source
    return candidates[-1]


state = State()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"xeroctl {version('xerotier')}")
        raise typer.Exit()


@app.callback()
def main_options(
    output: Annotated[
        OutputFormat,
        typer.Option("--output", "-o", help="table, json or yaml (also accepted after any command)"),
    ] = OutputFormat.table,
    api_url: Annotated[
        str | None, typer.Option(help="API base URL [env XEROTIER_API_URL, then the profile]")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="API key [env XEROTIER_API_KEY, then the profile]")
    ] = None,
    profile: Annotated[
        str | None, typer.Option(help="Config file profile [env XEROTIER_PROFILE; default: current]")
    ] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="Tables at their natural width, whatever the terminal")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    state.output, state.api_url, state.api_key, state.profile = output, api_url, api_key, profile
    layout.wide = wide


def call(action: Callable[[XerotierClient], Any]) -> Any:
    """Run ``action`` with a client; an API error becomes a one-line message and exit code 1."""
    try:
        with state.client() as client:
            return action(client)
    except ApiError as exc:
        prefix = f"Error ({exc.status})" if exc.status else "Error"
        err_console.print(f"{prefix}: {exc.message}", markup=False, soft_wrap=True)
        if exc.status == 401:
            err_console.print(KEY_HINT, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None


def confirm(question: str, yes: bool) -> None:
    """Ask before destroying something, unless ``--yes``; "no" ends the command (exit 1).

    Without a terminal on stdin (a script, a pipe) there is no one to ask: the command proceeds.
    """
    if yes or not sys.stdin.isatty():
        return
    if not typer.confirm(question, default=False, err=True):
        err_console.print("Aborted: nothing was changed.", markup=False)
        raise typer.Exit(1)


Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")]


# --- `-o/--output` and `--wide` after any command ----------------------------------------------


def _set_output(value: OutputFormat | None) -> None:
    if value is not None:
        state.output = OutputFormat(value)


def _set_wide(value: bool) -> None:
    if value:
        layout.wide = True


_options_template = typer.Typer()


@_options_template.command()
def _with_command_options(
    output: Annotated[
        OutputFormat | None,
        typer.Option("--output", "-o", help="table, json or yaml", callback=_set_output, expose_value=False),
    ] = None,
    wide: Annotated[
        bool,
        typer.Option("--wide", help="Tables at their natural width", callback=_set_wide, expose_value=False),
    ] = False,
) -> None:
    """Only a carrier of the two options every command gets."""


def add_command_options(command: Any) -> Any:
    """Give every command ``-o/--output`` and ``--wide`` (unless it has its own), as the app has.

    Applied to the built command tree, so command modules need not declare them.
    """
    if hasattr(command, "commands"):
        for sub in command.commands.values():
            add_command_options(sub)
        return command
    # (a one-command Typer app also carries the completion options: take only ours)
    template = [p for p in typer.main.get_command(_options_template).params if p.name in ("output", "wide")]
    taken = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    names = {p.name for p in command.params}
    for param in template:
        if not set(param.opts) & taken and param.name not in names:
            command.params.append(param)
    return command


def main() -> None:
    command = add_command_options(typer.main.get_command(app))
    command(prog_name="xeroctl")
