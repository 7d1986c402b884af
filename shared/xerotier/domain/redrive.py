"""What the reconciler does with a model whose status outlived its deadline (pure policy)."""

from __future__ import annotations

from dataclasses import dataclass

from xerotier.domain.lifecycle import ModelStatus


@dataclass(frozen=True)
class Redrive:
    """Send the task of the model's status again (the queue layer knows which) and count one more
    attempt."""

    reason: str


@dataclass(frozen=True)
class GiveUp:
    """Move the model to ``error`` with ``reason``."""

    reason: str


def decide(status: ModelStatus | str, attempts: int, max_attempts: int) -> Redrive | GiveUp | None:
    status = ModelStatus(status)
    if status is ModelStatus.UPLOADING:
        return GiveUp("Upload was not completed before its deadline; upload the files again")
    if status is ModelStatus.VALIDATING:
        if attempts >= max_attempts:
            return GiveUp(f"Validation did not finish after {attempts + 1} attempts; revalidate to retry")
        return Redrive(f"validation overdue, re-driven (attempt {attempts + 2})")
    return None
