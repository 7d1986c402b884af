"""Uploads, re-uploads and the collector (grace 0) at once, on PostgreSQL and SQLite: no lost blob.

Each uploader thread owns one model and keeps replacing its three files with contents drawn from a
small shared pool (so blobs are constantly released to zero, collected, re-sent and refreshed) and
now and then a unique one. Right after ``record_file`` commits, the blob must be in the store: only
this thread could release its reference, so a missing blob is one the collector lost. The collector
runs pass after pass meanwhile and must really collect (else the test proves nothing).
"""

from __future__ import annotations

import hashlib
import io
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from support.sharing import new_project
from xerotier.db.models import ModelFile
from xerotier.runtime import Runtime
from xerotier.storage.collector import collect
from xerotier.upload import handlers

pytestmark = pytest.mark.integration
THREADS = 4
UPLOADS_PER_THREAD = 400
POOL = [bytes([i]) * (100 + i) for i in range(6)]


@pytest.fixture(params=["postgresql", "sqlite"])
def runtime(request: pytest.FixtureRequest) -> Runtime:
    return request.getfixturevalue("pg_runtime" if request.param == "postgresql" else "sqlite_runtime")


def test_no_upload_loses_its_blob_to_the_collector(runtime):
    project_id, _ = new_project(runtime, "race")
    models = [
        handlers.create_model(runtime, project_id, handlers.NewModel(f"race-{i}")).id for i in range(THREADS)
    ]
    lost: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()
    passes = {"n": 0, "removed": 0}

    def uploader(index: int) -> None:
        rng = random.Random(index)
        try:
            for step in range(UPLOADS_PER_THREAD):
                content = rng.choice(POOL) if rng.random() < 0.9 else f"unique {index} {step}".encode()
                path = f"f{rng.randrange(3)}.bin"
                handlers.store_and_record(runtime, project_id, models[index], path, io.BytesIO(content))
                digest = hashlib.sha256(content).hexdigest()
                if not runtime.blobs.exists(digest):
                    lost.append(f"{models[index]}/{path} -> {digest[:12]} (step {step})")
        except BaseException as exc:
            failures.append(exc)

    def collector() -> None:
        try:
            while not stop.is_set():
                report = collect(runtime.session_factory, runtime.blobs, timedelta(0))
                passes["n"] += 1
                passes["removed"] += len(report.removed) + len(report.orphans)
        except BaseException as exc:
            failures.append(exc)

    sweeper = threading.Thread(target=collector)
    sweeper.start()
    workers = [threading.Thread(target=uploader, args=(i,)) for i in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop.set()
    sweeper.join()

    assert not failures, repr(failures[0])
    assert not lost, f"{len(lost)} of {THREADS * UPLOADS_PER_THREAD} uploads lost their blob: {lost[:5]}"
    assert passes["n"] >= 20 and passes["removed"] >= 50, passes  # the collector really raced
    with runtime.session_factory() as session:
        rows = session.execute(select(ModelFile.path, ModelFile.sha256)).all()
    missing = [sha for _, sha in rows if not runtime.blobs.exists(sha)]
    assert len(rows) == THREADS * 3 and not missing
