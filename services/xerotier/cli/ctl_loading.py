"""``xeroctl models plan`` (a registered model or a local checkpoint) and ``xeroctl backends list|get``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xerotier.cli.ctl_app import app, call, models_app, state
from xerotier.cli.output import OutputFormat, console, emit, err_console
from xerotier.client import loading as api
from xerotier.errors import InvalidInput

backends_app = typer.Typer(help="GPU backends and what is loaded where.", no_args_is_help=True)
app.add_typer(backends_app, name="backends")

GIB = 1 << 30
BACKEND_COLUMNS = [
    ("ID", "id"),
    ("ALIVE", "alive"),
    ("INVENTORY", "inventorySummary"),
    ("SOURCE", "inventorySource"),
    ("LOADS", "loadCount"),
    ("HEARTBEAT", "heartbeatAt"),
]


def _gib(value: int | None) -> str:
    return "-" if value is None else f"{value / GIB:,.2f} GiB"


def print_plan(plan: dict[str, Any], fmt: OutputFormat) -> None:
    """The plan as JSON, or as a table with its memory breakdown and the reason for each choice."""
    if fmt is not OutputFormat.table:
        emit(plan, fmt)
        return
    mem = plan.get("memory", {})
    table = Table(show_header=False, box=None)
    rows = [
        ("Model", f"{plan.get('name', '-')} {plan.get('version') or ''}".strip()),
        ("Fits", "yes" if plan.get("fits") else "no"),
        ("Quantization reason", plan.get("quantizationReason")),
        ("Applied quantization", plan.get("appliedQuantization") or "none"),
        ("Context length", f"{plan.get('contextLength', 0):,}"),
        ("Max sequences", plan.get("maxSequences")),
        ("Full-length sequences", plan.get("fullLengthSequences")),
        ("Tensor parallel", plan.get("tensorParallelSize")),
        ("Expert parallel", "yes" if plan.get("expertParallel") else "no"),
        ("GPU memory utilization", plan.get("gpuMemoryUtilization")),
        ("Memory total", _gib(mem.get("totalBytes"))),
        ("Memory budget", _gib(mem.get("budgetBytes"))),
        ("Weights", _gib(mem.get("weightsBytes"))),
        ("Native weights", _gib(mem.get("nativeWeightsBytes"))),
        ("Reserve", _gib(mem.get("reserveBytes"))),
        ("KV cache", _gib(mem.get("kvCacheBytes"))),
        ("KV bytes per token", f"{mem.get('kvBytesPerToken', 0):,}"),
    ]
    if plan.get("moe"):
        rows.append(("MoE kernel config", plan["moe"]["summary"]))
    for key, value in rows:
        table.add_row(key, "-" if value is None else str(value))
    console.print(table)
    for line in plan.get("reasons", []):
        console.print(f"  • {line}", markup=False, highlight=False)


def plan_local(
    folder: Path,
    *,
    gpu: str | None,
    gpu_count: int,
    gpu_memory: str | None,
    cc: float | None,
    overrides: dict,
) -> dict[str, Any]:
    """Plan a checkpoint on disk: only its headers and small documents are read, nothing is uploaded.

    The files go through the validation worker's checks and metadata first, then the same
    derivation as the plan of a registered model (``local_checkpoint.local_shape``).
    """
    from dataclasses import replace

    from xerotier.cli.local_checkpoint import local_shape
    from xerotier.loading.planner import PlanOptions, plan_load
    from xerotier.loading.targets import target_inventory

    inventory = target_inventory(gpu=gpu, gpu_count=gpu_count, gpu_memory=gpu_memory, compute_capability=cc)
    shape = local_shape(folder)
    options = replace(PlanOptions(), **{k: v for k, v in overrides.items() if v is not None})
    plan = plan_load(shape, inventory, options)
    return {
        "name": folder.name,
        "path": str(folder),
        "target": {"inventory": inventory.to_json()},
    } | plan.to_json()


@models_app.command("plan")
def models_plan(
    model: Annotated[str, typer.Argument(help="A model ID, or the path of a local checkpoint")],
    gpu: Annotated[
        str | None,
        typer.Option(help="GPU profile: T4, L4, A10G, A100-40GB, A100-80GB, L40S, H100-80GB, H200, B200"),
    ] = None,
    gpu_count: Annotated[int, typer.Option(help="Number of such GPUs (tensor parallel)")] = 1,
    gpu_memory: Annotated[
        str | None, typer.Option(help="GPU memory, e.g. 24GiB (with --compute-capability)")
    ] = None,
    compute_capability: Annotated[float | None, typer.Option(help="e.g. 8.6")] = None,
    backend: Annotated[str | None, typer.Option(help="A registered backend (model IDs only)")] = None,
    max_model_len: Annotated[int | None, typer.Option(help="Cap the context length")] = None,
    gpu_memory_utilization: Annotated[
        float | None, typer.Option(help="Share of GPU memory (default 0.90)")
    ] = None,
    enable_moe_config: Annotated[
        bool, typer.Option("--enable-moe-config", help="Look up tuned MoE configs")
    ] = False,
    output: Annotated[OutputFormat | None, typer.Option("--output", "-o", help="table, json or yaml")] = None,
) -> None:
    """Dry-run a load: will this model fit that GPU, with which context, concurrency and quantization?"""
    fmt = output or state.output
    overrides = {
        "max_model_len": max_model_len,
        "gpu_memory_utilization": gpu_memory_utilization,
        "enable_moe_config": enable_moe_config or None,
    }
    path = Path(model)
    if path.exists():
        if backend:
            err_console.print("Error: --backend needs a registered model ID, not a local path", markup=False)
            raise typer.Exit(1)
        try:
            plan = plan_local(
                path,
                gpu=gpu,
                gpu_count=gpu_count,
                gpu_memory=gpu_memory,
                cc=compute_capability,
                overrides=overrides,
            )
        except InvalidInput as exc:
            err_console.print(f"Error: {exc.message}", markup=False)
            raise typer.Exit(1) from None
    else:
        plan = call(
            lambda c: api.load_plan(
                c,
                model,
                backendId=backend,
                gpu=gpu,
                gpuCount=gpu_count if not backend else None,
                gpuMemory=gpu_memory,
                computeCapability=compute_capability,
                maxModelLen=max_model_len,
                gpuMemoryUtilization=gpu_memory_utilization,
                enableMoeConfig=enable_moe_config or None,
            )
        )
    print_plan(plan, fmt)


def _summary(backend: dict[str, Any]) -> dict[str, Any]:
    gpus = backend.get("inventory", {}).get("gpus", [])
    names: dict[str, int] = {}
    for g in gpus:
        label = f"{g['name']} {g['memoryBytes'] / GIB:.0f} GiB" + (
            f" cc {g['computeCapability']}" if g.get("computeCapability") else ""
        )
        names[label] = names.get(label, 0) + 1
    return backend | {"inventorySummary": ", ".join(f"{n}× {label}" for label, n in names.items())}


@backends_app.command("list")
def backends_list() -> None:
    """List the registered backends: inventory, liveness and load count."""
    emit([_summary(b) for b in call(api.list_backends)], state.output, BACKEND_COLUMNS)


@backends_app.command("get")
def backends_get(backend_id: str) -> None:
    """Show one backend with what is loaded on it and each load's plan."""
    backend = call(lambda c: api.get_backend(c, backend_id))
    if state.output is not OutputFormat.table:
        emit(backend, state.output)
        return
    summary = _summary(backend)
    emit(
        {
            k: summary[k]
            for k in (
                "id",
                "alive",
                "inventorySummary",
                "inventorySource",
                "queue",
                "heartbeatAt",
                "loadCount",
            )
        },
        state.output,
    )
    for load in backend.get("loads", []):
        console.print(
            f"load {load['id']} endpoint {load['endpointId']} model {load['modelId']}: {load['status']}, "
            f"{load['quantizationReason']} ({load['appliedQuantization'] or 'none'}), "
            f"context {load['contextLength']}, max sequences {load['maxSequences']}",
            markup=False,
            highlight=False,
        )
