// Model page: readable metadata, files, validation error in full, lifecycle timeline, actions.
import { api, download, encodePath, get, post } from "../api.js";
import { badge, facts, field, h, select, table } from "../dom.js";
import { formatBytes, formatContext, formatParameters, formatTime, yesNo } from "../format.js";
import { renderMarkdown } from "../markdown.js";
import { memoryBar, sizeBars } from "./memory.js";

/** Statuses a version can be shared, served or planned in (not uploading, validating or error). */
const SERVABLE = new Set(["ready", "active"]);

const GPUS = ["T4", "L4", "A10G", "A100-40GB", "A100-80GB", "H100-80GB", "H200", "B200"];
const WORKLOADS = ["chat", "code", "reasoning", "embedding", "multilingual"];

function metadata(m) {
  return facts([
    ["Name", m.name],
    ["Version", [m.version, m.isLatest ? " (latest)" : ""]],
    ["Status", badge(m.status)],
    ["Parameters", formatParameters(m.parameterCount)],
    ["Context length", formatContext(m.contextLength)],
    ["Size", formatBytes(m.sizeBytes)],
    ["Architecture", m.architecture ?? "—"],
    ["Format", m.format ?? "—"],
    ["Workload type", m.workloadType ?? "—"],
    ["License", m.license ?? "—"],
    ["Multimodal", yesNo(m.isMultimodal)],
    [
      "Pre-quantized",
      m.isPreQuantized ? `${m.preQuantizationMethod ?? "yes"} ${m.preQuantizationBits ?? ""}-bit` : yesNo(m.isPreQuantized),
    ],
    ["Experts", m.numExperts ? `${m.numExperts} (${m.numExpertsPerTok} per token)` : "—"],
    ["Default temperature / top-p", `${m.defaultTemperature ?? "—"} / ${m.defaultTopP ?? "—"}`],
    ["Shared", m.isShared ? `yes (${m.catalogRole})` : "no"],
    ["Version notes", m.versionNotes ?? "—"],
    ["Aliases", m.aliases?.length ? m.aliases.map((a) => h("span", { class: "tag alias" }, a)) : "—"],
    ["Tags", tagList(m.tags)],
    ["Model tags", tagList(m.modelTags)],
    ["Created", formatTime(m.createdAt)],
    ["Status changed", formatTime(m.statusChangedAt)],
  ]);
}

function tagList(tags) {
  const entries = Object.entries(tags ?? {});
  return entries.length ? entries.map(([k, v]) => h("span", { class: "tag" }, `${k}: ${v}`)) : "—";
}

/** Set an alias to this version, and tags on the version or on the model. */
function labels(ui, m) {
  const alias = h("input", { type: "text", name: "alias", required: true, placeholder: "champion" });
  const aliasForm = h(
    "form",
    { class: "inline", "aria-label": "Set alias" },
    field("Alias to this version", alias),
    h("button", { type: "submit" }, "Set alias"),
  );
  aliasForm.addEventListener("submit", (event) => {
    event.preventDefault();
    api("PUT", `/models/${m.id}/aliases/${encodeURIComponent(alias.value.trim())}`, { version: m.version })
      .then((a) => (ui.flash(`${a.alias} → ${a.version}.`), ui.go(`#/models/${m.id}`)))
      .catch(ui.error);
  });
  const key = h("input", { type: "text", name: "key", required: true, placeholder: "team" });
  const value = h("input", { type: "text", name: "value", placeholder: "search" });
  const scope = select("scope", [["version", "this version"], ["model", "the model"]], "version");
  const tagForm = h(
    "form",
    { class: "inline", "aria-label": "Set tag" },
    field("Tag key", key),
    field("Tag value", value),
    field("Tag on", scope),
    h("button", { type: "submit" }, "Set tag"),
  );
  tagForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const base = scope.value === "model" ? `/models/${m.id}/tags` : `/models/${m.id}/versions/${encodeURIComponent(m.version)}/tags`;
    api("PUT", `${base}/${encodePath(key.value.trim())}`, { value: value.value })
      .then(() => (ui.flash("Tag set."), ui.go(`#/models/${m.id}`)))
      .catch(ui.error);
  });
  return h("section", { "aria-labelledby": "labels-title" }, h("h2", { id: "labels-title" }, "Aliases and tags"), aliasForm, tagForm);
}

