"""Test-only fault plugin, loaded by a worker whose PYTHONPATH includes this folder.

Selected by environment variables (unset: nothing happens):

- ``XEROTIER_FAULT_DIR``: a folder shared by every worker of a test (markers live there);
- ``XEROTIER_FAULT_SLOW``: ``<task name>=<seconds>[,…]``: sleep before running that task, after
  printing ``FAULT started <task> <kwargs>`` (so a test can kill the worker mid-task), and print
  ``FAULT finished <task> <kwargs>`` once it has run (so a test can wait for a late result);
- ``XEROTIER_FAULT_DROP_ONCE``: ``1``: the first delivery of each task (by name and arguments) is
  acknowledged and dropped (``celery.exceptions.Ignore``), as if the broker had lost it.
"""

from __future__ import annotations

import os


def _install() -> None:
    import hashlib
    import json
    import sys
    import time
    from pathlib import Path

    from celery.app import trace
    from celery.exceptions import Ignore

    folder = Path(os.environ["XEROTIER_FAULT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    slow = dict(
        (name, float(seconds))
        for name, _, seconds in (
            item.partition("=") for item in os.environ.get("XEROTIER_FAULT_SLOW", "").split(",") if item
        )
    )
    drop_once = os.environ.get("XEROTIER_FAULT_DROP_ONCE") == "1"
    original = trace.build_tracer

    def first_time(key: str) -> bool:
        marker = folder / f"dropped-{hashlib.sha256(key.encode()).hexdigest()[:24]}"
        try:
            marker.touch(exist_ok=False)
        except FileExistsError:
            return False
        return True

    def build_tracer(name, task, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith("xerotier.") and not getattr(task, "_fault_wrapped", False):
            run = task.run

            def run_with_faults(*a, **kw):  # type: ignore[no-untyped-def]
                key = f"{name} {json.dumps(kw, sort_keys=True)}"
                if drop_once and first_time(key):
                    print(f"FAULT dropped {key}", file=sys.stderr, flush=True)
                    raise Ignore()
                if name not in slow:
                    return run(*a, **kw)
                print(f"FAULT started {key} pid={os.getpid()}", file=sys.stderr, flush=True)
                time.sleep(slow[name])
                try:
                    return run(*a, **kw)
                finally:
                    print(f"FAULT finished {key} pid={os.getpid()}", file=sys.stderr, flush=True)

            task.run = run_with_faults
            task._fault_wrapped = True
        return original(name, task, *args, **kwargs)

    trace.build_tracer = build_tracer


if os.environ.get("XEROTIER_FAULT_DIR"):
    _install()
