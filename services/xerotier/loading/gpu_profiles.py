"""Common GPU profiles for dry-run load plans: the memory NVML reports per card, compute capability.

``memory_bytes`` is NVML's ``memory.total`` (what ``nvidia-smi`` prints as ``… / NNNNNMiB`` and what
``xerotier agent`` discovers through ``nvmlDeviceGetMemoryInfo``), not the marketed size: an "80 GB"
H100 reports 81,559 MiB (79.65 GiB), a "24 GB" L4 23,034 MiB (22.49 GiB). vLLM sizes its budget from
the card's real total (``total × --gpu-memory-utilization``), so plans on marketed sizes overstate
the KV cache and choose context lengths vLLM refuses at start-up.

Where each figure comes from (``nvidia-smi`` output in public logs, read through the ``find_string``
index of public repositories; ``benchmarks/gpu_probe.py`` prints the same figure on a real card):

* T4: 15,109 MiB (recent drivers; older ones print 15,360 MiB — the lower figure is used).
* L4: 23,034 MiB. A10G: 23,028 MiB (AWS g5). L40S: 46,068 MiB.
* A100-SXM4-40GB: 40,960 MiB. A100-SXM4-80GB: 81,920 MiB.
* H100 80GB HBM3: 81,559 MiB. H200: 143,771 MiB. B200: 183,359 MiB.

``device_name`` is what ``torch.cuda.get_device_name()`` reports with spaces turned into ``_`` (the
key of vLLM's tuned fused-MoE configuration files).
"""

from __future__ import annotations

from dataclasses import dataclass

from xerotier.errors import InvalidInput

GIB = 1 << 30
MIB = 1 << 20


@dataclass(frozen=True)
class GpuProfile:
    name: str
    memory_bytes: int
    compute_capability: float
    device_name: str
    marketed_gib: int = 0  # the size on the box, for people (never used in arithmetic)


PROFILES: dict[str, GpuProfile] = {
    p.name.lower(): p
    for p in (
        GpuProfile("T4", 15_109 * MIB, 7.5, "Tesla_T4", 16),
        GpuProfile("L4", 23_034 * MIB, 8.9, "NVIDIA_L4", 24),
        GpuProfile("A10G", 23_028 * MIB, 8.6, "NVIDIA_A10G", 24),
        GpuProfile("A100-40GB", 40_960 * MIB, 8.0, "NVIDIA_A100-SXM4-40GB", 40),
        GpuProfile("A100-80GB", 81_920 * MIB, 8.0, "NVIDIA_A100-SXM4-80GB", 80),
        GpuProfile("L40S", 46_068 * MIB, 8.9, "NVIDIA_L40S", 48),
        GpuProfile("H100-80GB", 81_559 * MIB, 9.0, "NVIDIA_H100_80GB_HBM3", 80),
        GpuProfile("H200", 143_771 * MIB, 9.0, "NVIDIA_H200", 141),
        GpuProfile("B200", 183_359 * MIB, 10.0, "NVIDIA_B200", 192),
    )
}


def get_profile(name: str) -> GpuProfile:
    """The profile called ``name`` (case-insensitive), or a clear error listing the known ones."""
    found = PROFILES.get(name.strip().lower())
    if found is None:
        known = ", ".join(p.name for p in PROFILES.values())
        raise InvalidInput(f"Unknown GPU profile {name!r}; known profiles: {known}")
    return found
