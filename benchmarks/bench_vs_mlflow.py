"""Side by side with the MLflow Model Registry, in one run, on the same PostgreSQL, with the shared
benchmark (``/work/shared/bench/mlflow_bench.py``) driving both through the same phases:
10,000 model names x 10 versions (100,000 versions) filled by SQL and ``ANALYZE``d on both sides
alike, then set-alias/promote
(first set and re-point), get-latest and get-by-alias, search (page of 50; no filter, name prefix,
exact name), and 20 concurrent alias sets / promotes on one model for 10 rounds.

Needs MLflow in its own virtual environment, never a project dependency:

    python3 -m venv /tmp/mlflow-venv && /tmp/mlflow-venv/bin/pip install mlflow psycopg2-binary httpx
    MLFLOW_VENV=/tmp/mlflow-venv make bench ARGS=mlflow

Both servers get fresh connections per request (``--conn close``: no keep-alive artefact).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import text

from benchmarks.http_floor import measure_floor
from xerotier.db.engine import make_engine, make_session_factory
from xerotier.db.migrate import upgrade
from xerotier.db.projects import create_key, get_or_create_project

ADMIN = os.environ.get("XEROTIER_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("XEROTIER_BENCH_REDIS", "redis://127.0.0.1:6379/0")
BENCH_DIR = Path(os.environ.get("MLFLOW_BENCH_DIR", "/work/shared/bench"))
NAMES, VERSIONS = 10_000, 10
COMMON = ["--versions", str(VERSIONS), "--reps", "200", "--race-threads", "20", "--race-rounds", "10",
          "--conn", "close"]  # fmt: skip
REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

OURS_FILL = """
INSERT INTO models (id, project_id, name, version, is_latest, size_bytes, status, status_changed_at,
    attempts, is_multimodal, is_pre_quantized, is_shared, featured, deployment_count, created_at,
    updated_at, format)
SELECT gen_random_uuid(), :project, 'model-' || n, v || '.0.0', v = :versions, 1000, 'ready', now(), 0,
    false, false, false, false, 0, now(), now(), 'safetensors'
FROM generate_series(0, :names - 1) AS n, generate_series(1, :versions) AS v
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_db(prefix: str) -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_db(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited; see {log}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"server not healthy; see {log}")


