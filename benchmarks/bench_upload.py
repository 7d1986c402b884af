"""Upload throughput: a file streamed through the API vs the hardware's limits on the same file.

Runs a real ``xerotier up`` (embedded: SQLite, local blobs) per file size so that the API
process's peak RSS (``VmHWM``) belongs to uploads of that size alone. Prints, side by side in one run:

- MiB/s of the peers on the same file: ``openssl dgst -sha256`` (the hashing limit: OpenSSL's SHA
  instructions, what Python's ``hashlib`` runs), ``dd bs=4M conv=fsync`` into the data directory's
  disk (a durable copy: the writing limit), ``sha256sum`` (coreutils, no SHA instructions here);
- MiB/s of ``PUT /v1/models/{id}/files/{path}`` (curl ``-T`` on loopback) and of
  ``xeroctl models upload`` of the same file, each as a ratio of min(openssl, dd) — the target is 0.7;
- the client's two ways side by side in one process: ``SDK before`` hashes the file, then sends
  it (what ``xeroctl`` did); ``SDK now`` sends it while hashing (``send_file``: sendfile + mmap);
- the API process's peak RSS after the uploads of each size;
- files/s for 1,000 small files in one directory (``xeroctl models upload``) against a plain
  write-and-fsync loop of the same files.

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


def _run_seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def _peers(path: Path, disk_dir: Path) -> dict[str, float]:
    """Seconds of each peer on ``path`` (dd writes into ``disk_dir``, the server's disk, then drops it)."""
    target = disk_dir / "dd-copy"
    try:
        return {
            "openssl": _run_seconds(["openssl", "dgst", "-sha256", str(path)]),
            "dd": _run_seconds(["dd", f"if={path}", f"of={target}", "bs=4M", "conv=fsync", "status=none"]),
            "sha256sum": _run_seconds(["sha256sum", str(path)]),
        }
    finally:
        target.unlink(missing_ok=True)


def _sdk_seconds(url: str, key: str, path: Path, name: str, one_pass: bool) -> float:
    """The client's two ways in one process: hash, then send (before) or send while hashing (now)."""
    from xerotier.client import upload as sdk
    from xerotier.client.http import XerotierClient

    with XerotierClient(url, key, timeout=600) as client:
        model = client.create_model(name)
        start = time.perf_counter()
        if one_pass:
            sdk.send_file(client, model["id"], path.name, path)
        else:
            sdk.upload_file(client, model["id"], path.name, path, sdk.sha256_of(path))
        return time.perf_counter() - start


def _xeroctl_seconds(url: str, key: str, path: Path, name: str) -> float:
    """``xeroctl models upload`` of a folder holding only ``path`` (hard-linked, nothing copied)."""
    folder = path.parent / f"xeroctl-{name}"
    folder.mkdir()
    os.link(path, folder / "model.safetensors")
    env = {**os.environ, "XEROTIER_API_URL": url, "XEROTIER_API_KEY": key}
    try:
        start = time.perf_counter()
        subprocess.run(
            [str(BIN / "xeroctl"), "models", "upload", str(folder), "--name", name, "--no-progress"],
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start
    finally:
        shutil.rmtree(folder)


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


def side_by_side(work: Path, path: Path, repeat: int) -> tuple[dict[str, list[float]], float]:
    """Seconds of every peer, of the PUT and of ``xeroctl``, interleaved ``repeat`` times on one
    fresh server (so a burst of load from elsewhere hits all of them), and the server's peak RSS."""
    data = work / f"data-{path.name}"
    proc, url, key = _start(data, _free_port(), work / f"up-{path.name}.log")
    runs: dict[str, list[float]] = {}
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600) as client:
            for i in range(repeat):
                for peer, seconds in _peers(path, data).items():
                    runs.setdefault(peer, []).append(seconds)
                runs.setdefault("PUT", []).append(
                    _put_seconds(client, url, key, path, f"bench-{path.name}-{i}")
                )
                runs.setdefault("xeroctl", []).append(
                    _xeroctl_seconds(url, key, path, f"ctl-{path.name}-{i}")
                )
                for label, one_pass in (("SDK before", False), ("SDK now", True)):
                    seconds = _sdk_seconds(url, key, path, f"{label[4:]}-{path.name}-{i}", one_pass)
                    runs.setdefault(label, []).append(seconds)
        return runs, _peak_rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _fsync_loop_seconds(folder: Path, target: Path) -> float:
    """A plain write-and-fsync of every file of ``folder`` into ``target`` (the small-files peer)."""
    target.mkdir()
    start = time.perf_counter()
    for path in sorted(folder.iterdir()):
        with (target / path.name).open("wb") as out:
            out.write(path.read_bytes())
            out.flush()
            os.fsync(out.fileno())
    seconds = time.perf_counter() - start
    shutil.rmtree(target)
    return seconds


def many_files(work: Path, count: int = 1000) -> tuple[float, float]:
    """files/s for ``count`` small files uploaded with ``xeroctl models upload``, and of a plain
    write-and-fsync loop of the same files on the same disk."""
    folder = work / "many"
    folder.mkdir()
    for i in range(count):
        (folder / f"file-{i:04d}.txt").write_bytes(os.urandom(512))
    (folder / "model.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    proc, url, key = _start(work / "data-many", _free_port(), work / "up-many.log")
    try:
        env = {**os.environ, "XEROTIER_API_URL": url, "XEROTIER_API_KEY": key}
        peer = _fsync_loop_seconds(folder, work / "data-many" / "fsync-loop")
        start = time.perf_counter()
        subprocess.run(
            [str(BIN / "xeroctl"), "models", "upload", str(folder), "--name", "many", "--no-progress"],
            env=env,
            check=True,
            capture_output=True,
        )
        return (count + 1) / (time.perf_counter() - start), (count + 1) / peer
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _line(label: str, mib: int, seconds: list[float], limit: float) -> str:
    median = statistics.median(seconds)
    spread = f"{mib / max(seconds):.0f}-{mib / min(seconds):.0f}"
    ratio = limit / median
    return f"  {label:10s} {mib / median:7.0f} MiB/s  (runs {spread:>9s})  {ratio:5.2f}x min(openssl, dd)"


def main() -> None:
    sizes = [int(s) for s in os.environ.get("XEROTIER_BENCH_SIZES_MIB", "256,2048").split(",")]
    repeat = int(os.environ.get("XEROTIER_BENCH_REPEAT", "3"))
    with tempfile.TemporaryDirectory(prefix="xt-bench-", dir=os.environ.get("XEROTIER_BENCH_DIR")) as tmp:
        work = Path(tmp)
        print(f"medians of {repeat} interleaved runs; ratio = seconds of the slower of openssl and dd / own")
        for mib in sizes:
            path = work / f"blob-{mib}"
            _write_random(path, mib << 20)
            runs, rss = side_by_side(work, path, repeat)
            limit = max(statistics.median(runs["openssl"]), statistics.median(runs["dd"]))
            print(f"{mib} MiB (API peak RSS {rss:.0f} MiB):")
            for label in ("openssl", "dd", "sha256sum", "PUT", "xeroctl", "SDK before", "SDK now"):
                if all(runs[label]):
                    print(_line(label, mib, runs[label], limit), flush=True)
            path.unlink()
        ours, peer = many_files(work)
        print(
            f"1,000 small files: xeroctl models upload {ours:.0f} files/s, "
            f"write+fsync loop {peer:.0f} files/s ({ours / peer:.2f}x)"
        )