function timeline(events) {
  return h(
    "ol",
    { class: "timeline", "aria-label": "Lifecycle timeline" },
    events.map((e) =>
      h(
        "li",
        {},
        h("time", { datetime: e.createdAt }, formatTime(e.createdAt)),
        " ",
        h("strong", {}, e.event),
        e.from || e.to ? ` ${e.from ?? "∅"} → ${e.to ?? "∅"}` : "",
        e.reason ? h("div", { class: "reason" }, e.reason) : null,
      ),
    ),
  );
}

function cardSection(card) {
  return h(
    "section",
    { "aria-labelledby": "card-title", id: "model-card" },
    h("h2", { id: "card-title" }, "Model card"),
    card.markdown === null
      ? h("p", { class: "hint" }, "No model card: this version has no README.md.")
      : h("div", { class: "card-body" }, renderMarkdown(card.markdown), card.truncated ? h("p", { class: "hint" }, "(The card is longer: only its beginning is shown.)") : null),
  );
}

function chatTemplateSection(m) {
  return h(
    "section",
    { "aria-labelledby": "template-title" },
    h("h2", { id: "template-title" }, "Chat template"),
    m.chatTemplate
      ? h("pre", { class: "chat-template", id: "chat-template", tabindex: "0", "aria-label": "Chat template" }, m.chatTemplate)
      : h("p", { class: "hint" }, "No chat template."),
  );
}

function actions(ui, m, tiers) {
  const servable = SERVABLE.has(m.status);
  const act = (label, fn, attrs = {}) =>
    h("button", { type: "button", ...attrs, onclick: () => fn().catch(ui.error) }, label);
  const share = act(m.isShared ? "Unshare" : "Share", async () => {
    const verb = m.isShared ? "unshare" : "share";
    if (!(await ui.confirm(`${verb === "share" ? "Share" : "Unshare"} ${m.name} ${m.version}?`))) return;
    await post(`/models/${m.id}/${verb}`);
    ui.flash(`${m.name} ${verb === "share" ? "shared in the catalog" : "unshared"}.`);
    ui.go(`#/models/${m.id}`);
  });
  const revalidate = act("Revalidate", async () => {
    await post(`/models/${m.id}/revalidate`);
    ui.flash("Revalidation queued.");
    ui.go(`#/models/${m.id}`);
  });
  const del = act(
    "Delete this version",
    async () => {
      if (!(await ui.confirm(`Delete version ${m.version} of ${m.name}? This cannot be undone.`))) return;
      const force = m.isLatest ? "?force=true" : "";
      await api("DELETE", `/models/${m.id}${force}`);
      ui.flash(`Deleted ${m.name} ${m.version}.`);
      ui.go("#/models");
    },
    { class: "danger" },
  );

  const workload = select("workloadType", [["", "—"], ...WORKLOADS.map((w) => [w, w])], m.workloadType ?? "");
  const notes = h("input", { type: "text", name: "versionNotes", value: m.versionNotes ?? "" });
  const edit = h(
    "form",
    { class: "inline", "aria-label": "Edit version" },
    field("Workload type", workload),
    field("Version notes", notes),
    h("button", { type: "submit" }, "Save"),
  );
  edit.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { versionNotes: notes.value };
    if (workload.value) body.workloadType = workload.value;
    api("PATCH", `/models/${m.id}`, body)
      .then(() => (ui.flash("Saved."), ui.go(`#/models/${m.id}`)))
      .catch(ui.error);
  });

  const newName = h("input", { type: "text", name: "name", value: m.name, required: true });
  const rename = h(
    "form",
    { class: "inline", "aria-label": "Rename model" },
    field("New name", newName),
    h("button", { type: "submit" }, "Rename"),
  );
  rename.addEventListener("submit", (event) => {
    event.preventDefault();
    post(`/models/${m.id}/rename`, { name: newName.value.trim() })
      .then(() => (ui.flash("Renamed."), ui.go(`#/models/${m.id}`)))
      .catch(ui.error);
  });

  const tier = select("tier", tiers.map((t) => [t.slug, t.name || t.slug]), "self_hosted");
  const endpoint = h(
    "form",
    { class: "inline", "aria-label": "Create endpoint" },
    field("Tier", tier),
    h("button", { type: "submit" }, "Create endpoint"),
  );
  endpoint.addEventListener("submit", (event) => {
    event.preventDefault();
    post("/endpoints", { modelId: m.id, tier: tier.value })
      .then((e) => (ui.flash(`Endpoint ${e.id} created.`), ui.go("#/endpoints")))
      .catch(ui.error);
  });

  const gpu = select("gpu", GPUS.map((g) => [g, g]), "H100-80GB");
  const planOut = h("div", { class: "plan" });
  const plan = h(
    "form",
    { class: "inline", "aria-label": "Dry-run load plan" },
    field("GPU", gpu),
    h("button", { type: "submit" }, "Plan a load"),
  );
  plan.addEventListener("submit", (event) => {
    event.preventDefault();
    post(`/models/${m.id}/load-plan`, { gpu: gpu.value })
      .then((p) => {
        planOut.replaceChildren(
          h("p", {}, p.fits ? `Fits: context ${formatContext(p.contextLength)}, ${p.maxSequences} sequences.` : "Does not fit."),
          memoryBar(p),
          h("ul", { class: "reasons" }, (p.reasons || []).map((r) => h("li", {}, r))),
        );
        sizeBars(planOut);
      })
      .catch(ui.error);
  });

  return h(
    "section",
    { "aria-labelledby": "actions-title" },
    h("h2", { id: "actions-title" }, "Actions"),
    h(
      "div",
      { class: "buttons" },
      h("a", { class: "button", href: `#/models/${m.id}/versions` }, "Versions"),
      servable || m.isShared ? share : null, // a model in error may still be unshared, never shared
      revalidate,
      del,
    ),
    servable
      ? null
      : h(
          "p",
          { class: "hint", id: "not-servable" },
          `This version is ${m.status}: sharing, endpoints and load plans are offered once it is ready.`,
        ),
    edit,
    rename,
    servable ? endpoint : null,
    servable ? plan : null,
    planOut,
  );
}

