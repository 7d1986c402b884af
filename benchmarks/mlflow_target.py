"""Our API as a ``Target`` of the shared MLflow benchmark (``/work/shared/bench/mlflow_bench.py``).

MLflow's terms map onto ours: a registered model is a model name, version ``N`` is ``N.0.0``, and
every alias is the latest pointer (``set_alias`` = promote; ``get_by_alias`` and
``latest_versions`` = the latest). Configured by environment: ``XEROTIER_BENCH_KEY`` (API key)
and ``XEROTIER_BENCH_DSN`` (psycopg DSN of the database, read once for name → id and used to mark
new versions ready — MLflow's versions are READY when created, ours only after validation).
Run by ``benchmarks/bench_vs_mlflow.py``, which puts the shared benchmark's folder on PYTHONPATH.
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

import httpx
import psycopg
from mlflow_bench import HTTPError, Target  # on PYTHONPATH: the shared benchmark's folder


def _semver(version: Any) -> str:
    return f"{int(version)}.0.0"


def _mlflow_version(semver: str) -> str:
    return semver.split(".", 1)[0]


class OursTarget(Target):
    name = "xerotier"

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.key = os.environ["XEROTIER_BENCH_KEY"]
        self.dsn = os.environ["XEROTIER_BENCH_DSN"]
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute("SELECT name, id FROM models WHERE is_latest").fetchall()
        self.ids: dict[str, str] = {name: str(mid) for name, mid in rows}
        self.next_version: dict[str, int] = {}
        self.conn: psycopg.Connection | None = None
        self.lock = threading.Lock()
        self.aliases: set[str] = {"champion"}  # every alias name ever set: all are the latest pointer

    def session(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"}
        if self.conn_mode == "close":
            headers["Connection"] = "close"
        return httpx.Client(base_url=self.base_url, timeout=120.0, headers=headers)

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise HTTPError(response.status_code, response.text)
        return response.json()

    def health(self, s: httpx.Client) -> bool:
        return s.get("/healthz").status_code == 200

    def create_model(self, s: httpx.Client, name: str) -> None:
        model = self._ok(s.post("/v1/models", json={"name": name, "version": "0.0.1"}))  # MLflow's start at 1
        self.ids[name] = model["id"]
        self._make_ready(model["id"])

    def create_version(self, s: httpx.Client, name: str, source: str) -> str:
        number = self.next_version.get(name, 1)
        created = self._ok(s.post(f"/v1/models/{self.ids[name]}/versions", json={"version": _semver(number)}))
        self.next_version[name] = number + 1
        self._make_ready(created["id"])  # timed with the request: counts against us
        return str(number)

    def _make_ready(self, model_id: str) -> None:
        with self.lock:
            if self.conn is None:
                self.conn = psycopg.connect(self.dsn, autocommit=True)
            self.conn.execute("UPDATE models SET status = 'ready' WHERE id = %s", (uuid.UUID(model_id),))

    def search_models(self, s: httpx.Client, max_results: int, filter_str: str | None = None) -> list:
        params: dict[str, Any] = {"limit": max_results}
        exact = None
        if filter_str and " LIKE " in filter_str:
            params["namePrefix"] = filter_str.split("'")[1].rstrip("%")
        elif filter_str and filter_str.startswith("name = "):
            exact = filter_str.split("'")[1]
            params["namePrefix"] = exact
        rows = self._ok(s.get("/v1/models", params=params))["models"]
        return [r for r in rows if exact is None or r["name"] == exact]

    def _latest(self, s: httpx.Client, name: str) -> dict | None:
        rows = self._ok(s.get("/v1/models", params={"namePrefix": name, "limit": 1}))["models"]
        return rows[0] if rows and rows[0]["name"] == name else None

    def latest_versions(self, s: httpx.Client, name: str) -> list:
        latest = self._latest(s, name)
        return [latest] if latest else []

    def get_by_alias(self, s: httpx.Client, name: str, alias: str) -> str:
        latest = self._latest(s, name)
        if latest is None:
            raise HTTPError(404, f"no latest version of {name}")
        return _mlflow_version(latest["version"])

    def set_alias(self, s: httpx.Client, name: str, alias: str, version: Any) -> None:
        self.aliases.add(alias)
        self._ok(s.post(f"/v1/models/{self.ids[name]}/versions/{_semver(version)}/promote"))

    def model_aliases(self, s: httpx.Client, name: str) -> dict:
        latest = self._latest(s, name)
        return {a: [_mlflow_version(latest["version"])] for a in self.aliases} if latest else {}

    def version_aliases(self, s: httpx.Client, name: str, version: Any) -> list:
        versions = self._ok(s.get(f"/v1/models/{self.ids[name]}/versions"))["versions"]
        is_latest = any(v["isLatest"] and v["version"] == _semver(version) for v in versions)
        return sorted(self.aliases) if is_latest else []
