"""The dashboard's cost over the API it wraps, side by side in one run, in a real headless Chromium.

Starts a real ``xerotier up`` in a temporary directory, creates ``XEROTIER_BENCH_UI_MODELS``
models (default 200) through the API, then, interleaved repetition by repetition
(``XEROTIER_BENCH_REPS``, default 30, after 3 warm-up):

- **page**: navigate to ``/ui/#/models`` (key already in sessionStorage) until the table of 50
  rows is drawn — HTML, ES modules, the API call and rendering;
- **route**: switch from the keys page back to the models route inside the loaded page
  (the API call and rendering only, modules cached);
- **fetch**: the same ``GET /v1/models?limit=50`` with ``fetch`` from the page (the API alone).

Prints p50 / p95 of each in milliseconds and the ratios to the API alone, plus the bytes of the
static assets (no build step: what is committed is what is served).
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from xerotier.dashboard.mount import STATIC_DIR

BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(data: Path, port: int) -> tuple[subprocess.Popen, str]:
    log = data.parent / "up.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("XEROTIER_")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "xerotier"), "up", "--data-dir", str(data), "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"API key: (\S+)", log.read_text(errors="replace"))
        if found:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return proc, found.group(1)
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"xerotier up did not start:\n{log.read_text(errors='replace')[-2000:]}")


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> None:
    from playwright.sync_api import sync_playwright

    models = int(os.environ.get("XEROTIER_BENCH_UI_MODELS", "200"))
    reps = int(os.environ.get("XEROTIER_BENCH_REPS", "30"))
    assets = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())
    print(f"static assets: {len(assets)} files, {sum(p.stat().st_size for p in assets) / 1024:.1f} KiB")
    with tempfile.TemporaryDirectory(prefix="xt-bench-ui-") as tmp:
        port = _free_port()
        proc, key = _start(Path(tmp) / "data", port)
        url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as api:
                for i in range(models):
                    api.post("/v1/models", json={"name": f"bench-{i:05d}"}).raise_for_status()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.add_init_script(f"sessionStorage.setItem('xerotier.apiKey', {key!r})")
                rows = "#models-table tbody tr:nth-child(50)"
                samples: dict[str, list[float]] = {"page": [], "route": [], "fetch": []}
                for rep in range(reps + 3):
                    page.goto("about:blank")  # a full load each time, not a same-document hop
                    t0 = time.perf_counter()
                    page.goto(f"{url}/ui/#/models")
                    page.wait_for_selector(rows)
                    t_page = time.perf_counter() - t0
                    page.evaluate("location.hash = '#/keys'")
                    page.wait_for_selector("#keys-table")
                    t0 = time.perf_counter()
                    page.evaluate("location.hash = '#/models'")
                    page.wait_for_selector(rows)
                    t_route = time.perf_counter() - t0
                    t0 = time.perf_counter()
                    page.evaluate(
                        """async (key) => (await fetch('/v1/models?limit=50',
                            {headers: {Authorization: 'Bearer ' + key}, cache: 'no-store'})).json()""",
                        key,
                    )
                    t_fetch = time.perf_counter() - t0
                    if rep >= 3:
                        samples["page"].append(t_page * 1000)
                        samples["route"].append(t_route * 1000)
                        samples["fetch"].append(t_fetch * 1000)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    fetch50, _ = _stats(samples["fetch"])
    print(f"{models} models, {reps} reps, milliseconds p50 / p95, ratio to the API alone (p50)")
    for name in ("page", "route", "fetch"):
        p50, p95 = _stats(samples[name])
        print(f"{name:>6}: {p50:7.1f} / {p95:7.1f}   {p50 / fetch50:5.1f}×")
