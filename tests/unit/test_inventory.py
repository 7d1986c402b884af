"""Declared inventories (--gpu, --device cpu) and the no-NVML path of the agent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xerotier.agent import nvml
from xerotier.agent.inventory import build_inventory, host_memory_bytes
from xerotier.domain.inventory import Inventory, parse_gpu_declaration, parse_size
from xerotier.errors import InvalidInput

GIB = 1 << 30


def test_sizes_in_binary_and_decimal_units():
    assert parse_size("80GiB") == 80 * GIB
    assert parse_size("24GB") == 24 * 10**9
    assert parse_size("1.5 GiB") == 3 * GIB // 2
    assert parse_size("4096") == 4096
    for bad in ("", "lots", "-1GiB", "0", "12 parsecs"):
        with pytest.raises(InvalidInput):
            parse_size(bad)


def test_gpu_declaration_round_trips_through_the_backend_json():
    gpu = parse_gpu_declaration("name=NVIDIA H100 80GB HBM3,memory=80GiB,cc=9.0,free=70GiB")
    assert (gpu.name, gpu.memory_bytes, gpu.compute_capability, gpu.free_bytes) == (
        "NVIDIA H100 80GB HBM3",
        80 * GIB,
        9.0,
        70 * GIB,
    )
    inv = Inventory("cuda", (gpu, gpu))
    again = Inventory.from_json(inv.to_json())
    assert again.to_json() == inv.to_json()
    assert inv.to_json()["gpus"][0]["deviceName"] == "NVIDIA_H100_80GB_HBM3"
    assert again.total_bytes == 160 * GIB


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name=H100,memory=80GiB", "missing cc"),
        ("name=H100,memory=80GiB,cc=9.0,color=red", "unknown field color"),
        ("name=H100,memory=80GiB,cc=nine", "Invalid compute capability 'nine'"),
        ("name=H100,memory=80GiB,cc=9.0,cc=8.0", "cc given twice"),
        ("H100", "expected name=…,memory=80GiB,cc=9.0"),
        ("name=H100,memory=8GiB,cc=9.0,free=9GiB", "free memory exceeds total memory"),
    ],
)
def test_bad_gpu_declarations_say_what_is_wrong(text, message):
    with pytest.raises(InvalidInput) as info:
        parse_gpu_declaration(text)
    assert message in info.value.message


def test_declared_inventories_are_recorded_as_declared():
    inv, source = build_inventory(["name=L4,memory=24GiB,cc=8.9", "name=L4,memory=24GiB,cc=8.9"], None)
    assert source == "declared" and inv.device == "cuda" and len(inv.gpus) == 2
    cpu, source = build_inventory([], "cpu")
    assert source == "declared" and cpu.device == "cpu"
    assert cpu.gpus[0].memory_bytes == host_memory_bytes() > 0 and cpu.gpus[0].compute_capability is None
    with pytest.raises(InvalidInput):
        build_inventory(["name=L4,memory=24GiB,cc=8.9"], "cpu")
    with pytest.raises(InvalidInput):
        build_inventory([], "tpu")


def _nvml_works() -> bool:
    try:
        nvml.discover()
    except nvml.NvmlUnavailable:
        return False
    return True


def test_without_nvml_the_agent_says_so_in_one_line_and_exits_non_zero():
    """On a machine without NVML (this one: no driver library) discovery fails with a clear line."""
    if _nvml_works():  # a GPU machine: discovery must then report real devices
        inv = nvml.discover()
        assert inv.device == "cuda" and all(g.memory_bytes > 0 and g.compute_capability for g in inv.gpus)
        return
    with pytest.raises(nvml.NvmlUnavailable):
        build_inventory([], None)
    xerotier = Path(sys.executable).parent / "xerotier"
    done = subprocess.run(
        [str(xerotier), "agent", "--backend-id", "x"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("NVML is unavailable (")
    assert "--gpu name=…,memory=…,cc=…" in lines[0] and "--device cpu" in lines[0]
