"""The benchmark suite: ``make bench`` (not collected by pytest). Each benchmark prints ratios.

Every run also writes a JSON file (``--json``, default ``bench-results.json``): the machine it ran
on, and per benchmark its printed figures, its wall time, the peak resident memory of the suite's
own process and of its child processes, and any structured ``RESULTS`` the module exposes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = {
    "transports": "benchmarks.bench_transports",
    "upload": "benchmarks.bench_upload",
    "downloads": "benchmarks.bench_downloads",
    "loading": "benchmarks.bench_loading",
    "validation": "benchmarks.bench_validation",
    "observability": "benchmarks.bench_observability",
    "versions": "benchmarks.bench_versions",
    "mlflow": "benchmarks.bench_vs_mlflow",
    "catalog": "benchmarks.bench_catalog",
    "dashboard": "benchmarks.bench_dashboard",
    "pipeline": "benchmarks.bench_pipeline",
    "scaling": "benchmarks.bench_scaling",
    "ingest": "benchmarks.bench_ingest",
    "serving": "benchmarks.bench_serving",
}


class Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, out: io.TextIOBase) -> None:
        self.out, self.copy = out, io.StringIO()

    def write(self, text: str) -> int:
        self.out.write(text)
        self.out.flush()
        return self.copy.write(text)


def _proc_field(path: str, key: str) -> str:
    file = Path(path)
    lines = file.read_text().splitlines() if file.exists() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key)), "")


def machine() -> dict[str, object]:
    mem_kib = _proc_field("/proc/meminfo", "MemTotal").split()
    return {
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem_kib[0]) / 1024**2, 1) if mem_kib else None,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="which to run (default: all)")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"), help="results file")
    args = parser.parse_args()
    report: dict[str, object] = {
        "started_at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "benchmarks": {},
    }
    for name in args.names or list(BENCHMARKS):
        print(f"== {name}")
        tee = Tee(sys.stdout)  # type: ignore[arg-type]
        started = time.perf_counter()
        error = None
        with contextlib.redirect_stdout(tee):
            try:
                module = importlib.import_module(BENCHMARKS[name])
                module.main()
            except Exception as exc:  # one broken benchmark must not lose the others' figures
                error = f"{type(exc).__name__}: {exc}"
                print(f"  failed: {error}")
        report["benchmarks"][name] = {  # type: ignore[index]
            "seconds": round(time.perf_counter() - started, 1),
            "output": tee.copy.getvalue().splitlines(),
            "peak_rss_mib": {
                "suite": round(peak_mib(resource.RUSAGE_SELF), 1),
                "largest_child": round(peak_mib(resource.RUSAGE_CHILDREN), 1),
            },
            "results": getattr(sys.modules.get(BENCHMARKS[name]), "RESULTS", None),
            "error": error,
        }
        args.json.write_text(json.dumps(report, indent=2, default=str))
    print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
