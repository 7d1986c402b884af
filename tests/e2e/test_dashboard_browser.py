"""The dashboard in a real headless Chromium against a real `xerotier up`: every page, every action
of the issue (sign in, live status, promote/rollback, lineage and history, share and catalog, keys)."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest
from playwright.sync_api import expect

from support.agent_process import start_agent
from support.browser import chromium_page, screenshot
from support.processes import wait_for_status
from xerotier.settings import Settings

pytestmark = pytest.mark.e2e
WAIT = 60_000  # ms: validation in the embedded worker


def test_dashboard_drives_the_registry_end_to_end(embedded, tiny_checkpoint):
    api = httpx.Client(base_url=embedded.url, headers={"Authorization": f"Bearer {embedded.api_key}"})
    with api, chromium_page() as page:
        # ---- sign in: a wrong key is refused with the API's message, the right one gets in
        page.goto(f"{embedded.url}/ui/")
        page.get_by_label("API key").fill("xero_default_wrong")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#status")).to_contain_text("Sign-in failed")
        screenshot(page, "01-sign-in")
        page.get_by_label("API key").fill(embedded.api_key)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Models")).to_be_visible()
        assert page.evaluate("sessionStorage.getItem('xerotier.apiKey')") == embedded.api_key
        assert page.evaluate("localStorage.length") == 0  # kept in the browser session only

        # ---- upload through the API while the page is open: uploading → ready, live
        model = api.post("/v1/models", json={"name": "tiny-ui"}).json()
        files = sorted(p for p in tiny_checkpoint.iterdir() if p.is_file())
        for path in files:
            sent = api.put(f"/v1/models/{model['id']}/files/{path.name}", content=path.read_bytes())
            assert sent.is_success
        row = page.locator("#models-table tbody tr", has_text="tiny-ui")
        expect(row.locator("[data-status=uploading]")).to_be_visible(timeout=WAIT)
        assert api.post(f"/v1/models/{model['id']}/complete").status_code == 202
        expect(row.locator("[data-status=ready]")).to_be_visible(timeout=WAIT)  # no reload
        screenshot(page, "02-models")

        # ---- model page: readable metadata, files with sha256, lifecycle timeline
        row.get_by_role("link", name="tiny-ui").click()
        expect(page.get_by_role("heading", name=re.compile("tiny-ui"))).to_be_visible()
        facts = page.locator("dl.facts")
        expect(facts).to_contain_text("4 k")  # context 4096
        weights = next(p for p in files if p.suffix == ".safetensors")
        expect(page.locator("code.sha").first).to_be_visible()
        expect(page.get_by_text(hashlib.sha256(weights.read_bytes()).hexdigest())).to_be_visible()
        timeline = page.get_by_role("list", name="Lifecycle timeline")
        expect(timeline).to_contain_text("validating → ready")
        page.get_by_label("GPU").select_option("L4")
        page.get_by_role("button", name="Plan a load").click()
        weights_bar = page.locator(".memory .bar .seg-weights")
        expect(weights_bar).to_have_count(1)
        assert weights_bar.evaluate("el => el.style.width").endswith("%")
        expect(page.locator(".memory figcaption")).to_contain_text("KV cache")
        screenshot(page, "03-model")

        # ---- versions: create 2.0.0 from the UI, watch it become ready, promote, roll back
        page.get_by_role("link", name="Versions", exact=True).click()
        expect(page.get_by_role("heading", name="Versions of tiny-ui")).to_be_visible()
        page.get_by_label("New version").fill("2.0.0")
        page.get_by_label("Notes").fill("from the browser")
        page.get_by_role("button", name="Create version").click()
        versions = page.locator("#versions-table tbody tr")
        expect(versions).to_have_count(2)
        new_row = versions.filter(has_text="from the browser")
        expect(new_row.locator("[data-status=ready]")).to_be_visible(timeout=WAIT)
        edge = page.locator('svg.lineage path.edge[data-from="1.0.0"][data-to="2.0.0"]')
        expect(edge).to_have_count(1)  # drawn from parentVersionId
        expect(page.locator('svg.lineage g.latest[data-version="1.0.0"]')).to_have_count(1)
        history = page.locator("#history-table tbody")
        expect(history).to_contain_text("first-ready")

        page.get_by_role("button", name="Promote 2.0.0").click()
        expect(page.locator("#confirm")).to_be_visible()
        page.get_by_role("button", name="Cancel").click()  # cancelling changes nothing
        assert api.get(f"/v1/models/{model['id']}").json()["isLatest"] is True
        page.get_by_role("button", name="Promote 2.0.0").click()
        page.locator("#confirm-ok").click()
        expect(page.locator('svg.lineage g.latest[data-version="2.0.0"]')).to_have_count(1)
        expect(history.locator("tr").first).to_contain_text("promote")
        expect(history.locator("tr").first).to_contain_text("2.0.0")
        screenshot(page, "04-versions-promoted")
        listed = api.get(f"/v1/models/{model['id']}/versions").json()["versions"]
        latest = [v for v in listed if v["isLatest"]]
        assert [v["version"] for v in latest] == ["2.0.0"]

        page.get_by_role("button", name="Roll back to 1.0.0").click()
        page.locator("#confirm-ok").click()
        expect(page.locator('svg.lineage g.latest[data-version="1.0.0"]')).to_have_count(1)
        expect(history.locator("tr").first).to_contain_text("rollback")
        kinds = [e["kind"] for e in api.get(f"/v1/models/{model['id']}/versions/history").json()["history"]]
        assert kinds[:2] == ["rollback", "promote"]

        page.get_by_label("From", exact=True).select_option("1.0.0")
        page.get_by_label("To", exact=True).select_option("2.0.0")
        page.get_by_role("button", name="Show diff").click()
        expect(page.locator(".diff")).to_contain_text("Diff 1.0.0 → 2.0.0")
        expect(page.locator(".diff")).to_contain_text(f"{len(files)} file(s) unchanged")  # copied files
        screenshot(page, "05-versions-diff")

        # ---- share from the model page, then find it in the catalog with filters
        page.get_by_role("link", name="Back to the model").click()
        page.get_by_role("button", name="Share").click()
        page.locator("#confirm-ok").click()
        expect(page.locator("#status")).to_contain_text("shared in the catalog")
        assert api.get(f"/v1/models/{model['id']}").json()["isShared"] is True
        page.get_by_role("link", name="Catalog").click()
        page.get_by_label("Workload type").select_option("code")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("#catalog-table tbody")).to_contain_text("Nothing here yet.")
        page.get_by_label("Workload type").select_option("chat")
        page.get_by_label("Architecture").fill("llama")
        page.get_by_label("Size").select_option("small")
        page.get_by_role("button", name="Apply").click()
        shared = page.locator("#catalog-table tbody tr", has_text="tiny-ui")
        expect(shared).to_have_count(1)
        screenshot(page, "06-catalog")

        # ---- an endpoint from the catalog, on the endpoints page
        shared.get_by_role("button", name="Create endpoint for tiny-ui").click()
        page.locator("#confirm-ok").click()
        expect(page.get_by_role("heading", name="Endpoints and backends")).to_be_visible()
        expect(page.locator("#endpoints-table tbody tr", has_text="tiny-ui")).to_have_count(1)
        assert [e["modelName"] for e in api.get("/v1/endpoints").json()["endpoints"]] == ["tiny-ui"]
        screenshot(page, "07-endpoints")

        # ---- unshare from the model page: the catalog no longer lists it
        page.goto(f"{embedded.url}/ui/#/models/{model['id']}")
        page.get_by_role("button", name="Unshare").click()
        page.locator("#confirm-ok").click()
        expect(page.locator("#status")).to_contain_text("unshared")
        assert api.get(f"/v1/models/{model['id']}").json()["isShared"] is False
        page.get_by_role("link", name="Catalog").click()
        expect(page.locator("#catalog-table tbody")).to_contain_text("Nothing here yet.")

        # ---- keys: mint one (shown once), use it, revoke it
        page.get_by_role("link", name="Keys").click()
        page.get_by_label("Key name").fill("browser")
        page.get_by_role("button", name="Mint key").click()
        secret = page.locator("#minted-key").input_value()
        assert secret.startswith("xero_default_") and secret != embedded.api_key
        screenshot(page, "08-keys-minted")
        used = httpx.get(f"{embedded.url}/v1/models", headers={"Authorization": f"Bearer {secret}"})
        assert used.status_code == 200 and "tiny-ui" in used.text
        page.reload()
        expect(page.locator("#keys-table tbody tr", has_text="browser")).to_have_count(1)
        assert secret not in page.content()  # never listed again
        page.get_by_role("button", name="Revoke browser").click()
        page.locator("#confirm-ok").click()
        expect(page.locator("#keys-table tbody tr", has_text="browser")).not_to_contain_text("Revoke")
        refused = httpx.get(f"{embedded.url}/v1/models", headers={"Authorization": f"Bearer {secret}"})
        assert refused.status_code == 401
        screenshot(page, "09-keys-revoked")

        # ---- formatting of the seed's example figures, by the page's own module
        figures = page.evaluate(
            """async () => {
                const f = await import('/ui/static/format.js');
                return [f.formatParameters(8030261248), f.formatContext(131072), f.formatBytes(16060522496)];
            }"""
        )
        assert figures == ["8.03 B", "128 k", "16.1 GB"]
        assert page.errors == []  # type: ignore[attr-defined]


def tab_to(page, target, presses: int = 60) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until ``target`` has the focus (fails if it is not reachable by keyboard)."""
    for _ in range(presses):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError("not reachable with the Tab key")


