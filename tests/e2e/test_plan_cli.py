"""``xeroctl models plan`` as a user runs it: against a registered model on a real ``xerotier up``,
and against a local 70B checkpoint (a sparse file: the header describes 141 GB, the disk holds
nothing) without uploading anything. ``xeroctl backends list|get`` against the same server."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from support.model_shapes import LLAMA31_70B, llama_header
from support.processes import wait_for_status

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
BITS = {"BF16": 16, "F16": 16, "F32": 32}


def xeroctl(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ) | env_extra
    return subprocess.run([str(BIN / "xeroctl"), *args], env=env, capture_output=True, text=True, timeout=60)


def sparse_checkpoint(folder: Path, config: dict, header: dict) -> int:
    """config.json plus one safetensors file whose tensor bytes are a hole; returns its logical size."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    offset, entries = 0, {}
    for name, info in header.items():
        size = 1
        for dim in info["shape"]:
            size *= dim
        size = size * BITS[info["dtype"]] // 8
        entries[name] = info | {"data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(entries).encode()
    raw += b" " * (-len(raw) % 8)
    path = folder / "model.safetensors"
    with path.open("wb") as out:
        out.write(struct.pack("<Q", len(raw)) + raw)
        out.truncate(8 + len(raw) + offset)
    return path.stat().st_size


def test_plan_a_local_70b_checkpoint_without_uploading(tmp_path):
    size = sparse_checkpoint(tmp_path / "llama-70b", LLAMA31_70B, llama_header(LLAMA31_70B))
    assert (
        size > 141 * 10**9 and (tmp_path / "llama-70b" / "model.safetensors").stat().st_blocks * 512 < 10**8
    )
    nowhere = {"XEROTIER_API_URL": "http://127.0.0.1:9", "XEROTIER_API_KEY": "xero_none_x"}
    done = xeroctl(
        nowhere, "--output", "json", "models", "plan", str(tmp_path / "llama-70b"), "--gpu", "H100-80GB"
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["quantizationReason"] == "runtime_quantization"
    # fp8 weights (65.9 GiB) + reserve + 8k-token KV exceed 71.68 GiB; vLLM's in-flight bnb is 4-bit
    assert plan["appliedQuantization"] == "bitsandbytes"
    assert plan["maxSequences"] == 1024 and plan["fullLengthSequences"] == 1  # vLLM's H100 default
    assert plan["memory"]["nativeWeightsBytes"] == 2 * 70_553_706_496
    assert {"contextLength", "maxSequences", "memory"} <= plan.keys()
    two = xeroctl(
        nowhere, "models", "plan", str(tmp_path / "llama-70b"), "--gpu", "H100-80GB", "--gpu-count", "2"
    )
    assert two.returncode == 0 and "native_fits" in two.stdout and "Memory budget" in two.stdout
    inspected = xeroctl(nowhere, "-o", "json", "models", "inspect", str(tmp_path / "llama-70b"))
    assert inspected.returncode == 0, inspected.stderr
    found = json.loads(inspected.stdout)
    assert (found["status"], found["parameterCount"], found["contextLength"]) == (
        "ready",
        70_553_706_496,
        131072,
    )
    assert found["engineWeightFiles"] == ["model.safetensors"]
    table = xeroctl(nowhere, "models", "inspect", str(tmp_path / "llama-70b"))
    assert table.returncode == 0 and "parameterCount" in table.stdout
    bad = xeroctl(nowhere, "models", "plan", str(tmp_path / "llama-70b"), "--gpu-memory", "24GiB")
    assert bad.returncode == 1 and "gpuMemory needs computeCapability" in bad.stderr


def test_plan_a_registered_model_and_list_backends(embedded, tiny_checkpoint):
    env = {"XEROTIER_API_URL": embedded.url, "XEROTIER_API_KEY": embedded.api_key}
    headers = {"Authorization": f"Bearer {embedded.api_key}"}
    with httpx.Client(base_url=embedded.url, headers=headers, timeout=30) as client:
        model = client.post("/v1/models", json={"name": "tiny"}).json()
        for path in sorted(tiny_checkpoint.iterdir()):
            assert (
                client.put(
                    f"/v1/models/{model['id']}/files/{path.name}", content=path.read_bytes()
                ).status_code
                == 201
            )
        assert client.post(f"/v1/models/{model['id']}/complete").status_code == 202
        wait_for_status(client, model["id"], {"ready"}, timeout=60)

    done = xeroctl(
        env,
        "-o",
        "json",
        "models",
        "plan",
        model["id"],
        "--gpu-memory",
        "24GiB",
        "--compute-capability",
        "8.6",
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert (plan["quantizationReason"], plan["contextLength"]) == ("native_fits", 4096)
    table = xeroctl(env, "models", "plan", model["id"], "--gpu", "T4")
    assert table.returncode == 0 and "Quantization reason" in table.stdout and "native_fits" in table.stdout
    unknown = xeroctl(env, "models", "plan", model["id"], "--gpu", "V100")
    assert unknown.returncode == 1 and unknown.stderr.startswith("Error (400): Unknown GPU profile 'V100'")

    listed = xeroctl(env, "-o", "json", "backends", "list")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    missing = xeroctl(env, "backends", "get", "nope")
    assert missing.returncode == 1 and "Backend not found" in missing.stderr
