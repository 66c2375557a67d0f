// The page's entry: routes, the live event stream, refresh on change, the banner, the
// "last updated" time, the theme and the search box. Plain ES modules served by the
// master, no framework and no build step.

import { h, replace } from "./dom.js";
import { onUnauthorized, HttpError } from "./api.js";
import { Live } from "./live.js";
import { route } from "./router.js";
import { login } from "./dialogs.js";
import { overviewPage, agentsPage, agentPage, frameworksPage, frameworkPage } from "./pages.js";
import { tasksPage, taskPage } from "./pages_tasks.js";
import { browsePage, viewPage } from "./pages_sandbox.js";
import { rolesPage, offersPage, maintenancePage, mastersPage, eventsPage, searchPage } from "./pages_cluster.js";

const REFRESH_GAP_MS = 1000; // at most one refresh a second, however many events arrive
const MAX_EVENTS = 200;

const main = document.getElementById("main");
const banner = document.getElementById("banner");
const updated = document.getElementById("updated");

const ctx = {
  events: [],
  learn(overview) {
    live.setPeers(overview.peers);
    document.title = overview.cluster ? `meso: ${overview.cluster}` : "meso";
  },
};

function pageFor({ path, params }) {
  const [first, id, sub] = path;
  switch (first) {
    case undefined: return overviewPage();
    case "agents":
      if (!id) return agentsPage();
      if (sub === "browse") return browsePage(id, params);
      if (sub === "view") return viewPage(id, params);
      return agentPage(id);
    case "slaves": // Mesos's old links
      location.replace("#/agents" + (id ? "/" + encodeURIComponent(id) : ""));
      return null;
    case "frameworks": return id ? frameworkPage(id, params) : frameworksPage(params);
    case "tasks": return id ? taskPage(id, params) : tasksPage(params);
    case "roles": return rolesPage();
    case "offers": return offersPage();
    case "maintenance": return maintenancePage();
    case "masters": return mastersPage();
    case "events": return eventsPage(ctx);
    case "search": return searchPage(params);
    default: return { el: h("p", { class: "error", "data-testid": "not-found" }, `No page '${path.join("/")}'.`), refresh: async () => {} };
  }
}

let page = null;
let dirty = false;
let running = false;
let timer = null;
let lastRun = 0;
const pageError = h("p", { class: "error", "data-testid": "page-error", hidden: true });

function render() {
  if (page && page.dispose) page.dispose();
  const r = route();
  page = pageFor(r);
  if (!page) return;
  for (const a of document.querySelectorAll("nav a[data-nav]")) {
    a.setAttribute("aria-current", a.dataset.nav === r.path[0] ? "page" : "false");
  }
  replace(main, pageError, page.el);
  pageError.hidden = true;
  lastRun = 0;
  invalidate();
}

/** Something changed: refresh the page soon (coalescing bursts of events). */
function invalidate() {
  dirty = true;
  pump();
}

function pump() {
  if (running || timer || !page) return;
  timer = setTimeout(async () => {
    timer = null;
    if (!dirty) return;
    dirty = false;
    running = true;
    lastRun = Date.now();
    const current = page;
    try {
      await current.refresh(ctx);
      if (current === page) {
        pageError.hidden = true;
        stamp();
      }
    } catch (e) {
      if (current === page) {
        replace(pageError, e instanceof HttpError ? `The master answered ${e.status}: ${e.body}` : `Could not load: ${e.message}`);
        pageError.hidden = false;
      }
    } finally {
      running = false;
      if (dirty) pump();
    }
  }, Math.max(0, lastRun + REFRESH_GAP_MS - Date.now()));
}

function stamp() {
  const now = new Date();
  updated.textContent = `updated ${now.toLocaleTimeString()}`;
  updated.dataset.at = String(now.getTime());
}

function describe(event) {
  const p = event[String(event.type).toLowerCase()] || {};
  switch (event.type) {
    case "TASK_ADDED": return `task ${p.task?.task_id?.value} (${p.task?.name}) added`;
    case "TASK_UPDATED": return `task ${p.status?.task_id?.value} is ${p.state}`;
    case "AGENT_ADDED": return `agent ${p.agent?.agent_info?.id?.value} (${p.agent?.agent_info?.hostname}) added`;
    case "AGENT_REMOVED": return `agent ${p.agent_id?.value} removed`;
    case "FRAMEWORK_ADDED":
    case "FRAMEWORK_UPDATED": return `framework ${p.framework?.framework_info?.id?.value} (${p.framework?.framework_info?.name})`;
    case "FRAMEWORK_REMOVED": return `framework ${p.framework_info?.id?.value} (${p.framework_info?.name}) removed`;
    default: return "";
  }
}

function onEvent(event) {
  if (event.type === "HEARTBEAT") {
    stamp();
    return;
  }
  if (event.type !== "SUBSCRIBED") {
    ctx.events.push({ at: Date.now() / 1000, type: event.type, text: describe(event) });
    if (ctx.events.length > MAX_EVENTS) ctx.events.shift();
  }
  if (page && page.live === false && event.type !== "SUBSCRIBED") return;
  invalidate();
}

function onStatus(s) {
  switch (s.kind) {
    case "live":
      banner.hidden = true;
      return;
    case "reconnecting":
      showBanner(`Lost the connection to the master; retrying in ${Math.round(s.waitMs / 1000)} s.`, true);
      return;
    case "no-leader":
      showBanner(`No master is currently leading; waiting for an election (retry in ${Math.round(s.waitMs / 1000)} s).`, true);
      return;
    case "moving":
      showBanner(`Moving to the leading master at ${s.to}…`, false);
      return;
    case "unauthorized":
      showBanner("The master asks for credentials.", false);
      return;
  }
}

function showBanner(text, retry) {
  replace(banner, text, retry ? h("button", { type: "button", "data-testid": "retry-now", onclick: () => live.retryNow() }, "Try now") : null);
  banner.hidden = false;
}

const live = new Live({ onEvent, onStatus });

onUnauthorized((e) => {
  login(e.body, () => {
    render();
    live.retryNow();
  });
});

// Theme: the system's by default; the button cycles light, dark, system, kept per browser.
function applyTheme() {
  const t = localStorage.getItem("meso.theme") || "";
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}
document.getElementById("theme").addEventListener("click", () => {
  const order = ["", "light", "dark"];
  const t = localStorage.getItem("meso.theme") || "";
  localStorage.setItem("meso.theme", order[(order.indexOf(t) + 1) % order.length]);
  applyTheme();
});
applyTheme();

// Search: Enter opens the results; "/" anywhere outside a field focuses the box.
const search = document.getElementById("search");
search.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && search.value.trim()) location.hash = `#/search?q=${encodeURIComponent(search.value.trim())}`;
});
document.addEventListener("keydown", (e) => {
  if (e.key === "/" && !["INPUT", "TEXTAREA"].includes(document.activeElement?.tagName)) {
    e.preventDefault();
    search.focus();
  }
});

window.addEventListener("hashchange", render);
window.addEventListener("meso:rerender", () => {
  lastRun = 0;
  invalidate();
});
render();
live.run();
