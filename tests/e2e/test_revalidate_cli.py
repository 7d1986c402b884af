"""``xeroctl models revalidate`` against a real ``xerotier up``: metadata refreshed, history kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.processes import wait_for_status

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def test_xeroctl_models_revalidate(embedded, tiny_checkpoint):
    (tiny_checkpoint / "README.md").write_text("---\nlicense: mit\n---\n")
    headers = {"Authorization": f"Bearer {embedded.api_key}"}
    with httpx.Client(base_url=embedded.url, headers=headers, timeout=30) as client:
        model_id = client.post("/v1/models", json={"name": "tiny"}).json()["id"]
        for path in sorted(tiny_checkpoint.iterdir()):
            assert (
                client.put(f"/v1/models/{model_id}/files/{path.name}", content=path.read_bytes()).status_code
                == 201
            )
        assert client.post(f"/v1/models/{model_id}/complete").status_code == 202
        assert wait_for_status(client, model_id, {"ready", "error"})["license"] == "mit"
        before = [e["event"] for e in client.get(f"/v1/models/{model_id}/events").json()["events"]]

        env = dict(os.environ, XEROTIER_API_URL=embedded.url, XEROTIER_API_KEY=embedded.api_key)
        run = subprocess.run(
            [str(BIN / "xeroctl"), "-o", "json", "models", "revalidate", model_id],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["status"] == "validating"

        deadline = time.monotonic() + 60  # wait for the new events, not a timing assertion
        while time.monotonic() < deadline:
            after = [e["event"] for e in client.get(f"/v1/models/{model_id}/events").json()["events"]]
            if len(after) >= len(before) + 2:
                break
            time.sleep(0.2)
        assert after == [*before, "revalidate", "validation_passed"]
        model = wait_for_status(client, model_id, {"ready"})
        assert model["license"] == "mit" and model["architecture"] == "llama"
