"""Indexes of the sharing area (catalog keyset pages, live endpoints per model name).

The columns already exist (``models`` sharing fields, ``endpoints``); this module only adds the
indexes the catalog and the endpoint counts need, on the existing tables (migration 0006_sharing).
"""

from __future__ import annotations

from sqlalchemy import Index, text

from xerotier.db.models import Endpoint, Model

#: The catalog's keyset order: newest shared first, id as the tie-breaker; only shared rows.
CATALOG_INDEX = Index(
    "ix_models_catalog",
    Model.shared_at.desc(),
    Model.id.desc(),
    postgresql_where=text("is_shared"),
    sqlite_where=text("is_shared"),
)

#: Live endpoints of one model name (deployment counts, demotion).
LIVE_ENDPOINTS_INDEX = Index(
    "ix_endpoints_live_model",
    Endpoint.model_project_id,
    Endpoint.model_name,
    Endpoint.tier,
    postgresql_where=text("deleted_at IS NULL"),
    sqlite_where=text("deleted_at IS NULL"),
)
