"""The loading routes on the real app (PostgreSQL): dry-run plans, backends, endpoint resolution."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.model_shapes import LLAMA31_8B, MIXTRAL_8X7B, llama_header
from support.registry_rows import endpoint, ready_model
from xerotier.db.backends import register_backend
from xerotier.db.models import Load
from xerotier.domain.inventory import Inventory, parse_gpu_declaration
from xerotier.loading import handlers

pytestmark = pytest.mark.integration
GIB = 1 << 30


@pytest.fixture
def llama(pg_runtime):
    return str(ready_model(pg_runtime, "llama-8b", LLAMA31_8B, llama_header(LLAMA31_8B)))


def _register(runtime, backend_id: str, decl: str) -> None:
    with runtime.unit_of_work() as session:
        inv = Inventory("cuda", (parse_gpu_declaration(decl),))
        register_backend(session, backend_id, inv.to_json(), "declared", {"gpuMemoryUtilization": 0.9})


def test_load_plan_against_a_gpu_profile_a_size_and_a_backend(pg_api, pg_runtime, llama):
    plan = pg_api.post(f"/v1/models/{llama}/load-plan", json={"gpu": "T4"})
    assert plan.status_code == 200, plan.text
    body = plan.json()
    assert (
        body["quantizationReason"] == "runtime_quantization" and body["appliedQuantization"] == "bitsandbytes"
    )
    assert body["memory"]["budgetBytes"] == int(15109 * (1 << 20) * 0.9)  # NVML's T4 total, not 16 GiB
    assert body["name"] == "llama-8b" and body["reasons"]

    sized = pg_api.post(
        f"/v1/models/{llama}/load-plan", json={"gpuMemory": "24GiB", "computeCapability": 8.6}
    ).json()
    assert sized["quantizationReason"] == "native_fits"
    # reserve: 2.5 GiB fixed + the sampler's 3 × 256 sequences × 128,256 vocab × 4 bytes (> the forward
    # pass of 2,048 tokens); context in whole 16-token blocks of 2·32·8·128·2 bytes a token
    reserve = 5 * GIB // 2 + 3 * 256 * 128256 * 4
    assert sized["memory"]["reserveBytes"] == reserve
    kv = int(24 * GIB * 0.9) - 2 * 8_030_261_248 - reserve
    assert sized["contextLength"] == kv // (2 * 32 * 8 * 128 * 2) // 16 * 16
    assert sized["maxSequences"] == 256  # vLLM's default below 70 GiB

    _register(pg_runtime, "h100-a", "name=NVIDIA H100 80GB HBM3,memory=80GiB,cc=9.0")
    on_backend = pg_api.post(
        f"/v1/models/{llama}/load-plan", json={"backendId": "h100-a", "maxModelLen": 8192}
    )
    assert on_backend.json()["contextLength"] == 8192
    assert on_backend.json()["target"]["backendId"] == "h100-a"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"gpu": "V100"}, 400, "Unknown GPU profile 'V100'; known profiles: T4, L4"),
        ({"gpuMemory": "24GiB"}, 400, "gpuMemory needs computeCapability (e.g. 8.6)"),
        ({"gpuMemory": "lots", "computeCapability": 8.6}, 400, "Invalid memory size 'lots'"),
        ({}, 400, "Give backendId, gpu (a GPU profile) or gpuMemory with computeCapability"),
        ({"backendId": "nope"}, 404, "Backend not found"),
    ],
)
def test_load_plan_errors_are_specific(pg_api, llama, body, status, message):
    response = pg_api.post(f"/v1/models/{llama}/load-plan", json=body)
    assert response.status_code == status
    assert response.json()["error"]["message"].startswith(message)


def test_load_plan_of_an_unknown_or_invalid_model(pg_api):
    assert pg_api.post("/v1/models/not-a-uuid@/load-plan", json={"gpu": "T4"}).json()["error"]["message"] == (
        "Invalid model ID"
    )
    missing = pg_api.post("/v1/models/00000000-0000-0000-0000-000000000000/load-plan", json={"gpu": "T4"})
    assert missing.status_code == 404


def test_moe_plan_reports_the_tuned_config_lookup(pg_api, pg_runtime):
    mixtral = ready_model(pg_runtime, "mixtral", MIXTRAL_8X7B, llama_header(MIXTRAL_8X7B))
    body = pg_api.post(
        f"/v1/models/{mixtral}/load-plan", json={"gpu": "H100-80GB", "gpuCount": 2, "enableMoeConfig": True}
    ).json()
    assert body["moe"]["configFile"] == "E=8,N=7168,device_name=NVIDIA_H100_80GB_HBM3.json"
    assert body["moe"]["tunedConfigFound"] is False


def test_backends_list_get_and_resolve_with_clamping(pg_api, pg_runtime, llama):
    _register(pg_runtime, "l4-a", "name=NVIDIA L4,memory=24GiB,cc=8.9")
    ep = endpoint(pg_runtime, "llama-8b")
    not_yet = pg_api.post(f"/v1/endpoints/{ep}/resolve", json={"promptTokens": 10})
    assert (
        not_yet.status_code == 409 and "not serving llama-8b 1.0.0 yet" in not_yet.json()["error"]["message"]
    )

    handlers.place(pg_runtime, ep)
    with pg_runtime.session_factory() as session:
        load = session.scalars(select(Load).where(Load.endpoint_id == ep)).one()
    handlers.record_ack(pg_runtime, load.id, {"ok": True})
    context = load.plan["contextLength"]

    listed = pg_api.get("/v1/backends").json()["backends"]
    assert [b["id"] for b in listed] == ["l4-a"]
    got = pg_api.get("/v1/backends/l4-a").json()
    assert got["alive"] is True and got["inventorySource"] == "declared" and got["loadCount"] == 1
    assert got["loads"][0]["contextLength"] == context and got["loads"][0]["status"] == "loaded"
    assert pg_api.get("/v1/backends/nope").status_code == 404

    fine = pg_api.post(f"/v1/endpoints/{ep}/resolve", json={"promptTokens": 1000, "maxTokens": 500}).json()
    assert (fine["maxTokens"], fine["clamped"], fine["version"]) == (500, False, "1.0.0")
    clamped = pg_api.post(
        f"/v1/endpoints/{ep}/resolve", json={"promptTokens": context - 100, "maxTokens": 4096}
    )
    assert clamped.json()["maxTokens"] == 100 and clamped.json()["clamped"] is True
    too_long = pg_api.post(f"/v1/endpoints/{ep}/resolve", json={"promptTokens": context})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["message"].startswith(f"The prompt is {context} tokens")
