"""Catalog list at scale, side by side with MLflow's ``search_registered_models``; auth overhead.

Fills a fresh PostgreSQL database with 100,000 shared models (SQL ``generate_series``), runs a real
``xerotier serve`` on it, and measures over HTTP with a fresh TCP connection per request (the
like-for-like mode of ../shared/bench/mlflow_bench.py):

- a filtered catalog page of 50 (workload type + architecture + parameter range) and a name search;
- the same page under 8 concurrent clients (p99 and throughput);
- authentication overhead: ``/v1/tiers`` (key lookup + HMAC + trivial body) against ``/healthz``
  (no auth), interleaved, and the keyed hash against a password KDF (scrypt) in-process.

With ``XEROTIER_BENCH_MLFLOW_BIN=/path/to/mlflow`` it also starts ``mlflow server --workers 2`` on
its own fresh PostgreSQL database holding the same number of registered models, and measures
``registered-models/search`` (max_results=50, ``name LIKE 'model-12%'``) in the same run, two
ways: each server alone (ours before MLflow's processes start, MLflow's while ours idles, as the
MLflow versions comparison runs them), then interleaved request by request with both up.
Other knobs: ``XEROTIER_BENCH_MODELS`` (default 100000), ``XEROTIER_BENCH_REPS`` (default 200),
``XEROTIER_BENCH_PG_ADMIN``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psycopg

from xerotier import auth

PG_ADMIN = os.environ.get("XEROTIER_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("XEROTIER_BENCH_REDIS", "redis://127.0.0.1:6379/0")
BIN = Path(sys.executable).parent
WARMUP = 20
FILTERED = {
    "workloadType": "chat",
    "architecture": "llama",
    "minParameters": 7_000_000_000,
    "maxParameters": 70_000_000_000,
    "limit": 50,
}
SEARCH = {"q": "model-12", "limit": 50}

FILL_SQL = """
INSERT INTO projects (id, slug, created_at)
SELECT 'proj_B' || lpad(g::text, 7, '0'), 'bench-' || g, now() FROM generate_series(0, 999) g;
INSERT INTO models (id, project_id, name, version, is_latest, format, size_bytes, workload_type,
    status, status_changed_at, attempts, architecture, parameter_count, context_length,
    is_multimodal, is_pre_quantized, is_shared, catalog_role, featured, deployment_count,
    shared_at, created_at, updated_at)
SELECT gen_random_uuid(), 'proj_B' || lpad((g % 1000)::text, 7, '0'), 'model-' || g, '1.0.0', true,
    'safetensors', 1000000, (ARRAY['chat','code','reasoning','embedding','multilingual'])[1 + g % 5],
    'ready', now(), 0, (ARRAY['llama','qwen2','mistral','gemma','phi'])[1 + (g / 5) % 5],
    (1 + g % 70)::bigint * 1000000000, (ARRAY[2048,4096,8192,32768,131072])[1 + (g / 25) % 5],
    g % 7 = 0, g % 3 = 0, true, 'deployable', g % 100 = 0, g % 11,
    now() - make_interval(secs => g), now(), now()
FROM generate_series(0, %(last)s) g;
ANALYZE projects; ANALYZE models;
"""
MLFLOW_FILL_SQL = """
INSERT INTO registered_models (name, workspace, creation_time, last_updated_time, description)
SELECT 'model-' || g, 'default', %(now)s, %(now)s, '' FROM generate_series(0, %(last)s) g;
INSERT INTO model_versions (name, workspace, version, creation_time, last_updated_time, description,
    current_stage, source, run_id, status, status_message, run_link)
SELECT 'model-' || g, 'default', 1, %(now)s, %(now)s, '', 'None', 's3://bench/' || g, '', 'READY', '', ''
FROM generate_series(0, %(last)s) g;
ANALYZE registered_models; ANALYZE model_versions;
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, in milliseconds (as mlflow_bench.py)."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))] * 1000


