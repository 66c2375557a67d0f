// Cluster-wide pages: roles (weights, quota, reservations), offers, maintenance and
// drain (what the master answers), the masters (Raft leader, term, peers), the recent
// events feed, and the global search.

import { h, replace, section, facts, link } from "./dom.js";
import { getJson, HttpError } from "./api.js";
import { pagedTable } from "./table.js";
import { href } from "./router.js";
import * as f from "./format.js";
import { taskColumns } from "./pages.js";

function quantities(obj) {
  if (!obj) return "-";
  if (Array.isArray(obj)) {
    return obj.map((r) => `${r.name}: ${r.scalar ? f.num(r.scalar.value) : JSON.stringify(r.ranges || r.set || "")}`).join(", ") || "-";
  }
  const keys = Object.keys(obj).filter((k) => obj[k]);
  return keys.map((k) => `${k}: ${["mem", "disk"].includes(k) ? f.mb(obj[k]) : f.num(obj[k])}`).join(", ") || "-";
}

export function rolesPage() {
  const body = h("div", {}, "Loading…");
  return {
    el: h("div", { "data-testid": "page-roles" }, section("Roles", body)),
    async refresh() {
      const doc = await getJson("roles");
      const roles = (doc.roles || []).slice().sort((a, b) => a.name.localeCompare(b.name));
      replace(body, roles.length ? h("table", { "data-testid": "roles-table" },
        h("thead", {}, h("tr", {}, ["Role", "Weight", "Frameworks", "Allocated", "Offered", "Reserved", "Quota guarantee", "Quota limit", "Quota consumed"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, roles.map((r) => h("tr", { "data-testid": "role-row", "data-id": r.name },
          h("td", {}, r.name), h("td", { class: "num", "data-testid": "role-weight" }, f.num(r.weight ?? 1)),
          h("td", {}, (r.frameworks || []).length), h("td", {}, quantities(r.allocated || r.resources)), h("td", {}, quantities(r.offered)),
          h("td", {}, quantities(r.reserved)), h("td", {}, quantities(r.quota && r.quota.guarantee)),
          h("td", {}, quantities(r.quota && r.quota.limit)), h("td", {}, quantities(r.quota && r.quota.consumed))))))
        : h("p", { class: "muted" }, "No roles."));
    },
  };
}

export function offersPage() {
  const table = pagedTable({
    list: "offers",
    title: "Outstanding offers",
    testid: "offers",
    columns: [
      { label: "ID", sort: "id", cell: (o) => f.id(o.id) },
      { label: "Framework", sort: "framework_id", cell: (o) => f.id(o.framework_id, href(["frameworks", o.framework_id])) },
      { label: "Host", sort: "hostname", cell: (o) => link(href(["agents", o.agent_id]), o.hostname || o.agent_id) },
      { label: "Role", sort: "role", cell: (o) => o.role },
      { label: "CPUs", sort: "cpus", class: "num", cell: (o) => f.num(o.resources.cpus) },
      { label: "GPUs", class: "num", cell: (o) => f.num(o.resources.gpus) },
      { label: "Mem", sort: "mem", class: "num", cell: (o) => f.mb(o.resources.mem) },
      { label: "Disk", class: "num", cell: (o) => f.mb(o.resources.disk) },
    ],
  });
  return { el: h("div", { "data-testid": "page-offers" }, table.el), refresh: () => table.refresh() };
}

/** A JSON document as an indented, escaped block (for answers the UI has no table for). */
function jsonBlock(value, testid) {
  return h("pre", { class: "json", "data-testid": testid }, JSON.stringify(value, null, 2));
}

async function answer(path) {
  try {
    return { ok: await getJson(path) };
  } catch (e) {
    return { error: e instanceof HttpError ? `${e.status} ${e.body}` : e.message };
  }
}

export function maintenancePage() {
  const schedule = h("div", {}, "Loading…");
  const status = h("div", {}, "Loading…");
  return {
    el: h("div", { "data-testid": "page-maintenance" }, section("Maintenance schedule", schedule), section("Maintenance and drain status", status)),
    async refresh() {
      const [s, st] = await Promise.all([answer("maintenance/schedule"), answer("maintenance/status")]);
      const show = (target, a, testid) => replace(target, a.ok !== undefined ? windowsOr(a.ok, testid) : h("p", { class: "muted", "data-testid": testid }, `The master answered: ${a.error}`));
      show(schedule, s, "maintenance-schedule");
      show(status, st, "maintenance-status");
    },
  };
}

function windowsOr(doc, testid) {
  const windows = doc && doc.windows;
  if (!Array.isArray(windows)) return jsonBlock(doc, testid);
  if (!windows.length) return h("p", { class: "muted", "data-testid": testid }, "No maintenance windows.");
  return h("table", { "data-testid": testid },
    h("thead", {}, h("tr", {}, ["Begin", "Duration", "Machines"].map((c) => h("th", {}, c)))),
    h("tbody", {}, windows.map((w) => {
      const start = w.unavailability && w.unavailability.start ? Number(w.unavailability.start.nanoseconds) / 1e9 : 0;
      const dur = w.unavailability && w.unavailability.duration ? `${Number(w.unavailability.duration.nanoseconds) / 1e9} s` : "-";
      return h("tr", {}, h("td", {}, f.time(start)), h("td", {}, dur),
        h("td", {}, (w.machine_ids || []).map((m) => `${m.hostname || ""}${m.ip ? " (" + m.ip + ")" : ""}`).join(", ")));
    })));
}

export function mastersPage() {
  const body = h("div", {}, "Loading…");
  return {
    el: h("div", { "data-testid": "page-masters" }, section("Masters", body)),
    async refresh(ctx) {
      const o = await getJson("overview");
      ctx.learn(o);
      const peers = o.peers && o.peers.length ? o.peers : [location.host];
      const leaderAddress = o.leader ? String(o.leader).split("@")[1] : null;
      replace(body,
        facts([["Leader", o.leader, "masters-leader"], ["Raft term", o.raft_term ?? "-", "masters-term"], ["Elected", f.time(o.elected_time)]]),
        h("table", { "data-testid": "masters-table" },
          h("thead", {}, h("tr", {}, ["Master", "Role", ""].map((c) => h("th", {}, c)))),
          h("tbody", {}, peers.map((p) => h("tr", { "data-testid": "master-row" },
            h("td", { class: "mono" }, p),
            h("td", {}, p === leaderAddress ? h("strong", { "data-testid": "leader-mark" }, "leader") : "follower"),
            h("td", {}, p === location.host ? "(this page)" : ""))))));
    },
  };
}

export function eventsPage(ctx) {
  const list = h("tbody");
  const draw = () => replace(list, ctx.events.slice().reverse().map((e) => h("tr", { "data-testid": "event-row" },
    h("td", {}, f.time(e.at)), h("td", {}, e.type), h("td", {}, e.text))));
  draw();
  return {
    el: h("div", { "data-testid": "page-events" }, section("Recent events (since this page opened)",
      h("table", {}, h("thead", {}, h("tr", {}, ["Time", "Event", "What"].map((c) => h("th", {}, c)))), list))),
    refresh: async () => draw(),
  };
}

export function searchPage(params) {
  const q = params.get("q") || "";
  const fixed = { filter: q };
  const agents = pagedTable({ list: "agents", fixed, key: "a", title: "Agents", testid: "search-agents", pageSize: 10,
    columns: [{ label: "ID", cell: (a) => f.id(a.id, href(["agents", a.id])) }, { label: "Host", cell: (a) => a.hostname }, { label: "State", cell: (a) => a.state }] });
  const frameworks = pagedTable({ list: "frameworks", fixed: { ...fixed, kind: "all" }, key: "f", title: "Frameworks", testid: "search-frameworks", pageSize: 10,
    columns: [{ label: "ID", cell: (fw) => f.id(fw.id, href(["frameworks", fw.id])) }, { label: "Name", cell: (fw) => fw.name }, { label: "State", cell: (fw) => fw.state }] });
  const tasks = pagedTable({ list: "tasks", fixed: { ...fixed, kind: "all" }, key: "t", title: "Tasks", testid: "search-tasks", pageSize: 10, columns: taskColumns() });
  return {
    el: h("div", { "data-testid": "page-search" }, h("h1", {}, "Matching “", q, "”"), agents.el, frameworks.el, tasks.el),
    refresh: () => Promise.all([agents.refresh(), frameworks.refresh(), tasks.refresh()]),
  };
}
