"""The gateway: composes every service's router into one API under ``/v1`` and ``/{projectId}/v1``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from xerotier.api.pending_auth import KnownKeys
from xerotier.catalog.catalog_routes import router as public_catalog_router
from xerotier.catalog.endpoints_routes import router as endpoints_router
from xerotier.catalog.routes import router as catalog_router
from xerotier.catalog.sharing_routes import router as sharing_router
from xerotier.catalog.versions_routes import router as versions_router
from xerotier.dashboard.mount import install_dashboard
from xerotier.db.async_reads import AsyncReader, conninfo
from xerotier.db.engine import is_postgres
from xerotier.db.migrate import ensure_migrated
from xerotier.gateway.body_limit import LimitRequestBody
from xerotier.gateway.errors import install_error_handlers
from xerotier.gateway.health import router as health_router
from xerotier.gateway.keys_routes import router as keys_router
from xerotier.gateway.observability import install_observability
from xerotier.gateway.verified_answers import AnswerAfterVerification
from xerotier.loading.routes import router as loading_router
from xerotier.runtime import Runtime, get_runtime
from xerotier.upload.event_routes import router as upload_events_router
from xerotier.upload.routes import router as upload_router

#: Every service router, mounted under both base paths.
SERVICE_ROUTERS: list[APIRouter] = [
    upload_router,
    upload_events_router,
    catalog_router,
    versions_router,
    sharing_router,
    public_catalog_router,
    endpoints_router,
    loading_router,
    keys_router,
]


def _body_limit(scope: dict, runtime: Runtime | None) -> int:
    app = scope.get("app")
    rt = getattr(getattr(app, "state", None), "runtime", None) or runtime or get_runtime()
    return rt.settings.max_json_body_bytes


def create_app(runtime: Runtime | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or get_runtime()
        ensure_migrated(rt.engine)
        app.state.runtime = rt
        # PostgreSQL: API keys, model lists and catalog pages are read on the event loop (no thread
        # hop), and a GET with a key verified before does not wait for its verification to start
        postgres = is_postgres(rt.engine)
        url = rt.settings.resolved_database_url
        app.state.async_reader = AsyncReader(conninfo(url)) if postgres else None
        app.state.known_keys = KnownKeys() if postgres else None
        try:
            yield
        finally:
            if app.state.async_reader is not None:
                await app.state.async_reader.close()

    app = FastAPI(title="Xerotier model registry", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(AnswerAfterVerification)  # inside the observability middleware
    install_observability(app)
    # outermost: a body too large is answered before any other middleware or route reads it
    app.add_middleware(LimitRequestBody, limit_of=lambda scope: _body_limit(scope, runtime))
    app.include_router(health_router)
    for router in SERVICE_ROUTERS:
        app.include_router(router, prefix="/v1")
        app.include_router(router, prefix="/{project_id}/v1")
    install_dashboard(app)
    return app
