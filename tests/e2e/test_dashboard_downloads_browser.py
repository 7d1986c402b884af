"""The dashboard's download links, aliases and tags in a real headless Chromium against a real
``xerotier up``: a file saved from the model page is byte-identical; an alias and tags set from the
page show on the model and versions pages, and the alias move in the history."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from support.browser import chromium_page, screenshot

pytestmark = pytest.mark.e2e


def test_download_links_aliases_and_tags(embedded, tiny_checkpoint, tmp_path):
    api = httpx.Client(base_url=embedded.url, headers={"Authorization": f"Bearer {embedded.api_key}"})
    with api, chromium_page() as page:
        model = api.post("/v1/models", json={"name": "org/tiny-dl"}).json()
        files = sorted(p for p in tiny_checkpoint.iterdir() if p.is_file())
        for path in files:
            sent = api.put(f"/v1/models/{model['id']}/files/{path.name}", content=path.read_bytes())
            assert sent.is_success
        page.goto(f"{embedded.url}/ui/")
        page.get_by_label("API key").fill(embedded.api_key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Models")).to_be_visible()
        page.locator("#models-table tbody tr", has_text="org/tiny-dl").get_by_role("link").first.click()
        expect(page.get_by_role("heading", name=re.compile(r"org\/tiny-dl"))).to_be_visible()

        with page.expect_download() as info:
            page.get_by_role("button", name="Download config.json").click()
        saved = Path(tmp_path / "config.json")
        info.value.save_as(saved)
        assert saved.read_bytes() == (tiny_checkpoint / "config.json").read_bytes()

        page.get_by_label("Alias to this version").fill("champion")
        page.get_by_role("button", name="Set alias").click()
        expect(page.locator("#status")).to_contain_text("champion → 1.0.0")
        page.get_by_label("Tag key").fill("team")
        page.get_by_label("Tag value").fill("search")
        page.get_by_label("Tag on").select_option("model")
        page.get_by_role("button", name="Set tag").click()
        facts = page.locator("dl.facts")
        expect(facts).to_contain_text("champion")
        expect(facts).to_contain_text("team: search")
        screenshot(page, "downloads-01-model")

        page.get_by_role("link", name="Versions", exact=True).click()
        row = page.locator("#versions-table tbody tr", has_text="1.0.0")
        expect(row).to_contain_text("champion")
        expect(page.locator("#history-table tbody")).to_contain_text("alias-set champion")
        assert api.get("/v1/models/org%2Ftiny-dl@champion").json()["id"] == model["id"]
