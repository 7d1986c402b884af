"""The README's Quick start, run as written against a real `xerotier up`, so the README cannot go stale.

`make up` runs `.venv/bin/xerotier up`; this test starts the same command on a free port with its own
data directory, then does what the README tells a newcomer: paste the `export …` line the start
printed, and run the Quick start block with bash (`set -euo pipefail`: any failing line fails the test)
from a folder whose `.venv` is this test run's virtual environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support.processes import start_up

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def quick_start_block() -> str:
    text = README.read_text()
    match = re.search(r"<!-- quick-start:begin -->\s*```sh\n(.*?)```\s*<!-- quick-start:end -->", text, re.S)
    assert match, "README.md has no Quick start block between the quick-start markers"
    return match.group(1)


def test_the_readme_is_short_and_points_into_docs():
    lines = README.read_text().splitlines()
    assert len(lines) <= 200
    for doc in ("architecture", "api", "cli", "configuration", "deployment", "operations", "benchmarks"):
        assert f"(docs/{doc}.md)" in README.read_text()
        assert (ROOT / "docs" / f"{doc}.md").exists()


def test_quick_start_runs_as_written(tmp_path):
    from conftest import free_port

    proc = start_up(tmp_path / "data", free_port(), tmp_path / "up.log")
    try:
        export = re.search(r"export (XEROTIER_API_URL=\S+) (XEROTIER_API_KEY=\S+)", proc.log())
        assert export, proc.log()
        pasted = dict(part.split("=", 1) for part in export.groups())
        user = tmp_path / "user"
        user.mkdir()
        (user / ".venv").symlink_to(Path(sys.prefix))  # the clone's .venv, as `make up` made it
        env = {k: v for k, v in os.environ.items() if not k.startswith("XEROTIER_")}
        env |= pasted | {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
        script = tmp_path / "quick-start.sh"
        script.write_text("set -euo pipefail\n" + quick_start_block())
        done = subprocess.run(
            ["bash", str(script)], cwd=user, env=env, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    finally:
        proc.stop()
    # The last command prints every version as JSON: the walkthrough did what it says.
    listed = json.loads(done.stdout[done.stdout.rindex("\n[") :])
    versions = {m["version"]: m for m in listed}
    assert set(versions) == {"1.0.0", "1.1.0"}
    assert all(m["status"] == "ready" for m in listed)
    assert versions["1.1.0"]["isLatest"] and not versions["1.0.0"]["isLatest"]
    assert "native_fits" in done.stdout and "project\tdefault" in done.stdout
