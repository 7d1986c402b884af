// Models page: search and filters over GET /models, status badges refreshed live.
import { get, query } from "../api.js";
import { badge, field, h, select, table } from "../dom.js";
import { byNameThenNewest, formatBytes, formatContext, formatParameters } from "../format.js";

const STATUSES = ["", "uploading", "validating", "ready", "active", "error"];
const WORKLOADS = ["", "chat", "code", "reasoning", "embedding", "multilingual"];
const IN_FLIGHT = new Set(["uploading", "validating"]);

export async function modelsPage(ui) {
  const filters = {
    namePrefix: h("input", { type: "search", name: "namePrefix", placeholder: "name starts with…" }),
    status: select("status", STATUSES.map((s) => [s, s || "any"]), ""),
    architecture: h("input", { type: "text", name: "architecture", placeholder: "e.g. llama" }),
    workloadType: select("workloadType", WORKLOADS.map((w) => [w, w || "any"]), ""),
    allVersions: h("input", { type: "checkbox", name: "allVersions" }),
  };
  const results = h("div", { class: "results" });
  const live = h("p", { class: "hint", "aria-live": "off" });
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter models" },
    field("Search", filters.namePrefix),
    field("Status", filters.status),
    field("Architecture", filters.architecture),
    field("Workload type", filters.workloadType),
    field("All versions", filters.allVersions),
    h("button", { type: "submit" }, "Apply"),
  );
  let cursor = null;
  let pages = [];
  let shown = "";

  const params = () => ({
    namePrefix: filters.namePrefix.value.trim(),
    status: filters.status.value,
    architecture: filters.architecture.value.trim(),
    workloadType: filters.workloadType.value,
    allVersions: filters.allVersions.checked ? "true" : "",
    limit: 50,
  });

  async function load() {
    const page = await get(`/models${query({ ...params(), cursor })}`);
    // All versions: each name's versions by precedence, newest first (the API pages by name and id).
    const rows = filters.allVersions.checked ? byNameThenNewest(page.models) : page.models;
    // Redraw only when something changed, so a refresh never steals the keyboard focus.
    const signature = JSON.stringify([cursor, pages.length, page]);
    if (signature === shown) return;
    shown = signature;
    results.replaceChildren(
      table(
        "Models",
        [
          ["Name", (m) => h("a", { href: `#/models/${m.id}` }, m.name)],
          ["Version", (m) => [m.version, m.isLatest ? h("span", { class: "tag" }, " latest") : null]],
          ["Status", (m) => badge(m.status)],
          ["Architecture", (m) => m.architecture ?? "—"],
          ["Parameters", (m) => formatParameters(m.parameterCount)],
          ["Context", (m) => formatContext(m.contextLength)],
          ["Size", (m) => formatBytes(m.sizeBytes)],
          ["Shared", (m) => (m.isShared ? "shared" : "private")],
          ["Versions", (m) => h("a", { href: `#/models/${m.id}/versions` }, "versions")],
        ],
        rows,
        { id: "models-table" },
      ),
      h(
        "div",
        { class: "pager" },
        pages.length
          ? h("button", { type: "button", onclick: () => ((cursor = pages.pop()), load()) }, "Previous page")
          : null,
        page.nextCursor
          ? h(
              "button",
              { type: "button", onclick: () => (pages.push(cursor), (cursor = page.nextCursor), load()) },
              "Next page",
            )
          : null,
      ),
    );
    const busy = rows.filter((m) => IN_FLIGHT.has(m.status)).length;
    live.textContent = busy
      ? `${busy} model(s) in flight: statuses refresh every 2 s.`
      : "Statuses refresh every 5 s.";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    cursor = null;
    pages = [];
    load().catch(ui.error);
  });
  ui.render(h("h1", {}, "Models"), form, live, results);
  await load();
  let tick = 0;
  ui.every(1000, () => {
    tick += 1;
    const busy = results.querySelector(".badge-uploading, .badge-validating");
    if (busy || tick % 5 === 0) load().catch(ui.error);
  });
}
