"""The agent's inventory: declared (``--gpu``, ``--device cpu``) or discovered through NVML."""

from __future__ import annotations

import os

from xerotier.agent import nvml
from xerotier.domain.inventory import Inventory, cpu_inventory, parse_gpu_declaration
from xerotier.errors import InvalidInput


def host_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def build_inventory(declared_gpus: list[str], device: str | None) -> tuple[Inventory, str]:
    """(inventory, source): ``declared`` when given on the command line, else ``discovered``.

    Raises ``nvml.NvmlUnavailable`` when nothing is declared and NVML cannot be used.
    """
    if device not in (None, "cuda", "cpu"):
        raise InvalidInput(f"Invalid --device {device!r}: use cpu or cuda")
    if declared_gpus and device == "cpu":
        raise InvalidInput("--gpu and --device cpu cannot be combined")
    if declared_gpus:
        return Inventory("cuda", tuple(parse_gpu_declaration(g) for g in declared_gpus)), "declared"
    if device == "cpu":
        return cpu_inventory(host_memory_bytes()), "declared"
    return nvml.discover(), "discovered"
