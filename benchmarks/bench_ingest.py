"""Small models end to end on ``xerotier up``: create → upload (one batch) → complete → ready.

``CLIENTS`` client threads each push models through the whole pipeline (the files of a model in
one tar batch); the run counts models/s from the first create to the last ``ready`` and splits each
model's time into its stages from the server's own lifecycle log and the client's clock:

- ``create`` and ``upload``: client round trips (create, one batch POST);
- ``complete``: the complete request (transition, outbox row, publish);
- ``queue → ready``: the complete event to the validation_passed event, both stamped by the
  server: broker delivery, the worker's task, the validation work itself and its write;
- the same validation called in-process on the same checkpoint (no queue, no worker): the work.

    make bench ARGS=ingest             # XEROTIER_BENCH_INGEST_MODELS=120, _CLIENTS=1,4
"""

from __future__ import annotations

import hashlib
import io
import os
import statistics
import sys
import tarfile
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx

from benchmarks.bench_pipeline import Round, checkpoint
from benchmarks.bench_upload import _free_port, _start
from xerotier.validation.inspect import FileRef, inspect_checkpoint

MODELS = int(os.environ.get("XEROTIER_BENCH_INGEST_MODELS", "120"))
CLIENTS = [int(c) for c in os.environ.get("XEROTIER_BENCH_INGEST_CLIENTS", "1,4").split(",")]
BIN = Path(sys.executable).parent


def tar_body(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(folder.iterdir()):
            archive.add(str(path), arcname=path.name)
    return buffer.getvalue()


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def push(
    client: httpx.Client, body: bytes, name: str, stages: dict[str, list[float]], lock: threading.Lock
) -> str:
    t0 = time.perf_counter()
    model = client.post("/v1/models", json={"name": name})
    model.raise_for_status()
    model_id = model.json()["id"]
    t1 = time.perf_counter()
    if isinstance(body, bytes):
        client.post(
            f"/v1/models/{model_id}/files", content=body, headers={"Content-Type": "application/x-tar"}
        ).raise_for_status()
    else:
        for path, data in body.items():
            client.put(f"/v1/models/{model_id}/files/{path}", content=data).raise_for_status()
    t2 = time.perf_counter()
    client.post(f"/v1/models/{model_id}/complete").raise_for_status()
    t3 = time.perf_counter()
    with lock:
        for label, seconds in (("create", t1 - t0), ("upload", t2 - t1), ("complete", t3 - t2)):
            stages.setdefault(label, []).append(seconds)
    return model_id


def run(
    url: str, key: str, body: bytes | dict[str, bytes], clients: int, tag: str
) -> tuple[float, dict[str, list[float]]]:
    stages: dict[str, list[float]] = {}
    lock = threading.Lock()
    ids: list[str] = []
    headers = {"Authorization": f"Bearer {key}"}
    start = time.perf_counter()

    def worker(k: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            for i in range(k, MODELS, clients):
                model_id = push(client, body, f"{tag}-{i:04d}", stages, lock)
                with lock:
                    ids.append(model_id)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        pending = set(ids)
        deadline = time.monotonic() + 120
        while pending and time.monotonic() < deadline:
            page = client.get("/v1/models", params={"allVersions": "true", "status": "ready", "limit": 500})
            pending -= {m["id"] for m in page.json()["models"]}
            if pending:
                time.sleep(0.05)
        elapsed = time.perf_counter() - start
        if pending:
            raise RuntimeError(f"{len(pending)} models not ready after 120 s")
        for model_id in ids:
            events = client.get(f"/v1/models/{model_id}/events").json()["events"]
            at = {e["event"]: _stamp(e["createdAt"]) for e in events if "createdAt" in e}
            if "complete" in at and "validation_passed" in at:
                stages.setdefault("complete → ready (server)", []).append(
                    at["validation_passed"] - at["complete"]
                )
    return MODELS / elapsed, stages


def in_process_work(folder: Path) -> float:
    """The validation work alone, in-process, on the same checkpoint (median of 20)."""
    refs = [
        FileRef(p.name, p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in folder.iterdir()
    ]
    by_key = {r.key: folder / r.path for r in refs}
    samples = []
    for _ in range(20):
        t = time.perf_counter()
        inspect_checkpoint(refs, lambda ref: by_key[ref.key].open("rb"), None, "bench")
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PG_WORKERS = [int(w) for w in os.environ.get("XEROTIER_BENCH_INGEST_PG_WORKERS", "1,2").split(",")]


class ScaledRound(Round):
    """``xerotier serve`` on PostgreSQL + Redis with ``workers`` worker processes per service
    (one task slot each): validation, and catalog + upload + loading."""

    def start(self) -> None:
        super().start()
        for i in range(1, self.workers):
            self.spawn(
                f"catalog-worker-{i}", ["worker", "catalog", "upload", "loading", "--concurrency", "1"]
            )
        deadline = time.monotonic() + 120
        for i in range(1, self.workers):
            log = self.tmp / f"catalog-worker-{i}.log"
            while "ready." not in log.read_text(errors="replace"):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"catalog-worker-{i} never became ready")
                time.sleep(0.2)


def on_postgres(body: bytes, work: Path) -> None:
    for workers in PG_WORKERS:
        rnd = ScaledRound(workers, work / "pg")
        try:
            rnd.start()
            gateway = rnd.procs["gateway"].pid
            cpu = _cpu_seconds(gateway)
            rate, stages = run(f"http://127.0.0.1:{rnd.settings.port}", rnd.key, body, 4, f"pg{workers}")
            per_model = (_cpu_seconds(gateway) - cpu) / MODELS
            print(f"Redis + PostgreSQL, {workers} worker(s) per service, 4 clients, one batch: "
                  f"{rate:.1f} models/s; gateway CPU {per_model * 1e3:.1f} ms a model")  # fmt: skip
            for label, values in stages.items():
                print(f"  {label:28s} median {statistics.median(values) * 1e3:7.1f} ms")
        finally:
            rnd.stop()


def main() -> None:
    print(f"({MODELS} small models per run; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="xt-ingest-") as tmp:
        work = Path(tmp)
        folder = checkpoint(work / "ckpt")
        bodies = {
            "one batch": tar_body(folder),
            "a PUT per file": {p.name: p.read_bytes() for p in folder.iterdir()},
        }
        work_seconds = in_process_work(folder)
        proc, url, key = _start(work / "data", _free_port(), work / "up.log")
        try:
            for clients in CLIENTS:
                for how, body in bodies.items():  # side by side on one server
                    cpu = _cpu_seconds(proc.pid)
                    rate, stages = run(url, key, body, clients, f"c{clients}-{len(how)}")
                    per_model = (_cpu_seconds(proc.pid) - cpu) / MODELS
                    print(
                        f"xerotier up, {clients} client(s), files in {how}: {rate:.1f} models/s (target 50); "
                        f"server CPU {per_model * 1e3:.1f} ms a model (≤ {1 / per_model:.0f} models/s a core)"
                    )
                    for label, values in stages.items():
                        print(f"  {label:28s} median {statistics.median(values) * 1e3:7.1f} ms")
            print(f"  validation work in-process   median {work_seconds * 1e3:7.1f} ms")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        on_postgres(bodies["one batch"], work)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