def analyze(dsn: str) -> None:
    """``ANALYZE`` the whole database after the bulk fill (autovacuum is off on these machines), so
    neither side's planner works from empty statistics: run on both sides alike."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_mlflow(venv: Path, tmp: Path) -> dict:
    db = create_db("mlflow_bench")
    port, log = free_port(), tmp / "mlflow.log"
    server = subprocess.Popen(
        [str(venv / "bin" / "mlflow"), "server", "--backend-store-uri", f"postgresql+psycopg2://postgres@127.0.0.1:5432/{db}",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=tmp,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", server, log)
        dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={db}"
        mlflow_bench = [str(venv / "bin" / "python"), str(BENCH_DIR / "mlflow_bench.py"),
                        "--target", "mlflow", "--base-url", f"http://127.0.0.1:{port}", "--pg-dsn", dsn,
                        *COMMON]  # fmt: skip
        bench_log = (tmp / "mlflow-bench.log").open("ab")
        subprocess.run(
            [*mlflow_bench, "--phases", "fill", "--fill-to", str(NAMES), "--fill-mode", "sql",
             "--out", str(tmp / "mlflow-fill.json")],
            check=True, cwd=tmp, stdout=bench_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        analyze(f"postgresql://postgres@127.0.0.1:5432/{db}")  # as on our side: both planners informed
        out = tmp / "mlflow.json"
        subprocess.run(
            [*mlflow_bench, "--phases", "create,alias,read,search,race", "--models", "100",
             "--existing", str(NAMES), "--out", str(out)],
            check=True, cwd=tmp, stdout=bench_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        return json.loads(out.read_text())
    finally:
        stop(server)
        drop_db(db)


def run_ours(tmp: Path) -> dict:
    db = create_db("xerotier_bench")
    url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{db}"
    engine = make_engine(url)
    server = None
    try:
        upgrade(engine)
        with make_session_factory(engine)() as session:
            project = get_or_create_project(session, "bench")
            _, key = create_key(session, project, "bench")
            project_id = project.id
            session.commit()
        with engine.begin() as conn:
            conn.execute(text(OURS_FILL), {"project": project_id, "names": NAMES, "versions": VERSIONS})
        analyze(ADMIN.rsplit("/", 1)[0] + f"/{db}")
        port, log = free_port(), tmp / "xerotier.log"
        env = {**os.environ, "XEROTIER_DATABASE_URL": url, "XEROTIER_BROKER_URL": REDIS,
               "XEROTIER_BROKER_KEY_PREFIX": f"bench-{secrets.token_hex(3)}:",
               "XEROTIER_DATA_DIR": str(tmp / "data"),
               "XEROTIER_PORT": str(port), "XEROTIER_LOG_LEVEL": "WARNING"}  # fmt: skip
        server = subprocess.Popen(
            [str(BIN / "xerotier"), "serve"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        wait_healthy(f"http://127.0.0.1:{port}/healthz", server, log)
        out = tmp / "ours.json"
        bench_env = {**os.environ, "PYTHONPATH": f"{BENCH_DIR}:{REPO}", "XEROTIER_BENCH_KEY": key,
                     "XEROTIER_BENCH_DSN": f"host=127.0.0.1 port=5432 user=postgres dbname={db}"}  # fmt: skip
        subprocess.run(
            [sys.executable, str(BENCH_DIR / "mlflow_bench.py"),
             "--target", "benchmarks.mlflow_target:OursTarget",
             "--base-url", f"http://127.0.0.1:{port}", "--phases", "create,alias,read,search,race",
             "--models", "100", "--existing", str(NAMES), "--out", str(out), *COMMON],
            check=True, cwd=tmp, env=bench_env, stdout=(tmp / "ours-bench.log").open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        return json.loads(out.read_text())
    finally:
        if server is not None:
            stop(server)
        engine.dispose()
        drop_db(db)


def rows(results: dict) -> dict[str, dict]:
    search = next(v for k, v in results.items() if k.startswith("search_at_"))
    return {
        "create version (1 client)": results["create_single"]["create_version_latency"],
        "search page of 50, no filter": search["no_filter"],
        "search page of 50, name LIKE 'model-12%'": search["like_model-12%"],
        "search exact name": search["exact_name"],
        "get latest versions": results["read"]["get_latest_versions"],
        "get version by alias (= latest)": results["read"]["get_model_version_by_alias"],
        "set alias, first set (= promote)": results["alias_set"]["first_set_latency"],
        "re-point alias (= promote)": results["alias_set"]["repoint_latency"],
        "20 concurrent sets on one model": results["race"]["latency_under_race"],
    }


def main() -> None:
    venv = Path(os.environ.get("MLFLOW_VENV", "/tmp/mlflow-venv"))
    if not (venv / "bin" / "mlflow").exists():
        print(f"  skipped: no MLflow at {venv} (see benchmarks/bench_vs_mlflow.py for the one-line setup)")
        return
    with tempfile.TemporaryDirectory(prefix="xerotier-vs-mlflow-") as tmp_name:
        tmp = Path(tmp_name)
        theirs = run_mlflow(venv, tmp)
        ours = run_ours(tmp)
    print(
        f"  {NAMES:,} names x {VERSIONS} versions, 200 requests per row,"
        " a fresh connection per request; ms p50 / p99"
    )
    print(f"  {'operation':42} {'MLflow':>17} {'Xerotier':>17} {'p50 x':>7} {'p99 x':>7}")
    mine = rows(ours)
    for label, m in rows(theirs).items():
        o = mine[label]
        print(f"  {label:42} {m['p50_ms']:7.2f} / {m['p99_ms']:7.2f} {o['p50_ms']:7.2f} / {o['p99_ms']:7.2f} "
              f"{m['p50_ms'] / o['p50_ms']:6.1f}x {m['p99_ms'] / o['p99_ms']:6.1f}x")  # fmt: skip
    for who, res in (("MLflow", theirs), ("Xerotier", ours)):
        race = res["race"]
        print(f"  {who}: concurrent sets {race['total_requests']} requests, {race['total_errors']} failed, "
              f"every round consistent: {race['all_rounds_consistent']}")  # fmt: skip
    floor = measure_floor()
    latest = rows(theirs)["get latest versions"]["p50_ms"]
    print(f"  the client's floor (same client, fresh connection, a server that answers without work): "
          f"p50 {floor['p50_ms']:.2f} / p99 {floor['p99_ms']:.2f} ms; so no server could make get-latest "
          f"more than {latest / floor['p50_ms']:.1f}x faster than MLflow's here")  # fmt: skip


if __name__ == "__main__":
    main()
