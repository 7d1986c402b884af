"""Serves the dashboard: ``/ui`` (the single page) and ``/ui/static/…`` (its modules and styles)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"

#: Sent with the page: every script, style, image and request stays on this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard routes to ``app`` (no API route changes)."""

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """A browser opening the registry's address lands on the dashboard."""
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/ui", include_in_schema=False)
    def dashboard_root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/ui/", include_in_schema=False)
    def dashboard_index() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "index.html",
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
