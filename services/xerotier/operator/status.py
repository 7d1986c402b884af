"""The registry's view of a model version, mirrored into a ``Model`` resource's status (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PHASES = {
    "uploading": "Uploading",
    "validating": "Validating",
    "ready": "Ready",
    "active": "Active",
    "error": "Error",
}
METADATA_FIELDS = ("format", "architecture", "parameterCount", "contextLength", "sizeBytes", "quantization")


@dataclass(frozen=True)
class Observation:
    """What one reconciliation saw and did: the registry's model (if any) and a message."""

    model: dict[str, Any] | None
    message: str
    promoted: bool = False
    spec_error: bool = False


def phase_of(model: dict[str, Any] | None) -> str:
    if model is None:
        return "Pending"
    return PHASES.get(str(model.get("status")), "Pending")


def _condition(
    previous: list[dict[str, Any]],
    type_: str,
    status: bool,
    reason: str,
    message: str,
    generation: int,
    now: str,
) -> dict[str, Any]:
    value = "True" if status else "False"
    old = next((c for c in previous if c.get("type") == type_), None)
    changed = old is None or old.get("status") != value
    return {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now if changed or old is None else old.get("lastTransitionTime", now),
        "observedGeneration": generation,
    }


def status_patch(
    seen: Observation,
    *,
    promote: bool,
    generation: int,
    previous: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The new ``status`` for a resource; conditions keep their transition time while unchanged."""
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    before = list((previous or {}).get("conditions") or [])
    model = seen.model
    phase = "Error" if seen.spec_error else phase_of(model)
    ready = phase in ("Ready", "Active")
    conditions = [
        _condition(before, "Ready", ready, phase, seen.message, generation, stamp),
        _condition(
            before,
            "Promoted",
            bool(model and model.get("isLatest")),
            "Promoted" if model and model.get("isLatest") else ("Pending" if promote else "NotRequested"),
            "latest version of its model" if model and model.get("isLatest") else "not the latest version",
            generation,
            stamp,
        ),
    ]
    status: dict[str, Any] = {
        "phase": phase,
        "message": seen.message,
        "observedGeneration": generation,
        "conditions": conditions,
    }
    if model is not None:
        status |= {
            "modelId": model.get("id"),
            "version": model.get("version"),
            "isLatest": bool(model.get("isLatest")),
            "promoted": bool(seen.promoted or (promote and model.get("isLatest"))),
            "metadata": {k: model[k] for k in METADATA_FIELDS if model.get(k) is not None},
        }
    return status