def test_keyboard_only_sign_in_and_navigation(embedded):
    with chromium_page() as page:
        page.goto(f"{embedded.url}/ui/")
        expect(page.get_by_label("API key")).to_be_focused()
        page.keyboard.type(embedded.api_key)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Models")).to_be_visible()
        tab_to(page, page.get_by_role("link", name="Skip to content"))
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
        tab_to(page, page.get_by_role("link", name="Keys"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="API keys")).to_be_visible()
        expect(page.get_by_role("link", name="Keys")).to_have_attribute("aria-current", "page")
        # every form control has a label
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select')]
                .filter((el) => !el.labels || el.labels.length === 0).length"""
        )
        assert unlabelled == 0
        assert page.errors == []  # type: ignore[attr-defined]


def test_backends_page_draws_each_load_plan_as_a_memory_bar(embedded, tiny_checkpoint, tmp_path):
    """A real CPU agent on the embedded registry loads an endpoint; the page shows where and how."""
    agent = start_agent(  # the load check: this page shows the plan, not inference
        Settings(data_dir=tmp_path / "embedded"),
        "cpu-ui",
        ["--device", "cpu", "--engine", "builtin"],
        tmp_path / "a.log",
    )
    api = httpx.Client(base_url=embedded.url, headers={"Authorization": f"Bearer {embedded.api_key}"})
    try:
        with api, chromium_page() as page:
            model = api.post("/v1/models", json={"name": "tiny-load"}).json()
            for path in sorted(tiny_checkpoint.iterdir()):
                assert api.put(
                    f"/v1/models/{model['id']}/files/{path.name}", content=path.read_bytes()
                ).is_success
            assert api.post(f"/v1/models/{model['id']}/complete").status_code == 202
            assert wait_for_status(api, model["id"], {"ready", "error"})["status"] == "ready"
            created = api.post("/v1/endpoints", json={"modelId": model["id"], "tier": "self_hosted"})
            assert created.status_code == 201, created.text

            page.goto(f"{embedded.url}/ui/")
            page.get_by_label("API key").fill(embedded.api_key)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Endpoints & backends").click()
            backend = page.get_by_role("region", name="Backend cpu-ui")
            expect(backend).to_be_visible()
            row = page.locator("#endpoints-table tbody tr", has_text="tiny-load")
            expect(row.locator("[data-status=serving]")).to_be_visible(timeout=WAIT)  # live refresh
            load = backend.locator(".load", has_text="tiny-load")
            expect(load).to_have_count(1)
            loaded = api.get("/v1/backends/cpu-ui").json()["loads"][0]["plan"]["memory"]
            bar = load.locator(".bar")
            for key in ("weights", "kv", "reserve", "free"):
                expect(bar.locator(f".seg-{key}")).to_have_count(1)
            widths = bar.evaluate("b => [...b.children].map((s) => parseFloat(s.style.width))")
            assert abs(sum(widths) - 100) < 0.5
            assert widths[0] == pytest.approx(100 * loaded["weightsBytes"] / loaded["totalBytes"], abs=0.1)
            screenshot(page, "10-backends")
            assert page.errors == []  # type: ignore[attr-defined]
    finally:
        agent.stop()


def test_filters_and_the_full_validation_error(embedded, tiny_checkpoint, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_bytes((tiny_checkpoint / "config.json").read_bytes())
    header = b'{"w": {"dtype": "F16", "shape": [4, 4], "data_offsets": [0, 999999]}}'
    (broken / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 32)
    api = httpx.Client(base_url=embedded.url, headers={"Authorization": f"Bearer {embedded.api_key}"})
    with api, chromium_page() as page:
        ids = {}
        for name, folder in (("good-one", tiny_checkpoint), ("broken-one", broken)):
            model = api.post("/v1/models", json={"name": name}).json()
            for path in sorted(folder.iterdir()):
                sent = api.put(f"/v1/models/{model['id']}/files/{path.name}", content=path.read_bytes())
                assert sent.is_success
            assert api.post(f"/v1/models/{model['id']}/complete").status_code == 202
            ids[name] = model["id"]
        failed = wait_for_status(api, ids["broken-one"], {"ready", "error"})
        assert failed["status"] == "error" and failed["validationError"]
        assert wait_for_status(api, ids["good-one"], {"ready", "error"})["status"] == "ready"

        page.goto(f"{embedded.url}/ui/")
        page.get_by_label("API key").fill(embedded.api_key)
        page.get_by_role("button", name="Sign in").click()
        table = page.locator("#models-table tbody")
        expect(table.locator("tr")).to_have_count(2)
        page.get_by_label("Status").select_option("error")
        page.get_by_role("button", name="Apply").click()
        expect(table.locator("tr")).to_have_count(1)
        expect(table).to_contain_text("broken-one")
        page.get_by_label("Status").select_option("")
        page.get_by_label("Search").fill("good")
        page.get_by_role("button", name="Apply").click()
        expect(table.locator("tr")).to_have_count(1)
        expect(table).to_contain_text("good-one")

        page.goto(f"{embedded.url}/ui/#/models/{ids['broken-one']}")
        shown = page.get_by_role("alert").locator("pre")
        expect(shown).to_have_text(failed["validationError"])  # in full, not truncated
        expect(page.get_by_role("list", name="Lifecycle timeline")).to_contain_text("validating → error")
        screenshot(page, "11-validation-error")
        assert page.errors == []  # type: ignore[attr-defined]


# ---- the newcomer's bugs, each fixed and covered -------------------------------------------------


def sign_in(page, embedded) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("API key").fill(embedded.api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Models")).to_be_visible()


def upload_folder(api: httpx.Client, folder, name: str, version: str | None = None) -> str:  # type: ignore[no-untyped-def]
    body = {"name": name} | ({"version": version} if version else {})
    model = api.post("/v1/models", json=body).json()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        assert api.put(f"/v1/models/{model['id']}/files/{path.name}", content=path.read_bytes()).is_success
    assert api.post(f"/v1/models/{model['id']}/complete").status_code == 202
    return model["id"]


def test_signed_out_shows_no_navigation_and_the_root_leads_to_the_dashboard(embedded):
    with chromium_page() as page:
        page.goto(f"{embedded.url}/")  # the registry's address itself
        assert page.url == f"{embedded.url}/ui/"
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator("#nav")).to_be_hidden()
        expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
        expect(page.get_by_role("link", name="Keys")).to_have_count(0)  # hidden links are not links
        sign_in(page, embedded)
        expect(page.locator("#nav")).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator("#nav")).to_be_hidden()
        expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
        assert page.errors == []  # type: ignore[attr-defined]


CARD = """---
license: apache-2.0
tags: [chat]
---
# Tiny chat

