// Catalog page: shared models of every project, filtered by workload, architecture, size, flags.
import { get, post, query } from "../api.js";
import { field, h, select, table } from "../dom.js";
import { formatBytes, formatContext, formatParameters, yesNo } from "../format.js";

const WORKLOADS = ["", "chat", "code", "reasoning", "embedding", "multilingual"];
const TRISTATE = [["", "any"], ["true", "yes"], ["false", "no"]];
// Parameter-count bands (the API filters on minParameters / maxParameters).
const SIZES = [
  ["", "any size", null, null],
  ["small", "under 3 B", null, 3e9],
  ["medium", "3 B – 15 B", 3e9, 15e9],
  ["large", "15 B – 80 B", 15e9, 80e9],
  ["xl", "over 80 B", 80e9, null],
];

export async function catalogPage(ui) {
  const f = {
    q: h("input", { type: "search", name: "q", placeholder: "name contains…" }),
    workloadType: select("workloadType", WORKLOADS.map((w) => [w, w || "any"]), ""),
    architecture: h("input", { type: "text", name: "architecture", placeholder: "e.g. llama" }),
    size: select("size", SIZES.map(([v, label]) => [v, label]), ""),
    isMultimodal: select("isMultimodal", TRISTATE, ""),
    isPreQuantized: select("isPreQuantized", TRISTATE, ""),
  };
  const results = h("div", { class: "results" });
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter the catalog" },
    field("Search", f.q),
    field("Workload type", f.workloadType),
    field("Architecture", f.architecture),
    field("Size", f.size),
    field("Multimodal", f.isMultimodal),
    field("Pre-quantized", f.isPreQuantized),
    h("button", { type: "submit" }, "Apply"),
  );
  let cursor = null;
  let pages = [];

  async function load() {
    const [, , min, max] = SIZES.find(([v]) => v === f.size.value);
    const page = await get(
      `/catalog/models${query({
        q: f.q.value.trim(),
        workloadType: f.workloadType.value,
        architecture: f.architecture.value.trim(),
        minParameters: min,
        maxParameters: max,
        isMultimodal: f.isMultimodal.value,
        isPreQuantized: f.isPreQuantized.value,
        cursor,
        limit: 50,
      })}`,
    );
    results.replaceChildren(
      table(
        "Shared models",
        [
          ["Name", (m) => m.name],
          ["Version", (m) => m.version],
          ["Workload", (m) => m.workloadType ?? "chat"],
          ["Architecture", (m) => m.architecture ?? "—"],
          ["Parameters", (m) => formatParameters(m.parameterCount)],
          ["Context", (m) => formatContext(m.contextLength)],
          ["Size", (m) => formatBytes(m.sizeBytes)],
          ["Multimodal", (m) => yesNo(m.isMultimodal)],
          ["Pre-quantized", (m) => yesNo(m.isPreQuantized)],
          ["Role", (m) => m.catalogRole],
          ["Deployments", (m) => m.deploymentCount ?? 0],
          ["Deploy", (m) => h("button", { type: "button", "aria-label": `Create endpoint for ${m.name}`, onclick: () => deploy(m) }, "Create endpoint")],
        ],
        page.models,
        { id: "catalog-table" },
      ),
      h(
        "div",
        { class: "pager" },
        pages.length ? h("button", { type: "button", onclick: () => ((cursor = pages.pop()), load()) }, "Previous page") : null,
        page.nextCursor
          ? h("button", { type: "button", onclick: () => (pages.push(cursor), (cursor = page.nextCursor), load()) }, "Next page")
          : null,
      ),
    );
  }

  async function deploy(m) {
    if (!(await ui.confirm(`Create a self_hosted endpoint for ${m.name}?`))) return;
    try {
      const e = await post("/endpoints", { modelId: m.id, tier: "self_hosted" });
      ui.flash(`Endpoint ${e.id} created.`);
      ui.go("#/endpoints");
    } catch (err) {
      ui.error(err);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    cursor = null;
    pages = [];
    load().catch(ui.error);
  });
  ui.render(h("h1", {}, "Catalog"), form, results);
  await load();
}
