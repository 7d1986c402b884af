// Keys page: the project's API keys; mint one (its secret shown once) and revoke.
import { api, get, post, session } from "../api.js";
import { field, h, table } from "../dom.js";
import { formatTime } from "../format.js";

export async function keysPage(ui, minted = null) {
  const { keys } = await get("/keys");
  const name = h("input", { type: "text", name: "name", placeholder: "e.g. ci", maxlength: 200 });
  const form = h(
    "form",
    { class: "inline", "aria-label": "Mint a key" },
    field("Key name", name),
    h("button", { type: "submit", class: "primary" }, "Mint key"),
  );
  const secret = h("div", { class: "secret", "aria-live": "polite" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const key = await post("/keys", { name: name.value.trim() || null });
      await keysPage(ui, key);
      ui.flash(`Key ${key.prefix} minted.`);
    } catch (err) {
      ui.error(err);
    }
  });
  if (minted) {
    const out = h("input", { type: "text", readonly: true, value: minted.key, id: "minted-key", class: "mono" });
    secret.append(
      h("h2", {}, "New key"),
      h("p", {}, "Copy it now: it is shown this once and cannot be read again."),
      field("Full key", out),
      h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(minted.key) }, "Copy"),
    );
  }
  const mine = session.key() || "";
  const revoke = (k) => async () => {
    const self = mine.startsWith(k.prefix.replace("…", ""));
    const warn = self ? " This is the key you are signed in with: you will be signed out." : "";
    if (!(await ui.confirm(`Revoke key ${k.prefix}?${warn}`))) return;
    try {
      await api("DELETE", `/keys/${k.id}`);
      ui.flash(`Key ${k.prefix} revoked.`);
      if (self) session.signOut();
      ui.go("#/keys");
    } catch (err) {
      ui.error(err);
    }
  };
  ui.render(
    h("h1", {}, "API keys"),
    h("p", {}, `Keys of project ${session.project() ?? ""}. Secrets are never listed.`),
    form,
    secret,
    table(
      "Keys",
      [
        ["Name", (k) => k.name ?? "—"],
        ["Key", (k) => h("code", {}, k.prefix)],
        ["Created", (k) => formatTime(k.createdAt)],
        ["Last used", (k) => formatTime(k.lastUsedAt)],
        ["Revoked", (k) => (k.revokedAt ? formatTime(k.revokedAt) : "—")],
        [
          "",
          (k) =>
            k.revokedAt
              ? ""
              : h("button", { type: "button", class: "danger", "aria-label": `Revoke ${k.name ?? k.prefix}`, onclick: revoke(k) }, "Revoke"),
        ],
      ],
      keys,
      { id: "keys-table" },
    ),
  );
  if (minted) document.getElementById("minted-key")?.focus();
}
