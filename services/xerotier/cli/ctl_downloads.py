"""``xeroctl models files|download`` and ``xeroctl models aliases|tags …``.

``<model>`` is any reference, written as is: a version id, ``name``, ``org/name@2.0.0``,
``name@latest``, ``name@champion``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from xerotier.cli.ctl_app import call, models_app, state
from xerotier.cli.output import OutputFormat, console, emit, err_console
from xerotier.client import downloads as api
from xerotier.client.http import XerotierClient

aliases_app = typer.Typer(help="Aliases of a model (champion, challenger …).", no_args_is_help=True)
tags_app = typer.Typer(help="Key/value tags of a model or of one of its versions.", no_args_is_help=True)
models_app.add_typer(aliases_app, name="aliases")
models_app.add_typer(tags_app, name="tags")

FILE_COLUMNS = [("PATH", "path"), ("SIZE", "sizeBytes"), ("SHA256", "sha256")]
ALIAS_COLUMNS = [("ALIAS", "alias"), ("VERSION", "version"), ("VERSION ID", "versionId"), ("WHO", "who")]


@models_app.command("files")
def models_files(model: str) -> None:
    """List a version's files (path, size, sha256)."""
    emit(call(lambda c: api.list_files(c, model)), state.output, FILE_COLUMNS)


@models_app.command("download")
def models_download(
    model: Annotated[str, typer.Argument(help="name, name@version, name@alias or a version id")],
    folder: Annotated[Path, typer.Option("--dir", help="Where to write the files")] = Path("."),
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Only paths matching this glob")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Skip paths matching this glob")
    ] = None,
    parallel: Annotated[int, typer.Option(help="Files downloaded at once", min=1, max=32)] = 4,
) -> None:
    """Download a version's files in parallel, resuming partial files and verifying every sha256."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console,
        disable=state.output is OutputFormat.json,
    )
    tasks: dict[str, Any] = {}
    lock = threading.Lock()

    def on_start(_version: dict[str, Any], files: list[dict[str, Any]]) -> None:
        for f in files:
            tasks[f["path"]] = progress.add_task(f["path"], total=f["sizeBytes"])

    def on_progress(path: str, advance: int) -> None:
        with lock:
            progress.advance(tasks[path], advance)

    def run(client: XerotierClient) -> tuple[dict[str, Any], list[api.FileResult]]:
        with progress:
            return api.download(
                client, model, folder, include or [], exclude or [], parallel, on_start, on_progress
            )

    try:
        version, results = call(run)
    except api.DownloadMismatch as exc:
        err_console.print(f"Error: {exc}", markup=False)
        raise typer.Exit(1) from None
    summary = {
        "id": version["id"],
        "name": version["name"],
        "version": version["version"],
        "dir": str(folder.resolve()),
        "files": [r.__dict__ for r in results],
    }
    if state.output is OutputFormat.json:
        emit(summary, state.output)
        return
    counts = {a: sum(r.action == a for r in results) for a in ("downloaded", "resumed", "skipped")}
    console.print(
        f"{version['name']} {version['version']}: {len(results)} file(s) verified in {summary['dir']} "
        f"({counts['downloaded']} downloaded, {counts['resumed']} resumed, "
        f"{counts['skipped']} already there)",
        markup=False,
    )


@aliases_app.command("list")
def aliases_list(model: str) -> None:
    """Every alias of the model and the version it points at."""
    emit(call(lambda c: api.list_aliases(c, model)), state.output, ALIAS_COLUMNS)


@aliases_app.command("set")
def aliases_set(model: str, alias: str, version: str) -> None:
    """Point ALIAS at VERSION (created or moved; the move is recorded in the version history)."""
    result = call(lambda c: api.set_alias(c, model, alias, version))
    if state.output is OutputFormat.json:
        emit(result, state.output)
    else:
        console.print(f"{alias} → {result['version']}", markup=False)


@aliases_app.command("delete")
def aliases_delete(model: str, alias: str) -> None:
    """Remove an alias."""
    result = call(lambda c: api.delete_alias(c, model, alias))
    if state.output is OutputFormat.json:
        emit(result, state.output)
    else:
        console.print(f"Deleted alias {alias} (was {result['deleted']['version']})", markup=False)


VersionOption = Annotated[
    str | None, typer.Option("--version", help="A version's tags instead of the model's")
]


def _show_tags(tags: dict[str, str]) -> None:
    rows = [{"key": k, "value": v} for k, v in tags.items()]
    emit(
        tags if state.output is OutputFormat.json else rows,
        state.output,
        [("KEY", "key"), ("VALUE", "value")],
    )


@tags_app.command("list")
def tags_list(model: str, version: VersionOption = None) -> None:
    """The model's tags (or a version's, with --version)."""
    _show_tags(call(lambda c: api.list_tags(c, model, version)))


@tags_app.command("set")
def tags_set(model: str, key: str, value: str, version: VersionOption = None) -> None:
    """Set tag KEY to VALUE on the model (or on a version, with --version)."""
    _show_tags(call(lambda c: api.set_tag(c, model, key, value, version)))


@tags_app.command("delete")
def tags_delete(model: str, key: str, version: VersionOption = None) -> None:
    """Remove tag KEY from the model (or from a version, with --version)."""
    _show_tags(call(lambda c: api.delete_tag(c, model, key, version)))
