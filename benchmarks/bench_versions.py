"""Versions at scale: list, get-latest, create-version and promote over HTTP against a real
``xerotier serve`` on PostgreSQL, at 1,000 and at 100,000 versions, side by side in one run.

The ratio column (large / small) shows whether a request's cost grows with the number of
versions; the query plans (``EXPLAIN (ANALYZE, BUFFERS)``) of the list, prefix, get-latest,
versions and promote statements at the large scale show the rows each one touches. A last phase
runs 20 concurrent promotes on one model for 10 rounds and counts failed requests.

    make bench ARGS=versions          # or: .venv/bin/python -m benchmarks versions
    XEROTIER_BENCH_PG_ADMIN=postgresql://postgres@127.0.0.1:5432/postgres (default)
    XEROTIER_BENCH_REDIS=redis://127.0.0.1:6379/0 (default)
"""

from __future__ import annotations

import math
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.dialects import postgresql

from xerotier.catalog.models.listing import ListFilter, encode_cursor
from xerotier.catalog.models.management import list_query
from xerotier.db.engine import make_engine, make_session_factory
from xerotier.db.migrate import upgrade
from xerotier.db.projects import create_key, get_or_create_project

ADMIN = os.environ.get("XEROTIER_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("XEROTIER_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PER_NAME = 10
SCALES = {"small": 100, "large": 10_000}  # names; PER_NAME versions each
REPS, WARMUP = 200, 20
BIN = Path(sys.executable).parent
NO_ID = uuid.UUID(int=0)  # a cursor (name, 0…0) starts a page right at that name

FILL = """
INSERT INTO models (id, project_id, name, version, is_latest, size_bytes, status, status_changed_at,
    attempts, is_multimodal, is_pre_quantized, is_shared, featured, deployment_count, created_at,
    updated_at, architecture, workload_type, format)
SELECT gen_random_uuid(), :project, 'model-' || lpad(n::text, 5, '0'), '1.' || v || '.0', v = :last,
    1000, 'ready', now(), 0, false, false, false, false, 0, now(), now(), 'llama', 'chat', 'safetensors'
FROM generate_series(0, :names - 1) AS n, generate_series(0, :last) AS v
"""


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


@dataclass
class Scale:
    label: str
    names: int
    db: str = ""
    engine: Engine | None = None
    project_id: str = ""
    key: str = ""
    server: subprocess.Popen | None = None
    url: str = ""
    latest_ids: dict[str, str] = field(default_factory=dict)
    results: dict[str, tuple[float, float, int]] = field(default_factory=dict)
    picks: list[str] = field(default_factory=list)  # the names requests go to, same sequence each scale
    promoted: dict[str, int] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(scale: Scale, workdir: Path) -> None:
    scale.db = f"xerotier_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scale.db}"')
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{scale.db}"
    scale.engine = make_engine(url)
    upgrade(scale.engine)
    with make_session_factory(scale.engine)() as session:
        project = get_or_create_project(session, "bench")
        _, scale.key = create_key(session, project, "bench")
        scale.project_id = project.id
        session.commit()
    started = time.perf_counter()
    with scale.engine.begin() as conn:
        conn.execute(text(FILL), {"project": scale.project_id, "names": scale.names, "last": PER_NAME - 1})
    with scale.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE models"))
        rows = conn.execute(text("SELECT name, id FROM models WHERE is_latest")).all()
    scale.latest_ids = {name: str(mid) for name, mid in rows}
    rng = random.Random(7)
    names = sorted(scale.latest_ids)
    scale.picks = [rng.choice(names) for _ in range(REPS + WARMUP)]
    print(
        f"  {scale.label}: {scale.names * PER_NAME:,} versions of {scale.names:,} names filled in "
        f"{time.perf_counter() - started:.1f} s"
    )
    port = free_port()
    env = {
        **os.environ,
        "XEROTIER_DATABASE_URL": url,
        "XEROTIER_BROKER_URL": REDIS,
        "XEROTIER_BROKER_KEY_PREFIX": f"bench-{secrets.token_hex(3)}:",
        "XEROTIER_DATA_DIR": str(workdir / scale.label),
        "XEROTIER_PORT": str(port),
        "XEROTIER_LOG_LEVEL": "WARNING",
    }
    log = (workdir / f"{scale.label}.log").open("wb")
    scale.server = subprocess.Popen(
        [str(BIN / "xerotier"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    scale.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{scale.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"xerotier serve did not start; see {workdir / scale.label}.log")


def series(
    client: httpx.Client, call: Callable[[httpx.Client, int], httpx.Response]
) -> tuple[float, float, int]:
    failures = 0
    for i in range(WARMUP):
        call(client, -1 - i)
    samples = []
    for i in range(REPS):
        started = time.perf_counter()
        response = call(client, i)
        samples.append(time.perf_counter() - started)
        failures += response.status_code >= 400
    return pct(samples, 50), pct(samples, 99), failures


def _health(scale: Scale, c: httpx.Client, i: int) -> httpx.Response:
    return c.get("/healthz")


def _list_page(scale: Scale, c: httpx.Client, i: int) -> httpx.Response:
    return c.get("/v1/models", params={"limit": 50, "cursor": encode_cursor(scale.picks[i], NO_ID)})


def _list_prefix(scale: Scale, c: httpx.Client, i: int) -> httpx.Response:
    return c.get("/v1/models", params={"limit": 50, "namePrefix": scale.picks[i][:-1]})


def _get_latest(scale: Scale, c: httpx.Client, i: int) -> httpx.Response:
    return c.get("/v1/models", params={"limit": 1, "namePrefix": scale.picks[i]})


def _list_versions(scale: Scale, c: httpx.Client, i: int) -> httpx.Response:
    return c.get(f"/v1/models/{scale.latest_ids[scale.picks[i]]}/versions")


def _create_version(scale: Scale, c: httpx.Client, i: int) -> httpx.Response:
    return c.post(
        f"/v1/models/{scale.latest_ids[scale.picks[i]]}/versions", json={"version": f"3.{i + 100}.0"}
    )


def _promote(scale: Scale, c: httpx.Client, i: int) -> httpx.Response:
    name = scale.picks[i]
    scale.promoted[name] = scale.promoted.get(name, 0) + 1
    version = f"1.{scale.promoted[name] % 2 + PER_NAME - 3}.0"  # alternate 1.7.0 / 1.8.0: a real move
    return c.post(f"/v1/models/{scale.latest_ids[name]}/versions/{version}/promote")


RACE = "20 concurrent promotes x 10 rounds"
PHASES: dict[str, Callable[[Scale, httpx.Client, int], httpx.Response] | None] = {
    "floor: GET /healthz (no auth, no SQL)": _health,
    "list page of 50 (cursor)": _list_page,
    "list page of 50, name prefix": _list_prefix,
    "get latest of a name": _get_latest,
    "list versions of a model": _list_versions,
    "create version": _create_version,
    "promote": _promote,
    RACE: None,
}


def run_phase(scale: Scale, phase: str) -> tuple[float, float, int]:
    headers = {"Authorization": f"Bearer {scale.key}"}
    call = PHASES[phase]
    if call is None:
        return race(scale, min(scale.latest_ids), headers)
    with httpx.Client(base_url=scale.url, headers=headers, timeout=60) as client:
        return series(client, lambda c, i: call(scale, c, i))


def race(scale: Scale, name: str, headers: dict[str, str]) -> tuple[float, float, int]:
    failures, samples = 0, []
    lock = threading.Lock()
    for round_ in range(10):
        barrier = threading.Barrier(20)

        def worker(k: int, barrier: threading.Barrier = barrier, round_: int = round_) -> None:
            nonlocal failures
            with httpx.Client(base_url=scale.url, headers=headers, timeout=120) as own:
                barrier.wait()
                started = time.perf_counter()
                response = own.post(
                    f"/v1/models/{scale.latest_ids[name]}/versions/1.{(k + round_) % PER_NAME}.0/promote"
                )
                with lock:
                    samples.append(time.perf_counter() - started)
                    failures += response.status_code != 200

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with scale.engine.connect() as conn:
        latest = conn.execute(
            text("SELECT count(*) FROM models WHERE name = :n AND is_latest"), {"n": name}
        ).scalar()
    assert latest == 1, f"{latest} latest versions of {name}"
    return pct(samples, 50), pct(samples, 99), failures


def explain(scale: Scale) -> None:
    """The plans of the statements behind each request, at this scale."""
    name = sorted(scale.latest_ids)[scale.names // 2]

    def compile_(stmt) -> str:  # type: ignore[no-untyped-def]
        return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))

    where = f"project_id = '{scale.project_id}' AND name = '{name}'"
    statements = {
        "list page (cursor)": compile_(
            list_query(scale.project_id, ListFilter(), encode_cursor(name, NO_ID), 50, True)
        ),
        "list page, name prefix": compile_(
            list_query(scale.project_id, ListFilter(name_prefix=name[:-1]), None, 50, True)
        ),
        "get latest": f"SELECT * FROM models WHERE {where} AND is_latest",
        "versions of a model": f"SELECT * FROM models WHERE {where}",
        "promote: clear latest": f"UPDATE models SET is_latest = false WHERE {where} AND is_latest",
        "promote: set latest": f"UPDATE models SET is_latest = true WHERE id = '{scale.latest_ids[name]}'",
    }
    with scale.engine.connect() as conn:
        for label, sql in statements.items():
            plan = (
                conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) {sql}")).scalars().all()
            )
            print(f"\n  -- {label}\n" + "\n".join(f"  {line}" for line in plan))
        conn.rollback()


def cleanup(scale: Scale) -> None:
    if scale.server is not None and scale.server.poll() is None:
        scale.server.terminate()
        scale.server.wait(timeout=30)
    if scale.engine is not None:
        scale.engine.dispose()
    if scale.db:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scale.db}" WITH (FORCE)')


def main() -> None:
    scales = [Scale(label, names) for label, names in SCALES.items()]
    with tempfile.TemporaryDirectory(prefix="xerotier-bench-") as tmp:
        try:
            for scale in scales:
                prepare(scale, Path(tmp))
            for phase in PHASES:  # interleaved: the same server warmth and machine load for both
                for scale in scales:
                    scale.results[phase] = run_phase(scale, phase)
            small, large = scales
            print(f"\n  {REPS} requests each after {WARMUP} warm-up, one keep-alive client, ms (p50 / p99)")
            print(
                f"  {'operation':38} {'1,000 versions':>16} {'100,000 versions':>18}"
                f" {'p50 ratio':>10} {'failed':>7}"
            )
            for label, (p50, p99, failed) in large.results.items():
                s50, s99, s_failed = small.results[label]
                print(
                    f"  {label:38} {s50:7.2f} / {s99:6.2f} {p50:8.2f} / {p99:7.2f} {p50 / s50:9.2f}x "
                    f"{failed + s_failed:>7}"
                )
            print("\n  query plans at 100,000 versions (EXPLAIN ANALYZE, BUFFERS):")
            explain(large)
        finally:
            for scale in scales:
                cleanup(scale)


if __name__ == "__main__":
    main()
