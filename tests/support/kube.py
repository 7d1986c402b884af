"""A Kubernetes API emulator (kmock) prepared for a kopf operator, and a kubeconfig pointing at it.

kopf discovers resources before it watches them: the emulator must list our CRD's resource (with
its status subresource), namespaces and events, or the operator silently watches nothing.
"""

from __future__ import annotations

from pathlib import Path

import kmock
import yaml

MODELS = "xerotier.ai/v1alpha1/models"


def prepare(k8s: kmock.KubernetesEmulator) -> None:
    k8s.resources[MODELS] = kmock.ResourceInfo(
        kind="Model",
        singular="model",
        namespaced=True,
        verbs={"list", "watch", "get", "patch", "create", "delete", "update"},
        subresources={"status"},
    )
    k8s.resources["v1/namespaces"] = kmock.ResourceInfo(
        kind="Namespace", singular="namespace", namespaced=False, verbs={"list", "watch", "get"}
    )
    k8s.resources["v1/events"] = kmock.ResourceInfo(
        kind="Event", singular="event", namespaced=True, verbs={"create", "list"}
    )
    k8s.resources["events.k8s.io/v1/events"] = kmock.ResourceInfo(
        kind="Event", singular="event", namespaced=True, verbs={"create", "list"}
    )
    k8s.objects["v1/namespaces", None, "default"] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "default"},
    }


def write_kubeconfig(path: Path, url: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kmock", "cluster": {"server": url}}],
        "users": [{"name": "kmock", "user": {"token": "kmock"}}],
        "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "kmock"}}],
        "current-context": "kmock",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def model_resource(name: str, spec: dict) -> dict:
    return {
        "apiVersion": "xerotier.ai/v1alpha1",
        "kind": "Model",
        # kmock stores what it is given: kopf's JSON patches test resourceVersion, so set one.
        "metadata": {
            "name": name,
            "namespace": "default",
            "generation": 1,
            "uid": f"uid-{name}",
            "resourceVersion": "1",
        },
        "spec": spec,
    }
