"""`/docs` and `/redoc` on a real `xerotier up` load every asset from the registry itself (no CDN)."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_everything_from_the_registry(embedded, page):
    with httpx.Client(base_url=embedded.url, timeout=30) as client:
        html = client.get(page)
        assert html.status_code == 200 and "text/html" in html.headers["content-type"]
        refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html.text)
        refs += re.findall(r"""(?:url|spec-url)\s*:\s*["']([^"']+)["']""", html.text)
        assert refs, html.text
        assert not [r for r in refs if re.match(r"(https?:)?//", r)], refs  # nothing from another host
        assert "/openapi.json" in html.text
        for ref in refs:
            asset = client.get(ref)
            assert asset.status_code == 200, ref
        scripts = [r for r in refs if r.endswith(".js")]
        assert scripts and all(len(client.get(s).content) > 100_000 for s in scripts)  # the real bundles
        assert client.get("/openapi.json").json()["info"]["title"] == "Xerotier model registry"


def test_root_leads_to_the_dashboard(embedded):
    with httpx.Client(base_url=embedded.url, timeout=30) as client:
        root = client.get("/")
        assert root.status_code in (302, 307) and root.headers["location"] == "/ui/"
        assert client.get("/", follow_redirects=True).status_code == 200
