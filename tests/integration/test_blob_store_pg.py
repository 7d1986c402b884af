"""Content addressing, reference counts and the collector on PostgreSQL with the local blob store."""

from __future__ import annotations

import hashlib
import subprocess
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from support.processes import BIN, settings_env
from xerotier.db import blob_refs
from xerotier.db.models import Blob
from xerotier.storage.collector import collect

pytestmark = pytest.mark.integration


def refcounts(runtime) -> dict[str, int]:
    with runtime.session_factory() as session:
        return dict(session.execute(select(Blob.sha256, Blob.refcount)).all())


def upload_version(client, version: str, files: dict[str, bytes]) -> str:
    created = client.post("/v1/models", json={"name": "shared-shards", "version": version})
    assert created.status_code == 201, created.text
    model_id = created.json()["id"]
    for path, body in files.items():
        assert client.put(f"/v1/models/{model_id}/files/{path}", content=body).status_code == 201
    return model_id


def release(runtime, model_id: str) -> list[str]:
    with runtime.unit_of_work() as session:
        return blob_refs.release_model_files(session, uuid.UUID(model_id))


def test_unchanged_shards_are_stored_once_and_collected_after_release(pg_api, pg_runtime):
    shard, config_v1, config_v2 = b"S" * 100_000, b'{"v": 1}', b'{"v": 2}'
    v1 = upload_version(pg_api, "1.0.0", {"model.safetensors": shard, "config.json": config_v1})
    v2 = upload_version(pg_api, "2.0.0", {"model.safetensors": shard, "config.json": config_v2})
    stored = sorted(p.name for p in (pg_runtime.blobs.root / "sha256").rglob("*") if p.is_file())
    assert len(stored) == 3  # one shard, two configs
    counts = refcounts(pg_runtime)
    assert sorted(counts.values()) == [1, 1, 2]

    assert len(release(pg_runtime, v1)) == 2
    report = collect(pg_runtime.session_factory, pg_runtime.blobs, timedelta(0))
    assert len(report.removed) == 1  # v1's config; the shard is still used by v2
    assert pg_api.get(f"/v1/models/{v2}/files").json()["files"] != []
    shard_sha = hashlib.sha256(shard).hexdigest()
    assert refcounts(pg_runtime)[shard_sha] == 1
    assert pg_runtime.blobs.exists(shard_sha)
    assert not pg_runtime.blobs.exists(hashlib.sha256(config_v1).hexdigest())

    release(pg_runtime, v2)
    report = collect(pg_runtime.session_factory, pg_runtime.blobs, timedelta(0))
    assert len(report.removed) == 2
    assert refcounts(pg_runtime) == {}
    assert [p for p in (pg_runtime.blobs.root / "sha256").rglob("*") if p.is_file()] == []


def test_collector_keeps_recent_blobs_and_sweeps_stray_bytes(pg_api, pg_runtime):
    model_id = upload_version(pg_api, "1.0.0", {"model.bin": b"weights"})
    release(pg_runtime, model_id)
    report = collect(pg_runtime.session_factory, pg_runtime.blobs, timedelta(hours=1))
    assert report.removed == [] and report.kept_recent == 0  # released too recently to be a candidate
    assert len(refcounts(pg_runtime)) == 1

    writer = pg_runtime.blobs.writer()
    writer.write(b"stored but never recorded")
    stray = writer.commit()
    assert pg_runtime.blobs.exists(stray.sha256)
    report = collect(pg_runtime.session_factory, pg_runtime.blobs, timedelta(0))
    assert stray.sha256 in report.orphans
    assert not pg_runtime.blobs.exists(stray.sha256)


def test_xerotier_blobs_gc_command(pg_api, pg_runtime, pg_settings):
    model_id = upload_version(pg_api, "1.0.0", {"model.bin": b"to be collected"})
    release(pg_runtime, model_id)
    done = subprocess.run(
        [str(BIN / "xerotier"), "blobs", "gc", "--grace-seconds", "0"],
        env=settings_env(pg_settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("removed 1 unreferenced blob(s), 0 stray blob(s)")
    assert refcounts(pg_runtime) == {}


def test_the_housekeeper_collects_released_blobs_periodically(pg_api, pg_runtime):
    from xerotier.queue.reconciler import Housekeeper

    model_id = upload_version(pg_api, "1.0.0", {"model.safetensors": b"W" * 1000})
    sha = hashlib.sha256(b"W" * 1000).hexdigest()
    release(pg_runtime, model_id)
    assert pg_runtime.blobs.exists(sha)
    pg_runtime.settings.blob_gc_grace_seconds = 0
    pg_runtime.settings.blob_gc_interval_seconds = 0.2
    keeper = Housekeeper(pg_runtime)
    keeper.start()
    try:
        deadline = time.monotonic() + 30
        while pg_runtime.blobs.exists(sha) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        keeper.stop()
    assert not pg_runtime.blobs.exists(sha)
    assert refcounts(pg_runtime) == {}