export async function modelPage(ui, id) {
  const [m, files, events, tiers, card] = await Promise.all([
    get(`/models/${id}`),
    get(`/models/${id}/files`),
    get(`/models/${id}/events`),
    get("/tiers"),
    get(`/models/${id}/card`),
  ]);
  const fileRows = files.files ?? files;
  const eventRows = events.events ?? events;
  ui.render(
    h("h1", {}, `${m.name} `, h("small", {}, m.version), " ", badge(m.status)),
    m.validationError
      ? h("section", { class: "validation-error", role: "alert" }, h("h2", {}, "Validation error"), h("pre", {}, m.validationError))
      : null,
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "meta-title" }, h("h2", { id: "meta-title" }, "Metadata"), metadata(m)),
      h("section", { "aria-labelledby": "events-title" }, h("h2", { id: "events-title" }, "Lifecycle"), timeline(eventRows)),
    ),
    h("section", { "aria-labelledby": "files-title" },
      h("h2", { id: "files-title" }, "Files"),
      table("Files", [
        ["Path", (f) => f.path],
        ["Size", (f) => formatBytes(f.sizeBytes)],
        ["sha256", (f) => h("code", { class: "sha" }, f.sha256)],
        [
          "Download",
          (f) =>
            h(
              "button",
              {
                type: "button",
                class: "download",
                "aria-label": `Download ${f.path}`,
                "data-href": `/v1/models/${m.id}/files/${encodePath(f.path)}`,
                onclick: () => download(`/models/${m.id}/files/${encodePath(f.path)}`, f.path.split("/").pop()).catch(ui.error),
              },
              "Download",
            ),
        ],
      ], fileRows),
    ),
    labels(ui, m),
    cardSection(card),
    chatTemplateSection(m),
    actions(ui, m, tiers.tiers),
  );
  if (m.status === "uploading" || m.status === "validating") {
    ui.every(1500, async () => {
      const now = await get(`/models/${id}`).catch(() => null);
      if (now && now.status !== m.status) ui.go(`#/models/${id}`);
    });
  }
}
