"""Costs bounded by the work, not by the registry: delete one version, a page of a model's
versions, and list filters that match nothing, at 1,000, 10,000 and 100,000 versions on
PostgreSQL, through the use cases the API runs (thread-pool path), side by side in one run.

Every scale is its own database, filled by one ``INSERT … SELECT`` (names of 10 versions, and one
name, ``wide``, holding half of all versions); the rounds interleave the scales so that load from
elsewhere hits them alike. The same operations are then timed once more with migration 0010's
indexes dropped, to show what they buy. Wall-clock medians (the database is another process).

    make bench ARGS=scaling           # or: .venv/bin/python -m benchmarks scaling
    XEROTIER_BENCH_PG_ADMIN=postgresql://postgres@127.0.0.1:5432/postgres (default)
"""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import select, text

from xerotier.catalog.models import management
from xerotier.catalog.models.listing import ListFilter
from xerotier.catalog.versions import handlers as versions_handlers
from xerotier.db.migrate import upgrade
from xerotier.db.models import Model
from xerotier.db.projects import get_or_create_project
from xerotier.domain.versioning import sort_key
from xerotier.runtime import Runtime
from xerotier.settings import Settings

ADMIN = os.environ.get("XEROTIER_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
SCALES = (1_000, 10_000, 100_000)
ROUNDS = int(os.environ.get("XEROTIER_BENCH_ROUNDS", "15"))
INDEXES = ("ix_models_parent_version_id", "ix_models_filter_status", "ix_models_filter_architecture",
           "ix_models_filter_workload", "ix_models_name_version_key")  # fmt: skip
# version '1.<v>.0': its sort key, written by SQL (checked against sort_key below)
_KEY = "'001' || '1' || '.' || lpad(length(v::text)::text, 3, '0') || v::text || '.0010~'"
FILL = f"""
INSERT INTO models (id, project_id, name, version, version_key, parent_version_id, is_latest,
    size_bytes, status, status_changed_at, attempts, is_multimodal, is_pre_quantized, is_shared,
    featured, deployment_count, created_at, updated_at, architecture, workload_type, format)
SELECT gen_random_uuid(), :project, name, '1.' || v || '.0', {_KEY}, NULL, v = last, 1000, 'ready',
    now(), 0, false, false, false, false, 0, now(), now(), 'llama', 'chat', 'safetensors'
FROM (SELECT 'model-' || lpad(n::text, 6, '0') AS name, 9 AS last
      FROM generate_series(0, :names - 1) AS n
      UNION ALL SELECT 'wide', :wide - 1) AS names, generate_series(0, last) AS v
"""


class Registry:
    def __init__(self, versions: int, workdir: Path) -> None:
        self.versions = versions
        self.db = f"xerotier_scale_{secrets.token_hex(4)}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db}"')
        base = ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        data = workdir / self.db
        self.runtime = Runtime(Settings(data_dir=data, database_url=f"{base}/{self.db}"))
        upgrade(self.runtime.engine)
        with self.runtime.unit_of_work() as session:
            self.project = get_or_create_project(session, "scale").id
            wide = versions // 2
            session.execute(
                text(FILL), {"project": self.project, "names": (versions - wide) // 10, "wide": wide}
            )
            session.execute(text("ANALYZE models"))
        with self.runtime.session_factory() as session:
            self.wide = session.scalar(select(Model.id).where(Model.name == "wide", Model.is_latest))
            sample = session.execute(select(Model.version, Model.version_key).limit(50)).all()
            assert all(key == sort_key(version) for version, key in sample), sample[:3]
            doomed = (
                select(Model.id).where(Model.name != "wide", Model.is_latest.is_(False)).limit(ROUNDS * 2)
            )
            self.doomed = list(session.scalars(doomed))

    def drop_indexes(self) -> None:
        with self.runtime.unit_of_work() as session:
            for name in INDEXES:
                session.execute(text(f"DROP INDEX IF EXISTS {name}"))
            session.execute(text("ANALYZE models"))

    def close(self) -> None:
        self.runtime.close()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')


def operations(reg: Registry) -> dict[str, Callable[[], object]]:
    rt, project = reg.runtime, reg.project

    def delete() -> object:
        return management.delete_version(rt, project, reg.doomed.pop(), force=False, actor=None)

    def page() -> object:
        return versions_handlers.list_versions_page(rt, project, reg.wide, None, 50)

    def nothing(**filters: str) -> Callable[[], object]:
        flt = ListFilter(**filters)  # type: ignore[arg-type]
        return lambda: management.list_models(rt, project, flt, None, 50)

    return {
        "delete one version": delete,
        "versions page (50)": page,
        "filter status=error": nothing(status="error"),
        "filter architecture": nothing(architecture="mamba"),
        "filter workloadType": nothing(workload_type="code"),
    }


def measure(registries: list[Registry], rounds: int) -> dict[str, dict[int, float]]:
    ops = {reg.versions: operations(reg) for reg in registries}
    samples: dict[str, dict[int, list[float]]] = {}
    for _ in range(rounds):
        for reg in registries:  # interleaved: a burst of load hits every scale alike
            for label, op in ops[reg.versions].items():
                start = time.perf_counter()
                op()
                samples.setdefault(label, {}).setdefault(reg.versions, []).append(time.perf_counter() - start)
    return {label: {n: statistics.median(v) for n, v in per.items()} for label, per in samples.items()}


def table(title: str, medians: dict[str, dict[int, float]]) -> None:
    print(title)
    print(f"  {'operation':22s}" + "".join(f"{n:>12,}" for n in SCALES) + f"{'100k/1k':>10s}")
    for label, per in medians.items():
        cells = "".join(f"{per[n] * 1e3:>9.2f} ms" for n in SCALES)
        print(f"  {label:22s}{cells}{per[SCALES[-1]] / per[SCALES[0]]:>9.2f}x")


def main() -> None:
    print(f"(wall-clock medians of {ROUNDS} interleaved rounds; load average {os.getloadavg()[0]:.1f})")
    with tempfile.TemporaryDirectory(prefix="xt-scale-") as tmp:
        registries = [Registry(n, Path(tmp)) for n in SCALES]
        try:
            measure(registries, 2)  # warm-up: connections, statement caches
            table("With migration 0010's indexes (versions, registry-wide):", measure(registries, ROUNDS))
            for reg in registries:
                reg.drop_indexes()
            table("Without them (as before 0010):", measure(registries, max(3, ROUNDS // 3)))
        finally:
            for reg in registries:
                reg.close()


if __name__ == "__main__":
    main()
