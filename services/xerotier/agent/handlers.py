"""Agent use cases: load (verify, stage, start the engine, acknowledge) and unload."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from xerotier.agent import engine_process
from xerotier.agent.builtin_engine import EngineFailure, load_folder
from xerotier.agent.context import AgentContext
from xerotier.agent.engine_command import render_vllm
from xerotier.agent.staging import (
    FileRef,
    IntegrityFailure,
    StageReport,
    registry_opener,
    remove_model_folder,
    stage,
)
from xerotier.db.models import Load, Model, ModelFile
from xerotier.errors import InvalidInput
from xerotier.queue import names, outbox
from xerotier.runtime import Runtime

log = logging.getLogger(__name__)


def _send_ack(runtime: Runtime, load_id: uuid.UUID, ack: dict[str, Any]) -> None:
    with runtime.unit_of_work() as session:
        outbox.enqueue(session, names.LOADING_ACK, load_id=str(load_id), ack=ack)


def load(runtime: Runtime, ctx: AgentContext, load_id: uuid.UUID) -> str:
    """Load ``load_id`` if it is meant for this backend and still wanted; always acknowledge it."""
    with runtime.session_factory() as session:
        row = session.get(Load, load_id)
        if row is None or row.backend_id != ctx.backend_id or row.status != "loading":
            return "ignored"
        model = session.get(Model, row.model_id)
        files = [
            FileRef(f.path, f.sha256, f.size_bytes)
            for f in session.scalars(select(ModelFile).where(ModelFile.model_id == row.model_id))
        ]
        plan: dict[str, Any] = row.plan or {}
        served = f"{model.name}:{model.version}" if model else str(row.model_id)
    ack: dict[str, Any] = {
        "backendId": ctx.backend_id,
        "plan": plan,
        "appliedQuantization": plan.get("appliedQuantization"),
        "quantizationReason": plan.get("quantizationReason"),
        "contextLength": plan.get("contextLength"),
        "maxSequences": plan.get("maxSequences"),
    }
    started = time.monotonic()
    try:
        report = _stage(runtime, ctx, row.model_id, str(load_id), files)
        staged = time.monotonic()
        ack["staging"] = {
            "copied": report.copied,
            "reused": report.reused,
            "bytesVerified": report.bytes_verified,
        }
        ack["engine"] = _start_engine(ctx, str(load_id), plan, report.folder, served)
        ack["ok"] = True
        ack["timings"] = {
            "stageSeconds": round(staged - started, 3),
            "engineSeconds": round(time.monotonic() - staged, 3),
        }
    except (IntegrityFailure, EngineFailure, InvalidInput, OSError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        log.warning("load %s failed: %s", load_id, message)
        remove_model_folder(ctx.cache_dir, str(load_id))
        ack.update(
            ok=False, error=message, timings={"failedAfterSeconds": round(time.monotonic() - started, 3)}
        )
    _send_ack(runtime, load_id, ack)
    return "loaded" if ack["ok"] else "failed"


def _stage(
    runtime: Runtime, ctx: AgentContext, model_id: uuid.UUID, load_id: str, files: list[FileRef]
) -> StageReport:
    """From the blob store, or through the registry's download API when the agent is remote."""
    settings = runtime.settings
    if not settings.agent_registry_url:
        return stage(runtime.blobs.open, ctx.cache_dir, load_id, files)
    headers = {"Authorization": f"Bearer {settings.agent_api_key}"} if settings.agent_api_key else {}
    with httpx.Client(base_url=settings.agent_registry_url, headers=headers, timeout=60) as client:
        return stage(registry_opener(client, str(model_id), files), ctx.cache_dir, load_id, files)


def _start_engine(
    ctx: AgentContext, load_id: str, plan: dict[str, Any], folder, served: str
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    if not ctx.engine_command:
        loaded = load_folder(folder)
        return {
            "kind": "builtin",
            "files": loaded.files,
            "tensors": loaded.tensors,
            "bytesRead": loaded.bytes_read,
            "crc32": loaded.checksum,
        }
    port = engine_process.free_port()
    argv, env = render_vllm(ctx.engine_command, plan, folder, served, port, ctx.moe_config_dir)
    log_path = ctx.cache_dir / "logs" / f"{load_id}.log"
    ctx.engines[load_id] = engine_process.start_and_wait(
        argv, env, port, log_path, ctx.health_timeout_seconds
    )
    return {"kind": "external", "command": argv, "env": env, "url": f"http://127.0.0.1:{port}"}


def unload(ctx: AgentContext, load_id: uuid.UUID) -> str:
    """Stop the engine of ``load_id`` (if any) and drop its model folder (the blob cache stays)."""
    proc = ctx.engines.pop(str(load_id), None)
    if proc is not None:
        engine_process.stop(proc)
    remove_model_folder(ctx.cache_dir, str(load_id))
    return "unloaded"
