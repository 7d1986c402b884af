"""The agent talks to the registry through tasks only: none of its modules loads the database layer."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import xerotier.agent


def test_no_agent_module_imports_the_database_or_the_runtime():
    modules = [f"xerotier.agent.{m.name}" for m in pkgutil.iter_modules(xerotier.agent.__path__)]
    assert "xerotier.agent.tasks" in modules and "xerotier.agent.main" in modules
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('xerotier.db', 'sqlalchemy', 'psycopg'))"
        " or m == 'xerotier.runtime'))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout
