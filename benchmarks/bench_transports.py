"""Server-less kombu transports for the embedded default, measured side by side in one run.

For each candidate (the file-system transport, the SQLAlchemy transport on SQLite, and Redis as the
production reference) the worker `xerotier up` runs (thread pool, in this process) consumes the real
validation task for a model id that does not exist (one SQLite read, then done):
publish rate, drain throughput for N messages, and round-trip latency of one message at a time.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from celery import Celery
from celery.signals import task_postrun

from xerotier.cli.embedded import ThreadWorker
from xerotier.db.migrate import upgrade
from xerotier.queue import names
from xerotier.runtime import Runtime, set_runtime
from xerotier.settings import Settings

N_MESSAGES = int(os.environ.get("BENCH_TRANSPORT_MESSAGES", "500"))
N_ROUNDTRIPS = int(os.environ.get("BENCH_TRANSPORT_ROUNDTRIPS", "50"))


def _app(settings: Settings) -> tuple[Celery, threading.Semaphore]:
    """The registry's own runtime and Celery app for ``settings``; a semaphore counts finished tasks."""
    runtime = Runtime(settings, ["validation"])
    upgrade(runtime.engine)
    set_runtime(runtime)
    done = threading.Semaphore(0)

    def finished(**_kwargs: object) -> None:
        done.release()

    task_postrun.connect(finished, weak=False)
    return runtime.celery, done


def measure(label: str, settings: Settings) -> dict[str, float]:
    app, done = _app(settings)
    worker = ThreadWorker(app, concurrency=2)  # exactly what `xerotier up` runs
    worker.start()
    time.sleep(1.0)

    def send() -> None:
        # The real validation task for a model that does not exist: one database read, then done.
        app.send_task(names.VALIDATE, kwargs={"model_id": str(uuid.uuid4())}, queue=names.VALIDATION_QUEUE)

    try:
        latencies = []
        for _ in range(N_ROUNDTRIPS):
            start = time.perf_counter()
            send()
            if not done.acquire(timeout=30):
                raise TimeoutError(f"{label}: a message was not delivered within 30 s")
            latencies.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        for _ in range(N_MESSAGES):
            send()
        published = time.perf_counter() - start
        for _ in range(N_MESSAGES):
            if not done.acquire(timeout=120):
                raise TimeoutError(f"{label}: messages lost or stuck")
        drained = time.perf_counter() - start
    finally:
        worker.stop()
        task_postrun.receivers.clear()
        set_runtime(None)
    return {
        "publish_per_s": N_MESSAGES / published,
        "drain_per_s": N_MESSAGES / drained,
        "latency_p50_ms": statistics.median(latencies),
        "latency_p95_ms": statistics.quantiles(latencies, n=20)[18],
    }


def candidates(root: Path) -> list[tuple[str, Settings]]:
    default = Settings().broker_polling_interval
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    return [
        (f"filesystem {default * 1000:.0f} ms", Settings(data_dir=root / "fs")),
        ("filesystem 100 ms", Settings(data_dir=root / "fs100", broker_polling_interval=0.1)),
        (
            f"sqla+sqlite {default * 1000:.0f} ms",
            Settings(data_dir=root / "sq", broker_url=f"sqla+sqlite:///{root / 'broker.db'}"),
        ),
        (
            "redis (reference)",
            Settings(data_dir=root / "rd", broker_url=redis_url, broker_key_prefix=f"bench-{os.getpid()}:"),
        ),
    ]


def main() -> None:
    from kombu.transport import sqlalchemy as sqla_transport

    # kombu's SQLAlchemy transport takes no polling option (its options go to create_engine()).
    sqla_transport.Transport.polling_interval = Settings().broker_polling_interval
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label, settings in candidates(Path(tmp)):
            try:
                results[label] = measure(label, settings)
            except Exception as exc:  # report and go on: one broken candidate is itself a finding
                print(f"{label}: FAILED — {type(exc).__name__}: {exc}")
        base = next(iter(results.values()), None)
        print(f"{N_MESSAGES} tasks drained, {N_ROUNDTRIPS} round trips")
        print(
            f"{'transport':<22}{'publish/s':>11}{'drain/s':>10}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'drain vs default':>18}"
        )
        for label, r in results.items():
            ratio = f"{r['drain_per_s'] / base['drain_per_s']:.2f}x" if base else "-"
            print(
                f"{label:<22}{r['publish_per_s']:>11.0f}{r['drain_per_s']:>10.0f}"
                f"{r['latency_p50_ms']:>9.1f}{r['latency_p95_ms']:>9.1f}{ratio:>18}"
            )


if __name__ == "__main__":
    main()
