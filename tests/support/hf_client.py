"""Run the real ``huggingface_hub`` client (and ``hf``) against a registry, as a user would.

Each call is a fresh process with ``HF_ENDPOINT`` and ``HF_TOKEN`` set (the client reads them at
import) and its own cache (``HF_HOME``); nothing is fetched from anywhere but the registry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent

SCRIPT = r"""
import json, sys
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (EntryNotFoundError, RepositoryNotFoundError,
                                    RevisionNotFoundError, HfHubHTTPError)
call = json.loads(sys.argv[1])
kind = call.pop("call")
try:
    if kind == "snapshot":
        print(json.dumps({"path": snapshot_download(**call)}))
    elif kind == "file":
        print(json.dumps({"path": hf_hub_download(**call)}))
    elif kind == "info":
        info = HfApi().model_info(**call)
        print(json.dumps({"sha": info.sha, "id": info.id,
                          "files": sorted(s.rfilename for s in info.siblings or [])}))
except (RevisionNotFoundError, EntryNotFoundError, RepositoryNotFoundError, HfHubHTTPError) as exc:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    print(json.dumps({"error": type(exc).__name__, "status": status}))
"""


def hf_env(url: str, key: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(
        HF_ENDPOINT=url,
        HF_TOKEN=key,
        HF_HOME=str(home),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
    )
    return env


def hf_call(url: str, key: str, home: Path, call: str, **kwargs: object) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps({"call": call, **kwargs})],
        env=hf_env(url, key, home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


TRANSFORMERS_SCRIPT = r"""
import json, sys
from transformers import AutoConfig, AutoTokenizer
repo, revision = sys.argv[1], sys.argv[2]
config = AutoConfig.from_pretrained(repo, revision=revision)
tokenizer = AutoTokenizer.from_pretrained(repo, revision=revision)
print(json.dumps({"model_type": config.model_type, "hidden_size": config.hidden_size,
                  "vocab": len(tokenizer.get_vocab()), "ids": tokenizer("t1 t2")["input_ids"]}))
"""


def transformers_load(url: str, key: str, home: Path, repo: str, revision: str = "main") -> dict:
    """``AutoConfig``/``AutoTokenizer.from_pretrained(repo)`` as ``transformers`` users write it."""
    done = subprocess.run(
        [sys.executable, "-c", TRANSFORMERS_SCRIPT, repo, revision],
        env=hf_env(url, key, home),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def hf_cli(url: str, key: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "hf"), *args], env=hf_env(url, key, home), capture_output=True, text=True, timeout=120
    )
