"""The seed's "Version Management with the API" snippets, run as written against a real server.

``seed_snippets/`` holds them verbatim from the seed (only the indentation of the loop bodies,
lost in the document, restored); the test substitutes the base URL, the key and MODEL_ID and runs
them with curl, python (requests) and node (fetch). Promoting 2.0.0 right after creating it, as
the snippets do, records a pending promotion (202).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import free_port
from support.processes import ManagedProcess
from support.serve import mint_key, start_serve
from xerotier.db.models import Model
from xerotier.db.transitions import apply_transition
from xerotier.db.versioning_models import PendingPromotion
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus

pytestmark = pytest.mark.integration
SNIPPETS = Path(__file__).parent / "seed_snippets"


@pytest.fixture
def server(pg_settings, pg_runtime, tmp_path) -> Iterator[tuple[ManagedProcess, str, str]]:
    project_id, key = mint_key(pg_runtime, "my-project")
    proc = start_serve(pg_settings, free_port(), tmp_path / "serve.log")
    yield proc, project_id, key
    proc.stop()


def ready_model(proc: ManagedProcess, key: str, runtime, name: str) -> str:
    with httpx.Client(base_url=proc.url, headers={"Authorization": f"Bearer {key}"}) as client:
        model = client.post("/v1/models", json={"name": name}).json()
    mid = uuid.UUID(model["id"])
    with runtime.unit_of_work() as session:
        apply_transition(session, mid, ModelStatus.UPLOADING, LifecycleEvent.COMPLETE)
        apply_transition(session, mid, ModelStatus.VALIDATING, LifecycleEvent.VALIDATION_PASSED)
    return model["id"]


def snippet(name: str, proc: ManagedProcess, project_id: str, key: str, model_id: str) -> str:
    text = (SNIPPETS / name).read_text()
    return (
        text.replace("https://api.xerotier.ai/proj_ABC123/v1", f"{proc.url}/{project_id}/v1")
        .replace("xero_my-project_abc123", key)
        .replace("MODEL_ID", model_id)
    )


def run(args: list[str], tmp_path: Path) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout


def assert_pending_2_0_0(runtime, model_id: str) -> None:
    with runtime.session_factory() as session:
        anchor = session.get(Model, uuid.UUID(model_id))
        versions = {m.version: m for m in session.query(Model).filter(Model.name == anchor.name)}
        assert set(versions) == {"1.0.0", "2.0.0"}
        assert versions["2.0.0"].version_notes == "Improved accuracy"
        assert versions["2.0.0"].parent_version_id == anchor.id
        assert versions["1.0.0"].is_latest and not versions["2.0.0"].is_latest
        assert session.get(PendingPromotion, versions["2.0.0"].id) is not None


def test_python_requests_snippet(server, pg_runtime, tmp_path):
    proc, project_id, key = server
    model_id = ready_model(proc, key, pg_runtime, "snippet-python")
    script = tmp_path / "snippet.py"
    script.write_text(snippet("versions_requests.py.txt", proc, project_id, key, model_id))
    lines = run([sys.executable, str(script)], tmp_path).splitlines()
    assert lines[0] == " 1.0.0 (latest=True)"
    assert lines[1].startswith("Created version: {") and "'version': '2.0.0'" in lines[1]
    assert "'versionNotes': 'Improved accuracy'" in lines[1] and "'status': 'uploading'" in lines[1]
    assert len(lines) == 2
    assert_pending_2_0_0(pg_runtime, model_id)


def test_javascript_fetch_snippet(server, pg_runtime, tmp_path):
    node = shutil.which("node")
    assert node, "node is required to run the seed's fetch snippet"
    proc, project_id, key = server
    model_id = ready_model(proc, key, pg_runtime, "snippet-node")
    script = tmp_path / "snippet.mjs"
    script.write_text(snippet("versions_fetch.mjs.txt", proc, project_id, key, model_id))
    out = run([node, str(script)], tmp_path)
    assert out.startswith(" 1.0.0 (latest=true)\nCreated version: {")
    assert "version: '2.0.0'" in out and "versionNotes: 'Improved accuracy'" in out
    assert_pending_2_0_0(pg_runtime, model_id)


def test_curl_snippets(server, pg_runtime, tmp_path):
    curl = shutil.which("curl")
    assert curl, "curl is required to run the seed's curl snippets"
    proc, project_id, key = server
    model_id = ready_model(proc, key, pg_runtime, "snippet-curl")
    script = tmp_path / "snippet.sh"
    script.write_text(snippet("versions_curl.sh.txt", proc, project_id, key, model_id))
    out = run(["bash", "-e", str(script)], tmp_path)
    decoder, docs, pos = json.JSONDecoder(), [], 0
    while pos < len(out):
        doc, pos = decoder.raw_decode(out, pos)
        docs.append(doc)
        while pos < len(out) and out[pos].isspace():
            pos += 1
    listed, created, promoted = docs
    assert [(v["version"], v["isLatest"]) for v in listed["versions"]] == [("1.0.0", True)]
    assert created["version"] == "2.0.0" and created["versionNotes"] == "Improved accuracy"
    assert promoted["version"] == "2.0.0" and promoted["promotion"] == "pending"
    assert_pending_2_0_0(pg_runtime, model_id)