A **tiny** model for _tests_. See [the paper](https://example.org/paper) or [this](javascript:alert(1)).

<script>window.pwned = true</script><img src=x onerror="window.pwned = true">

- first point
- second point

```python
print("hello")
```
"""
TEMPLATE = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"


def test_model_page_renders_the_card_and_template_and_offers_nothing_unservable(
    embedded, tiny_checkpoint, tmp_path
):
    import json

    (tiny_checkpoint / "README.md").write_text(CARD)
    (tiny_checkpoint / "tokenizer_config.json").write_text(json.dumps({"chat_template": TEMPLATE}))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    (broken / "model.safetensors").write_bytes((tiny_checkpoint / "model.safetensors").read_bytes())
    api = httpx.Client(base_url=embedded.url, headers={"Authorization": f"Bearer {embedded.api_key}"})
    with api, chromium_page() as page:
        good = upload_folder(api, tiny_checkpoint, "tiny-card")
        bad = upload_folder(api, broken, "tiny-broken")
        assert wait_for_status(api, good, {"ready", "error"})["status"] == "ready"
        assert wait_for_status(api, bad, {"ready", "error"})["status"] == "error"
        page.goto(f"{embedded.url}/ui/")
        sign_in(page, embedded)

        page.goto(f"{embedded.url}/ui/#/models/{good}")
        card = page.locator("#model-card .card-body")
        expect(card.get_by_role("heading", name="Tiny chat")).to_be_visible()
        expect(card.locator("strong")).to_have_text("tiny")
        expect(card.locator("li")).to_have_count(2)
        expect(card.locator("pre code")).to_have_text('print("hello")')
        expect(card.get_by_role("link", name="the paper")).to_have_attribute(
            "href", "https://example.org/paper"
        )
        assert card.locator("a[href^=javascript]").count() == 0  # unsafe link kept as text
        assert card.locator("script, img").count() == 0  # raw HTML shown as text, never run
        expect(card).to_contain_text("<script>window.pwned = true</script>")
        expect(card).not_to_contain_text("license: apache-2.0")  # front matter left out
        assert page.evaluate("window.pwned === undefined")
        expect(page.locator("#chat-template")).to_have_text(TEMPLATE)
        expect(page.get_by_role("button", name="Share")).to_be_visible()
        expect(page.get_by_role("button", name="Plan a load")).to_be_visible()
        screenshot(page, "12-model-card")

        page.goto(f"{embedded.url}/ui/#/models/{bad}")
        expect(page.get_by_role("heading", name=re.compile("tiny-broken"))).to_be_visible()
        expect(page.locator("#not-servable")).to_contain_text("error")
        for action in ("Share", "Create endpoint", "Plan a load"):
            expect(page.get_by_role("button", name=action)).to_have_count(0)
        expect(page.get_by_role("button", name="Revalidate")).to_be_visible()
        expect(page.get_by_text("No model card")).to_be_visible()
        assert page.errors == []  # type: ignore[attr-defined]


def test_versions_in_semver_order_pending_promotion_and_a_420_px_screen(embedded, tiny_checkpoint):
    api = httpx.Client(base_url=embedded.url, headers={"Authorization": f"Bearer {embedded.api_key}"})
    with api, chromium_page(width=420, height=800) as page:
        first = upload_folder(api, tiny_checkpoint, "tiny-semver")
        assert wait_for_status(api, first, {"ready", "error"})["status"] == "ready"
        created = ["1.2.0", "1.10.0", "1.9.0", "2.0.0-rc.1", "1.2.1"]
        ids = {"1.0.0": first}
        for version in created:
            made = api.post(f"/v1/models/{first}/versions", json={"version": version})
            assert made.status_code == 201, made.text
            ids[version] = made.json()["id"]
        newest_first = ["2.0.0-rc.1", "1.10.0", "1.9.0", "1.2.1", "1.2.0", "1.0.0"]
        listed = api.get("/v1/models", params={"allVersions": "true", "limit": 50}).json()["models"]
        by_id = [v for v, _ in sorted(ids.items(), key=lambda kv: kv[1])]
        assert [m["version"] for m in listed] == by_id  # the API pages by (name, id): random order here

        page.goto(f"{embedded.url}/ui/")
        sign_in(page, embedded)
        page.get_by_label("All versions").check()
        page.get_by_role("button", name="Apply").click()
        rows = page.locator("#models-table tbody tr")
        expect(rows).to_have_count(6)
        shown = [r.split()[0] for r in rows.locator("td:nth-child(2)").all_inner_texts()]
        assert shown == newest_first

        # A pending promotion is shown on the versions page until it takes effect.
        pending = api.post(f"/v1/models/{first}/versions/1.10.0/promote")
        assert pending.status_code == 202 and pending.json()["promotion"] == "pending"
        page.goto(f"{embedded.url}/ui/#/models/{first}/versions")
        notice = page.locator("#pending-promotion")
        expect(notice).to_contain_text("1.10.0")
        expect(notice).to_contain_text("uploading")
        row = page.locator("#versions-table tbody tr", has_text="1.10.0")
        expect(row).to_contain_text("pending promote")
        fits(page)
        screenshot(page, "13-pending-promotion-420px")
        for path in sorted(p for p in tiny_checkpoint.iterdir() if p.is_file()):
            assert api.put(
                f"/v1/models/{ids['1.10.0']}/files/{path.name}", content=path.read_bytes()
            ).is_success
        assert api.post(f"/v1/models/{ids['1.10.0']}/complete").status_code == 202
        expect(notice).to_have_count(0, timeout=WAIT)  # applied: the page refreshed by itself
        expect(page.locator('svg.lineage g.latest[data-version="1.10.0"]')).to_have_count(1)
        expect(page.locator("#history-table tbody")).to_contain_text("1.10.0")

        # Every page fits 420 px: wide tables scroll inside their own box, never the page.
        for hash_ in (
            "#/models",
            f"#/models/{first}",
            f"#/models/{first}/versions",
            "#/catalog",
            "#/endpoints",
            "#/keys",
        ):
            page.goto(f"{embedded.url}/ui/{hash_}")
            expect(page.locator("main h1")).to_be_visible()
            fits(page)
        page.goto(f"{embedded.url}/ui/#/models")
        box = page.locator("#models-table").locator("xpath=..")
        expect(box).to_have_class("table-scroll")
        assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # the table is wider, and scrolls
        assert page.errors == []  # type: ignore[attr-defined]


def fits(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 420, f"{page.url} is {width} px wide"
