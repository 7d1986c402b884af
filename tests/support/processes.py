"""Real processes under test: ``xerotier worker`` and ``xerotier up``, with their logs kept."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from xerotier.settings import Settings

BIN = Path(sys.executable).parent


def settings_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"XEROTIER_{name.upper()}"] = str(value)
    return env


@dataclass
class ManagedProcess:
    popen: subprocess.Popen
    log_path: Path
    url: str | None = None
    api_key: str | None = None
    extra: dict = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> ManagedProcess:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handle = log_path.open("ab")
    popen = subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT)
    return ManagedProcess(popen, log_path)


def _wait_for(proc: ManagedProcess, pattern: str, timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, proc.log())
        if match:
            return match
        if proc.popen.poll() is not None:
            raise RuntimeError(f"process exited ({proc.popen.returncode}):\n{proc.log()[-3000:]}")
        time.sleep(0.1)
    raise TimeoutError(f"no {pattern!r} after {timeout}s:\n{proc.log()[-3000:]}")


def start_worker(
    settings: Settings, services: list[str], log_path: Path, concurrency: int = 2
) -> ManagedProcess:
    proc = _spawn(
        [str(BIN / "xerotier"), "worker", *services, "--concurrency", str(concurrency)],
        settings_env(settings),
        log_path,
    )
    _wait_for(proc, r"celery@\S+ ready\.|\bready\.", 60)
    return proc


def start_up(
    data_dir: Path,
    port: int,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    api_key: str | None = None,
) -> ManagedProcess:
    """Start `xerotier up`; a restart on the same data dir prints no key, so pass the first one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XEROTIER_")}
    env.update(extra_env or {})
    proc = _spawn(
        [str(BIN / "xerotier"), "up", "--data-dir", str(data_dir), "--port", str(port)], env, log_path
    )
    match = _wait_for(proc, r"API key: (\S+)", 60)
    printed = match.group(1)
    if not printed.startswith("xero_") and api_key is None:
        proc.stop()
        raise AssertionError(f"xerotier up printed no key (not a first start?):\n{proc.log()[-3000:]}")
    proc.api_key = printed if printed.startswith("xero_") else api_key
    proc.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{proc.url}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"xerotier up never answered /healthz:\n{proc.log()[-3000:]}")


def wait_for_status(client: httpx.Client, model_id: str, statuses: set[str], timeout: float = 60) -> dict:
    """Poll ``GET /v1/models/{id}`` until its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(f"/v1/models/{model_id}").json()
        if body.get("status") in statuses:
            return body
        time.sleep(0.1)
    raise TimeoutError(f"model {model_id} still {body.get('status')} after {timeout}s: {body}")
