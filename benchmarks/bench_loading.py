"""Load planning and placement speed (targets: plan < 1 ms; place among 1,000 backends < 20 ms).

Side by side in one run: planning against ``json.loads`` of the same model's safetensors header
(the cheapest thing any loader must do), and placement in memory against the same placement on
PostgreSQL (queries included), when PostgreSQL is reachable.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xerotier.db.models import Backend
from xerotier.domain.inventory import Gpu, Inventory
from xerotier.loading.gpu_profiles import PROFILES
from xerotier.loading.handlers import rank_backends
from xerotier.loading.model_shape import model_shape
from xerotier.loading.planner import plan_load

GIB = 1 << 30
LLAMA_8B = {
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "num_hidden_layers": 32,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
}


def llama_header(cfg: dict[str, Any]) -> dict[str, Any]:
    h, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    kv = cfg["num_key_value_heads"] * h // cfg["num_attention_heads"]
    out: dict[str, Any] = {"model.embed_tokens.weight": {"dtype": "BF16", "shape": [v, h]}}
    for n in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{n}."
        for name, shape in (
            ("self_attn.q_proj", [h, h]),
            ("self_attn.k_proj", [kv, h]),
            ("self_attn.v_proj", [kv, h]),
            ("self_attn.o_proj", [h, h]),
            ("mlp.gate_proj", [i, h]),
            ("mlp.up_proj", [i, h]),
            ("mlp.down_proj", [h, i]),
        ):
            out[f"{p}{name}.weight"] = {"dtype": "BF16", "shape": shape}
        out[p + "input_layernorm.weight"] = {"dtype": "BF16", "shape": [h]}
        out[p + "post_attention_layernorm.weight"] = {"dtype": "BF16", "shape": [h]}
    out["model.norm.weight"] = {"dtype": "BF16", "shape": [h]}
    out["lm_head.weight"] = {"dtype": "BF16", "shape": [v, h]}
    return out


def per_call(fn: Callable[[], object], repeat: int) -> float:
    """Median CPU seconds of this process per call, over 5 rounds of ``repeat`` calls.

    CPU time, not wall-clock: on a shared machine other processes' load must not count.
    """
    rounds = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(repeat):
            fn()
        rounds.append((time.process_time() - start) / repeat)
    return statistics.median(rounds)


def fleet(n: int, distinct: str = "") -> list[Backend]:
    """``n`` live backends over the GPU profiles.

    ``distinct="free"``: each reports its own free memory (as NVML does), above the budget;
    ``distinct="budget"``: each has a different budget (every GPU partly used): no plan is shared.
    ``distinct="tight"``: each has a different budget too small for bf16 weights, so no backend fits
    natively: placement checks every one of them, then plans the first that fits at all.
    ``distinct="none"``: each has a different budget too small for any quantization, so placement
    plans every one of them to say why none fits (the true worst case).
    """
    profiles = list(PROFILES.values())
    now = datetime.now(UTC)
    out = []
    for k in range(n):
        p = profiles[k % len(profiles)]
        free = {
            "free": p.memory_bytes - (k + 1) * (1 << 20),
            "budget": p.memory_bytes // 2 + k * (1 << 20),
            "tight": (12 << 30) + k * (1 << 20),
            "none": (2 << 30) + k * (1 << 20),
        }.get(distinct)
        inv = Inventory("cuda", (Gpu(p.name, p.memory_bytes, p.compute_capability, free, p.device_name),))
        out.append(Backend(id=f"gpu-{k:04d}", queue=f"gpu.gpu-{k:04d}", inventory=inv.to_json(),
                           inventory_source="declared", options={}, heartbeat_at=now))  # fmt: skip
    return out


def bench_plan() -> None:
    header = llama_header(LLAMA_8B)
    raw = json.dumps({k: v | {"data_offsets": [0, 0]} for k, v in header.items()}).encode()
    shape = model_shape("llama-8b", LLAMA_8B, [header])
    h100 = PROFILES["h100-80gb"]
    inv = Inventory("cuda", (Gpu(h100.name, h100.memory_bytes, h100.compute_capability),))
    t4 = PROFILES["t4"]
    inv_t4 = Inventory("cuda", (Gpu(t4.name, t4.memory_bytes, t4.compute_capability),))
    parse = per_call(lambda: json.loads(raw), 200)
    shaped = per_call(lambda: model_shape("llama-8b", LLAMA_8B, [header]), 200)
    native = per_call(lambda: plan_load(shape, inv), 5000)
    runtime_q = per_call(lambda: plan_load(shape, inv_t4), 5000)
    quiet = per_call(lambda: plan_load(shape, inv_t4, explain=False), 5000)
    print("Llama 3.1 8B (291 tensors):")
    print(f"  json.loads of its safetensors header   {parse * 1e6:9.1f} µs   (baseline 1.00x)")
    print(f"  shape from headers + config            {shaped * 1e6:9.1f} µs   ({shaped / parse:.2f}x)")
    print(f"  plan on H100 (native, explained)       {native * 1e6:9.1f} µs   ({native / parse:.3f}x)")
    print(f"  plan on T4 (runtime quant., explained) {runtime_q * 1e6:9.1f} µs   ({runtime_q / parse:.3f}x)")
    print(f"  plan on T4 without sentences           {quiet * 1e6:9.1f} µs   ({quiet / parse:.3f}x)")
    worst = max(native, runtime_q)
    print(f"  target plan < 1 ms: {worst * 1e3:.3f} ms → {'OK' if worst < 1e-3 else 'MISSED'} "
          f"({1e-3 / worst:.0f}x under)")  # fmt: skip
    return None


def bench_place() -> float:
    shape = model_shape("llama-8b", LLAMA_8B, [llama_header(LLAMA_8B)])
    dead_after = __import__("datetime").timedelta(seconds=30)
    results = {}
    for label, distinct in (
        ("9 GPU profiles", ""),
        ("each its own free memory", "free"),
        ("each its own budget", "budget"),
        ("none fits natively", "tight"),
        ("none fits at all (worst)", "none"),
    ):
        backends = fleet(1000, distinct)
        counts = {b.id: k % 3 for k, b in enumerate(backends)}
        seconds = per_call(lambda b=backends, c=counts: rank_backends(shape, b, {}, c, dead_after,
                                                                       datetime.now(UTC)), 5)  # fmt: skip
        results[label] = seconds
        parse = per_call(lambda b=backends: [Inventory.from_json(x.inventory) for x in b], 5)
        print(f"  1,000 backends, {label:28s} {seconds * 1e3:7.2f} ms "
              f"(parsing the inventories alone: {parse * 1e3:.2f} ms; {seconds / parse:.1f}x)")  # fmt: skip
    for label, seconds in results.items():
        verdict = "OK" if seconds < 0.02 else "MISSED"
        print(f"  target place < 20 ms, {label}: {seconds * 1e3:.2f} ms → {verdict}")
    return results["each its own free memory"]


def bench_place_postgres(in_memory: float) -> None:
    """The whole ``loading.place`` use case on PostgreSQL with 1,000 registered backends."""
    try:
        import psycopg
    except ImportError:
        print("  PostgreSQL: psycopg missing, skipped")
        return
    admin = os.environ.get("XEROTIER_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"xerotier_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(admin, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"  PostgreSQL at {admin} unreachable ({type(exc).__name__}): database placement not measured")
        return
    from sqlalchemy import delete

    from xerotier.db.blob_refs import add_ref
    from xerotier.db.migrate import upgrade
    from xerotier.db.models import Endpoint, Model, ModelFile
    from xerotier.db.projects import get_or_create_project
    from xerotier.loading import handlers
    from xerotier.runtime import Runtime
    from xerotier.settings import Settings

    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(Settings(data_dir=Path(tmp), database_url=f"{base}/{name}"))
        try:
            upgrade(runtime.engine)
            writer = runtime.blobs.writer()
            writer.write(json.dumps(LLAMA_8B).encode())
            blob = writer.commit()
            with runtime.unit_of_work() as session:
                project = get_or_create_project(session, "bench")
                model = Model(id=uuid.uuid4(), project_id=project.id, name="llama-8b", is_latest=True,
                              status="ready", context_length=131072)  # fmt: skip
                session.add(model)
                session.flush()
                add_ref(session, blob.sha256, blob.size)
                session.add(
                    ModelFile(model_id=model.id, path="config.json", size_bytes=blob.size, sha256=blob.sha256)
                )
                session.add(ModelFile(model_id=model.id, path="model.safetensors", size_bytes=blob.size,
                                      sha256=blob.sha256, header=llama_header(LLAMA_8B)))  # fmt: skip
                project_id = project.id
            for label, distinct in (("each its own free memory", "free"), ("none fits natively", "tight"),
                                    ("none fits at all (worst)", "none")):  # fmt: skip
                with runtime.unit_of_work() as session:
                    session.execute(delete(Backend))
                    for b in fleet(1000, distinct=distinct):
                        session.add(b)
                    eps = [Endpoint(id=uuid.uuid4(), project_id=project_id, model_project_id=project_id,
                                    model_name="llama-8b", tier="standard") for _ in range(20)]  # fmt: skip
                    session.add_all(eps)
                wall, cpu = [], []
                for ep in eps:
                    start, start_cpu = time.perf_counter(), time.process_time()
                    handlers.place(runtime, ep.id)
                    wall.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
                w, c = statistics.median(wall), statistics.median(cpu)
                verdict = "OK" if c < 0.02 else "MISSED"
                print(f"  1,000 backends on PostgreSQL, {label:26s} (queries, plan, load row, outbox): "
                      f"{c * 1e3:.2f} ms CPU, {w * 1e3:.2f} ms wall, median of 20 "
                      f"({c / in_memory:.1f}x in memory) → {verdict}")  # fmt: skip
        finally:
            runtime.close()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    print(f"(CPU time of this process; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    bench_plan()
    print("Placement:")
    worst = bench_place()
    bench_place_postgres(worst)


if __name__ == "__main__":
    main()
