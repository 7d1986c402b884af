"""One settings object, read from ``XEROTIER_*`` environment variables.

The defaults are the embedded ones: everything lives under ``data_dir`` (SQLite database,
content-addressed blobs, the file-system broker), so ``xerotier up`` needs no server.
Production sets ``XEROTIER_DATABASE_URL`` and ``XEROTIER_BROKER_URL``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "XEROTIER_"


class Settings(BaseSettings):
    """Every setting of the server, the workers and the client, with its embedded default."""

    model_config = SettingsConfigDict(env_prefix="XEROTIER_", extra="ignore")

    data_dir: Path = Field(Path("xerotier-data"), description="Root of all embedded state.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/xerotier.db."
    )
    broker_url: str | None = Field(
        None, description="Celery broker URL; default filesystem:// under <data_dir>/broker."
    )
    blob_dir: Path | None = Field(None, description="Blob store directory; default <data_dir>/blobs.")
    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    log_level: str = Field("INFO", description="Log level of every process.")

    max_file_size: int = Field(1 << 40, description="Largest accepted file, in bytes (1 TiB).")
    max_json_body_bytes: int = Field(
        4 << 20,
        description="Largest request body other than a file upload, in bytes; larger ones are 413, unread.",
    )
    max_safetensors_tensors: int = Field(
        200_000, description="Most tensors one safetensors header may list (its size is capped at 100 MB)."
    )
    upload_deadline_seconds: int = Field(
        86_400, description="An upload not completed within this time ends in error."
    )
    validation_deadline_seconds: int = Field(
        600, description="A validation not finished within this time is re-driven."
    )
    max_attempts: int = Field(3, description="Re-drives before a stuck model goes to error.")
    reconcile_interval_seconds: float = Field(5.0, description="Period of the reconciler loop.")
    relay_interval_seconds: float = Field(1.0, description="Period of the outbox relay loop.")
    visibility_timeout_seconds: int = Field(
        21_600, description="Redis visibility timeout; longer than any task."
    )
    broker_key_prefix: str = Field(
        "", description="Prefix of every Redis broker key (several registries on one Redis)."
    )
    broker_polling_interval: float = Field(
        0.02, description="Polling interval of the file-system broker, in seconds."
    )
    worker_concurrency: int = Field(2, description="Task slots per worker process.")

    blob_store: str = Field("local", description="Blob backend: local (blob_dir) or s3.")
    s3_bucket: str | None = Field(None, description="Bucket of the s3 blob backend.")
    s3_prefix: str = Field("", description="Key prefix of blobs in the s3 bucket.")
    s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (MinIO, …); credentials from the AWS_* variables."
    )
    s3_region: str | None = Field(None, description="Region of the s3 blob backend.")
    blob_gc_grace_seconds: int = Field(
        3600, description="An unreferenced blob is collected only after this long."
    )
    blob_gc_interval_seconds: float = Field(
        3600.0,
        description="How often the housekeeper collects unreferenced blobs (0: only `xerotier blobs gc`).",
    )
    outbox_retention_hours: float = Field(
        24.0, description="Published outbox rows older than this are deleted by the housekeeper."
    )
    upload_chunk_bytes: int = Field(
        4 << 20, description="Bytes buffered per disk write while a file streams in."
    )
    download_chunk_bytes: int = Field(
        4 << 20, description="Bytes read from the blob store per write while a file streams out."
    )
    download_redirect: bool = Field(
        False, description="s3 backend: answer file downloads with a 307 to a presigned URL."
    )
    download_url_seconds: int = Field(300, description="Lifetime of a presigned download URL.")
    ingest_root: Path | None = Field(
        None, description="Local mirror of the landing buckets for upload events (<root>/<bucket>/<key>)."
    )
    ingest_marker: str = Field(
        "_COMPLETE", description="Object name whose upload event completes a bucket upload."
    )
    heartbeat_interval_seconds: float = Field(
        5.0, description="How often an agent records its heartbeat and a worker touches its heartbeat file."
    )
    backend_dead_after_seconds: float = Field(
        30.0, description="A backend silent this long is dead: its loads are placed elsewhere."
    )
    agent_cache_dir: Path | None = Field(
        None, description="Where an agent stages model files; default <data_dir>/agent-cache."
    )
    agent_registry_url: str | None = Field(
        None, description="A remote agent fetches model files through this registry's download API."
    )
    agent_api_key: str | None = Field(None, description="The key a remote agent downloads with.")
    engine_command: str | None = Field(
        None, description="Inference engine an agent starts (e.g. vllm); unset: the built-in engine."
    )
    engine_health_timeout_seconds: float = Field(
        900.0, description="How long an agent waits for the engine's health endpoint."
    )

    endpoint_idle_seconds: float = Field(
        0.0, description="Unload an endpoint after this long without a request (scale to zero); 0: never."
    )
    router_load_wait_seconds: float = Field(
        60.0, description="How long the router waits for an unloaded endpoint's load before a 503."
    )
    router_engine_timeout_seconds: float = Field(
        300.0, description="How long the router waits for an engine's answer before a 502."
    )

    api_url: str = Field("http://127.0.0.1:8000", description="Where xeroctl sends its requests.")
    api_key: str | None = Field(None, description="The key xeroctl presents (xero_<project>_<secret>).")

    log_format: str = Field("text", description="Log format of every process: text or json.")
    metrics_port: int = Field(9100, description="Port of a worker's Prometheus /metrics server (0: off).")
    metrics_dir: Path | None = Field(
        None, description="Directory for a worker's multi-process metrics; default a fresh temp dir."
    )
    heartbeat_file: Path = Field(
        Path("/tmp/xerotier-worker-heartbeat"), description="File a live worker touches (liveness probe)."
    )
    operator_interval_seconds: float = Field(
        10.0, description="How often the operator re-reconciles each Model resource."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'xerotier.db').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or "filesystem://localhost/"  # a host: kombu warns without one

    @property
    def broker_dir(self) -> Path:
        return (self.data_dir / "broker").resolve()

    @property
    def resolved_blob_dir(self) -> Path:
        return (self.blob_dir or self.data_dir / "blobs").resolve()

    @property
    def resolved_agent_cache_dir(self) -> Path:
        return (self.agent_cache_dir or self.data_dir / "agent-cache").resolve()

    @property
    def is_embedded_broker(self) -> bool:
        return self.resolved_broker_url.startswith("filesystem://")


class InvalidSettings(ValueError):
    """A setting's value cannot be used; the message names the environment variable or flag."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def describe_errors(exc: ValidationError, flags: dict[str, str] | None = None) -> str:
    """One line per bad value, naming where it came from: ``XEROTIER_PORT='abc': …``."""
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        source = (flags or {}).get(field) or env_name(field)
        lines.append(f"Invalid {source}={error.get('input')!r}: {error['msg']}")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Settings with the precedence flag > environment variable > default.

    ``overrides`` are the command-line flags; ``None`` means "not given", so the environment (then the
    default) decides. An unusable value raises :class:`InvalidSettings` naming its variable.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        flags = {k: f"--{k.replace('_', '-')}" for k in given}
        raise InvalidSettings(describe_errors(exc, flags)) from None


def apply_overrides(**overrides: Any) -> Settings:
    """Make command-line flags the process's settings, for this process and the ones it starts.

    Each given flag is exported as its ``XEROTIER_*`` variable (so worker children and migrations,
    which read :func:`get_settings`, agree), the cached settings are dropped, and the result is
    validated once here so a bad value fails at start with its name.
    """
    settings = load_settings(**overrides)
    for key, value in overrides.items():
        if value is not None:
            os.environ[env_name(key)] = str(value)
    get_settings.cache_clear()
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once on first use (never at import time)."""
    try:
        return Settings()
    except ValidationError as exc:
        raise InvalidSettings(describe_errors(exc)) from None
