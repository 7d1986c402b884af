"""Pipeline latency and throughput: ``complete`` → ``ready`` on Redis + PostgreSQL with 2, 4 and 8
validation workers, side by side in one run, and the peak memory of every process.

Each round uses a fresh database and broker prefix, a real ``xerotier serve`` and N real
``xerotier worker validation`` processes (one task slot each) plus one catalog worker. MODELS
uploaded models are completed in one burst; the latency of each is read from its lifecycle log
(complete event → validation_passed event, both stamped by the server). The baseline, measured in
the same run, is the validation use case called in-process on the same checkpoint (no queue, no
worker): latency / baseline is the cost of the pipeline around the work.

    make bench ARGS=pipeline           # XEROTIER_BENCH_PIPELINE_MODELS=60 (default)
"""

from __future__ import annotations

import json
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
from safetensors.numpy import save_file
from sqlalchemy import select

from xerotier.db.migrate import upgrade
from xerotier.db.models import LifecycleEventRow
from xerotier.db.projects import create_key, get_or_create_project
from xerotier.db.transitions import apply_transition
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus
from xerotier.runtime import Runtime
from xerotier.settings import Settings
from xerotier.validation.handlers import validate_model

ADMIN = os.environ.get("XEROTIER_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("XEROTIER_BENCH_REDIS", "redis://127.0.0.1:6379/0")
MODELS = int(os.environ.get("XEROTIER_BENCH_PIPELINE_MODELS", "60"))
WORKER_COUNTS = (2, 4, 8)
BIN = Path(sys.executable).parent
CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
          "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "vocab_size": 256, "max_position_embeddings": 4096}  # fmt: skip
RESULTS: dict[str, Any] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def checkpoint(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {"model.embed_tokens.weight": np.zeros((256, 64), dtype=np.float16)}
    for layer in range(2):
        tensors[f"model.layers.{layer}.mlp.up_proj.weight"] = np.zeros((128, 64), dtype=np.float16)
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(CONFIG))
    return folder


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of ``pid``, in MiB; 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pool_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


class Round:
    """One database, one broker prefix, a gateway and ``workers`` validation workers."""

    def __init__(self, workers: int, tmp: Path) -> None:
        self.workers, self.tmp = workers, tmp / f"w{workers}"
        self.db = f"xerotier_bench_{secrets.token_hex(4)}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db}"')
        url = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{self.db}"
        self.settings = Settings(
            data_dir=self.tmp / "data", database_url=url, broker_url=REDIS, port=free_port(),
            broker_key_prefix=f"bench-{secrets.token_hex(3)}:", blob_dir=self.tmp / "blobs",
            metrics_port=0, heartbeat_file=self.tmp / "heartbeat",
        )  # fmt: skip
        self.runtime = Runtime(self.settings, [])
        upgrade(self.runtime.engine)
        with self.runtime.unit_of_work() as session:
            _, self.key = create_key(session, get_or_create_project(session, "bench"), "bench")
        self.procs: dict[str, subprocess.Popen] = {}

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name, value in self.settings.model_dump().items():
            if value is not None:
                env[f"XEROTIER_{name.upper()}"] = str(value)
        return env

    def spawn(self, label: str, args: list[str]) -> None:
        log = (self.tmp / f"{label}.log").open("ab")
        self.procs[label] = subprocess.Popen(
            [str(BIN / "xerotier"), *args], env=self.env(), stdout=log, stderr=log
        )

    def start(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.spawn("gateway", ["serve"])
        self.spawn("catalog-worker", ["worker", "catalog", "upload", "loading", "--concurrency", "1"])
        for i in range(self.workers):
            self.spawn(f"validation-worker-{i}", ["worker", "validation", "--concurrency", "1"])
        deadline = time.monotonic() + 120
        url = f"http://127.0.0.1:{self.settings.port}/healthz"
        while True:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"gateway never answered {url}")
            time.sleep(0.2)
        for label in self.procs:  # every worker logs "ready." once it consumes
            log = self.tmp / f"{label}.log"
            while label != "gateway" and "ready." not in log.read_text(errors="replace"):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{label} never became ready")
                time.sleep(0.2)

    def client(self) -> httpx.Client:
        base = f"http://127.0.0.1:{self.settings.port}"
        return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {self.key}"}, timeout=60)

    def upload(self, folder: Path, count: int, prefix: str) -> list[str]:
        files = {p.name: p.read_bytes() for p in folder.iterdir()}
        ids = []
        with self.client() as client:
            for i in range(count):
                model_id = client.post("/v1/models", json={"name": f"{prefix}-{i}"}).json()["id"]
                for name, body in files.items():
                    client.put(f"/v1/models/{model_id}/files/{name}", content=body).raise_for_status()
                ids.append(model_id)
        return ids

    def peaks(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for label, proc in self.procs.items():
            out[label] = peak_rss_mb(proc.pid)
            pool = [peak_rss_mb(child) for child in pool_of(proc.pid)]
            if pool:
                out[f"{label} (pool child)"] = max(pool)
        return out

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.runtime.engine.dispose()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')


def baseline(rnd: Round, folder: Path, reps: int = 20) -> list[float]:
    """The validation use case in-process on uploaded models (no queue, no worker)."""
    samples = []
    for model_id in map(uuid.UUID, rnd.upload(folder, reps, "direct")):
        with rnd.runtime.unit_of_work() as session:
            apply_transition(session, model_id, ModelStatus.UPLOADING, LifecycleEvent.COMPLETE)
        started = time.perf_counter()
        assert validate_model(rnd.runtime, model_id) == "ready"
        samples.append(time.perf_counter() - started)
    return samples


def burst(rnd: Round, ids: list[str]) -> tuple[list[float], float]:
    """Complete every model at once; (complete → ready latencies, models per second)."""
    with rnd.client() as client, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda mid: client.post(f"/v1/models/{mid}/complete").raise_for_status(), ids))
    wanted = {uuid.UUID(i) for i in ids}
    deadline = time.monotonic() + 600
    while True:
        with rnd.runtime.session_factory() as session:
            rows = session.execute(
                select(
                    LifecycleEventRow.model_id, LifecycleEventRow.event, LifecycleEventRow.created_at
                ).where(
                    LifecycleEventRow.model_id.in_(wanted),
                    LifecycleEventRow.event.in_(["complete", "validation_passed", "validation_failed"]),
                )
            ).all()
        done = {r.model_id: r.created_at for r in rows if r.event != "complete"}
        if len(done) == len(wanted):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(wanted) - len(done)} models never left validating")
        time.sleep(0.2)
    completed = {r.model_id: r.created_at for r in rows if r.event == "complete"}
    latencies = [(done[m] - completed[m]).total_seconds() for m in wanted]
    first, last = min(completed.values()), max(done.values())
    return latencies, len(wanted) / max((last - first).total_seconds(), 1e-6)


