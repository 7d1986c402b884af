"""Agent use cases: load (verify, stage, start the engine, acknowledge) and unload.

A load message carries everything the agent needs (plan, served name, the files' paths, digests
and sizes); the acknowledgment goes back as a task. The agent reads no registry row.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from xerotier.agent import engine_process
from xerotier.agent.builtin_engine import EngineFailure, load_folder
from xerotier.agent.context import AgentContext
from xerotier.agent.engine_command import bind_host, render_cpu_engine, render_vllm
from xerotier.agent.link import RegistryLink
from xerotier.agent.staging import (
    FileRef,
    IntegrityFailure,
    StageReport,
    registry_opener,
    remove_model_folder,
    stage,
)
from xerotier.errors import InvalidInput
from xerotier.queue import names

log = logging.getLogger(__name__)


def load(
    link: RegistryLink,
    ctx: AgentContext,
    load_id: uuid.UUID,
    plan: dict[str, Any] | None,
    served_name: str | None,
    files: list[dict[str, Any]] | None,
    model_id: str | None = None,
) -> str:
    """Load ``load_id`` as its message describes it; always acknowledge it."""
    plan = plan or {}
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
        if files is None or served_name is None:
            raise EngineFailure("the load message has no file list (sent by an older registry)")
        refs = [FileRef(f["path"], f["sha256"], int(f["sizeBytes"])) for f in files]
        report = _stage(link, ctx, model_id, str(load_id), refs)
        staged = time.monotonic()
        ack["staging"] = {
            "copied": report.copied,
            "reused": report.reused,
            "bytesVerified": report.bytes_verified,
        }
        ack["engine"] = _start_engine(ctx, str(load_id), plan, report.folder, served_name)
        ack["ok"] = True
        ack["timings"] = {
            "stageSeconds": round(staged - started, 3),
            "engineSeconds": round(time.monotonic() - staged, 3),
        }
    except (IntegrityFailure, EngineFailure, InvalidInput, OSError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        log.warning("load %s failed: %s", load_id, message)
        _stop_engine(ctx, str(load_id))
        remove_model_folder(ctx.cache_dir, str(load_id))
        ack.update(
            ok=False, error=message, timings={"failedAfterSeconds": round(time.monotonic() - started, 3)}
        )
    link.send(names.LOADING_ACK, load_id=str(load_id), ack=ack)
    return "loaded" if ack["ok"] else "failed"


def _stage(
    link: RegistryLink, ctx: AgentContext, model_id: str | None, load_id: str, files: list[FileRef]
) -> StageReport:
    """From the blob store, or through the registry's download API when the agent is remote
    (``XEROTIER_AGENT_REGISTRY_URL``): then it needs only the registry URL and a key."""
    settings = link.settings
    if not settings.agent_registry_url or model_id is None:
        return stage(link.blobs.open, ctx.cache_dir, load_id, files)
    headers = {"Authorization": f"Bearer {settings.agent_api_key}"} if settings.agent_api_key else {}
    with httpx.Client(base_url=settings.agent_registry_url, headers=headers, timeout=60) as client:
        return stage(registry_opener(client, model_id, files), ctx.cache_dir, load_id, files)


def _start_engine(
    ctx: AgentContext, load_id: str, plan: dict[str, Any], folder: Path, served: str
) -> dict[str, Any]:
    if ctx.engine == "builtin":
        loaded = load_folder(folder)
        return {
            "kind": "builtin",
            "serving": False,  # a load check only: it answers no request
            "files": loaded.files,
            "tensors": loaded.tensors,
            "bytesRead": loaded.bytes_read,
            "crc32": loaded.checksum,
        }
    port = engine_process.free_port()
    if ctx.engine == "cpu":
        argv, env = render_cpu_engine(sys.executable, plan, folder, served, port, bind_host(ctx.engine_host))
    else:
        assert ctx.engine_command is not None
        argv, env = render_vllm(
            ctx.engine_command, plan, folder, served, port, ctx.moe_config_dir, bind_host(ctx.engine_host)
        )
    log_path = ctx.cache_dir / "logs" / f"{load_id}.log"
    ctx.engines[load_id] = engine_process.start_and_wait(
        argv, env, port, log_path, ctx.health_timeout_seconds
    )
    return {
        "kind": "transformers" if ctx.engine == "cpu" else "external",
        "serving": True,
        "command": argv,
        "env": env,
        "url": f"http://{ctx.engine_host}:{port}",
        "servedName": served,
        "log": str(log_path),
    }


def _stop_engine(ctx: AgentContext, load_id: str) -> None:
    proc = ctx.engines.pop(load_id, None)
    if proc is not None:
        engine_process.stop(proc)


def unload(ctx: AgentContext, load_id: uuid.UUID) -> str:
    """Stop the engine of ``load_id`` (in-flight requests finish first) and drop its model folder."""
    _stop_engine(ctx, str(load_id))
    remove_model_folder(ctx.cache_dir, str(load_id))
    return "unloaded"
