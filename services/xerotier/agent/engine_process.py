"""Run an external inference engine (vLLM) and wait for its health endpoint."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from xerotier.agent.builtin_engine import EngineFailure


def _die_with_parent() -> None:
    """Linux: the engine gets SIGTERM when the agent dies (even SIGKILLed): no orphan holds the GPU."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_and_wait(
    argv: list[str], env: dict[str, str], port: int, log_path: Path, timeout: float
) -> subprocess.Popen:
    """Start the engine; return it once ``/health`` answers 200, or fail naming what happened."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        try:
            proc = subprocess.Popen(
                argv,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise EngineFailure(f"cannot start the engine {argv[0]!r}: {exc}") from None
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EngineFailure(
                f"the engine exited with code {proc.returncode}: {last_error(log_path)} (log: {log_path})"
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop(proc)
    raise EngineFailure(f"the engine did not answer {url} within {timeout:.0f} s (log: {log_path})")


def last_error(log_path: Path, limit: int = 400) -> str:
    """The engine log's last meaningful line (its error, usually), shortened."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines):
        text = line.strip()
        if text and not text.startswith(("Traceback", "File ", "^", "~")):
            return text[:limit]
    return "empty log"


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
