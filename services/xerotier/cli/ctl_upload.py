"""``xeroctl models upload PATH`` and ``xeroctl models import <org/name>[@revision]``."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from xerotier.cli.ctl_app import call, models_app, state
from xerotier.cli.output import emit, err_console
from xerotier.client import upload as sdk
from xerotier.client.http import ApiError, XerotierClient

SKIPPED_DIRS = {".git", ".cache", "__pycache__"}


def local_files(root: Path) -> list[tuple[str, Path]]:
    """(path inside the model, file) for a file or every regular file of a folder, sorted.

    Links that lead out of the folder and version-control or cache folders are left out.
    """
    if root.is_file():
        return [(root.name, root)]
    if not root.is_dir():
        raise typer.BadParameter(f"{root} is neither a file nor a folder")
    base = root.resolve()
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIPPED_DIRS for part in rel.parts) or not path.is_file():
            continue
        if not path.resolve().is_relative_to(base):
            err_console.print(f"skipping {rel.as_posix()}: a link out of the folder", markup=False)
            continue
        found.append((rel.as_posix(), path))
    return found


def _open_model(client: XerotierClient, name: str, version: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The upload to resume (same name and version, still uploading) or a new one."""
    existing = sdk.find_version(client, name, version)
    if existing is not None:
        if existing["status"] != "uploading":
            raise ApiError(409, f"Model '{name}' version {version} already exists ({existing['status']})")
        return existing
    return client.create_model(name, version=version, **fields)


def _send_all(
    client: XerotierClient, model_id: str, files: list[tuple[str, Path]], parallel: int, show: bool
) -> tuple[int, int]:
    """Upload what the server lacks; returns (files sent, files skipped).

    Only a file the server already holds at the same path and size is hashed first (to skip it
    when unchanged); every other file is hashed while it is sent, in one pass, and checked against
    the digest the server computed. Small files travel in batches (one tar body per request).
    The bars show both phases with their true totals: ``hashing``
    (resume checks) and ``total`` (bytes to send), each file's own bar its size."""
    held = {f["path"]: (f["sha256"], f.get("sizeBytes")) for f in sdk.list_files(client, model_id)}
    sizes = {rel: path.stat().st_size for rel, path in files}
    to_check = [rel for rel, _ in files if rel in held and held[rel][1] in (None, sizes[rel])]
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err_console, disable=not show, transient=False) as bar:
        hashing = bar.add_task("hashing", total=sum(sizes[rel] for rel in to_check)) if to_check else None
        overall = bar.add_task("total", total=sum(sizes.values()))
        counts = {"sent": 0, "skipped": 0, "to_send": sum(sizes.values())}
        lock = threading.Lock()
        checks = set(to_check)
        per_file = show and len(files) <= 64  # a thousand small files: the totals say it all

        def one(rel: str, path: Path) -> None:
            size = sizes[rel]
            if rel in checks:
                assert hashing is not None
                digest = sdk.sha256_of(path, lambda n: bar.advance(hashing, n))
                if held[rel][0] == digest:
                    with lock:
                        counts["skipped"] += 1
                        counts["to_send"] -= size
                        bar.update(overall, total=counts["to_send"])  # nothing to send for it
                    return
            task: TaskID | None = bar.add_task(rel, total=size) if per_file else None

            def sent(n: int) -> None:
                if task is not None:
                    bar.advance(task, n)
                bar.advance(overall, n)

            sdk.send_file(client, model_id, rel, path, sent)
            with lock:
                counts["sent"] += 1
            if task is not None:
                bar.remove_task(task)

        def batch(group: list[tuple[str, Path, int]]) -> None:
            try:
                sdk.send_batch(client, model_id, group)
            except ApiError as exc:
                if exc.status != 405:  # 405: a server without batches; send them one by one
                    raise
                for rel, path, _ in group:
                    one(rel, path)
                return
            with lock:
                counts["sent"] += len(group)
            bar.advance(overall, sum(size for _, _, size in group))

        small = [(rel, path, sizes[rel]) for rel, path in files
                 if rel not in checks and sizes[rel] <= sdk.SMALL_FILE_BYTES]  # fmt: skip
        batched = {rel for rel, _, _ in small}
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            futures = [pool.submit(batch, group) for group in sdk.batches(small)]
            futures += [pool.submit(one, rel, path) for rel, path in files if rel not in batched]
            for future in futures:
                future.result()
    return counts["sent"], counts["skipped"]


