"""The built wheel holds every module and migration, and nothing named `services` or `shared`."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _build_wheel(out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    return next(out.glob("xerotier-*.whl"))


def test_wheel_contents_and_imports_from_a_clean_environment(tmp_path):
    wheel = _build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names if not n.startswith("xerotier-")}
    assert top == {"xerotier"}
    assert "xerotier/__init__.py" not in names  # a PEP 420 namespace across both roots
    expected = {
        p.relative_to(root).as_posix()
        for root in (ROOT / "shared", ROOT / "services")
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected - set(names) == set()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    # Dependencies come from the project's environment through PYTHONPATH, which does not process
    # its .pth files: the editable source tree stays invisible, only the wheel's files can import.
    deps = sysconfig.get_paths()["purelib"]
    env = dict(os.environ, PYTHONPATH=deps, XEROTIER_DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}")
    code = (
        "import xerotier, xerotier.gateway.app, xerotier.cli.server, xerotier.cli.ctl, "
        "xerotier.validation.tasks; print(list(xerotier.__path__))"
    )
    done = subprocess.run(
        [venv / "bin" / "python", "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert str(ROOT) not in done.stdout and site in done.stdout
    migrate = subprocess.run(
        [venv / "bin" / "python", "-c", "from xerotier.cli.server import main; main()", "db", "upgrade"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
