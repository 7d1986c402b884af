"""Common GPU profiles (nominal memory and compute capability) for dry-run load plans.

Memory is the marketed size in GiB; ``device_name`` is what ``torch.cuda.get_device_name()`` reports
with spaces turned into ``_`` (the key of vLLM's tuned fused-MoE configuration files).
"""

from __future__ import annotations

from dataclasses import dataclass

from xerotier.errors import InvalidInput

GIB = 1 << 30


@dataclass(frozen=True)
class GpuProfile:
    name: str
    memory_bytes: int
    compute_capability: float
    device_name: str


PROFILES: dict[str, GpuProfile] = {
    p.name.lower(): p
    for p in (
        GpuProfile("T4", 16 * GIB, 7.5, "Tesla_T4"),
        GpuProfile("L4", 24 * GIB, 8.9, "NVIDIA_L4"),
        GpuProfile("A10G", 24 * GIB, 8.6, "NVIDIA_A10G"),
        GpuProfile("A100-40GB", 40 * GIB, 8.0, "NVIDIA_A100-SXM4-40GB"),
        GpuProfile("A100-80GB", 80 * GIB, 8.0, "NVIDIA_A100-SXM4-80GB"),
        GpuProfile("L40S", 48 * GIB, 8.9, "NVIDIA_L40S"),
        GpuProfile("H100-80GB", 80 * GIB, 9.0, "NVIDIA_H100_80GB_HBM3"),
        GpuProfile("H200", 141 * GIB, 9.0, "NVIDIA_H200"),
        GpuProfile("B200", 192 * GIB, 10.0, "NVIDIA_B200"),
    )
}


def get_profile(name: str) -> GpuProfile:
    """The profile called ``name`` (case-insensitive), or a clear error listing the known ones."""
    found = PROFILES.get(name.strip().lower())
    if found is None:
        known = ", ".join(p.name for p in PROFILES.values())
        raise InvalidInput(f"Unknown GPU profile {name!r}; known profiles: {known}")
    return found
