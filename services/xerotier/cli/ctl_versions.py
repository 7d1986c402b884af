"""``xeroctl models versions list|create|promote|rollback|history|diff`` and
``xeroctl models rename|update|delete``."""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer

from xerotier.cli.ctl_app import Yes, call, confirm, models_app, state
from xerotier.cli.output import OutputFormat, console, emit, err_console
from xerotier.client import versions as api
from xerotier.client.http import XerotierClient, ref_segment

versions_app = typer.Typer(help="Manage the versions of a model.", no_args_is_help=True)
models_app.add_typer(versions_app, name="versions")

VERSION_COLUMNS = [
    ("VERSION", "version"),
    ("LATEST", "isLatest"),
    ("STATUS", "status"),
    ("NOTES", "versionNotes"),
    ("ID", "id"),
]
HISTORY_COLUMNS = [("WHEN", "when"), ("KIND", "kind"), ("FROM", "from"), ("TO", "to"), ("WHO", "who")]


@versions_app.command("list")
def versions_list(model_id: str) -> None:
    """List the versions of a model, newest (highest precedence) first."""
    emit(call(lambda c: api.list_versions(c, model_id)), state.output, VERSION_COLUMNS)


@versions_app.command("create")
def versions_create(
    model_id: str,
    version: str,
    notes: Annotated[str | None, typer.Option("--notes", help="What changed in this version")] = None,
    copy_files: Annotated[
        bool, typer.Option("--copy-files", help="Reuse the parent's files (no bytes copied) and validate")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="With --copy-files: follow validation until ready or error")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait follows validation")] = 600.0,
) -> None:
    """Create a new version whose parent is the model's latest."""

    def run(client: XerotierClient) -> dict[str, Any]:
        created = api.create_version(client, model_id, version, notes, copy_files)
        return wait_until_settled(client, created, timeout) if wait else created

    result = call(run)
    emit(result, state.output)
    if wait and result["status"] != "ready":
        err_console.print(
            f"Error: version is {result['status']}: {result.get('validationError') or 'not ready in time'}",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


def wait_until_settled(client: XerotierClient, model: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Poll a version until it leaves uploading/validating, or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while model["status"] == "validating" and time.monotonic() < deadline:
        time.sleep(0.3)
        model = client.get_model(model["id"])
    return model


def _promotion(result: dict[str, Any], verb: str) -> None:
    if state.output is not OutputFormat.table:
        emit(result, state.output)
    elif result.get("promotion") == "pending":
        console.print(f"{verb} of {result['version']} is pending: it takes effect when the version is ready")
    else:
        console.print(f"{result['version']} is now the latest version of {result['name']}")


@versions_app.command("promote")
def versions_promote(model_id: str, version: str) -> None:
    """Promote a version to latest (pending until it is ready)."""
    _promotion(call(lambda c: api.promote(c, model_id, version)), "Promotion")


@versions_app.command("rollback")
def versions_rollback(model_id: str, version: str) -> None:
    """Roll back to a previous (older) version."""
    _promotion(call(lambda c: api.rollback(c, model_id, version)), "Rollback")


@versions_app.command("history")
def versions_history(
    model_id: str, limit: Annotated[int, typer.Option(help="Most recent events to show")] = 100
) -> None:
    """Every change of the latest version: from, to, kind, who and when (and a pending promotion)."""
    path = f"/v1/models/{ref_segment(model_id)}/versions/history"
    answer = call(lambda c: c.request("GET", path, params={"limit": limit}))
    emit(answer["history"], state.output, HISTORY_COLUMNS)
    pending = answer.get("pending")
    if pending and state.output is OutputFormat.table:
        err_console.print(
            f"pending {pending['kind']}: {pending['to']} becomes latest when it is ready "
            f"(now {pending['toStatus']}, requested {pending['requestedAt']})",
            markup=False,
            soft_wrap=True,
        )


@versions_app.command("diff")
def versions_diff(model_id: str, from_version: str, to_version: str) -> None:
    """What changed between two versions: metadata, chat template, generation defaults, files, tensors."""
    result = call(lambda c: api.diff(c, model_id, from_version, to_version))
    if state.output is not OutputFormat.table:
        emit(result, state.output)
        return
    rows = [
        {"what": f"metadata.{k}", "from": v["from"], "to": v["to"]} for k, v in result["metadata"].items()
    ]
    rows += [{"what": k, "from": v["from"], "to": v["to"]} for k, v in result["generationDefaults"].items()]
    if result["chatTemplate"]["changed"]:
        rows.append({"what": "chatTemplate", "from": "(changed)", "to": "(changed)"})
    files = result["files"]
    rows += [{"what": f"file {p}", "from": None, "to": "added"} for p in files["added"]]
    rows += [{"what": f"file {p}", "from": "removed", "to": None} for p in files["removed"]]
    rows += [
        {"what": f"file {c['path']}", "from": c["fromSha256"][:12], "to": c["toSha256"][:12]}
        for c in files["changed"]
    ]
    tensors = result["tensors"]
    rows += [
        {"what": f"tensor {t['name']}", "from": None, "to": f"{t['dtype']} {t['shape']}"}
        for t in tensors["added"]
    ]
    rows += [
        {"what": f"tensor {t['name']}", "from": f"{t['dtype']} {t['shape']}", "to": None}
        for t in tensors["removed"]
    ]
    rows += [
        {
            "what": f"tensor {t['name']}",
            "from": f"{t['from']['dtype']} {t['from']['shape']}",
            "to": f"{t['to']['dtype']} {t['to']['shape']}",
        }
        for t in tensors["changed"]
    ]
    console.print(
        f"{result['from']} → {result['to']}: {len(rows)} change(s), {files['unchanged']} file(s) unchanged"
    )
    emit(rows, state.output, [("WHAT", "what"), ("FROM", "from"), ("TO", "to")])


@models_app.command("rename")
def models_rename(model_id: str, new_name: str) -> None:
    """Rename a model (every version of it)."""
    emit(call(lambda c: api.rename(c, model_id, new_name)), state.output)


@models_app.command("update")
def models_update(
    model_id: str,
    workload_type: Annotated[
        str | None, typer.Option("--workload-type", help="chat, code, reasoning, …")
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Version notes")] = None,
) -> None:
    """Update a version's workload type and/or notes."""
    fields = {"workloadType": workload_type, "versionNotes": notes}
    fields = {k: v for k, v in fields.items() if v is not None}
    if not fields:
        raise typer.BadParameter("give --workload-type and/or --notes")
    emit(call(lambda c: api.update(c, model_id, **fields)), state.output)


@models_app.command("delete")
def models_delete(
    model_id: str,
    force: Annotated[
        bool, typer.Option("--force", help="Allow deleting the latest while others exist")
    ] = False,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="Delete every version of the model")
    ] = False,
    yes: Yes = False,
) -> None:
    """Delete a version (or the whole model); its blobs are released. Asks first unless --yes."""
    if not yes and sys.stdin.isatty():
        model = call(lambda c: c.get_model(model_id))
        what = (
            f"every version of {model['name']}"
            if all_versions
            else f"{model['name']} {model['version']} ({model['id']})"
        )
        confirm(f"Delete {what}? This cannot be undone.", yes)
    result = call(lambda c: api.delete(c, model_id, force, all_versions))
    if state.output is not OutputFormat.table:
        emit(result, state.output)
        return
    emit(result["deleted"], state.output, [("ID", "id"), ("NAME", "name"), ("VERSION", "version")])
    if result.get("latest"):
        console.print(f"latest is now {result['latest']['version']}")