@contextmanager
def database(prefix: str) -> Iterator[str]:
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def process(args: list[str], env: dict[str, str], url: str, health: str) -> Iterator[subprocess.Popen]:
    log = open(os.devnull, "wb")  # noqa: SIM115 — closed below
    proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(url + health, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} did not start (exit {proc.poll()})")
            time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def series(call: Callable[[], object], reps: int) -> list[float]:
    for _ in range(WARMUP):
        call()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def concurrent(call: Callable[[], object], clients: int, per_client: int) -> tuple[list[float], float]:
    """Latencies of ``clients`` threads each making ``per_client`` calls, and requests per second."""
    for _ in range(WARMUP):
        call()

    def worker(_: int) -> list[float]:
        return series_no_warmup(call, per_client)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        samples = [s for chunk in pool.map(worker, range(clients)) for s in chunk]
    return samples, len(samples) / (time.perf_counter() - start)


def series_no_warmup(call: Callable[[], object], reps: int) -> list[float]:
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


_local = threading.local()


def _client() -> httpx.Client:
    """One client per thread, reused (as mlflow_bench.py's sessions: no per-request client setup)."""
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client(timeout=60)
    return client


def get_fresh(
    base: str, path: str, params: dict | None = None, key: str | None = None
) -> Callable[[], object]:
    """A GET on a fresh TCP connection each time (``Connection: close``), checked for 200."""
    headers = {"Connection": "close", **({"Authorization": f"Bearer {key}"} if key else {})}

    def call() -> object:
        response = _client().get(base + path, params=params, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code} {response.text[:200]}")
        return response

    return call


def line(label: str, samples: list[float]) -> dict[str, float]:
    figures = {"p50": pct(samples, 50), "p99": pct(samples, 99)}
    print(f"  {label:<58} p50 {figures['p50']:7.2f} ms   p99 {figures['p99']:7.2f} ms")
    return figures


@contextmanager
def ours(models: int, reps: int, results: dict[str, dict[str, float]]) -> Iterator[tuple[str, str]]:
    """A filled database and a running ``xerotier serve``: (base URL, API key)."""
    from xerotier.db.engine import make_engine
    from xerotier.db.migrate import upgrade
    from xerotier.db.projects import create_key, get_or_create_project
    from xerotier.runtime import Runtime
    from xerotier.settings import Settings

    with database("xerotier_bench") as url:
        sa_url = url.replace("postgresql://", "postgresql+psycopg://")
        engine = make_engine(sa_url)
        upgrade(engine)
        engine.dispose()
        start = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(FILL_SQL.replace("%(last)s", str(models - 1)))  # type: ignore[arg-type]
        print(f"  filled {models} shared models in {time.perf_counter() - start:.1f} s")
        runtime = Runtime(Settings(database_url=sa_url, broker_url=REDIS), [])
        with runtime.unit_of_work() as session:
            _, key = create_key(session, get_or_create_project(session, "bench-reader"), "bench")
        results["auth_db"] = auth_in_process(runtime, key, reps * 5)
        results["auth_route"] = auth_on_the_app(runtime, key, reps * 2)
        runtime.close()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            "XEROTIER_DATABASE_URL": sa_url,
            "XEROTIER_BROKER_URL": REDIS,
            "XEROTIER_PORT": str(port),
            "XEROTIER_LOG_LEVEL": "WARNING",
        }
        with process([str(BIN / "xerotier"), "serve"], env, base, "/healthz"):
            yield base, key


@contextmanager
def mlflow(binary: str, models: int) -> Iterator[str]:
    """A running ``mlflow server --workers 2`` on PostgreSQL with ``models`` registered models."""
    with database("mlflow_bench") as url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        args = [
            binary,
            "server",
            "--backend-store-uri",
            url.replace("postgresql://", "postgresql+psycopg2://"),  # the driver of the README's setup line
        ]
        args += ["--workers", "2", "--port", str(port), "--host", "127.0.0.1"]
        with process(args, {}, base, "/health"):
            start = time.perf_counter()
            now = int(time.time() * 1000)
            with psycopg.connect(url, autocommit=True) as conn:
                sql = MLFLOW_FILL_SQL.replace("%(last)s", str(models - 1)).replace("%(now)s", str(now))
                conn.execute(sql)  # type: ignore[arg-type]
            print(f"  filled {models} MLflow registered models in {time.perf_counter() - start:.1f} s")
            yield base


def paired(a: Callable[[], object], b: Callable[[], object], reps: int) -> tuple[list[float], list[float]]:
    """Latencies of ``a`` and ``b`` called alternately (both see the same machine load)."""
    for _ in range(WARMUP):
        a()
        b()
    first, second = [], []
    for i in range(reps):
        for call, out in ((a, first), (b, second)) if i % 2 == 0 else ((b, second), (a, first)):
            start = time.perf_counter()
            call()
            out.append(time.perf_counter() - start)
    return first, second


