"""The router on its own (``xerotier router``): the OpenAI-compatible routes without the registry API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from xerotier.db.migrate import ensure_migrated
from xerotier.gateway.errors import install_error_handlers
from xerotier.gateway.health import router as health_router
from xerotier.router.routes import router
from xerotier.runtime import Runtime, get_runtime


def create_router_app(runtime: Runtime | None = None) -> FastAPI:
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

    app = FastAPI(title="Xerotier router", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(router, prefix="/v1")
    app.include_router(router, prefix="/{project_id}/v1")
    return app
