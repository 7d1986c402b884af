"""A real S3-compatible server process for tests: moto's standalone server (``moto_server``)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx

from support.processes import BIN, ManagedProcess

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def start_s3_server(port: int, log_path: Path) -> ManagedProcess:
    """Start ``moto_server`` on ``port``; fail (never skip) when it cannot run here."""
    exe = BIN / "moto_server"
    if not exe.exists():
        raise RuntimeError(f"{exe} is missing: install the test extra (moto[server])")
    handle = log_path.open("ab")
    popen = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env={**os.environ, **CREDENTIALS},
    )
    proc = ManagedProcess(popen, log_path, url=f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"moto_server exited:\n{proc.log()[-2000:]}")
        try:
            httpx.get(proc.url, timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.stop()
    raise RuntimeError(f"moto_server did not answer at {proc.url}")
