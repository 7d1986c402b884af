// Versions page: table, lineage graph from parentVersionId, promote/rollback, history, diff, create.
import { ApiError, get, post, query } from "../api.js";
import { badge, field, h, s, select, table } from "../dom.js";
import { formatBytes, formatParameters, formatTime, lineageLayout } from "../format.js";

const COL = 150;
const ROW = 46;

function lineage(versions) {
  const { nodes, edges } = lineageLayout(versions);
  const width = Math.max(...nodes.map((n) => n.col), 0) * COL + COL;
  const height = nodes.length * ROW + 10;
  const x = (n) => 20 + n.col * COL;
  const y = (n) => 24 + n.row * ROW;
  const description = nodes
    .map((n) => {
      const parent = versions.find((v) => v.id === n.version.parentVersionId);
      return `${n.version.version}${n.version.isLatest ? " (latest)" : ""}${parent ? ` from ${parent.version}` : " (root)"}`;
    })
    .join("; ");
  return s(
    "svg",
    { class: "lineage", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "lineage-desc" },
    s("title", { id: "lineage-desc" }, `Lineage: ${description}`),
    edges.map((e) =>
      s("path", {
        class: "edge",
        "data-from": e.from.version.version,
        "data-to": e.to.version.version,
        d: `M${x(e.from) + 8},${y(e.from)} C${x(e.from) + 8},${y(e.to)} ${x(e.to) - 30},${y(e.to)} ${x(e.to) - 8},${y(e.to)}`,
      }),
    ),
    nodes.map((n) =>
      s(
        "g",
        { class: `node node-${n.version.status}${n.version.isLatest ? " latest" : ""}`, "data-version": n.version.version },
        s("circle", { cx: x(n), cy: y(n), r: n.version.isLatest ? 9 : 7 }),
        s("text", { x: x(n) + 14, y: y(n) + 5 }, `${n.version.version}${n.version.isLatest ? " ★ latest" : ""}`),
      ),
    ),
  );
}

function diffView(d) {
  const list = (title, items) => (items.length ? h("div", {}, h("h4", {}, title), h("ul", {}, items.map((i) => h("li", {}, i)))) : null);
  const changes = (obj) => Object.entries(obj).map(([k, v]) => `${k}: ${JSON.stringify(v.from)} → ${JSON.stringify(v.to)}`);
  return h(
    "div",
    { class: "diff", "aria-live": "polite" },
    h("h3", {}, `Diff ${d.from} → ${d.to}`),
    Object.keys(d.metadata).length ? null : h("p", {}, "No metadata field changed."),
    list("Metadata", changes(d.metadata)),
    list("Generation defaults", changes(d.generationDefaults)),
    d.chatTemplate.changed ? h("p", {}, "Chat template changed.") : null,
    list("Files added", d.files.added),
    list("Files removed", d.files.removed),
    list("Files changed", d.files.changed.map((c) => `${c.path}: ${c.fromSha256.slice(0, 12)}… → ${c.toSha256.slice(0, 12)}…`)),
    h("p", {}, `${d.files.unchanged} file(s) unchanged.`),
    list("Tensors added", d.tensors.added.map((t) => `${t.name} ${t.dtype} [${t.shape}]`)),
    list("Tensors removed", d.tensors.removed.map((t) => `${t.name} ${t.dtype} [${t.shape}]`)),
    list("Tensors changed", d.tensors.changed.map((t) => `${t.name}: ${t.from.dtype} [${t.from.shape}] → ${t.to.dtype} [${t.to.shape}]`)),
  );
}

