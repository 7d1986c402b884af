"""The agent SIGKILLed while serving: its engine goes with it, the housekeeper finds the backend dead,
the endpoint is placed again on the other live backend, and requests recover; none hangs."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from support.agent_process import start_agent, wait_registered
from support.processes import start_worker, wait_for_status
from support.serve import mint_key, start_serve
from support.tiny_llama import write_tiny_llama
from xerotier.agent.cpu_engine import available
from xerotier.queue.reconciler import Housekeeper
from xerotier.router.forward import VERSION_HEADER
from xerotier.runtime import Runtime

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_killed_agent_is_replaced_and_requests_recover(pg_settings, pg_runtime, tmp_path):
    assert available() is None, available()
    fast = pg_settings.model_copy(
        update={"backend_dead_after_seconds": 3.0, "router_load_wait_seconds": 30.0}
    )
    worker = start_worker(fast, ["upload", "validation", "catalog", "loading"], tmp_path / "worker.log")
    serve = start_serve(fast, _free_port(), tmp_path / "serve.log")
    agents = {b: start_agent(fast, b, ["--device", "cpu"], tmp_path / f"{b}.log") for b in ("cpu-a", "cpu-b")}
    keeper = Housekeeper(Runtime(fast, []))
    keeper.start()
    _, key = mint_key(pg_runtime, "test")
    client = httpx.Client(base_url=serve.url, headers={"Authorization": f"Bearer {key}"}, timeout=90)
    try:
        for backend, proc in agents.items():
            wait_registered(pg_runtime, backend, proc)
        model = client.post("/v1/models", json={"name": "tiny"}).json()["id"]
        for path in sorted(write_tiny_llama(tmp_path / "m").iterdir()):
            assert (
                client.put(f"/v1/models/{model}/files/{path.name}", content=path.read_bytes()).status_code
                == 201
            )
        client.post(f"/v1/models/{model}/complete")
        assert wait_for_status(client, model, {"ready"}, timeout=120)["status"] == "ready"
        ep = client.post("/v1/endpoints", json={"modelId": model, "tier": "self_hosted"}).json()["id"]
        body = {"model": "tiny", "prompt": "hello", "max_tokens": 2}
        first = client.post("/v1/completions", json=body)
        assert first.status_code == 200, first.text
        serving_on = client.get(f"/v1/endpoints/{ep}").json()["statusReason"].split(" on ")[-1]
        other = next(b for b in agents if b != serving_on)

        agents[serving_on].kill()  # SIGKILL: no goodbye, no acknowledgment
        answers: list[int] = []
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            # a request that hung past 60 s would raise httpx.ReadTimeout here and fail the test
            answer = client.post("/v1/completions", json=body, timeout=60)
            answers.append(answer.status_code)
            assert answer.status_code in (200, 502, 503), answer.text
            reason = client.get(f"/v1/endpoints/{ep}").json()["statusReason"] or ""
            if answer.status_code == 200 and reason.endswith(f"on {other}"):
                break
            time.sleep(0.5)
        assert answers[-1] == 200, answers
        assert answer.headers[VERSION_HEADER] == "1.0.0"
        got = client.get(f"/v1/endpoints/{ep}").json()
        assert got["status"] == "serving" and got["statusReason"].endswith(f"on {other}"), got
    finally:
        client.close()
        keeper.stop()
        for proc in agents.values():
            proc.stop()
        serve.stop()
        worker.stop()