def main() -> None:
    print(f"  {MODELS} models completed in one burst per round; Redis broker, PostgreSQL database")
    with tempfile.TemporaryDirectory(prefix="xerotier-bench-pipeline-") as tmp_name:
        tmp = Path(tmp_name)
        folder = checkpoint(tmp / "ckpt")
        header = (
            f"  {'workers':>7} {'p50 ms':>8} {'p99 ms':>8} {'models/s':>9} {'p50/direct':>11} {'vs 2':>6}"
        )
        rows: list[dict[str, Any]] = []
        memory: dict[str, dict[str, float]] = {}
        for count in WORKER_COUNTS:
            rnd = Round(count, tmp)
            try:
                rnd.start()
                direct = baseline(rnd, folder)
                latencies, rate = burst(rnd, rnd.upload(folder, MODELS, "bench"))
                memory[f"{count} workers"] = rnd.peaks()
            finally:
                rnd.stop()
            rows.append({"workers": count, "p50_ms": pct(latencies, 50), "p99_ms": pct(latencies, 99),
                         "models_per_s": rate, "direct_p50_ms": pct(direct, 50)})  # fmt: skip
        print(header)
        for row in rows:
            over = row["p50_ms"] / row["direct_p50_ms"]
            scale = row["models_per_s"] / rows[0]["models_per_s"]
            figures = f"{row['p50_ms']:8.1f} {row['p99_ms']:8.1f} {row['models_per_s']:9.1f}"
            print(f"  {row['workers']:>7} {figures} {over:10.1f}x {scale:5.2f}x")
        print(f"  direct (in-process validation, no queue) p50: {rows[0]['direct_p50_ms']:.1f} ms")
        print(f"  peak resident memory per process (VmHWM, MiB), round with {WORKER_COUNTS[-1]} workers:")
        for label, mib in memory[f"{WORKER_COUNTS[-1]} workers"].items():
            if not label.startswith("validation-worker-") or label.startswith("validation-worker-0"):
                print(f"    {label:42} {mib:7.1f}")
        RESULTS.update({"rounds": rows, "memory_peak_mib": memory, "models": MODELS})


if __name__ == "__main__":
    main()
