"""A version's model card (its root ``README.md``, front matter removed) and chat template, for reading.

Pure parts (``strip_front_matter``) apart from the read; the text is returned as text: whoever shows it
renders it (the dashboard builds DOM nodes from it, never HTML).
"""

from __future__ import annotations

import uuid
from contextlib import closing
from dataclasses import dataclass

from sqlalchemy import select

from xerotier.catalog.versions.promotion import owned
from xerotier.db.models import ModelFile
from xerotier.runtime import Runtime

CARD_PATH = "README.md"
MAX_CARD_BYTES = 256 * 1024  # a longer card is cut, and said so


@dataclass(frozen=True)
class Card:
    markdown: str | None
    truncated: bool
    chat_template: str | None


def strip_front_matter(text: str) -> str:
    """The card's body: the YAML front matter between ``---`` lines (licence, tags …) removed."""
    if text.startswith("---"):
        lines = text.splitlines(keepends=True)
        for i, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                return "".join(lines[i + 1 :]).lstrip("\n")
    return text


def read_card(runtime: Runtime, project_id: str, model_id: uuid.UUID) -> Card:
    with runtime.session_factory() as session:
        model = owned(session, model_id, project_id)
        sha = session.scalar(
            select(ModelFile.sha256).where(ModelFile.model_id == model_id, ModelFile.path == CARD_PATH)
        )
        template = model.chat_template
    if sha is None:
        return Card(None, False, template)
    with closing(runtime.blobs.open(sha)) as stream:
        raw = stream.read(MAX_CARD_BYTES + 1)
    text = raw[:MAX_CARD_BYTES].decode("utf-8", errors="replace")
    return Card(strip_front_matter(text), len(raw) > MAX_CARD_BYTES, template)
