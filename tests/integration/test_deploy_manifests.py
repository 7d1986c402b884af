"""The Dockerfile, compose.yaml and every Kubernetes overlay, rendered and validated offline.

Real tools: the Compose binary's ``config``, ``check-jsonschema`` with the compose specification,
``kubectl kustomize``, ``kubernetes-validate --strict`` (bundled Kubernetes schemas), KEDA's kinds
against schemas generated from KEDA's CRDs, and our Model resources against our own CRD.
"""

from __future__ import annotations

import json
from pathlib import Path

import dockerfile
import jsonschema
import pytest
import yaml

from support.manifests import (
    ROOT,
    compose_binary,
    crd_schema,
    keda_schemas,
    objects,
    render_overlay,
    run,
    strict,
    tool,
)
from xerotier.queue import names
from xerotier.queue.celery_app import make_celery
from xerotier.settings import Settings

pytestmark = pytest.mark.integration
OVERLAYS = ["dev", "prod"]
LONGEST_TASK = make_celery(Settings(broker_url="redis://127.0.0.1:1/0")).conf.task_time_limit


# --- compose.yaml -------------------------------------------------------------------------------


def compose_config(path: Path, *profiles: str) -> dict:
    args = [compose_binary(), "-f", str(path)]
    for profile in profiles:
        args += ["--profile", profile]
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "POSTGRES_PASSWORD": "test-password"}
    result = run([*args, "config", "--format", "json"], env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_refuses_to_start_without_the_postgres_password(tmp_path):
    result = run(
        [compose_binary(), "-f", str(ROOT / "compose.yaml"), "config", "-q"],
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr
    config = compose_config(ROOT / "compose.yaml")
    assert config["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "test-password"
    database_url = config["services"]["api"]["environment"]["XEROTIER_DATABASE_URL"]
    assert "xerotier:test-password@postgres" in database_url


def test_dev_overlay_ships_no_placeholder_operator_key():
    docs = objects(render_overlay("dev"))
    secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    assert "xerotier-operator" not in secrets  # created from a real key, as the overlay documents
    kustomization = (ROOT / "k8s" / "overlays" / "dev" / "kustomization.yaml").read_text()
    assert "create secret generic xerotier-operator" in kustomization
    assert "xerotier keys create" in kustomization


def test_compose_file_matches_the_compose_specification_schema():
    result = run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(ROOT / "compose.yaml")]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_rejects_a_broken_file(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  api:\n    image: x\n    healthcheck: {interval: 5s, bogus: 1}\n")
    result = run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken)])
    assert result.returncode != 0


