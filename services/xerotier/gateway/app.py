"""The gateway: composes every service's router into one API under ``/v1`` and ``/{projectId}/v1``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from xerotier.catalog.endpoints.routes import router as endpoints_router
from xerotier.catalog.labels.routes import router as labels_router
from xerotier.catalog.models.card_routes import router as card_router
from xerotier.catalog.models.routes import router as catalog_router
from xerotier.catalog.public.routes import router as public_catalog_router
from xerotier.catalog.sharing.routes import router as sharing_router
from xerotier.catalog.versions.routes import router as versions_router
from xerotier.dashboard.mount import install_dashboard
from xerotier.db.migrate import ensure_migrated
from xerotier.download.routes import router as download_router
from xerotier.gateway.api_docs import install_api_docs
from xerotier.gateway.body_limit import LimitRequestBody
from xerotier.gateway.errors import install_error_handlers
from xerotier.gateway.health import router as health_router
from xerotier.gateway.keys_routes import router as keys_router
from xerotier.gateway.model_paths import EncodedModelSegment
from xerotier.gateway.observability import install_observability
from xerotier.gateway.openapi import install_openapi
from xerotier.hub.routes import router as hub_router
from xerotier.loading.routes import router as loading_router
from xerotier.router.routes import router as openai_router
from xerotier.runtime import Runtime, get_runtime
from xerotier.upload.event_routes import router as upload_events_router
from xerotier.upload.routes import router as upload_router

#: Every service router, mounted under both base paths.
SERVICE_ROUTERS: list[APIRouter] = [
    upload_router,
    download_router,
    upload_events_router,
    catalog_router,
    versions_router,
    labels_router,
    sharing_router,
    public_catalog_router,
    endpoints_router,
    loading_router,
    keys_router,
    card_router,
    openai_router,  # the OpenAI-compatible front door (also runnable alone: ``xerotier router``)
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
        try:
            yield
        finally:
            client = getattr(app.state, "router_http", None)
            if client is not None:
                await client.aclose()

    # /docs and /redoc are served offline by install_api_docs (no CDN)
    app = FastAPI(
        title="Xerotier model registry", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    install_error_handlers(app)
    install_observability(app)
    app.add_middleware(EncodedModelSegment)  # outermost: before any routing
    # outermost: a body too large is answered before any other middleware or route reads it
    app.add_middleware(LimitRequestBody, limit_of=lambda scope: _body_limit(scope, runtime))
    app.include_router(health_router)
    for router in SERVICE_ROUTERS:
        app.include_router(router, prefix="/v1")
        app.include_router(router, prefix="/{project_id}/v1")
    # the Hugging Face Hub protocol, at the root (HF_ENDPOINT): its own error format (what
    # huggingface_hub parses), documented in docs/downloads.md rather than in the registry's OpenAPI
    app.include_router(hub_router, include_in_schema=False)
    install_dashboard(app)
    install_openapi(app)
    install_api_docs(app)
    return app
