"""``xeroctl``'s config file: named profiles of an API URL and key, in TOML, mode 0600.

::

    current = "default"

    [profiles.default]
    api_url = "http://127.0.0.1:8000"
    api_key = "xero_default_…"

Where: ``XEROTIER_CONFIG`` when set, else ``$XDG_CONFIG_HOME/xerotier/config.toml``, else
``~/.config/xerotier/config.toml``. Reading is pure; writing replaces the file atomically.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEYS = ("api_url", "api_key")
DEFAULT_PROFILE = "default"


class ConfigError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Config:
    current: str | None = None
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)

    def profile(self, name: str) -> dict[str, str]:
        return self.profiles.get(name, {})


def config_path() -> Path:
    if os.environ.get("XEROTIER_CONFIG"):
        return Path(os.environ["XEROTIER_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "xerotier" / "config.toml"


def parse(text: str, where: str = "config") -> Config:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Cannot read {where}: {exc}") from None
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise ConfigError(f"Cannot read {where}: [profiles.<name>] tables expected")
    current = data.get("current")
    return Config(
        current=current if isinstance(current, str) else None,
        profiles={n: {k: str(v) for k, v in p.items() if k in KEYS} for n, p in profiles.items()},
    )


def load(path: Path | None = None) -> Config:
    path = path or config_path()
    if not path.exists():
        return Config()
    return parse(path.read_text(), str(path))


def render(config: Config) -> str:
    """TOML text (strings only, so JSON string escapes are valid TOML basic strings)."""
    lines = ["# xeroctl profiles: xeroctl login / xeroctl config set write this file (mode 0600)."]
    if config.current:
        lines.append(f"current = {json.dumps(config.current)}")
    for name, values in config.profiles.items():
        lines += ["", f"[profiles.{json.dumps(name)}]"]
        lines += [f"{k} = {json.dumps(values[k])}" for k in KEYS if k in values]
    return "\n".join(lines) + "\n"


def save(config: Config, path: Path | None = None) -> Path:
    """Write the file with mode 0600 (it holds keys), atomically, creating its folder (0700)."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(render(config))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def set_value(config: Config, profile: str, key: str, value: str) -> Config:
    if key not in KEYS:
        raise ConfigError(f"Unknown setting {key!r}: choose from {', '.join(KEYS)}")
    if key == "api_url" and not value.startswith(("http://", "https://")):
        raise ConfigError(f"Invalid api_url {value!r}: it must start with http:// or https://")
    config.profiles.setdefault(profile, {})[key] = value
    return config


def active_profile(config: Config, chosen: str | None) -> str:
    """The profile named by ``--profile``, else ``XEROTIER_PROFILE``, else the file's current one."""
    return chosen or os.environ.get("XEROTIER_PROFILE") or config.current or DEFAULT_PROFILE


def shown_key(key: str | None) -> str:
    """A key as it may be shown: its prefix only (``xero_<slug>_<12 characters>…``)."""
    if not key:
        return "-"
    head, _, secret = key.rpartition("_")
    return f"{head}_{secret[:12]}…" if head else key[:12] + "…"
