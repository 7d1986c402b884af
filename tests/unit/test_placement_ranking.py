"""Placement among many backends: the cheap native-fit check agrees with the planner, and ranking
prefers native precision, then fewer loads, then the backend id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support.model_shapes import GPT_OSS_20B, LLAMA31_8B, gpt_oss_header, llama_header
from xerotier.domain.inventory import Gpu, Inventory
from xerotier.loading.gpu_profiles import get_profile
from xerotier.loading.handlers import rank_backends
from xerotier.loading.model_shape import model_shape
from xerotier.loading.planner import PlanOptions, plan_load, quick_fit

GIB = 1 << 30
NOW = datetime(2026, 11, 23, tzinfo=UTC)
LLAMA = model_shape("llama", LLAMA31_8B, [llama_header(LLAMA31_8B)])
OSS = model_shape("oss", GPT_OSS_20B, [gpt_oss_header(GPT_OSS_20B)])
AWQ = model_shape(
    "awq",
    {**LLAMA31_8B, "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}},
    [llama_header(LLAMA31_8B)],
)


def inventory(profile: str, free_gib: float | None = None, count: int = 1) -> Inventory:
    p = get_profile(profile)
    free = None if free_gib is None else int(free_gib * GIB)
    return Inventory(
        "cuda", (Gpu(p.name, p.memory_bytes, p.compute_capability, free, p.device_name),) * count
    )


@pytest.mark.parametrize("shape", [LLAMA, OSS, AWQ], ids=["llama-8b", "gpt-oss-20b", "llama-8b-awq"])
@pytest.mark.parametrize(
    "options",
    [
        PlanOptions(),
        PlanOptions(kv_cache_dtype="fp8"),
        PlanOptions(max_model_len=4096, gpu_memory_utilization=0.8),
    ],
    ids=["defaults", "fp8-kv", "capped"],
)
def test_the_cheap_native_check_agrees_with_the_planner(shape, options) -> None:  # type: ignore[no-untyped-def]
    # Free memory from 8 to 40 GiB in 1/8 GiB steps crosses every native threshold of these models.
    seen: set[bool] = set()
    for profile in ("T4", "L4", "A100-40GB", "H100-80GB"):
        for eighths in range(64, 321):
            for count in (1, 2):
                inv = inventory(profile, eighths / 8, count)
                expected = plan_load(shape, inv, options, explain=False).quantization_reason == "native_fits"
                assert (quick_fit(shape, inv, options) == "native") is expected, (profile, eighths / 8, count)
                seen.add(expected)
    assert seen == ({False} if shape.pre_quant_method else {False, True})


@pytest.mark.parametrize("shape", [LLAMA, OSS, AWQ], ids=["llama-8b", "gpt-oss-20b", "llama-8b-awq"])
def test_quick_fit_says_none_only_when_no_plan_fits(shape) -> None:  # type: ignore[no-untyped-def]
    outcomes: set[tuple[bool, bool]] = set()
    for options in (PlanOptions(), PlanOptions(allow_runtime_quantization=False)):
        for profile in ("T4", "L4", "H100-80GB"):
            for sixteenths in range(8, 400):
                inv = inventory(profile, sixteenths / 16)
                fits = plan_load(shape, inv, options, explain=False).fits
                assert fits <= (quick_fit(shape, inv, options) != "none"), (profile, sixteenths / 16, options)
                outcomes.add((quick_fit(shape, inv, options) != "none", fits))
    # The bound is tight enough to refuse without planning, and loose only where a plan may fit.
    assert (False, False) in outcomes and (True, True) in outcomes


@dataclass
class Row:
    id: str
    inventory: dict[str, Any]
    options: dict[str, Any]
    heartbeat_at: datetime


def row(backend_id: str, inv: Inventory, alive: bool = True) -> Row:
    beat = NOW if alive else NOW - timedelta(minutes=10)
    return Row(backend_id, inv.to_json(), {}, beat)


def rank(rows: list[Row], counts: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    return rank_backends(LLAMA, rows, {}, counts or {}, timedelta(seconds=30), NOW)


def test_native_precision_beats_fewer_loads() -> None:
    rows = [row("a-t4", inventory("T4")), row("b-h100", inventory("H100-80GB"))]
    chosen = rank(rows, counts={"b-h100": 5})
    assert chosen.backend_id == "b-h100"
    assert chosen.plan is not None and chosen.plan.quantization_reason == "native_fits"
    assert chosen.plan.reasons, "the kept plan is explained"


def test_without_native_fit_the_least_loaded_fitting_backend_wins() -> None:
    rows = [row(f"t4-{k}", inventory("T4", free_gib=14)) for k in range(5)]
    rows.append(row("t4-small", inventory("T4", free_gib=3)))
    chosen = rank(rows, counts={"t4-0": 2, "t4-1": 1, "t4-2": 1, "t4-small": 0})
    assert chosen.backend_id == "t4-3"  # no load, fits with runtime quantization; t4-small does not fit
    assert chosen.plan is not None and chosen.plan.quantization_reason == "runtime_quantization"


def test_the_first_native_backend_in_order_wins_even_among_many() -> None:
    rows = [row(f"t4-{k:04d}", inventory("T4", free_gib=12 + k / 1024)) for k in range(300)]
    rows += [row("z-h100-busy", inventory("H100-80GB")), row("y-h100-idle", inventory("H100-80GB"))]
    chosen = rank(rows, counts={"z-h100-busy": 3, "y-h100-idle": 1})
    assert chosen.backend_id == "y-h100-idle"


def test_nothing_fits_lists_the_refusals_and_dead_backends_are_skipped() -> None:
    rows = [row(f"small-{k}", inventory("T4", free_gib=2 + k / 8)) for k in range(12)]
    rows.append(row("dead-h100", inventory("H100-80GB"), alive=False))
    chosen = rank(rows)
    assert chosen.backend_id is None
    assert chosen.reason.startswith("No compatible backend: ")
    assert "dead-h100: not alive" in chosen.reason and "cannot_fit" in chosen.reason
    assert chosen.reason.endswith("and 3 more")
