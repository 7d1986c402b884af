"""The real kopf operator (`xerotier operator`, a process) against a Kubernetes API emulator (kmock)
and the real HTTP API of a running `xerotier up`.

Covered: discovery and watching of Model resources, creating the version, uploading a folder,
completing, waiting through validation, mirroring phase / metadata / conditions / observedGeneration
into status, a spec change (new generation → a second version, the first stays latest), idempotent
re-runs (a restarted operator adopts what exists and creates nothing), spec errors, and deletion
through the finalizer (policy Retain). Promotion and the Delete policy are covered on the
reconcile step itself in test_operator_reconcile. Not covered: a real API server's admission
(the CRD's schema and CEL rule are checked offline in test_deploy_manifests), Hugging Face and S3
sources through the operator, and leader election (the operator runs standalone, one replica).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx
import kmock
import pytest

from support.kube import MODELS, model_resource, prepare, write_kubeconfig

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]
BIN = Path(sys.executable).parent
API = "/apis/xerotier.ai/v1alpha1/namespaces/default/models"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_operator(kubeconfig: Path, embedded, log_path: Path, health_port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XEROTIER_", "KUBERNETES_"))}
    env |= {
        "KUBECONFIG": str(kubeconfig),
        "XEROTIER_API_URL": embedded.url,
        "XEROTIER_API_KEY": embedded.api_key,
        "XEROTIER_OPERATOR_INTERVAL_SECONDS": "0.5",
        "XEROTIER_LOG_FORMAT": "json",
    }
    handle = log_path.open("ab")
    return subprocess.Popen(
        [
            str(BIN / "xerotier"),
            "operator",  # cluster-wide: kmock cannot parse the namespace list path kopf uses to glob
            "--liveness",
            f"http://127.0.0.1:{health_port}/healthz",
        ],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


async def wait_for(predicate, what: str, log_path: Path, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{log_path.read_text(errors='replace')[-4000:]}")


def current(k8s: kmock.KubernetesEmulator, name: str) -> dict | None:
    try:
        obj = k8s.objects[MODELS, "default", name]
    except KeyError:
        return None
    return None if obj.deleted else dict(obj.raw)


async def test_operator_reconciles_a_model_resource_through_the_api(embedded, tiny_checkpoint, tmp_path):
    async with kmock.KubernetesEmulator() as k8s, kmock.Server(k8s) as server:
        prepare(k8s)
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", str(server.url))
        spec = {
            "project": "default",
            "model": "tiny-llama",
            "version": "1.0.0",
            "versionNotes": "from the operator",
            "source": {"localPath": str(tiny_checkpoint)},
        }
        broken_spec = {**spec, "model": "broken", "version": "v1"}
        async with aiohttp.ClientSession(base_url=str(server.url)) as kube:
            for resource in (model_resource("tiny", spec), model_resource("broken", broken_spec)):
                async with kube.post(API, json=resource) as response:
                    assert response.status < 300, await response.text()

            log_path = tmp_path / "operator.log"
            proc = start_operator(kubeconfig, embedded, log_path, free_port())
            try:

                def ready():
                    obj = current(k8s, "tiny")
                    status = (obj or {}).get("status", {})
                    return status if status.get("phase") in ("Ready", "Error") else None

                status = await wait_for(ready, "phase Ready", log_path)
                assert status["phase"] == "Ready", status
                assert status["observedGeneration"] == 1 and status["version"] == "1.0.0"
                assert status["metadata"]["architecture"] == "llama"
                assert status["metadata"]["contextLength"] == 4096
                size = sum(p.stat().st_size for p in tiny_checkpoint.iterdir())
                assert status["metadata"]["sizeBytes"] == size
                conditions = {c["type"]: c for c in status["conditions"]}
                assert conditions["Ready"]["status"] == "True"

                registry = httpx.Client(
                    base_url=embedded.url, headers={"Authorization": f"Bearer {embedded.api_key}"}
                )
                model = registry.get(f"/v1/models/{status['modelId']}").json()
                assert (model["name"], model["status"], model["versionNotes"]) == (
                    "tiny-llama",
                    "ready",
                    "from the operator",
                )
                events = registry.get(f"/v1/models/{status['modelId']}/events").json()["events"]
                assert [e["to"] for e in events] == ["uploading", "validating", "ready"]

                def bad():
                    return ((current(k8s, "broken") or {}).get("status") or {}).get("phase")

                assert await wait_for(bad, "the broken spec to be reported", log_path) == "Error"
                broken_status = current(k8s, "broken")["status"]
                assert "spec.version" in broken_status["message"]
                assert "modelId" not in broken_status

                # a finalizer guards the resource; deleting it (policy Retain) keeps the version
                assert current(k8s, "tiny")["metadata"].get("finalizers")

                # A spec change (a new generation) converges on a new version; the old one stays latest.
                change = {"metadata": {"generation": 2}, "spec": {"version": "1.1.0"}}
                headers = {"Content-Type": "application/merge-patch+json"}
                async with kube.patch(f"{API}/tiny", json=change, headers=headers) as response:
                    assert response.status < 300, await response.text()

                def regenerated():
                    st = (current(k8s, "tiny") or {}).get("status") or {}
                    done = st.get("observedGeneration") == 2 and st.get("phase") in ("Ready", "Error")
                    return st if done else None

                second = await wait_for(regenerated, "generation 2 to be reconciled", log_path)
                assert (second["phase"], second["version"], second["isLatest"]) == ("Ready", "1.1.0", False)
                assert second["modelId"] != status["modelId"]
                promoted = {c["type"]: c for c in second["conditions"]}["Promoted"]
                assert (promoted["status"], promoted["reason"]) == ("False", "NotRequested")
            finally:
                stop(proc)
            versions = {
                m["version"]: m["id"]
                for m in registry.get("/v1/models", params={"allVersions": "true"}).json()["models"]
                if m["name"] == "tiny-llama"
            }
            assert versions == {"1.0.0": status["modelId"], "1.1.0": second["modelId"]}

            # A fresh operator on the same state converges on the same version: nothing new is created.
            proc = start_operator(kubeconfig, embedded, log_path, free_port())
            try:
                await asyncio.sleep(3)
                listed = registry.get("/v1/models", params={"allVersions": "true"}).json()["models"]
                assert {m["id"] for m in listed if m["name"] == "tiny-llama"} == set(versions.values())
                assert current(k8s, "tiny")["status"]["phase"] == "Ready"

                async with kube.delete(f"{API}/tiny") as response:
                    assert response.status < 300, await response.text()
                await wait_for(lambda: current(k8s, "tiny") is None, "the finalizer to be released", log_path)
                for model_id in versions.values():  # policy Retain: both versions stay
                    assert registry.get(f"/v1/models/{model_id}").json()["status"] == "ready"
            finally:
                stop(proc)
                registry.close()