def test_compose_binary_config_fails_on_a_dangling_dependency(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text(
        "services:\n  api:\n    image: x\n    depends_on:\n      ghost: {condition: service_healthy}\n"
    )
    result = run([compose_binary(), "-f", str(broken), "config", "-q"], env={"PATH": "/usr/bin:/bin"})
    assert result.returncode != 0 and "ghost" in result.stderr


def test_compose_defines_every_role_with_health_checks_and_ordered_start():
    config = compose_config(ROOT / "compose.yaml", "gpu")
    services = config["services"]
    for service in names.SERVICE_QUEUES:
        worker = services[f"worker-{service}"]
        assert worker["command"] == ["worker", service]
        assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["api"]["command"] == ["serve"]
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    long_running = [name for name in services if name != "migrate"]
    assert all(services[name].get("healthcheck", {}).get("test") for name in long_running), long_running
    for name in long_running:
        assert "celery inspect" not in " ".join(services[name]["healthcheck"]["test"])

    redis = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis and "--maxmemory-policy noeviction" in redis
    assert {"pgdata", "redisdata", "blobs"} <= set(config["volumes"])
    assert any(v["source"] == "pgdata" and v["type"] == "volume" for v in services["postgres"]["volumes"])

    agent = services["agent"]
    assert agent["profiles"] == ["gpu"]
    devices = agent["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and devices[0]["capabilities"] == ["gpu"]


def test_hosts_without_gpus_start_everything_but_the_agent():
    services = compose_config(ROOT / "compose.yaml")["services"]
    assert "agent" not in services and "flower" not in services
    assert {"postgres", "redis", "migrate", "api", "reconciler"} <= set(services)


# --- Dockerfile ----------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_non_root_and_runs_any_role():
    commands = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    stages = [i for i, c in enumerate(commands) if c.cmd == "FROM"]
    assert len(stages) >= 2
    final = commands[stages[-1] :]
    users = [c.value[0] for c in final if c.cmd == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert [c.value for c in final if c.cmd == "ENTRYPOINT"] == [("xerotier",)]
    copies = [c for c in final if c.cmd == "COPY"]
    assert copies and all(any(f.startswith("--from=") for f in c.flags) for c in copies)
    final_runs = " ".join(" ".join(c.value) for c in final if c.cmd == "RUN")
    for build_tool in ("gcc", "build-essential", "pip install", "apt-get install"):
        assert build_tool not in final_runs
    build_runs = " ".join(" ".join(c.value) for c in commands[: stages[-1]] if c.cmd == "RUN")
    assert "build --wheel" in build_runs


# --- Kubernetes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_validates_strictly_against_the_kubernetes_schemas(overlay, tmp_path):
    rendered = tmp_path / f"{overlay}.yaml"
    rendered.write_text(render_overlay(overlay))
    result = run([tool("kubernetes-validate"), "--strict", "--quiet", str(rendered)])
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = {doc["kind"] for doc in objects(rendered.read_text())}
    assert {"Deployment", "Job", "Service", "ConfigMap", "PodDisruptionBudget", "NetworkPolicy"} <= kinds
    assert {"CustomResourceDefinition", "ScaledObject", "TriggerAuthentication"} <= kinds


def test_strict_kubernetes_validation_rejects_an_unknown_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 80}], colour: red}\n"
    )
    result = run([tool("kubernetes-validate"), "--strict", "--quiet", str(bad)])
    assert result.returncode != 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_keda_objects_match_keda_crd_schemas(overlay):
    schemas = keda_schemas()
    docs = [d for d in objects(render_overlay(overlay)) if d["apiVersion"].startswith("keda.sh/")]
    assert docs
    for doc in docs:
        jsonschema.validate(doc, schemas[doc["kind"]])


def test_keda_schema_rejects_a_misspelt_field():
    doc = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {"scaleTargetRef": {"name": "x"}, "triggers": [], "maxReplicas": 3},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, keda_schemas()["ScaledObject"])


def model_crd(overlay: str = "prod") -> dict:
    return next(d for d in objects(render_overlay(overlay)) if d["kind"] == "CustomResourceDefinition")