def _follow(client: XerotierClient, model_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    model = client.get_model(model_id)
    with err_console.status(f"validating {model_id}") as status:
        while model["status"] in ("uploading", "validating") and time.monotonic() < deadline:
            time.sleep(0.5)
            model = client.get_model(model_id)
            status.update(f"{model['status']} {model_id}")
    return model


@models_app.command("upload")
def models_upload(
    path: Annotated[Path, typer.Argument(help="A model file or a folder (uploaded with its subfolders)")],
    name: Annotated[str | None, typer.Option(help="Model name (default: the file or folder name)")] = None,
    version: Annotated[str, typer.Option(help="Semver version")] = "1.0.0",
    format: Annotated[
        str | None, typer.Option("--format", help="safetensors, bin, exl2 or directory (default: detected)")
    ] = None,
    workload_type: Annotated[str | None, typer.Option("--workload-type", help="chat, code, …")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Version notes")] = None,
    parallel: Annotated[int, typer.Option(help="Files sent at once")] = 4,
    wait: Annotated[bool, typer.Option("--wait", help="Follow validation until ready or error")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait follows validation")] = 600.0,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bars")] = True,
) -> None:
    """Upload a file or a folder, skipping files the server already holds, then complete it."""
    files = local_files(path)
    if not files:
        err_console.print(f"Error: no files to upload in {path}", markup=False)
        raise typer.Exit(1)
    fields = {"format": format, "workloadType": workload_type, "versionNotes": notes}
    model_name = name or path.resolve().name

    def run(client: XerotierClient) -> dict[str, Any]:
        model = _open_model(client, model_name, version, fields)
        sent, skipped = _send_all(client, model["id"], files, parallel, progress)
        err_console.print(f"{sent} file(s) sent, {skipped} already on the server", markup=False)
        client.complete(model["id"])
        return _follow(client, model["id"], timeout) if wait else client.get_model(model["id"])

    model = call(run)
    emit(model, state.output)
    if wait and model["status"] != "ready":
        err_console.print(
            f"Error: model is {model['status']}: {model.get('validationError') or 'not ready in time'}",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


@models_app.command("import")
def models_import(
    repo: Annotated[str, typer.Argument(help="Hugging Face repository: org/name[@revision]")],
    name: Annotated[str | None, typer.Option(help="Model name (default: the repository name)")] = None,
    version: Annotated[str, typer.Option(help="Semver version")] = "1.0.0",
    format: Annotated[str | None, typer.Option("--format", help="Format (default: detected)")] = None,
    workload_type: Annotated[str | None, typer.Option("--workload-type", help="chat, code, …")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Version notes")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the import until ready or error")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait follows the import")] = 3600.0,
) -> None:
    """Import a Hugging Face Hub repository (snapshot by the upload service, then validated)."""
    repo_id, _, revision = repo.partition("@")

    def run(client: XerotierClient) -> dict[str, Any]:
        model = sdk.import_hub(
            client,
            repo_id,
            revision=revision or None,
            name=name,
            version=version,
            format=format,
            workloadType=workload_type,
            versionNotes=notes,
        )
        return _follow(client, model["id"], timeout) if wait else model

    model = call(run)
    emit(model, state.output)
    if wait and model["status"] != "ready":
        err_console.print(
            f"Error: model is {model['status']}: {model.get('validationError') or 'not ready in time'}",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
