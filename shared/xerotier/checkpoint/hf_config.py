"""``config.json`` read the way vLLM reads it: through transformers' configuration classes (pure).

vLLM builds ``hf_config`` with ``AutoConfig.from_pretrained`` (``vllm/transformers_utils/config.py``
``get_config``), so every key a config class defaults is there even when ``config.json`` omits it:
Gemma 3's ``max_position_embeddings`` (131,072) and ``layer_types``, Falcon's ``multi_query``,
Gemma 2's alternating sliding layers. ``resolve`` gives the same view without network or PyTorch:
the config class of ``model_type`` (``trust_remote_code`` off: only classes transformers ships) is
built from the raw document and turned back into a dict, with the raw keys it does not keep added
back. Model types transformers does not know, or documents it refuses, fall back to the raw JSON.

The registry's own strict checks keep reading the raw document; only derived figures (context
length, KV heads, layer types …) read the resolved one.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from typing import Any

_MAX_CACHED = 512


def resolve(config: dict[str, Any] | None) -> dict[str, Any]:
    """The config with transformers' defaults filled in (the raw document when it cannot be)."""
    if not config:
        return config or {}
    kind = config.get("model_type")
    if not isinstance(kind, str) or not kind:
        return config
    try:
        text = json.dumps(config, sort_keys=True)
    except (TypeError, ValueError):
        return config
    resolved = _resolve_text(text)
    return dict(resolved) if resolved is not None else config


@lru_cache(maxsize=_MAX_CACHED)
def _resolve_text(text: str) -> dict[str, Any] | None:
    raw = json.loads(text)
    mapping = _config_mapping()
    if mapping is None or raw["model_type"] not in mapping:
        return None
    try:
        built = mapping[raw["model_type"]].from_dict(dict(raw)).to_dict()
    except Exception:  # a document the config class refuses: vLLM would fail too; keep the raw view
        return None
    return _merge(built, raw)


def _merge(built: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    out = dict(built)
    for key, value in raw.items():
        if key not in out:
            out[key] = value
        elif isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = _merge(out[key], value)
    return out


@lru_cache(maxsize=1)
def _config_mapping() -> Any:
    """transformers' ``CONFIG_MAPPING`` (model_type → config class), or None without transformers."""
    logging.getLogger("transformers").setLevel(logging.ERROR)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING
        from transformers.utils import logging as hf_logging
    except Exception:  # not installed or broken: raw JSON only
        return None
    hf_logging.set_verbosity_error()
    return CONFIG_MAPPING
