"""``GET /models/{id}/card``: the model card's Markdown and the chat template of one version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from xerotier.api.deps import Caller, get_caller, get_rt
from xerotier.api.model_refs import model_id_of
from xerotier.api.schemas import error_responses
from xerotier.catalog.models.card import read_card
from xerotier.catalog.models.schemas import ModelCard

router = APIRouter(tags=["models"])


@router.get(
    "/models/{model_id}/card",
    response_model=ModelCard,
    responses=error_responses(400, 401, 404),
)
def model_card(model_id: str, request: Request, caller: Caller = Depends(get_caller)) -> dict[str, Any]:
    """``{"markdown", "truncated", "chatTemplate"}``: ``markdown`` is null when there is no README.md."""
    runtime = get_rt(request)
    card = read_card(runtime, caller.project_id, model_id_of(runtime, caller.project_id, model_id))
    return {"markdown": card.markdown, "truncated": card.truncated, "chatTemplate": card.chat_template}
