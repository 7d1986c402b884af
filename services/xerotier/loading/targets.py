"""Dry-run targets: a named GPU profile, or a memory size and compute capability (pure)."""

from __future__ import annotations

from xerotier.domain.inventory import Gpu, Inventory, parse_size
from xerotier.errors import InvalidInput
from xerotier.loading.gpu_profiles import get_profile


def target_inventory(
    *,
    gpu: str | None = None,
    gpu_count: int = 1,
    gpu_memory: str | None = None,
    compute_capability: float | None = None,
) -> Inventory:
    """A dry-run target: a named GPU profile, or a memory size and compute capability."""
    if not 1 <= gpu_count <= 64:
        raise InvalidInput("gpuCount must be between 1 and 64")
    if gpu and gpu_memory:
        raise InvalidInput("Give either gpu (a profile) or gpuMemory with computeCapability, not both")
    if gpu:
        p = get_profile(gpu)
        one = Gpu(p.name, p.memory_bytes, p.compute_capability, device_name=p.device_name)
    elif gpu_memory:
        if compute_capability is None:
            raise InvalidInput("gpuMemory needs computeCapability (e.g. 8.6)")
        if not 1.0 <= compute_capability < 100:
            raise InvalidInput("Invalid computeCapability; use e.g. 8.6")
        one = Gpu(f"{gpu_memory} GPU", parse_size(gpu_memory), compute_capability)
    else:
        raise InvalidInput("Give backendId, gpu (a GPU profile) or gpuMemory with computeCapability")
    return Inventory("cuda", (one,) * gpu_count)
