"""Versions and model management over HTTP on PostgreSQL (the real app, real database and broker).

Statuses are moved with the real ``apply_transition`` (the same compare-and-set the validation
service uses) where a test needs a version to be ready or in error without running validation.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from xerotier.db.latest import resolve_latest
from xerotier.db.models import ApiKey, Blob, Model, ModelFile
from xerotier.db.transitions import apply_transition
from xerotier.db.versioning_models import PendingPromotion
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus

pytestmark = pytest.mark.integration


def new_model(api, name: str = "llama-tiny", **body) -> dict:
    response = api.post("/v1/models", json={"name": name, **body})
    assert response.status_code == 201, response.text
    return response.json()


def new_version(api, model_id: str, version: str, **body) -> dict:
    response = api.post(f"/v1/models/{model_id}/versions", json={"version": version, **body})
    assert response.status_code == 201, response.text
    return response.json()


def make_ready(runtime, model_id: str) -> None:
    mid = uuid.UUID(model_id)
    with runtime.unit_of_work() as session:
        status = session.get(Model, mid).status
        if status == ModelStatus.UPLOADING:
            assert apply_transition(session, mid, status, LifecycleEvent.COMPLETE)
            status = ModelStatus.VALIDATING
        assert apply_transition(session, mid, status, LifecycleEvent.VALIDATION_PASSED)


def make_error(runtime, model_id: str, reason: str = "config.json: not valid JSON") -> None:
    mid = uuid.UUID(model_id)
    with runtime.unit_of_work() as session:
        assert apply_transition(session, mid, ModelStatus.UPLOADING, LifecycleEvent.COMPLETE)
        assert apply_transition(
            session,
            mid,
            ModelStatus.VALIDATING,
            LifecycleEvent.VALIDATION_FAILED,
            values={"validation_error": reason},
        )


def latest_versions(runtime, name: str) -> list[str]:
    with runtime.session_factory() as session:
        return list(session.scalars(select(Model.version).where(Model.name == name, Model.is_latest)))


def test_versions_are_listed_by_precedence_with_the_seed_fields(pg_api):
    first = new_model(pg_api)
    for version in ["1.2.0", "1.10.0", "2.0.0-rc.1", "2.0.0-alpha", "2.0.0", "1.0.1-beta.11", "1.0.1-beta.2"]:
        new_version(pg_api, first["id"], version, versionNotes=f"notes {version}")
    body = pg_api.get(f"/v1/models/{first['id']}/versions").json()
    order = [v["version"] for v in body["versions"]]
    assert order == [
        "2.0.0",
        "2.0.0-rc.1",
        "2.0.0-alpha",
        "1.10.0",
        "1.2.0",
        "1.0.1-beta.11",
        "1.0.1-beta.2",
        "1.0.0",
    ]
    for v in body["versions"]:
        assert {
            "id",
            "version",
            "isLatest",
            "parentVersionId",
            "versionNotes",
            "status",
            "createdAt",
        } <= v.keys()
    by_version = {v["version"]: v for v in body["versions"]}
    assert by_version["1.0.0"]["parentVersionId"] is None
    assert by_version["2.0.0"]["parentVersionId"] == first["id"]  # parent is the latest
    assert by_version["2.0.0"]["versionNotes"] == "notes 2.0.0"
    assert by_version["2.0.0"]["status"] == "uploading" and not by_version["2.0.0"]["isLatest"]


def test_same_precedence_is_the_same_version_and_bad_versions_say_why(pg_api):
    model = new_model(pg_api, version="1.0.0+build.1")
    dup = pg_api.post(f"/v1/models/{model['id']}/versions", json={"version": "1.0.0+build.2"})
    assert dup.status_code == 409
    assert dup.json()["error"]["message"] == "Model 'llama-tiny' version 1.0.0+build.2 already exists"
    again = pg_api.post("/v1/models", json={"name": "llama-tiny", "version": "1.0.0"})
    assert again.status_code == 409  # the database index holds it for every writer
    for bad, reason in [
        ("v1.0.0", "leading 'v'"),
        ("1.02.0", "leading zero"),
        ("1.0", "three numeric parts"),
    ]:
        response = pg_api.post(f"/v1/models/{model['id']}/versions", json={"version": bad})
        assert response.status_code == 400, bad
        assert reason in response.json()["error"]["message"]
    huge = "1.0.123456789012345678901234567890"
    assert pg_api.post(f"/v1/models/{model['id']}/versions", json={"version": huge}).status_code == 201
    listed = [v["version"] for v in pg_api.get(f"/v1/models/{model['id']}/versions").json()["versions"]]
    assert listed[0] == huge


def test_promote_ready_pending_and_error_and_history(pg_api, pg_runtime):
    v1 = new_model(pg_api)
    make_ready(pg_runtime, v1["id"])
    v2 = new_version(pg_api, v1["id"], "2.0.0", versionNotes="Improved accuracy")
    v3 = new_version(pg_api, v1["id"], "3.0.0")
    v4 = new_version(pg_api, v1["id"], "4.0.0")
    make_ready(pg_runtime, v2["id"])
    make_error(pg_runtime, v4["id"])

    promoted = pg_api.post(f"/v1/models/{v1['id']}/versions/2.0.0/promote")
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["isLatest"] and promoted.json()["promotion"] == "promoted"
    assert latest_versions(pg_runtime, "llama-tiny") == ["2.0.0"]
    with pg_runtime.session_factory() as session:  # endpoints resolve through the database
        assert resolve_latest(session, v1["projectId"], "llama-tiny").version == "2.0.0"

    again = pg_api.post(f"/v1/models/{v1['id']}/versions/2.0.0/promote")
    assert again.status_code == 200 and again.json()["promotion"] == "unchanged"

    pending = pg_api.post(f"/v1/models/{v1['id']}/versions/3.0.0/promote")
    assert pending.status_code == 202 and pending.json()["promotion"] == "pending"
    assert latest_versions(pg_runtime, "llama-tiny") == ["2.0.0"]
    with pg_runtime.session_factory() as session:
        assert session.get(PendingPromotion, uuid.UUID(v3["id"])) is not None

    refused = pg_api.post(f"/v1/models/{v1['id']}/versions/4.0.0/promote")
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == (
        "Version 4.0.0 is in error and cannot be promoted: config.json: not valid JSON"
    )
    missing = pg_api.post(f"/v1/models/{v1['id']}/versions/9.9.9/promote")
    assert missing.status_code == 404
    assert pg_api.post(f"/v1/models/{v1['id']}/versions/nope/promote").status_code == 400

    answer = pg_api.get(f"/v1/models/{v1['id']}/versions/history").json()
    history = answer["history"]
    assert [(h["kind"], h["from"], h["to"]) for h in history] == [("promote", "1.0.0", "2.0.0")]
    with pg_runtime.session_factory() as session:
        key_ids = {str(k) for k in session.scalars(select(ApiKey.id))}
    assert len(key_ids) == 1 and history[0]["who"] in key_ids and history[0]["when"]
    # The pending promotion is shown beside the history (it is not history yet).
    waiting = answer["pending"]
    assert (waiting["kind"], waiting["to"], waiting["toVersionId"]) == ("promote", "3.0.0", v3["id"])
    assert waiting["toStatus"] == "uploading" and waiting["who"] in key_ids and waiting["requestedAt"]


def test_rollback_goes_to_an_older_version_only(pg_api, pg_runtime):
    v1 = new_model(pg_api)
    make_ready(pg_runtime, v1["id"])
    v2 = new_version(pg_api, v1["id"], "1.1.0")
    make_ready(pg_runtime, v2["id"])
    assert pg_api.post(f"/v1/models/{v1['id']}/versions/1.1.0/promote").status_code == 200
    newer = new_version(pg_api, v1["id"], "1.2.0")
    make_ready(pg_runtime, newer["id"])
    wrong = pg_api.post(f"/v1/models/{v1['id']}/versions/1.2.0/rollback")
    assert (
        wrong.status_code == 409
        and "not older than the latest version 1.1.0" in wrong.json()["error"]["message"]
    )
    back = pg_api.post(f"/v1/models/{v1['id']}/versions/1.0.0/rollback")
    assert back.status_code == 200 and back.json()["isLatest"]
    history = pg_api.get(f"/v1/models/{v2['id']}/versions/history").json()["history"]
    assert [(h["kind"], h["from"], h["to"]) for h in history] == [
        ("rollback", "1.1.0", "1.0.0"),
        ("promote", "1.0.0", "1.1.0"),
    ]


def test_copy_files_reuses_blobs_and_goes_to_validating(pg_api, pg_runtime):
    v1 = new_model(pg_api)
    for path, content in [("model.safetensors", b"x" * 100), ("config.json", b"{}")]:
        assert pg_api.put(f"/v1/models/{v1['id']}/files/{path}", content=content).status_code == 201
    make_ready(pg_runtime, v1["id"])
    blobs_before = _blob_count(pg_runtime)
    copied = new_version(pg_api, v1["id"], "1.1.0", copyFiles=True)
    assert copied["status"] == "validating"
    assert copied["sizeBytes"] == 102
    files = {f["path"]: f["sha256"] for f in pg_api.get(f"/v1/models/{copied['id']}/files").json()["files"]}
    original = {f["path"]: f["sha256"] for f in pg_api.get(f"/v1/models/{v1['id']}/files").json()["files"]}
    assert files == original
    assert _blob_count(pg_runtime) == blobs_before  # no new blob stored
    with pg_runtime.session_factory() as session:
        refcounts = set(session.scalars(select(Blob.refcount).where(Blob.sha256.in_(files.values()))))
    assert refcounts == {2}
    events = [e["event"] for e in pg_api.get(f"/v1/models/{copied['id']}/events").json()["events"]]
    assert events == ["create", "complete"]
    empty = new_version(pg_api, v1["id"], "1.2.0")
    make_ready(pg_runtime, empty["id"])
    pg_api.post(f"/v1/models/{v1['id']}/versions/1.2.0/promote")
    nothing = pg_api.post(f"/v1/models/{v1['id']}/versions", json={"version": "1.3.0", "copyFiles": True})
    assert nothing.status_code == 409 and "no files to copy" in nothing.json()["error"]["message"]


def _blob_count(runtime) -> int:
    with runtime.session_factory() as session:
        return len(session.scalars(select(Blob.sha256)).all())


def test_list_filters_and_keyset_pages_stable_under_inserts(pg_api, pg_runtime):
    names = [f"model-{i:02d}" for i in range(10)] + ["other-a", "other_b"]
    ids = {
        name: new_model(pg_api, name, workloadType="code" if name.startswith("other") else "chat")["id"]
        for name in names
    }
    make_ready(pg_runtime, ids["model-03"])
    new_version(pg_api, ids["model-01"], "2.0.0")

    seen: list[str] = []
    cursor = None
    inserted = False
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = pg_api.get("/v1/models", params=params).json()
        seen += [m["name"] for m in page["models"]]
        if not inserted:  # rows inserted before and after the cursor while paging
            new_model(pg_api, "aaa-early")
            new_model(pg_api, "zzz-late")
            inserted = True
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == sorted([*names, "zzz-late"])  # "aaa-early" sorts before the cursor: not seen
    assert len(seen) == len(set(seen))

    prefix = pg_api.get("/v1/models", params={"namePrefix": "model-0"}).json()["models"]
    assert [m["name"] for m in prefix] == [f"model-{i:02d}" for i in range(10)]
    underscore = pg_api.get("/v1/models", params={"namePrefix": "other_"}).json()["models"]
    assert [m["name"] for m in underscore] == ["other_b"]  # '_' is literal, not a wildcard
    ready = pg_api.get("/v1/models", params={"status": "ready"}).json()["models"]
    assert [m["name"] for m in ready] == ["model-03"]
    code = pg_api.get("/v1/models", params={"workloadType": "code"}).json()["models"]
    assert {m["name"] for m in code} == {"other-a", "other_b"}
    assert pg_api.get("/v1/models", params={"architecture": "llama"}).json()["models"] == []
    every = pg_api.get("/v1/models", params={"allVersions": "true", "namePrefix": "model-01"}).json()[
        "models"
    ]
    assert sorted(m["version"] for m in every) == ["1.0.0", "2.0.0"]
    bad = pg_api.get("/v1/models", params={"status": "bogus"})
    assert bad.status_code == 400 and "Invalid status 'bogus'" in bad.json()["error"]["message"]
    assert (
        pg_api.get("/v1/models", params={"cursor": "not-a-cursor"})
        .json()["error"]["message"]
        .startswith("Invalid cursor")
    )


def test_rename_update_and_delete(pg_api, pg_runtime):
    v1 = new_model(pg_api, "old-name")
    for path, content in [("model.safetensors", b"a" * 10)]:
        pg_api.put(f"/v1/models/{v1['id']}/files/{path}", content=content)
    make_ready(pg_runtime, v1["id"])
    v2 = new_version(pg_api, v1["id"], "2.0.0", copyFiles=True)
    make_ready(pg_runtime, v2["id"])
    pg_api.post(f"/v1/models/{v1['id']}/versions/2.0.0/promote")
    new_model(pg_api, "taken")

    taken = pg_api.post(f"/v1/models/{v1['id']}/rename", json={"name": "taken"})
    assert taken.status_code == 409 and taken.json()["error"]["message"] == (
        "A model named 'taken' already exists in this project"
    )
    renamed = pg_api.post(f"/v1/models/{v2['id']}/rename", json={"name": "new-name"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "new-name"
    versions = pg_api.get(f"/v1/models/{v1['id']}/versions").json()["versions"]
    assert {v["name"] for v in versions} == {"new-name"} and len(versions) == 2
    history = pg_api.get(f"/v1/models/{v1['id']}/versions/history").json()["history"]
    assert [h["to"] for h in history] == ["2.0.0"]  # the history follows the name

    updated = pg_api.patch(f"/v1/models/{v2['id']}", json={"workloadType": "reasoning", "versionNotes": "n"})
    assert updated.json()["workloadType"] == "reasoning" and updated.json()["versionNotes"] == "n"
    notes_only = pg_api.patch(f"/v1/models/{v2['id']}", json={"versionNotes": None}).json()
    assert notes_only["versionNotes"] is None and notes_only["workloadType"] == "reasoning"
    assert pg_api.patch(f"/v1/models/{v2['id']}", json={"workloadType": "poetry"}).status_code == 400

    refused = pg_api.delete(f"/v1/models/{v2['id']}")
    assert refused.status_code == 409 and "is the latest of 'new-name'" in refused.json()["error"]["message"]
    sha = pg_api.get(f"/v1/models/{v2['id']}/files").json()["files"][0]["sha256"]
    forced = pg_api.delete(f"/v1/models/{v2['id']}", params={"force": "true"}).json()
    assert forced["deleted"][0]["version"] == "2.0.0" and forced["latest"]["version"] == "1.0.0"
    assert pg_api.get(f"/v1/models/{v2['id']}").status_code == 404
    history = pg_api.get(f"/v1/models/{v1['id']}/versions/history").json()["history"]
    assert (history[0]["kind"], history[0]["from"], history[0]["to"]) == ("rollback", "2.0.0", "1.0.0")
    with pg_runtime.session_factory() as session:
        assert session.get(Blob, sha).refcount == 1
    gone = pg_api.delete(f"/v1/models/{v1['id']}", params={"allVersions": "true"}).json()
    assert [d["version"] for d in gone["deleted"]] == ["1.0.0"]
    with pg_runtime.session_factory() as session:
        assert session.get(Blob, sha).refcount == 0
        assert session.scalars(select(ModelFile).where(ModelFile.sha256 == sha)).all() == []
    assert pg_api.get("/v1/models", params={"namePrefix": "new-name"}).json()["models"] == []


def test_first_version_to_become_ready_is_latest(pg_api, pg_runtime):
    from xerotier.catalog.versions.promotion import on_status_changed

    v1 = new_model(pg_api, "first-ready")  # latest since its creation, still uploading
    v2 = new_version(pg_api, v1["id"], "1.1.0")
    make_ready(pg_runtime, v2["id"])
    assert on_status_changed(pg_runtime, uuid.UUID(v2["id"])) == "first-ready"
    assert latest_versions(pg_runtime, "first-ready") == ["1.1.0"]
    make_error(pg_runtime, v1["id"])
    assert on_status_changed(pg_runtime, uuid.UUID(v1["id"])) == "nothing"
    v3 = new_version(pg_api, v1["id"], "1.2.0")
    make_ready(pg_runtime, v3["id"])
    assert (
        on_status_changed(pg_runtime, uuid.UUID(v3["id"])) == "nothing"
    )  # a later ready version waits for a promote
    assert on_status_changed(pg_runtime, uuid.UUID(v3["id"])) == "nothing"  # idempotent
    history = pg_api.get(f"/v1/models/{v1['id']}/versions/history").json()["history"]
    assert [(h["kind"], h["from"], h["to"]) for h in history] == [("first-ready", "1.0.0", "1.1.0")]
