"""Metadata from the small documents next to the weights (pure: takes their parsed contents).

* license — model-card (README.md) front matter, parsed by huggingface_hub ``ModelCard``
  (``repocard.py``: YAML block, ``license`` plus ``license_name`` when it is ``other``; loading.md §7).
* chat template — ``chat_template.jinja``, else ``chat_template.json``, else ``tokenizer_config.json``
  (a string or a list of named templates, transformers' layout); it must parse as Jinja2.
* generation defaults — ``generation_config.json`` ``temperature`` / ``top_p``.
* a suggested workload type (the seed's chat, code, reasoning, embedding, multilingual).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

from xerotier.checkpoint import config_fields
from xerotier.errors import ValidationFailed

MAX_CARD_CHARS = 1_000_000
MULTILINGUAL_LANGUAGES = 10


@dataclass
class CardData:
    license: str | None = None
    tags: list[str] = field(default_factory=list)
    pipeline_tag: str | None = None
    library_name: str | None = None
    languages: list[str] = field(default_factory=list)
    error: str | None = None


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def model_card(text: str) -> CardData:
    """The model card's front matter; a card without one (DeepSeek) has an unknown license."""
    from huggingface_hub import ModelCard

    logging.getLogger("huggingface_hub.repocard").setLevel(logging.ERROR)
    try:
        data = ModelCard(text[:MAX_CARD_CHARS], ignore_metadata_errors=True).data.to_dict()
    except Exception as exc:  # YAML errors, a non-mapping block
        return CardData(error=f"README.md: model card front matter is unreadable ({type(exc).__name__})")
    license_ = data.get("license")
    if isinstance(license_, list):
        license_ = license_[0] if license_ and isinstance(license_[0], str) else None
    if license_ == "other" and isinstance(data.get("license_name"), str):
        license_ = data["license_name"]
    return CardData(
        license=license_[:200] if isinstance(license_, str) else None,
        tags=[t.lower() for t in _strings(data.get("tags"))],
        pipeline_tag=data.get("pipeline_tag") if isinstance(data.get("pipeline_tag"), str) else None,
        library_name=data.get("library_name") if isinstance(data.get("library_name"), str) else None,
        languages=_strings(data.get("language")),
    )


class _GenerationTag(Extension):
    """transformers' ``{% generation %}…{% endgeneration %}`` block (AssistantTracker)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body).set_lineno(lineno)


def _environment() -> ImmutableSandboxedEnvironment:
    # transformers renders chat templates with loopcontrols and its generation tag
    return ImmutableSandboxedEnvironment(extensions=["jinja2.ext.loopcontrols", _GenerationTag])


#: Real chat templates are a few KiB (tool-calling ones up to ~50 KiB); parsing costs about 7 s/MB.
MAX_CHAT_TEMPLATE_BYTES = 256 * 1024


def check_template(template: str, file: str) -> str:
    """Return ``template`` if it parses as Jinja2, else a validation error naming the file and line."""
    size = len(template.encode("utf-8", "surrogatepass"))
    if size > MAX_CHAT_TEMPLATE_BYTES:
        raise ValidationFailed(
            f"{file}: chat template is {size} bytes, more than the {MAX_CHAT_TEMPLATE_BYTES}-byte limit"
        )
    try:
        _environment().parse(template)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(
            f"{file}: chat template is not valid Jinja2 ({exc.message} at line {exc.lineno})"
        ) from None
    except RecursionError:
        raise ValidationFailed(f"{file}: chat template nests too deeply") from None
    return template


def template_from_tokenizer_config(doc: dict[str, Any]) -> str | None:
    value = doc.get("chat_template")
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # [{"name": "default", "template": …}, {"name": "tool_use", …}]
        named = {t.get("name"): t.get("template") for t in value if isinstance(t, dict)}
        chosen = named.get("default") or next(iter(named.values()), None)
        return chosen if isinstance(chosen, str) else None
    if value is not None:
        raise ValidationFailed("tokenizer_config.json: chat_template must be a string or a list of templates")
    return None


def generation_defaults(doc: dict[str, Any]) -> tuple[float | None, float | None]:
    """(temperature, top_p) of ``generation_config.json``, each checked for range."""
    values: list[float | None] = []
    for key, low, high in (("temperature", 0.0, None), ("top_p", 0.0, 1.0)):
        value = doc.get(key)
        if value is None:
            values.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationFailed(
                f"generation_config.json: {key} must be a number, not {type(value).__name__}"
            )
        if value < low or (high is not None and value > high) or (key == "top_p" and value == 0):
            bound = f"in (0, {high:g}]" if key == "top_p" else "non-negative"
            raise ValidationFailed(f"generation_config.json: {key} must be {bound}, not {value}")
        values.append(float(value))
    return values[0], values[1]


_CODE_PREFIXES = ("code", "coder", "starcoder", "codestral", "codegen", "codellama")
_REASONING_WORDS = frozenset({"r1", "qwq", "reasoning", "thinking", "reasoner", "o1"})


def suggest_workload(
    *,
    name: str,
    config: dict[str, Any] | None,
    card: CardData,
    sentence_transformers: bool,
    chat_template: str | None,
) -> tuple[str, str]:
    """(workloadType, why) for a model whose client named none; ``chat`` is the seed's default."""
    archs = config_fields.architectures(config or {})
    text = " ".join([name, *card.tags, *archs, str((config or {}).get("model_type") or "")])
    words = re.findall(r"[a-z0-9]+", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).lower())
    if sentence_transformers or card.library_name == "sentence-transformers":
        return "embedding", "sentence-transformers model"
    if card.pipeline_tag in ("feature-extraction", "sentence-similarity"):
        return "embedding", f"pipeline_tag {card.pipeline_tag}"
    if archs and all(a.endswith("Model") and "For" not in a for a in archs):
        return "embedding", f"encoder without a head ({archs[0]})"
    if any(w.startswith(_CODE_PREFIXES) for w in words):
        return "code", "a code model by name or tags"
    if _REASONING_WORDS.intersection(words) or (chat_template and "<think>" in chat_template):
        return "reasoning", "a reasoning model by name, tags or a <think> chat template"
    if "multilingual" in words or len(card.languages) >= MULTILINGUAL_LANGUAGES:
        return "multilingual", f"model card lists {len(card.languages)} languages"
    return "chat", "default"
