"""HTTP routes of the upload service: create a model, stream files in, complete."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import ClientDisconnect

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.model_refs import model_id_of, resolve_model_id
from xerotier.api.schemas import FileList, FileOut, ModelOut, error_responses
from xerotier.api.serialize import file_json, model_json
from xerotier.domain.paths import normalize_model_path
from xerotier.domain.semver import DEFAULT_VERSION
from xerotier.errors import InvalidInput, PayloadTooLarge
from xerotier.upload import handlers
from xerotier.upload.batch import MAX_BATCH_BYTES, read_batch
from xerotier.upload.streaming import stream_into

router = APIRouter(tags=["upload"])
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class CreateModelBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: str
    version: str = DEFAULT_VERSION
    format: str | None = None
    workload_type: str | None = Field(None, alias="workloadType")
    version_notes: str | None = Field(None, alias="versionNotes")


@router.post(
    "/models",
    status_code=201,
    response_model=ModelOut,
    responses=error_responses(400, 401, 409),
)
def create_model(
    body: CreateModelBody, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    spec = handlers.NewModel(body.name, body.version, body.format, body.workload_type, body.version_notes)
    return model_json(handlers.create_model(get_rt(request), caller.project_id, spec))


def client_digest(request: Request) -> str | None:
    """The sha256 the client claims for the body (``Content-SHA256`` hex or ``Digest: sha-256=<b64>``)."""
    value = request.headers.get("content-sha256")
    if value:
        if not _HEX64.match(value.strip()):
            raise InvalidInput("Content-SHA256 must be 64 hexadecimal characters")
        return value.strip().lower()
    digest = request.headers.get("digest")
    if digest:
        for part in digest.split(","):
            algo, _, encoded = part.strip().partition("=")
            if algo.lower() == "sha-256":
                try:
                    raw = base64.b64decode(encoded, validate=True)
                except (binascii.Error, ValueError):
                    raise InvalidInput("Digest sha-256 value is not valid base64") from None
                if len(raw) != 32:
                    raise InvalidInput("Digest sha-256 value is not 32 bytes")
                return raw.hex()
    return None


@router.put(
    "/models/{model_id}/files/{file_path:path}",
    status_code=201,
    response_model=FileOut,
    responses=error_responses(400, 401, 404, 409, 413),
)
async def put_file(
    model_id: str, file_path: str, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    """Stream the raw body into the blob store, hashing it on the way; nothing is kept on error."""
    runtime = get_rt(request)
    mid = await resolve_model_id(request, caller, model_id)
    path = normalize_model_path(file_path)
    expected = client_digest(request)
    max_size = runtime.settings.max_file_size
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_size:
        raise PayloadTooLarge(f"File exceeds the maximum size of {max_size} bytes")
    await run_in_threadpool(handlers.check_accepts_files, runtime, caller.project_id, mid)
    writer = await run_in_threadpool(runtime.blobs.writer, max_size)
    try:
        await stream_into(request.stream(), writer, runtime.settings.upload_chunk_bytes)
        blob = await run_in_threadpool(writer.stage, expected)
        # placed in the store under the blob's row lock, with the reference (see collector)
        row = await run_in_threadpool(handlers.record_file, runtime, caller.project_id, mid, path, blob)
    except ClientDisconnect:
        writer.abort()
        raise InvalidInput("Upload interrupted: the client disconnected before the body ended") from None
    except BaseException:
        writer.abort()
        raise
    return file_json(row)


@router.post(
    "/models/{model_id}/files",
    status_code=201,
    response_model=FileList,
    responses=error_responses(400, 401, 404, 409, 413),
)
async def upload_batch(
    model_id: str, request: Request, caller: Caller = Depends(get_caller)
) -> dict[str, Any]:
    """Many small files in one request: an uncompressed tar body (``Content-Type:
    application/x-tar``), at most 64 MiB; each member stored as by ``PUT``, all recorded at once."""
    runtime = get_rt(request)
    mid = await resolve_model_id(request, caller, model_id)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in ("application/x-tar", "application/tar"):
        raise InvalidInput("A batch of files is an uncompressed tar body: Content-Type: application/x-tar")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BATCH_BYTES:
        raise PayloadTooLarge(f"A batch exceeds {MAX_BATCH_BYTES} bytes: send large files one by one")
    await run_in_threadpool(handlers.check_accepts_files, runtime, caller.project_id, mid)
    try:
        body = await _bounded_body(request, MAX_BATCH_BYTES)
    except ClientDisconnect:
        raise InvalidInput("Upload interrupted: the client disconnected before the body ended") from None
    members = await run_in_threadpool(read_batch, body, runtime.settings.max_file_size)
    rows = await run_in_threadpool(handlers.store_batch, runtime, caller.project_id, mid, members)
    return {"files": [file_json(r) for r in rows]}


async def _bounded_body(request: Request, limit: int) -> bytes:
    chunks, held = [], 0
    async for chunk in request.stream():
        held += len(chunk)
        if held > limit:
            raise PayloadTooLarge(f"A batch exceeds {limit} bytes: send large files one by one")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get(
    "/models/{model_id}/files",
    response_model=FileList,
    responses=error_responses(400, 401, 404),
)
def list_files(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    rows = handlers.list_files(
        get_rt(request), caller.project_id, model_id_of(get_rt(request), caller.project_id, model_id)
    )
    return {"files": [file_json(r) for r in rows]}


@router.post(
    "/models/{model_id}/complete",
    status_code=202,
    response_model=ModelOut,
    responses=error_responses(400, 401, 404, 409),
)
def complete(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    return model_json(
        handlers.complete(
            get_rt(request), caller.project_id, model_id_of(get_rt(request), caller.project_id, model_id)
        )
    )