def test_model_examples_match_our_crd_and_bad_ones_do_not():
    schema = strict(crd_schema(model_crd(), "v1alpha1"))
    schema["properties"]["metadata"] = {"type": "object"}
    example = yaml.safe_load((ROOT / "k8s" / "examples" / "model.yaml").read_text())
    jsonschema.validate(example, schema)
    for bad in (
        {"version": "v1"},
        {"deletionPolicy": "Orphan"},
        {"source": {"huggingFace": {"repo": "no-slash"}}},
        {"source": {"s3": {"prefix": "/not/s3"}}},
    ):
        broken = {**example, "spec": {**example["spec"], **bad}}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def test_model_crd_has_status_subresource_printer_columns_and_one_source_rule():
    version = model_crd()["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
    assert columns["Phase"] == ".status.phase" and columns["Version"] == ".spec.version"
    source = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["source"]
    assert source["x-kubernetes-validations"][0]["rule"].endswith("== 1")
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert {"phase", "conditions", "observedGeneration", "metadata"} <= set(status)


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_role_is_deployed_with_probes_resources_and_grace(overlay):
    docs = objects(render_overlay(overlay))
    deployments = by_kind(docs, "Deployment")
    for service, queue in names.SERVICE_QUEUES.items():
        deployment = deployments[f"xerotier-worker-{service}"]
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["args"] == ["worker", service]
        assert pod["terminationGracePeriodSeconds"] >= LONGEST_TASK
        probe = " ".join(container["livenessProbe"]["exec"]["command"])
        assert "xerotier-worker-heartbeat" in probe and "inspect" not in probe
        scaler = by_kind(docs, "ScaledObject")[f"xerotier-worker-{service}"]
        assert scaler["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
        assert scaler["spec"]["triggers"][0]["type"] == "redis"
        assert scaler["spec"]["triggers"][0]["metadata"]["listName"] == queue
        assert f"xerotier-worker-{service}" in by_kind(docs, "PodDisruptionBudget")
    api = deployments["xerotier-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    agent = deployments["xerotier-agent"]["spec"]["template"]["spec"]
    assert agent["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    # the agent holds no database URL: only the broker's, from the secret
    container = agent["containers"][0]
    assert all("secretRef" not in source for source in container.get("envFrom", []))
    assert [e["name"] for e in container["env"] if "valueFrom" in e] == ["XEROTIER_BROKER_URL"]
    assert "solo" in agent["containers"][0]["args"]
    assert agent["terminationGracePeriodSeconds"] >= LONGEST_TASK
    assert by_kind(docs, "Job")["xerotier-migrate"]["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "db",
        "upgrade",
    ]
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"]:
            resources = container.get("resources", {})
            assert resources.get("requests") and resources.get("limits"), f"{name} has no requests/limits"
        if name.startswith("xerotier"):
            assert pod["securityContext"]["runAsNonRoot"] is True


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_is_reachable_and_workers_reach_only_the_data_stores(overlay):
    docs = objects(render_overlay(overlay))
    policies = by_kind(docs, "NetworkPolicy")
    deny = policies["xerotier-default-deny"]
    assert deny["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "xerotier"}
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in deny["spec"]
    open_ingress = [
        p["spec"]["podSelector"]["matchLabels"]
        for p in policies.values()
        if any("from" not in rule for rule in p["spec"].get("ingress", []))
    ]
    assert open_ingress == [{"app.kubernetes.io/name": "xerotier", "app.kubernetes.io/component": "api"}]
    egress_ports = {
        port["port"]
        for p in policies.values()
        if p["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": "xerotier"}
        for rule in p["spec"].get("egress", [])
        for port in rule.get("ports", [])
    }
    assert egress_ports == {53, 5432, 6379, 443, 9000}


@pytest.mark.parametrize(
    "source, allowed",
    [
        ({"huggingFace": {"repo": "org/name"}}, True),
        ({"s3": {"prefix": "s3://bucket/p/"}}, True),
        ({"localPath": "/models/x"}, True),
        ({}, False),
        ({"huggingFace": {"repo": "org/name"}, "localPath": "/models/x"}, False),
    ],
)
def test_the_crd_one_source_rule_evaluates_as_cel(source, allowed):
    """The API server evaluates x-kubernetes-validations as CEL: so does this test (a real runtime)."""
    import cel

    spec = crd_schema(model_crd(), "v1alpha1")["properties"]["spec"]["properties"]["source"]
    verdicts = [cel.evaluate(rule["rule"], {"self": source}) for rule in spec["x-kubernetes-validations"]]
    assert all(verdicts) is allowed


#: The Redis list scaler's parameters (KEDA docs, scalers/redis-lists): its metadata is a free-form
#: string map in the CRD, so a misspelt key would pass the schema and silently disable scaling.
REDIS_SCALER_KEYS = {
    "address",
    "addressFromEnv",
    "host",
    "hostFromEnv",
    "port",
    "portFromEnv",
    "usernameFromEnv",
    "passwordFromEnv",
    "listName",
    "listLength",
    "activationListLength",
    "enableTLS",
    "unsafeSsl",
    "databaseIndex",
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_redis_scaler_metadata_uses_only_known_keys_and_a_real_address_variable(overlay):
    docs = objects(render_overlay(overlay))
    config = by_kind(docs, "ConfigMap")["xerotier-config"]["data"]
    for scaler in by_kind(docs, "ScaledObject").values():
        metadata = scaler["spec"]["triggers"][0]["metadata"]
        assert set(metadata) <= REDIS_SCALER_KEYS, set(metadata) - REDIS_SCALER_KEYS
        assert {"listName", "listLength"} <= set(metadata)
        assert all(isinstance(v, str) for v in metadata.values())
        assert ":" in config[metadata["addressFromEnv"]]  # host:port, read from the target's env
