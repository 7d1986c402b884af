// The dashboard shell: sign-in, hash routes, the status line, confirmations, live-refresh timers.
import { ApiError, api, session } from "./api.js";
import { field, h } from "./dom.js";
import { catalogPage } from "./pages/catalog.js";
import { endpointsPage } from "./pages/endpoints.js";
import { keysPage } from "./pages/keys.js";
import { modelPage } from "./pages/model.js";
import { modelsPage } from "./pages/models.js";
import { versionsPage } from "./pages/versions.js";

const main = document.getElementById("main");
const timers = new Set();
let flashedAt = 0;

/** What every page gets: where to draw, and the shared helpers. */
export const ui = {
  main,
  /** Show a page: arrays are flattened, null and false left out. */
  render(...children) {
    main.replaceChildren(h("div", { class: "page" }, ...children));
  },
  flash(message, kind = "ok") {
    const el = document.getElementById("status");
    el.textContent = message;
    el.className = `flash flash-${kind}`;
    flashedAt = Date.now();
  },
  error(err) {
    if (err instanceof ApiError && err.status === 401) {
      session.signOut();
      route();
    }
    ui.flash(err instanceof ApiError ? `Error (${err.status}): ${err.message}` : String(err), "error");
  },
  /** Repeat ``fn`` every ``ms`` until the page changes. */
  every(ms, fn) {
    const id = setInterval(fn, ms);
    timers.add(id);
    return () => {
      clearInterval(id);
      timers.delete(id);
    };
  },
  confirm(text) {
    const dialog = document.getElementById("confirm");
    document.getElementById("confirm-text").textContent = text;
    dialog.returnValue = "";
    dialog.showModal();
    document.getElementById("confirm-ok").focus();
    return new Promise((resolve) =>
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }),
    );
  },
  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
};

const ROUTES = [
  [/^#\/models\/([^/]+)\/versions$/, versionsPage],
  [/^#\/models\/([^/]+)$/, modelPage],
  [/^#\/models$/, modelsPage],
  [/^#\/catalog$/, catalogPage],
  [/^#\/endpoints$/, endpointsPage],
  [/^#\/keys$/, keysPage],
];

function signInPage() {
  const input = h("input", { type: "password", name: "apiKey", autocomplete: "off", required: true });
  const form = h(
    "form",
    { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", {}, "Paste a project API key (xero_<project>_<secret>). It is kept in this browser tab only."),
    field("API key", input),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    try {
      await api("GET", "/models?limit=1", undefined, key);
      session.signIn(key);
      ui.flash("Signed in.");
      ui.go("#/models");
    } catch (err) {
      ui.flash(err instanceof ApiError ? `Sign-in failed: ${err.message}` : String(err), "error");
    }
  });
  main.replaceChildren(form);
  input.focus();
}

// The skip link focuses the page's content (a plain #main href would change the hash route).
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

/** The header for the signed-in state: the navigation and "Sign out" exist only once signed in. */
function chrome(signedIn) {
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("signout").hidden = !signedIn;
  document.getElementById("who").textContent = signedIn ? `Project: ${session.project() ?? "?"}` : "";
  for (const a of document.querySelectorAll("#nav a")) {
    const here = location.hash.startsWith(a.getAttribute("href"));
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

let navigation = 0; // bumped by every route change

/** The helpers one page gets: its draws are dropped once the user has moved to another page,
 *  so a slow request of the page left behind can never overwrite the page shown now. */
function pageUi(mine) {
  return Object.assign(Object.create(ui), {
    render(...children) {
      if (mine === navigation) ui.render(...children);
    },
  });
}

async function route() {
  const mine = ++navigation;
  for (const id of timers) clearInterval(id);
  timers.clear();
  if (Date.now() - flashedAt > 1500) ui.flash("", "none"); // a message outlives one page change only
  const signedIn = Boolean(session.key());
  chrome(signedIn);
  if (!signedIn) return signInPage();
  const hash = location.hash || "#/models";
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(hash);
    if (match) {
      main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
      try {
        await page(pageUi(mine), ...match.slice(1).map(decodeURIComponent));
      } catch (err) {
        if (mine !== navigation) return;
        main.replaceChildren(h("p", { class: "error" }, String(err.message || err)));
        ui.error(err);
      }
      if (mine === navigation) main.focus({ preventScroll: true });
      return;
    }
  }
  ui.go("#/models");
}

document.getElementById("signout").addEventListener("click", () => {
  session.signOut();
  ui.flash("Signed out.");
  location.hash = "";
  route();
});
window.addEventListener("hashchange", route);
route();