def paired_concurrent(
    a: Callable[[], object], b: Callable[[], object], clients: int, per_client: int, rounds: int = 2
) -> tuple[tuple[list[float], float], tuple[list[float], float]]:
    """8-client blocks against ``a`` and ``b`` in turn (a, b, b, a, …): latencies and mean req/s."""
    got: dict[int, tuple[list[float], list[float]]] = {0: ([], []), 1: ([], [])}
    order = [0, 1, 1, 0] * rounds
    for which in order[: 2 * rounds]:
        samples, rate = concurrent((a, b)[which], clients, per_client)
        got[which][0].extend(samples)
        got[which][1].append(rate)
    return tuple((got[w][0], statistics.fmean(got[w][1])) for w in (0, 1))  # type: ignore[return-value]


def auth_in_process(runtime, key: str, reps: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """What ``get_caller`` adds inside a request: the key lookup query plus the keyed hash check."""
    from sqlalchemy import text

    from xerotier.db.projects import authenticate

    with runtime.session_factory() as session:
        for _ in range(WARMUP):
            authenticate(session, key)
        base, keyed = [], []
        for _ in range(reps):
            start = time.perf_counter()
            session.execute(text("SELECT 1")).scalar()
            base.append(time.perf_counter() - start)
            start = time.perf_counter()
            if authenticate(session, key) is None:
                raise RuntimeError("key did not authenticate")
            keyed.append(time.perf_counter() - start)
    figures = {"select1_p50": pct(base, 50), "auth_p50": pct(keyed, 50), "auth_p99": pct(keyed, 99)}
    print(
        f"  authenticate() in-process (lookup query + HMAC): p50 {figures['auth_p50']:.3f} ms, "
        f"p99 {figures['auth_p99']:.3f} ms (a bare SELECT 1 round trip: p50 {figures['select1_p50']:.3f} ms)"
    )
    return figures


def auth_on_the_app(runtime, key: str, reps: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The real app in-process: ``GET /v1/tiers`` against the same handler mounted without auth."""
    from fastapi.testclient import TestClient

    from xerotier.catalog.public.routes import list_tiers
    from xerotier.gateway.app import create_app

    app = create_app(runtime)

    async def tiers_without_auth() -> dict:  # type: ignore[type-arg]
        return await list_tiers(None)  # type: ignore[arg-type]

    app.add_api_route("/bench/tiers", tiers_without_auth)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {key}"}
        for _ in range(WARMUP):
            client.get("/bench/tiers")
            client.get("/v1/tiers", headers=headers)
        plain, keyed = [], []
        for _ in range(reps):
            start = time.perf_counter()
            client.get("/bench/tiers")
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            if client.get("/v1/tiers", headers=headers).status_code != 200:
                raise RuntimeError("authenticated request failed")
            keyed.append(time.perf_counter() - start)
    figures = {"plain_p50": pct(plain, 50), "auth_p50": pct(keyed, 50)}
    print(
        f"  same route in-process without / with auth: p50 {figures['plain_p50']:.3f} / "
        f"{figures['auth_p50']:.3f} ms => auth adds {figures['auth_p50'] - figures['plain_p50']:.3f} ms"
    )
    return figures


def auth_overhead(base: str, key: str, reps: int) -> dict[str, float]:
    """Interleave an authenticated trivial route with an unauthenticated one on one connection."""
    with httpx.Client(base_url=base, timeout=30) as client:
        authed = {"Authorization": f"Bearer {key}"}
        for _ in range(WARMUP):
            client.get("/healthz")
            client.get("/v1/tiers", headers=authed)
        plain, keyed = [], []
        for _ in range(reps * 2):
            start = time.perf_counter()
            client.get("/healthz")
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            if client.get("/v1/tiers", headers=authed).status_code != 200:
                raise RuntimeError("authenticated request failed")
            keyed.append(time.perf_counter() - start)
    p50_plain, p50_keyed = pct(plain, 50), pct(keyed, 50)
    print(f"  /healthz (no auth) p50 {p50_plain:.3f} ms; /v1/tiers (auth) p50 {p50_keyed:.3f} ms")
    print(f"  => authentication adds {p50_keyed - p50_plain:.3f} ms per request (p50 difference)")
    secret = auth.new_secret()
    stored = auth.hash_secret(secret)
    n = 20000
    start = time.perf_counter()
    for _ in range(n):
        auth.secret_matches(secret, stored)
    hmac_us = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for _ in range(5):
        hashlib.scrypt(secret.encode(), salt=b"bench-salt-16byt", n=2**14, r=8, p=1)
    scrypt_us = (time.perf_counter() - start) / 5 * 1e6
    print(
        f"  keyed hash check {hmac_us:.2f} us vs scrypt(n=2^14) {scrypt_us / 1000:.1f} ms: "
        f"{scrypt_us / hmac_us:,.0f}x cheaper per request"
    )
    return {"overhead_ms": p50_keyed - p50_plain, "hmac_us": hmac_us}


def main() -> None:
    models = int(os.environ.get("XEROTIER_BENCH_MODELS", "100000"))
    reps = int(os.environ.get("XEROTIER_BENCH_REPS", "200"))
    binary = os.environ.get("XEROTIER_BENCH_MLFLOW_BIN")
    print(f"catalog with {models} shared models, {reps} requests per series, fresh connection each")
    results: dict[str, dict[str, float]] = {}
    with ours(models, reps, results) as (base, key), ExitStack() as stack:
        page = get_fresh(base, "/v1/catalog/models", FILTERED, key)
        search = get_fresh(base, "/v1/catalog/models", SEARCH, key)
        assert len(page().json()["models"]) == 50  # type: ignore[attr-defined]
        results["auth"] = auth_overhead(base, key, reps)
        if not binary:
            line("xerotier catalog, filtered page of 50", series(page, reps))
            line("xerotier catalog, q=model-12 (name search)", series(search, reps))
            samples, rate = concurrent(page, 8, max(25, reps // 4))
            line(f"xerotier filtered page, 8 clients ({rate:.0f} req/s)", samples)
            print("  (set XEROTIER_BENCH_MLFLOW_BIN to measure MLflow side by side in this run)")
            return
        # Each server alone first (as the MLflow versions comparison does): ours before MLflow's
        # processes exist, MLflow's while ours idles. Then interleaved, with both up.
        alone_page, alone_search = series(page, reps), series(search, reps)
        mbase = stack.enter_context(mlflow(binary, models))
        path = "/api/2.0/mlflow/registered-models/search"
        like = get_fresh(mbase, path, {"max_results": 50, "filter": "name LIKE 'model-12%'"})
        assert len(like().json()["registered_models"]) == 50  # type: ignore[attr-defined]
        print("  -- each server alone (ours before MLflow starts, MLflow while ours idles):")
        alone_like = series(like, reps)
        a, c = line("xerotier filtered page of 50", alone_page), line("xerotier q=model-12", alone_search)
        b = line("MLflow search, LIKE 'model-12%', 50", alone_like)
        ratios = [("alone: filtered page vs MLflow", a, b), ("alone: name search vs MLflow", c, b)]
        print("  -- interleaved, request by request:")
        mine, theirs = paired(page, like, reps)
        a, b = line("xerotier filtered page of 50", mine), line("MLflow search, LIKE 'model-12%', 50", theirs)
        ratios.append(("interleaved: filtered page vs MLflow", a, b))
        mine, theirs = paired(search, like, reps)
        a, b = (
            line("xerotier q=model-12 (name search)", mine),
            line("MLflow search, LIKE 'model-12%'", theirs),
        )
        ratios.append(("interleaved: name search vs MLflow", a, b))
        print("  -- 8 concurrent clients, blocks alternated:")
        (mine, rate_a), (theirs, rate_b) = paired_concurrent(page, like, 8, max(25, reps // 8))
        a = line(f"xerotier filtered page, 8 clients ({rate_a:.0f} req/s)", mine)
        b = line(f"MLflow LIKE search, 8 clients ({rate_b:.0f} req/s)", theirs)
        ratios.append(("8 clients: filtered page vs MLflow", a, b))
    for label, a, b in ratios:
        print(
            f"  {label:<40} p50 {b['p50'] / a['p50']:5.1f}x faster   p99 {b['p99'] / a['p99']:5.1f}x faster"
        )
