"""Download throughput: ``GET /v1/models/{model}/files/{path}`` vs ``cat`` of the stored blob, and
``snapshot_download`` (``HF_ENDPOINT`` = the registry) vs copying the blobs.

A real ``xerotier up`` (embedded: SQLite, local blobs) receives the files by ``curl -T``, is then
restarted so that the API process's peak RSS (``VmHWM``) belongs to downloads alone, and prints,
side by side in one run (alternated ``XEROTIER_BENCH_REPEAT`` times, default 3, medians compared):

- MiB/s of ``cat blob > /dev/null`` and of ``curl -o /dev/null`` on the download route, their ratio;
- the API process's peak RSS after downloading a 256 MiB and then a 2 GiB file (flat: streamed);
- seconds of ``snapshot_download`` of a 13-file checkpoint vs ``shutil.copy`` of its 13 blobs.

Sizes can be shrunk for a quick look: ``XEROTIER_BENCH_DOWNLOAD_MIB=64,256``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.bench_upload import _free_port, _peak_rss_mib, _start, _write_random

RESULTS: dict[str, object] = {}
CHECKPOINT_FILES = 13
SHARD_MIB = 16

#: The same file streamed by a bare uvicorn app (no registry code, same chunks): the server's floor.
FLOOR_SCRIPT = r"""
import sys, uvicorn
from starlette.concurrency import run_in_threadpool
PATH, CHUNK = sys.argv[2], 4 << 20
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    handle = open(PATH, "rb")
    headers = [(b"content-type", b"application/octet-stream")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    while data := await run_in_threadpool(handle.read, CHUNK):
        await send({"type": "http.response.body", "body": data, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
    handle.close()
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

HF_SCRIPT = r"""
import sys, time
from huggingface_hub import snapshot_download
start = time.perf_counter()
snapshot_download(sys.argv[1], cache_dir=sys.argv[2])
print(time.perf_counter() - start)
"""


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def _put(url: str, key: str, model_id: str, path: Path, rel: str) -> None:
    target = f"{url}/v1/models/{model_id}/files/{rel}"
    auth = f"Authorization: Bearer {key}"
    subprocess.run(["curl", "-sSf", "-o", "/dev/null", "-T", str(path), "-H", auth, target], check=True)


def _timed(args: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def _wait_port(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def _blob(data_dir: Path, path: Path) -> Path:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    sha = digest.hexdigest()
    return data_dir / "blobs" / "sha256" / sha[:2] / sha


def _checkpoint(work: Path) -> Path:
    folder = work / "ckpt"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 64}))
    for i in range(CHECKPOINT_FILES - 1):
        (folder / f"model-{i + 1:05d}-of-{CHECKPOINT_FILES - 1:05d}.safetensors").write_bytes(
            os.urandom(SHARD_MIB << 20)
        )
    return folder


def main() -> None:
    if shutil.which("curl") is None:
        raise RuntimeError("curl is required (the C client leaves the CPU to the server under test)")
    sizes = [int(s) for s in os.environ.get("XEROTIER_BENCH_DOWNLOAD_MIB", "256,2048").split(",")]
    repeat = int(os.environ.get("XEROTIER_BENCH_REPEAT", "3"))
    with tempfile.TemporaryDirectory(prefix="xt-bench-dl-", dir=os.environ.get("XEROTIER_BENCH_DIR")) as tmp:
        work = Path(tmp)
        data = work / "data"
        proc, url, key = _start(data, _free_port(), work / "up-1.log")
        blobs: dict[int, Path] = {}
        try:
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600
            ) as client:
                big = client.post("/v1/models", json={"name": "bench-big"}).json()
                for mib in sizes:
                    path = work / f"blob-{mib}"
                    _write_random(path, mib << 20)
                    _put(url, key, big["id"], path, path.name)
                    blobs[mib] = _blob(data, path)
                    path.unlink()
                ckpt = _checkpoint(work)
                model = client.post("/v1/models", json={"name": "bench-ckpt"}).json()
                shards = []
                for file in sorted(ckpt.iterdir()):
                    _put(url, key, model["id"], file, file.name)
                    shards.append(_blob(data, file))
        finally:
            _stop(proc)
        proc, url, key = _start(data, _free_port(), work / "up-2.log")  # a fresh process: its own RSS
        try:
            auth = f"Authorization: Bearer {key}"
            print(
                f"{'size':>9} {'cat MiB/s':>10} {'GET MiB/s':>10} {'ratio':>6} {'API peak RSS':>13} "
                f"{'bare uvicorn MiB/s':>19}"
            )
            for mib in sizes:
                floor_port = _free_port()
                floor = subprocess.Popen(
                    [sys.executable, "-c", FLOOR_SCRIPT, str(floor_port), str(blobs[mib])]
                )
                _wait_port(floor_port)
                cat, get, bare = [], [], []
                try:
                    for _ in range(repeat):
                        cat.append(_timed(["sh", "-c", f"cat {blobs[mib]} > /dev/null"]))
                        link = f"{url}/v1/models/bench-big/files/blob-{mib}"
                        get.append(_timed(["curl", "-sSf", "-o", "/dev/null", "-H", auth, link]))
                        bare.append(
                            _timed(["curl", "-sSf", "-o", "/dev/null", f"http://127.0.0.1:{floor_port}/"])
                        )
                finally:
                    _stop(floor)
                c, g, rss = statistics.median(cat), statistics.median(get), _peak_rss_mib(proc.pid)
                b = statistics.median(bare)
                RESULTS[f"{mib}MiB"] = {
                    "cat_mib_s": mib / c,
                    "get_mib_s": mib / g,
                    "bare_uvicorn_mib_s": mib / b,
                    "ratio": c / g,
                    "rss": rss,
                }
                print(
                    f"{mib:>5} MiB {mib / c:>10.0f} {mib / g:>10.0f} {c / g:>5.0%} {rss:>9.0f} MiB "
                    f"{mib / b:>19.0f}",
                    flush=True,
                )
            env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
            env.update(HF_ENDPOINT=url, HF_TOKEN=key, HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_XET="1",
                       HF_HUB_DISABLE_PROGRESS_BARS="1")  # fmt: skip
            slug = key.split("_")[1]
            copy, snap = [], []
            for i in range(repeat):
                target = work / f"copy-{i}"
                target.mkdir()
                start = time.perf_counter()
                for blob in shards:
                    shutil.copy(blob, target / blob.name)
                copy.append(time.perf_counter() - start)
                done = subprocess.run(
                    [sys.executable, "-c", HF_SCRIPT, f"{slug}/bench-ckpt", str(work / f"hf-{i}")],
                    env=env, check=True, capture_output=True, text=True,
                )  # fmt: skip
                snap.append(float(done.stdout.strip().splitlines()[-1]))
                shutil.rmtree(target)
                shutil.rmtree(work / f"hf-{i}")
            c, s = statistics.median(copy), statistics.median(snap)
            total = (CHECKPOINT_FILES - 1) * SHARD_MIB
            RESULTS["snapshot"] = {"copy_s": c, "snapshot_s": s, "mib": total}
            print(
                f"snapshot_download of {CHECKPOINT_FILES} files ({total} MiB): {s:.2f} s "
                f"vs copying the blobs {c:.2f} s ({c / s:.0%})"
            )
        finally:
            _stop(proc)
