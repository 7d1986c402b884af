"""The operator's pure parts: spec parsing, status mirroring, which files a folder source uploads."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from xerotier.operator.api import model_files
from xerotier.operator.spec import SpecError, parse_spec
from xerotier.operator.status import Observation, status_patch

GOOD = {
    "project": "proj_ABC",
    "model": "llama",
    "version": "2.0.0-rc.1",
    "source": {"huggingFace": {"repo": "org/name", "revision": "abc"}},
    "promote": True,
}


def test_a_complete_spec_parses_with_its_defaults():
    spec = parse_spec(GOOD)
    assert (spec.project, spec.model, spec.version, spec.promote) == ("proj_ABC", "llama", "2.0.0-rc.1", True)
    assert (spec.source.kind, spec.source.repo, spec.source.revision) == ("huggingFace", "org/name", "abc")
    assert spec.deletion_policy == "Retain"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"version": "v2"}, "leading 'v'"),
        ({"version": "1.0"}, "three numeric parts"),
        ({"model": " "}, "spec.model is required"),
        ({"source": {}}, "exactly one"),
        ({"source": {"s3": {"prefix": "s3://b/p"}, "localPath": "/x"}}, "exactly one"),
        ({"source": {"huggingFace": {"repo": "noslash"}}}, "org/name"),
        ({"source": {"s3": {"prefix": "http://x"}}}, "s3://"),
        ({"source": {"localPath": "relative/dir"}}, "absolute"),
        ({"deletionPolicy": "Orphan"}, "Retain or Delete"),
    ],
)
def test_bad_specs_are_refused_with_the_reason(change, message):
    with pytest.raises(SpecError, match=message):
        parse_spec({**GOOD, **change})


MODEL = {
    "id": "m-1",
    "name": "llama",
    "version": "1.0.0",
    "status": "ready",
    "isLatest": False,
    "architecture": "llama",
    "contextLength": 4096,
    "parameterCount": None,
}


def test_status_mirrors_phase_metadata_and_generation():
    status = status_patch(Observation(MODEL, "ready"), promote=False, generation=3)
    assert (status["phase"], status["modelId"], status["observedGeneration"]) == ("Ready", "m-1", 3)
    assert status["metadata"] == {"architecture": "llama", "contextLength": 4096}
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert (conditions["Promoted"]["status"], conditions["Promoted"]["reason"]) == ("False", "NotRequested")


@pytest.mark.parametrize(
    "registry, phase", [("uploading", "Uploading"), ("validating", "Validating"), ("error", "Error")]
)
def test_in_flight_and_failed_versions_are_not_ready(registry, phase):
    status = status_patch(Observation({**MODEL, "status": registry}, "x"), promote=True, generation=1)
    assert status["phase"] == phase
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "False"


def test_a_condition_keeps_its_transition_time_until_it_changes():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    first = status_patch(
        Observation({**MODEL, "status": "validating"}, "v"), promote=False, generation=1, now=t0
    )
    same = status_patch(
        Observation({**MODEL, "status": "validating"}, "v"),
        promote=False,
        generation=1,
        previous=first,
        now=t0 + timedelta(minutes=5),
    )
    flipped = status_patch(
        Observation(MODEL, "ready"), promote=False, generation=1, previous=same, now=t0 + timedelta(minutes=9)
    )
    ready = [next(c for c in s["conditions"] if c["type"] == "Ready") for s in (first, same, flipped)]
    assert ready[0]["lastTransitionTime"] == ready[1]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert ready[2]["lastTransitionTime"] == "2026-01-01T00:09:00Z"


def test_a_spec_error_reports_error_without_a_model():
    status = status_patch(
        Observation(None, "spec.version: bad", spec_error=True), promote=False, generation=2
    )
    assert status["phase"] == "Error" and "modelId" not in status and status["message"] == "spec.version: bad"


def test_folder_sources_upload_regular_files_and_never_follow_links(tmp_path):
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "sub" / "a.safetensors").write_bytes(b"x")
    outside = tmp_path / "secret"
    outside.write_text("no")
    os.symlink(outside, folder / "link.json")
    os.symlink(tmp_path, folder / "dirlink")
    assert [rel for rel, _ in model_files(folder)] == ["config.json", "sub/a.safetensors"]
    with pytest.raises(FileNotFoundError):
        model_files(tmp_path / "missing")
