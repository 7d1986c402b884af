"""A backend's device inventory: the JSON shape stored on ``backends.inventory`` (pure).

Written by the agent (discovered through NVML or declared with ``--gpu`` / ``--device cpu``) and
read by the loading service's planner, so it lives in ``shared``.

    {"device": "cuda" | "cpu", "gpus": [{"name", "memoryBytes", "freeBytes", "computeCapability",
     "deviceName", "driverVersion", "migMode"}]}

A CPU inventory has one entry named ``cpu`` whose memory is the host's and whose compute
capability is null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from xerotier.errors import InvalidInput

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "tib": 1 << 40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """``"80GiB"`` → 85899345920; ``"24GB"`` → 24000000000; a bare number is bytes."""
    match = _SIZE.match(str(text))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise InvalidInput(f"Invalid memory size {text!r}; use e.g. 80GiB, 24GB or a number of bytes")
    value = int(float(match.group(1)) * _UNITS[unit])
    if value <= 0:
        raise InvalidInput(f"Invalid memory size {text!r}: must be positive")
    return value


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_bytes: int
    compute_capability: float | None
    free_bytes: int | None = None
    device_name: str | None = None
    driver_version: str | None = None
    mig_mode: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "memoryBytes": self.memory_bytes,
            "freeBytes": self.free_bytes,
            "computeCapability": self.compute_capability,
            "deviceName": self.device_name or self.name.replace(" ", "_"),
            "driverVersion": self.driver_version,
            "migMode": self.mig_mode,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Gpu:
        return cls(
            name=str(doc["name"]),
            memory_bytes=int(doc["memoryBytes"]),
            compute_capability=_cc(doc.get("computeCapability")),
            free_bytes=int(doc["freeBytes"]) if doc.get("freeBytes") is not None else None,
            device_name=doc.get("deviceName"),
            driver_version=doc.get("driverVersion"),
            mig_mode=doc.get("migMode"),
        )


@dataclass(frozen=True)
class Inventory:
    device: str  # cuda | cpu
    gpus: tuple[Gpu, ...]

    @property
    def total_bytes(self) -> int:
        total = 0
        for gpu in self.gpus:
            total += gpu.memory_bytes
        return total

    def to_json(self) -> dict[str, Any]:
        return {"device": self.device, "gpus": [g.to_json() for g in self.gpus]}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Inventory:
        return cls(str(doc.get("device", "cuda")), tuple(Gpu.from_json(g) for g in doc.get("gpus", [])))


def _cc(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        cc = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"Invalid compute capability {value!r}; use e.g. 8.9") from None
    if not 1.0 <= cc < 100:
        raise InvalidInput(f"Invalid compute capability {value!r}; use e.g. 8.9")
    return cc


def parse_gpu_declaration(text: str) -> Gpu:
    """``"name=H100,memory=80GiB,cc=9.0"`` → a declared GPU (``free`` optional, same units)."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or not key or not value.strip():
            raise InvalidInput(f"Invalid --gpu {text!r}: expected name=…,memory=80GiB,cc=9.0")
        if key in fields:
            raise InvalidInput(f"Invalid --gpu {text!r}: {key} given twice")
        fields[key] = value.strip()
    unknown = set(fields) - {"name", "memory", "cc", "free"}
    if unknown:
        raise InvalidInput(f"Invalid --gpu {text!r}: unknown field {', '.join(sorted(unknown))}")
    missing = [k for k in ("name", "memory", "cc") if k not in fields]
    if missing:
        raise InvalidInput(f"Invalid --gpu {text!r}: missing {', '.join(missing)}")
    memory = parse_size(fields["memory"])
    free = parse_size(fields["free"]) if "free" in fields else None
    if free is not None and free > memory:
        raise InvalidInput(f"Invalid --gpu {text!r}: free memory exceeds total memory")
    return Gpu(fields["name"], memory, _cc(fields["cc"]), free_bytes=free)


def cpu_inventory(host_memory_bytes: int) -> Inventory:
    """The inventory of ``--device cpu``: host memory is the budget, no GPU capability."""
    return Inventory("cpu", (Gpu("cpu", host_memory_bytes, None, device_name="cpu"),))
