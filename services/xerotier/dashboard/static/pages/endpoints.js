// Endpoints and backends: what is loaded where, each load plan as a memory bar.
import { api, get } from "../api.js";
import { badge, facts, h, table } from "../dom.js";
import { formatBytes, formatContext, formatTime } from "../format.js";
import { memoryBar, sizeBars } from "./memory.js";

function inventoryText(inventory) {
  const gpus = inventory?.gpus ?? [];
  if (!gpus.length) return inventory?.device ?? "CPU";
  return gpus.map((g) => `${g.name ?? "GPU"} ${formatBytes(g.totalBytes ?? g.memoryBytes)}`).join(", ");
}

export async function endpointsPage(ui) {
  const [{ endpoints }, { backends }] = await Promise.all([get("/endpoints"), get("/backends")]);
  const remove = (e) => async () => {
    if (!(await ui.confirm(`Delete endpoint ${e.id} (${e.modelName})?`))) return;
    try {
      await api("DELETE", `/endpoints/${e.id}`);
      ui.flash("Endpoint deleted.");
      ui.go("#/endpoints");
    } catch (err) {
      ui.error(err);
    }
  };
  const endpointName = new Map(endpoints.map((e) => [e.id, `${e.modelName} ${e.servingVersion ?? e.version ?? ""}`]));
  ui.render(
    h("h1", {}, "Endpoints and backends"),
    table(
      "Endpoints",
      [
        ["Model", (e) => (e.modelId ? h("a", { href: `#/models/${e.modelId}` }, e.modelName) : e.modelName)],
        ["Follows", (e) => e.version ?? "—"],
        ["Serving", (e) => e.servingVersion ?? "—"],
        ["Rolling to", (e) => e.rollingToVersion ?? "—"],
        ["Tier", (e) => e.tier],
        ["Status", (e) => badge(e.status)],
        ["Reason", (e) => e.statusReason ?? ""],
        ["Created", (e) => formatTime(e.createdAt)],
        ["", (e) => h("button", { type: "button", class: "danger", "aria-label": `Delete endpoint ${e.id}`, onclick: remove(e) }, "Delete")],
      ],
      endpoints,
      { id: "endpoints-table" },
    ),
    h("h2", {}, "Backends"),
    backends.length
      ? backends.map((b) =>
          h(
            "section",
            { class: "card backend", "aria-label": `Backend ${b.id}` },
            h("h3", {}, b.id, " ", badge(b.alive ? "alive" : "dead")),
            facts([
              ["Queue", b.queue],
              ["Inventory", inventoryText(b.inventory)],
              ["Heartbeat", formatTime(b.heartbeatAt)],
              ["Loads (all projects)", b.loadCount],
            ]),
            b.loads.length
              ? b.loads.map((l) =>
                  h(
                    "div",
                    { class: "load" },
                    h("h4", {}, endpointName.get(l.endpointId) ?? l.modelId, " ", badge(l.status)),
                    h("p", {}, `Context ${formatContext(l.contextLength)}, ${l.maxSequences ?? "—"} sequences, quantization ${l.appliedQuantization ?? "none"}.`),
                    memoryBar(l.plan),
                  ),
                )
              : h("p", { class: "hint" }, "None of this project's endpoints is loaded here."),
          ),
        )
      : h("p", { class: "hint" }, "No backend has registered. Start one with `xerotier agent`."),
  );
  sizeBars(ui.main);
  ui.every(5000, async () => {
    const now = await get("/endpoints").catch(() => null);
    const key = (list) => list.map((e) => `${e.id}:${e.status}:${e.servingVersion}:${e.rollingToVersion}`).join();
    if (now && key(now.endpoints) !== key(endpoints)) ui.go("#/endpoints");
  });
}
