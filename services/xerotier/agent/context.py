"""The running agent's configuration, set once by ``xerotier agent`` before its worker starts."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class AgentContext:
    backend_id: str
    cache_dir: Path
    engine_command: str | None = None
    engine: str = "builtin"  # vllm (engine_command) | cpu (xerotier.agent.cpu_engine) | builtin (load check)
    health_timeout_seconds: float = 900.0
    engine_host: str = "127.0.0.1"  # the address routers reach the engines at
    moe_config_dir: Path | None = None
    engines: dict[str, subprocess.Popen] = field(default_factory=dict)  # load id → engine process


_context: AgentContext | None = None


def set_context(context: AgentContext | None) -> None:
    global _context
    _context = context


def get_context() -> AgentContext:
    if _context is None:
        raise RuntimeError("the agent context is not set: run `xerotier agent`")
    return _context
