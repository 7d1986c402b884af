"""``xerotier blobs gc``: remove blobs that no model file references any more."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from xerotier.cli.server import _migrated_runtime, app
from xerotier.settings import get_settings

blobs_app = typer.Typer(help="The content-addressed blob store.", no_args_is_help=True)
app.add_typer(blobs_app, name="blobs")


@blobs_app.command("gc")
def blobs_gc(
    grace_seconds: Annotated[
        int | None,
        typer.Option(help="Keep blobs released or written more recently (default: the setting)"),
    ] = None,
) -> None:
    """Delete unreferenced blobs (and stray stored bytes) older than the grace period."""
    from xerotier.storage.collector import collect

    runtime = _migrated_runtime()
    grace = get_settings().blob_gc_grace_seconds if grace_seconds is None else grace_seconds
    report = collect(runtime.session_factory, runtime.blobs, timedelta(seconds=grace))
    typer.echo(
        f"removed {len(report.removed)} unreferenced blob(s), {len(report.orphans)} stray blob(s); "
        f"kept {report.kept_recent} released within the grace period"
    )
