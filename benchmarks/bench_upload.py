"""Upload throughput: a file streamed through the API vs ``sha256sum`` on the same file.

Runs a real ``xerotier up`` (embedded: SQLite, local blobs) per file size so that the API
process's peak RSS (``VmHWM``) belongs to uploads of that size alone. Prints, side by side in one run:

- MiB/s of ``sha256sum`` and of ``PUT /v1/models/{id}/files/{path}``, and their ratio;
- the API process's peak RSS after a 256 MiB and a 2 GiB upload;
- files/s for 1,000 small files in one directory (``xeroctl models upload``'s client path).

Sizes can be shrunk for a quick look: ``XEROTIER_BENCH_SIZES_MIB=64,256``; each pair is alternated
``XEROTIER_BENCH_REPEAT`` times (default 3) and the medians are compared.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
CHUNK = 1 << 20


def _write_random(path: Path, size: int) -> None:
    block = os.urandom(CHUNK)
    with path.open("wb") as out:
        for _ in range(size // CHUNK):
            out.write(block)
    subprocess.run(["sync"], check=False)


def _start(data_dir: Path, port: int, log: Path) -> tuple[subprocess.Popen, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XEROTIER_")}
    env["XEROTIER_LOG_LEVEL"] = "WARNING"
    handle = log.open("wb")
    proc = subprocess.Popen(
        [str(BIN / "xerotier"), "up", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    key = None
    while time.monotonic() < deadline and key is None:
        for line in log.read_text(errors="replace").splitlines():
            if "API key:" in line:
                key = line.split("API key:")[1].strip()
        time.sleep(0.2)
    if key is None:
        proc.kill()
        raise RuntimeError(f"xerotier up did not start:\n{log.read_text()[-2000:]}")
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url, key
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("xerotier up never answered /healthz")


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stream(path: Path):
    with path.open("rb") as src:
        while block := src.read(CHUNK):
            yield block


def _sha256sum_seconds(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)
    return time.perf_counter() - start


def _put_seconds(client: httpx.Client, url: str, key: str, path: Path, name: str) -> float:
    model = client.post("/v1/models", json={"name": name}).json()
    target = f"{url}/v1/models/{model['id']}/files/{path.name}"
    start = time.perf_counter()
    if shutil.which("curl"):  # a C client leaves the CPU to the server under test
        subprocess.run(
            [
                "curl",
                "-sSf",
                "-o",
                "/dev/null",
                "-T",
                str(path),
                "-H",
                f"Authorization: Bearer {key}",
                target,
            ],
            check=True,
        )
    else:
        client.put(target, content=_stream(path)).raise_for_status()
    seconds = time.perf_counter() - start
    files = client.get(f"/v1/models/{model['id']}/files").json()["files"]
    assert [f["sizeBytes"] for f in files] == [path.stat().st_size], files
    return seconds


def side_by_side(work: Path, path: Path, repeat: int) -> tuple[float, float, float]:
    """Median seconds of sha256sum and of the PUT, alternated ``repeat`` times on one fresh server
    (so a burst of load from elsewhere hits both), and that server's peak RSS in MiB."""
    proc, url, key = _start(work / f"data-{path.name}", _free_port(), work / f"up-{path.name}.log")
    baseline, upload = [], []
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600) as client:
            for i in range(repeat):
                baseline.append(_sha256sum_seconds(path))
                upload.append(_put_seconds(client, url, key, path, f"bench-{path.name}-{i}"))
        return statistics.median(baseline), statistics.median(upload), _peak_rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def many_files(work: Path, count: int = 1000) -> float:
    """files/s for ``count`` small files uploaded with ``xeroctl models upload``."""
    folder = work / "many"
    folder.mkdir()
    for i in range(count):
        (folder / f"file-{i:04d}.txt").write_bytes(os.urandom(512))
    (folder / "model.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    proc, url, key = _start(work / "data-many", _free_port(), work / "up-many.log")
    try:
        env = {**os.environ, "XEROTIER_API_URL": url, "XEROTIER_API_KEY": key}
        start = time.perf_counter()
        subprocess.run(
            [str(BIN / "xeroctl"), "models", "upload", str(folder), "--name", "many", "--no-progress"],
            env=env,
            check=True,
            capture_output=True,
        )
        return (count + 1) / (time.perf_counter() - start)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    sizes = [int(s) for s in os.environ.get("XEROTIER_BENCH_SIZES_MIB", "256,2048").split(",")]
    repeat = int(os.environ.get("XEROTIER_BENCH_REPEAT", "3"))
    with tempfile.TemporaryDirectory(prefix="xt-bench-", dir=os.environ.get("XEROTIER_BENCH_DIR")) as tmp:
        work = Path(tmp)
        print(f"{'size':>9} {'sha256sum MiB/s':>16} {'API PUT MiB/s':>14} {'ratio':>6} {'API peak RSS':>13}")
        for mib in sizes:
            path = work / f"blob-{mib}"
            _write_random(path, mib << 20)
            baseline, seconds, rss = side_by_side(work, path, repeat)
            print(
                f"{mib:>5} MiB {mib / baseline:>16.0f} {mib / seconds:>14.0f} "
                f"{baseline / seconds:>5.0%} {rss:>9.0f} MiB",
                flush=True,
            )
            path.unlink()
        print(f"1,000 small files via xeroctl models upload: {many_files(work):.0f} files/s")
