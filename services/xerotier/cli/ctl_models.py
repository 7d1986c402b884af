"""``xeroctl models list|get|revalidate``."""

from __future__ import annotations

from typing import Annotated

import typer

from xerotier.cli.ctl_app import call, models_app, state
from xerotier.cli.output import emit, err_console
from xerotier.client import versions as versions_api

MODEL_COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("VERSION", "version"),
    ("STATUS", "status"),
    ("FORMAT", "format"),
    ("SIZE", "sizeBytes"),
    ("LATEST", "isLatest"),
]


@models_app.command("list")
def models_list(
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="Every version, not only latest")
    ] = False,
    status: Annotated[str | None, typer.Option(help="uploading, validating, ready, error or active")] = None,
    architecture: Annotated[str | None, typer.Option(help="e.g. llama")] = None,
    workload_type: Annotated[str | None, typer.Option("--workload-type", help="chat, code, …")] = None,
    name_prefix: Annotated[str | None, typer.Option("--name-prefix", help="Names starting with this")] = None,
    cursor: Annotated[str | None, typer.Option(help="nextCursor printed with the previous page")] = None,
    limit: Annotated[int, typer.Option(help="Page size (1-500)")] = 50,
) -> None:
    """List the project's models (latest versions), filtered, one page at a time."""
    filters = {
        "allVersions": str(all_versions).lower(),
        "status": status,
        "architecture": architecture,
        "workloadType": workload_type,
        "namePrefix": name_prefix,
        "cursor": cursor,
        "limit": limit,
    }
    page = call(lambda c: versions_api.list_models_page(c, **filters))
    emit(page["models"], state.output, MODEL_COLUMNS)
    if page.get("nextCursor"):
        err_console.print(f"next page: --cursor {page['nextCursor']}", markup=False)


@models_app.command("get")
def models_get(model_id: str) -> None:
    """Show one model version with its metadata."""
    emit(call(lambda c: c.get_model(model_id)), state.output)


@models_app.command("revalidate")
def models_revalidate(model_id: str) -> None:
    """Re-check a model's files and refresh its metadata without re-uploading."""
    emit(call(lambda c: c.revalidate(model_id)), state.output)
