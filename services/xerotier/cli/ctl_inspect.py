"""``xeroctl models inspect <local path>``: the validation a checkpoint would get, before uploading.

The validation worker's own code runs on the folder (headers and small documents only, nothing is
uploaded): the metadata fields the registry would store, named as ``GET /v1/models/{id}`` names them,
the problems it would report, and the weight files an engine would load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from xerotier.cli.ctl_app import models_app, state
from xerotier.cli.output import OutputFormat, console, err_console
from xerotier.errors import InvalidInput

#: models-row column → the API's field name (``xerotier.api.serialize.model_json``).
API_FIELDS = {
    "format": "format",
    "size_bytes": "sizeBytes",
    "architecture": "architecture",
    "parameter_count": "parameterCount",
    "context_length": "contextLength",
    "license": "license",
    "is_multimodal": "isMultimodal",
    "default_temperature": "defaultTemperature",
    "default_top_p": "defaultTopP",
    "chat_template": "chatTemplate",
    "workload_type": "workloadType",
    "is_pre_quantized": "isPreQuantized",
    "pre_quantization_method": "preQuantizationMethod",
    "pre_quantization_bits": "preQuantizationBits",
    "num_experts": "numExperts",
    "num_experts_per_tok": "numExpertsPerTok",
    "extractor_version": "extractorVersion",
}


def inspect_path(path: Path) -> dict[str, Any]:
    """The inspection of ``path`` as the JSON ``xeroctl models inspect -o json`` prints."""
    from xerotier.cli.local_checkpoint import inspect_local

    local = inspect_local(path)
    out: dict[str, Any] = {
        "name": path.name,
        "path": str(path),
        "status": "ready" if local.inspection is not None else "error",
        "validationError": "\n".join(local.problems) or None,
        "problems": local.problems,
        "files": [{"path": f.path, "sizeBytes": f.size} for f in local.files],
    }
    if local.inspection is None:
        out |= {"format": local.format, "sizeBytes": sum(f.size for f in local.files)}
        return out
    meta = local.inspection.metadata
    values = meta.as_values(set_workload_type=True)
    extra = meta.extra
    out |= {api: values[column] for column, api in API_FIELDS.items()}
    out |= {
        "modelType": extra.get("modelType"),
        "architectures": extra.get("architectures"),
        "extraMetadata": extra,
        "engineWeightFiles": extra.get("engineWeightFiles", []),
        "ignoredWeightFiles": extra.get("ignoredWeightFiles", []),
    }
    return out


@models_app.command("inspect")
def models_inspect(
    path: Annotated[Path, typer.Argument(help="A local checkpoint folder (or one weights file)")],
    output: Annotated[OutputFormat | None, typer.Option("--output", "-o", help="json or table")] = None,
) -> None:
    """Validate a checkpoint on disk as the registry would, without uploading a byte."""
    fmt = output or state.output
    try:
        found = inspect_path(path)
    except InvalidInput as exc:
        err_console.print(f"Error: {exc.message}", markup=False)
        raise typer.Exit(1) from None
    if fmt is OutputFormat.json:
        print(json.dumps(found, indent=2))
    else:
        _print_table(found)
    if found["status"] != "ready":
        raise typer.Exit(1)


def _print_table(found: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    keys = ["name", "status", "format", "sizeBytes", "architecture", "modelType", "parameterCount"]
    keys += ["contextLength", "isMultimodal", "isPreQuantized", "preQuantizationMethod"]
    keys += ["preQuantizationBits", "numExperts", "numExpertsPerTok", "license", "workloadType"]
    for key in keys:
        if key in found:
            value = found[key]
            table.add_row(key, "-" if value is None else str(value))
    if found.get("engineWeightFiles"):
        table.add_row("engineWeightFiles", ", ".join(found["engineWeightFiles"]))
    if found.get("ignoredWeightFiles"):
        table.add_row("ignoredWeightFiles", ", ".join(found["ignoredWeightFiles"]))
    console.print(table)
    for line in found.get("problems", []):
        console.print(f"  • {line}", markup=False, highlight=False)
