"""Router overhead, time to first token and cold start, on a CPU machine (``make bench ARGS=serving``).

Starts ``xerotier up`` (embedded: SQLite, file broker) and ``xerotier agent --device cpu`` (the real
CPU engine) in a temporary folder, uploads a tiny random Llama (1 layer, hidden 32: the engine's
own time is small, so the router's share shows), creates an endpoint and measures:

- cold start: endpoint created → first streamed token, with its breakdown (placement, staging,
  engine start) from the load's acknowledgment;
- a non-streaming completion (``max_tokens`` 1, greedy) through the router and straight to the
  engine, interleaved request by request on keep-alive connections: p50 / p99 and the difference;
- time to first token of a streamed chat, through the router and direct, interleaved.

Knobs: ``XEROTIER_BENCH_REPS`` (default 200).
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

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REPS = int(os.environ.get("XEROTIER_BENCH_REPS", "200"))
RESULTS: dict[str, object] = {}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:.2f} ms, p99 {_pct(values, 0.99) * 1000:.2f} ms"


def _wait(pattern: str, log: Path, proc: subprocess.Popen, timeout: float = 120) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(errors="replace") if log.exists() else "")
        if found:
            return found
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    raise TimeoutError(pattern)


def _first_token(client: httpx.Client, url: str, body: dict) -> float:
    started = time.perf_counter()
    with client.stream("POST", url, json=body) as answer:
        answer.raise_for_status()
        for line in answer.iter_lines():
            if line.startswith("data: ") and '"content": "' in line and '"content": ""' not in line:
                return time.perf_counter() - started
    raise RuntimeError("no token streamed")


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from support.tiny_llama import write_tiny_llama

    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        data, port = Path(tmp) / "data", _port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("XEROTIER_")}
        up_log, agent_log = Path(tmp) / "up.log", Path(tmp) / "agent.log"
        try:
            with up_log.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [str(BIN / "xerotier"), "up", "--data-dir", str(data), "--port", str(port)],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            key = _wait(r"API key: (\S+)", up_log, procs[0]).group(1)
            agent_env = env | {"XEROTIER_DATA_DIR": str(data), "XEROTIER_METRICS_PORT": "0"}
            with agent_log.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [str(BIN / "xerotier"), "agent", "--device", "cpu", "--backend-id", "bench"],
                        env=agent_env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            _wait(r"\bready\.", agent_log, procs[1])
            alone, router_log = _port(), Path(tmp) / "router.log"
            with router_log.open("wb") as out:  # the router on its own process, same data
                procs.append(
                    subprocess.Popen(
                        [str(BIN / "xerotier"), "router", "--port", str(alone)],
                        env=agent_env | {"XEROTIER_LOG_LEVEL": "WARNING"},
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            _measure(
                f"http://127.0.0.1:{port}",
                f"http://127.0.0.1:{alone}",
                key,
                write_tiny_llama(Path(tmp) / "m"),
            )
        finally:
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(timeout=60)


def _measure(base: str, alone: str, key: str, folder: Path) -> None:
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120)
    solo = httpx.Client(base_url=alone, headers={"Authorization": f"Bearer {key}"}, timeout=120)
    model = api.post("/v1/models", json={"name": "bench"}).json()["id"]
    for path in sorted(folder.iterdir()):
        api.put(f"/v1/models/{model}/files/{path.name}", content=path.read_bytes()).raise_for_status()
    api.post(f"/v1/models/{model}/complete").raise_for_status()
    deadline = time.monotonic() + 120
    while api.get(f"/v1/models/{model}").json()["status"] != "ready":
        if time.monotonic() > deadline:
            raise TimeoutError("the model never became ready")
        time.sleep(0.2)

    chat = {"model": "bench", "messages": [{"role": "user", "content": "hello"}], "stream": True}
    chat |= {"max_tokens": 4, "ignore_eos": True, "temperature": 0}
    created = time.perf_counter()
    ep = api.post("/v1/endpoints", json={"modelId": model, "tier": "self_hosted"}).json()["id"]
    _first_token(api, "/v1/chat/completions", chat)  # waits for the load, then streams
    cold = time.perf_counter() - created
    load = next(
        x for b in api.get("/v1/backends").json()["backends"] for x in b["loads"] if x["endpointId"] == ep
    )
    timings = load["ack"]["timings"]
    placed = (
        _iso(load["createdAt"]) - _iso(api.get(f"/v1/endpoints/{ep}").json()["createdAt"])
    ).total_seconds()
    print(
        f"cold start (endpoint created → first token): {cold:.2f} s = placement {placed:.3f} s + staging "
        f"{timings['stageSeconds']:.3f} s + engine start {timings['engineSeconds']:.2f} s + the rest "
        f"{cold - placed - timings['stageSeconds'] - timings['engineSeconds']:.2f} s (queues, first token)"
    )
    engine = load["ack"]["engine"]["url"]
    served = load["ack"]["engine"]["servedName"]

    direct = httpx.Client(base_url=engine, timeout=120)
    body = {"prompt": "hello", "max_tokens": 1, "temperature": 0}
    routed, straight, alone_ms = [], [], []
    orders = [(0, 1, 2), (1, 2, 0), (2, 0, 1)]
    for i in range(REPS + 10):
        for which in orders[i % 3]:
            started = time.perf_counter()
            if which == 0:
                api.post("/v1/completions", json=body | {"model": "bench"}).raise_for_status()
            elif which == 1:
                direct.post("/v1/completions", json=body | {"model": served}).raise_for_status()
            else:
                solo.post("/v1/completions", json=body | {"model": "bench"}).raise_for_status()
            if i >= 10:  # warm-up done
                (routed, straight, alone_ms)[which].append(time.perf_counter() - started)
    floor = []  # what any authenticated read costs on this gateway (auth + one row + JSON)
    for _ in range(REPS):
        started = time.perf_counter()
        api.get(f"/v1/endpoints/{ep}").raise_for_status()
        floor.append(time.perf_counter() - started)
    print(f"gateway floor, GET /v1/endpoints/{{id}}: {_ms(floor)}")
    added = statistics.median(routed) - statistics.median(straight)
    print(f"completion through the router in xerotier up: {_ms(routed)}")
    print(f"completion through xerotier router (its own process): {_ms(alone_ms)}")
    print(f"completion straight to the engine: {_ms(straight)}")
    added_alone = statistics.median(alone_ms) - statistics.median(straight)
    print(
        f"router overhead: p50 +{added * 1000:.2f} ms in xerotier up, +{added_alone * 1000:.2f} ms alone "
        f"({statistics.median(routed) / statistics.median(straight):.2f}x, "
        f"{statistics.median(alone_ms) / statistics.median(straight):.2f}x)"
    )

    ttft_routed, ttft_direct = [], []
    for _ in range(max(20, REPS // 5)):
        ttft_routed.append(_first_token(api, "/v1/chat/completions", chat))
        ttft_direct.append(_first_token(direct, "/v1/chat/completions", chat | {"model": served}))
    print(f"time to first token through the router: {_ms(ttft_routed)}")
    print(f"time to first token straight to the engine: {_ms(ttft_direct)}")
    RESULTS.update(
        cold_start_s=round(cold, 3),
        router_p50_ms=round(statistics.median(routed) * 1000, 3),
        direct_p50_ms=round(statistics.median(straight) * 1000, 3),
        router_p99_ms=round(_pct(routed, 0.99) * 1000, 3),
        router_alone_p50_ms=round(statistics.median(alone_ms) * 1000, 3),
        direct_p99_ms=round(_pct(straight, 0.99) * 1000, 3),
        ttft_router_p50_ms=round(statistics.median(ttft_routed) * 1000, 3),
        ttft_direct_p50_ms=round(statistics.median(ttft_direct) * 1000, 3),
    )


def _iso(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(text)


if __name__ == "__main__":
    main()
