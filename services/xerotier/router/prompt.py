"""Prompt accounting (pure but for the tokenizer library): chat templates and token counts.

Chat messages are rendered through the model's ``chatTemplate`` in a Jinja2 sandbox the way
transformers renders them (``apply_chat_template``: trim_blocks, lstrip_blocks, ``raise_exception``,
``tojson``), then counted with the model's own ``tokenizer.json`` (the ``tokenizers`` library).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from xerotier.errors import InvalidInput


class TemplateRefused(InvalidInput):
    """The chat template raised (e.g. roles that do not alternate)."""


def _raise(message: str) -> None:
    raise TemplateRefused(f"The model's chat template refused the messages: {message}")


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


@lru_cache(maxsize=64)
def _compiled(template: str) -> Any:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )
    env.filters["tojson"] = lambda value, indent=None, **_: json.dumps(
        value, ensure_ascii=False, indent=indent
    )
    env.globals["raise_exception"] = _raise
    return env.from_string(template)


def render_chat(template: str, messages: list[dict[str, Any]], special_tokens: dict[str, str | None]) -> str:
    """The text the engine will see for ``messages`` (with the generation prompt)."""
    try:
        return str(
            _compiled(template).render(messages=messages, add_generation_prompt=True, **special_tokens)
        )
    except TemplateRefused:
        raise
    except TemplateError as exc:
        raise InvalidInput(f"The model's chat template cannot render these messages: {exc}") from None


def text_of_messages(messages: list[dict[str, Any]]) -> str:
    """A model without a template: its messages' text, one per line (a lower bound for counting)."""
    return "\n".join(str(m.get("content") or "") for m in messages)


def tokenizer_from_json(text: str) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_str(text)


def count_tokens(tokenizer: Any, text: str, *, add_special_tokens: bool) -> int:
    return len(tokenizer.encode(text, add_special_tokens=add_special_tokens).ids)


def special_tokens_of(tokenizer_config: dict[str, Any] | None) -> dict[str, str | None]:
    """``bos_token`` / ``eos_token`` as templates use them (strings or AddedToken documents)."""
    out: dict[str, str | None] = {}
    for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
        value = (tokenizer_config or {}).get(key)
        if isinstance(value, dict):
            value = value.get("content")
        out[key] = value if isinstance(value, str) else None
    return out