export async function versionsPage(ui, id) {
  const [{ versions }, { history, pending }] = await Promise.all([
    get(`/models/${id}/versions`),
    get(`/models/${id}/versions/history`),
  ]);
  const name = versions[0]?.name ?? "";
  const latestIndex = versions.findIndex((v) => v.isLatest);

  const move = (v, kind) => async () => {
    const verb = kind === "rollback" ? "Roll back" : "Promote";
    if (!(await ui.confirm(`${verb} ${name} to version ${v.version}? It becomes the latest version.`))) return;
    try {
      const result = await post(`/models/${id}/versions/${encodeURIComponent(v.version)}/${kind}`);
      ui.flash(
        result.promotion === "pending"
          ? `${v.version} becomes latest when it is ready (pending).`
          : `${v.version} is now the latest version (${kind === "rollback" ? "rolled back" : result.promotion}).`,
      );
      ui.go(`#/models/${id}/versions`);
    } catch (err) {
      ui.error(err);
    }
  };
  const actionFor = (v, index) => {
    if (v.isLatest) return h("span", { class: "tag" }, "latest");
    if (pending && pending.toVersionId === v.id)
      return h("span", { class: "tag pending-tag" }, `pending ${pending.kind}: latest once ready`);
    const kind = latestIndex >= 0 && index > latestIndex ? "rollback" : "promote";
    const label = `${kind === "rollback" ? "Roll back to" : "Promote"} ${v.version}`;
    return h("button", { type: "button", onclick: move(v, kind), "aria-label": label }, kind === "rollback" ? "Roll back" : "Promote");
  };

  const newVersion = h("input", { type: "text", name: "version", required: true, placeholder: "2.0.0" });
  const notes = h("input", { type: "text", name: "versionNotes" });
  const copy = h("input", { type: "checkbox", name: "copyFiles", checked: true });
  const create = h(
    "form",
    { class: "inline", "aria-label": "Create version" },
    field("New version", newVersion),
    field("Notes", notes),
    field("Copy the latest's files", copy),
    h("button", { type: "submit" }, "Create version"),
  );
  create.addEventListener("submit", (event) => {
    event.preventDefault();
    post(`/models/${id}/versions`, { version: newVersion.value.trim(), versionNotes: notes.value || null, copyFiles: copy.checked })
      .then((m) => (ui.flash(`Version ${m.version} created (${m.status}).`), ui.go(`#/models/${id}/versions`)))
      .catch(ui.error);
  });

  const options = versions.map((v) => [v.version, v.version]);
  const from = select("from", options, versions[1]?.version ?? versions[0]?.version);
  const to = select("to", options, versions[0]?.version);
  const diffOut = h("div");
  const diff = h(
    "form",
    { class: "inline", "aria-label": "Compare versions" },
    field("From", from),
    field("To", to),
    h("button", { type: "submit" }, "Show diff"),
  );
  diff.addEventListener("submit", (event) => {
    event.preventDefault();
    get(`/models/${id}/versions/diff${query({ from: from.value, to: to.value })}`)
      .then((d) => diffOut.replaceChildren(diffView(d)))
      .catch((err) => (err instanceof ApiError ? ui.error(err) : Promise.reject(err)));
  });

  ui.render(
    h("h1", {}, `Versions of ${name}`),
    h("p", {}, h("a", { href: `#/models/${versions.find((v) => v.isLatest)?.id ?? id}` }, "Back to the model")),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "lineage-title" }, h("h2", { id: "lineage-title" }, "Lineage"), lineage(versions)),
      h("section", { "aria-labelledby": "history-title" },
        h("h2", { id: "history-title" }, "Promotion history"),
        pending
          ? h(
              "p",
              { class: "pending", id: "pending-promotion", role: "status" },
              h("strong", {}, `Pending ${pending.kind === "rollback" ? "rollback" : "promotion"}: `),
              `${pending.to} becomes the latest version when it is ready (now ${pending.toStatus}; requested ${formatTime(pending.requestedAt)}).`,
            )
          : null,
        table("Promotion history", [
          ["When", (e) => formatTime(e.when)],
          ["Kind", (e) => (e.alias ? `${e.kind} ${e.alias}` : e.kind)],
          ["From", (e) => e.from ?? "—"],
          ["To", (e) => e.to ?? "—"],
        ], history, { id: "history-table" }),
      ),
    ),
    table("Versions", [
      ["Version", (v) => h("a", { href: `#/models/${v.id}` }, v.version)],
      ["Status", (v) => badge(v.status)],
      ["Parent", (v) => versions.find((p) => p.id === v.parentVersionId)?.version ?? "—"],
      ["Parameters", (v) => formatParameters(v.parameterCount)],
      ["Size", (v) => formatBytes(v.sizeBytes)],
      ["Notes", (v) => v.versionNotes ?? ""],
      ["Aliases", (v) => (v.aliases ?? []).map((a) => h("span", { class: "tag alias" }, a))],
      ["Tags", (v) => Object.entries(v.tags ?? {}).map(([k, val]) => h("span", { class: "tag" }, `${k}: ${val}`))],
      ["Created", (v) => formatTime(v.createdAt)],
      ["Latest", (v) => actionFor(v, versions.indexOf(v))],
    ], versions, { id: "versions-table" }),
    h("h2", {}, "New version"),
    create,
    h("h2", {}, "Diff"),
    diff,
    diffOut,
  );
  if (versions.some((v) => v.status === "uploading" || v.status === "validating")) {
    ui.every(1500, async () => {
      const now = await get(`/models/${id}/versions`).catch(() => null);
      const key = (list) => list.map((v) => `${v.id}:${v.status}:${v.isLatest}`).join();
      if (now && key(now.versions) !== key(versions)) ui.go(`#/models/${id}/versions`);
    });
  }
}
