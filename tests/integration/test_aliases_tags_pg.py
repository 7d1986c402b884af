"""Aliases and tags over HTTP on PostgreSQL: set, move (recorded in the history), delete, shown on
versions, the list filter by tag; and the model's identity across renames and deletions."""

from __future__ import annotations

import uuid

import pytest

from xerotier.db.models import Model
from xerotier.db.transitions import apply_transition
from xerotier.domain.lifecycle import LifecycleEvent, ModelStatus

pytestmark = pytest.mark.integration


@pytest.fixture
def api(pg_api):
    return pg_api


def make_ready(runtime, model_id: str) -> None:
    mid = uuid.UUID(model_id)
    with runtime.unit_of_work() as session:
        if session.get(Model, mid).status == ModelStatus.UPLOADING:
            assert apply_transition(session, mid, ModelStatus.UPLOADING, LifecycleEvent.COMPLETE)
        assert apply_transition(session, mid, ModelStatus.VALIDATING, LifecycleEvent.VALIDATION_PASSED)


@pytest.fixture
def three(api, pg_runtime):
    """``org/chat`` in versions 1.0.0 (latest), 2.0.0 and 3.0.0, all ready."""
    first = api.post("/v1/models", json={"name": "org/chat"}).json()
    make_ready(pg_runtime, first["id"])
    ids = [first["id"]]
    for version in ("2.0.0", "3.0.0"):
        created = api.post("/v1/models/org%2Fchat/versions", json={"version": version})
        assert created.status_code == 201, created.text
        make_ready(pg_runtime, created.json()["id"])
        ids.append(created.json()["id"])
    return ids


def test_alias_set_move_resolve_and_delete(api, three):
    put = api.put("/v1/models/org%2Fchat/aliases/champion", json={"version": "2.0.0"})
    assert put.status_code == 200 and put.json()["version"] == "2.0.0" and put.json()["versionId"] == three[1]
    assert api.get("/v1/models/org%2Fchat@champion").json()["id"] == three[1]
    moved = api.put(f"/v1/models/{three[0]}/aliases/champion", json={"version": "3.0.0"})
    assert moved.status_code == 200 and moved.json()["versionId"] == three[2]
    api.put("/v1/models/org%2Fchat/aliases/challenger", json={"version": "2.0.0"})
    listed = api.get("/v1/models/org%2Fchat/aliases").json()["aliases"]
    assert [(a["alias"], a["version"]) for a in listed] == [("challenger", "2.0.0"), ("champion", "3.0.0")]
    v3 = api.get("/v1/models/org%2Fchat@3.0.0").json()
    assert v3["aliases"] == ["champion"] and v3["isLatest"] is False
    assert api.get(f"/v1/models/org%2Fchat@{v3['commit']}").json()["id"] == three[2]  # the Hub commit id
    versions = api.get("/v1/models/org%2Fchat/versions").json()["versions"]
    assert {v["version"]: v["aliases"] for v in versions} == {
        "3.0.0": ["champion"], "2.0.0": ["challenger"], "1.0.0": []
    }  # fmt: skip
    history = api.get("/v1/models/org%2Fchat/versions/history").json()["history"]
    moves = [(h["kind"], h["alias"], h["from"], h["to"]) for h in history if h["alias"]]
    assert moves == [
        ("alias-set", "challenger", None, "2.0.0"),
        ("alias-set", "champion", "2.0.0", "3.0.0"),
        ("alias-set", "champion", None, "2.0.0"),
    ]
    assert all(h["who"] for h in history if h["alias"])
    gone = api.delete("/v1/models/org%2Fchat/aliases/champion")
    assert gone.status_code == 200 and gone.json()["deleted"]["alias"] == "champion"
    assert api.get("/v1/models/org%2Fchat@champion").status_code == 404
    assert api.delete("/v1/models/org%2Fchat/aliases/champion").status_code == 404
    latest = api.get("/v1/models/org%2Fchat/versions/history").json()["history"][0]
    assert (latest["kind"], latest["alias"], latest["from"], latest["to"]) == (
        "alias-delete",
        "champion",
        "3.0.0",
        None,
    )


@pytest.mark.parametrize(
    ("alias", "body", "status"),
    [("latest", {"version": "2.0.0"}, 400), ("1.0.0", {"version": "2.0.0"}, 400),
     ("ok", {"version": "9.0.0"}, 404), ("ok", {"version": "not-semver"}, 400)],
)  # fmt: skip
def test_alias_errors_are_specific(api, three, alias, body, status):
    response = api.put(f"/v1/models/org%2Fchat/aliases/{alias}", json=body)
    assert response.status_code == status and response.json()["error"]["message"]


def test_alias_of_a_deleted_version_disappears(api, three):
    api.put("/v1/models/org%2Fchat/aliases/champion", json={"version": "2.0.0"})
    assert api.delete(f"/v1/models/{three[1]}").status_code == 200
    assert api.get("/v1/models/org%2Fchat/aliases").json()["aliases"] == []
    assert api.get("/v1/models/org%2Fchat@champion").status_code == 404


def test_tags_on_models_and_versions_and_the_list_filter(api, three):
    assert api.put("/v1/models/org%2Fchat/tags/team", json={"value": "search"}).json() == {
        "tags": {"team": "search"}
    }
    tagged = api.put("/v1/models/org%2Fchat/versions/2.0.0/tags/eval/mmlu", json={"value": "0.71"})
    assert tagged.json() == {"tags": {"eval/mmlu": "0.71"}}
    other = api.post("/v1/models", json={"name": "other"}).json()
    assert other["id"]
    v2 = api.get("/v1/models/org%2Fchat@2.0.0").json()
    assert v2["tags"] == {"eval/mmlu": "0.71"} and v2["modelTags"] == {"team": "search"}
    latest = api.get("/v1/models?tag=team:search").json()["models"]
    assert [m["version"] for m in latest] == ["1.0.0"]
    both = api.get("/v1/models?allVersions=true&tag=team:search&tag=eval/mmlu:0.71").json()["models"]
    assert [m["id"] for m in both] == [three[1]]
    assert api.get("/v1/models?tag=team:other").json()["models"] == []
    assert api.get("/v1/models?tag=nocolon").status_code == 400
    assert api.delete("/v1/models/org%2Fchat/tags/team").json() == {"tags": {}}
    assert api.delete("/v1/models/org%2Fchat/tags/team").status_code == 404
    assert api.get("/v1/models/org%2Fchat/versions/2.0.0/tags").json() == {"tags": {"eval/mmlu": "0.71"}}


def test_model_identity_follows_a_rename_and_ends_with_the_model(api, three, pg_runtime):
    api.put("/v1/models/org%2Fchat/tags/team", json={"value": "search"})
    api.put("/v1/models/org%2Fchat/aliases/champion", json={"version": "3.0.0"})
    assert api.post("/v1/models/org%2Fchat/rename", json={"name": "org/assistant"}).status_code == 200
    assert api.get("/v1/models/org%2Fassistant/tags").json() == {"tags": {"team": "search"}}
    assert api.get("/v1/models/org%2Fassistant@champion").json()["id"] == three[2]
    assert api.get("/v1/models/org%2Fchat").status_code == 404
    deleted = api.delete("/v1/models/org%2Fassistant?allVersions=true")
    assert deleted.status_code == 200 and len(deleted.json()["deleted"]) == 3
    again = api.post("/v1/models", json={"name": "org/assistant"}).json()
    assert api.get(f"/v1/models/{again['id']}/tags").json() == {"tags": {}}
