"""Quote user-supplied names (tensors, shards, imports) for one-line error messages (pure)."""

from __future__ import annotations

import json


def clean(value: str, limit: int = 200) -> str:
    """``value`` cut to ``limit`` characters with control characters escaped (never a line break)."""
    return json.dumps(value[:limit], ensure_ascii=False)[1:-1]
