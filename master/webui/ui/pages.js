// The overview, agents and frameworks pages. Each page is a function of the route that
// returns `{el, refresh}`; `refresh` re-reads what the page shows (bounded: a summary or
// one page of a list) and is called again when the event stream says something changed.

import { h, replace, section, facts, link } from "./dom.js";
import { getJson } from "./api.js";
import { pagedTable } from "./table.js";
import { href } from "./router.js";
import * as f from "./format.js";
import { confirmCall } from "./dialogs.js";

const STATES = ["TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_UNREACHABLE",
  "TASK_FINISHED", "TASK_KILLED", "TASK_FAILED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE"];
const RESOURCES = [["cpus", "CPUs", f.num], ["gpus", "GPUs", f.num], ["mem", "Mem", f.mb], ["disk", "Disk", f.mb]];

/** The task table columns every task list shares. */
export function taskColumns() {
  return [
    { label: "ID", sort: "id", cell: (t) => f.id(t.id, href(["tasks", t.id], { framework_id: t.framework_id })) },
    { label: "Name", sort: "name", cell: (t) => h("span", { class: "name", "data-testid": "task-name" }, t.name) },
    { label: "State", sort: "state", cell: (t) => h("span", { class: `state ${t.state}`, "data-testid": "task-state" }, f.state(t.state)) },
    { label: "Framework", sort: "framework_id", cell: (t) => f.id(t.framework_id, href(["frameworks", t.framework_id])) },
    { label: "Host", sort: "hostname", cell: (t) => link(href(["agents", t.agent_id]), t.hostname || t.agent_id) },
    { label: "Role", sort: "role", cell: (t) => t.role },
    { label: "Health", cell: (t) => (t.healthy === true ? "healthy" : t.healthy === false ? "unhealthy" : "-") },
    { label: "Started", sort: "started", cell: (t) => f.time(t.started) },
    { label: "Stopped", cell: (t) => f.time(t.stopped) },
    { label: "CPUs", sort: "cpus", class: "num", cell: (t) => f.num(t.resources.cpus) },
    { label: "Mem", sort: "mem", class: "num", cell: (t) => f.mb(t.resources.mem) },
    { label: "Sandbox", cell: (t) => link(href(["agents", t.agent_id, "browse"], { path: sandboxPath(t) }), "Sandbox", { "data-testid": "sandbox-link" }) },
  ];
}

/** Where a task's sandbox is in its agent's files (the agent's virtual path). */
export function sandboxPath(t) {
  const executor = t.executor_id || t.id;
  const run = `/frameworks/${t.framework_id}/executors/${executor}/runs/latest`;
  return t.executor_id ? `${run}/tasks/${t.id}` : run;
}

/** `el` spanning two columns of a grid. */
function wide(el) {
  el.classList.add("wide");
  return el;
}

/** A Total / Allocated / Offered / Idle table over the four scalars. */
function resourceTable(columns, testid) {
  return h(
    "table",
    { class: "resources", "data-testid": testid },
    h("thead", {}, h("tr", {}, h("th", {}, ""), columns.map(([label]) => h("th", { scope: "col" }, label)))),
    h(
      "tbody",
      {},
      RESOURCES.map(([name, label, show]) =>
        h("tr", {}, h("th", { scope: "row" }, label), columns.map(([col, values]) =>
          h("td", { class: "num", "data-testid": `${testid}-${col.toLowerCase()}-${name}` }, show(values[name])))),
      ),
    ),
  );
}

/** The revocable (oversubscribed) cpus and mem, used of total, and the QoS evictions. */
function revocableSection(r) {
  if (!r) return null;
  return section(
    "Revocable",
    facts([
      ["CPUs (used / total)", `${f.num(r.used.cpus)} / ${f.num(r.total.cpus)}`, "revocable-cpus"],
      ["Mem (used / total)", `${f.mb(r.used.mem)} / ${f.mb(r.total.mem)}`, "revocable-mem"],
      ["Evicted tasks", r.evicted_tasks, "revocable-evicted"],
    ], "revocable-facts"),
  );
}

export function overviewPage() {
  const summary = h("div", { class: "grid" });
  const active = pagedTable({ list: "tasks", key: "a", fixed: { kind: "active" }, columns: taskColumns(), title: "Active tasks", testid: "active-tasks", pageSize: 20 });
  const completed = pagedTable({ list: "tasks", key: "c", fixed: { kind: "completed" }, columns: taskColumns(), title: "Completed tasks", testid: "completed-tasks", pageSize: 10 });
  const unreachable = pagedTable({ list: "tasks", key: "u", fixed: { kind: "unreachable" }, columns: taskColumns(), title: "Unreachable tasks", testid: "unreachable-tasks", pageSize: 10 });
  const el = h("div", { "data-testid": "page-overview" }, summary, active.el, unreachable.el, completed.el);
  let first = true;
  return {
    el,
    overview: true,
    async refresh(ctx) {
      const o = await getJson("overview");
      ctx.learn(o);
      const byState = o.tasks.by_state || {};
      replace(
        summary,
        section(
          "Cluster",
          facts([
            o.cluster ? ["Cluster", o.cluster, "cluster"] : null,
            ["Leader", o.leader, "leader"],
            ["Version", o.version, "version"],
            ["Started", f.time(o.start_time)],
            ["Elected", f.time(o.elected_time)],
            ["Raft term", o.raft_term ?? "-", "raft-term"],
            ["Masters", (o.peers || []).length || 1],
          ], "cluster-facts"),
        ),
        section(
          "Agents",
          facts([
            ["Active", o.agents.active, "agents-active"],
            ["Deactivated", o.agents.deactivated, "agents-deactivated"],
            ["Unreachable", o.agents.unreachable, "agents-unreachable"],
            ["Recovered", o.agents.recovered, "agents-recovered"],
            ["Gone", o.agents.gone, "agents-gone"],
          ]),
          h("h2", {}, "Frameworks"),
          facts([
            ["Active", o.frameworks.active, "frameworks-active"],
            ["Inactive", o.frameworks.inactive, "frameworks-inactive"],
            ["Completed", o.frameworks.completed, "frameworks-completed"],
            ["Offers", o.offers, "offers"],
          ]),
        ),
        revocableSection(o.revocable),
        section(
          "Tasks",
          facts(STATES.filter((s) => s in byState || !["TASK_DROPPED", "TASK_GONE"].includes(s))
            .map((s) => [f.state(s), byState[s] || 0, `tasks-${s}`]), "task-counts"),
        ),
        wide(section(
          "Resources",
          resourceTable([
            ["Total", o.resources.total],
            ["Allocated", o.resources.allocated],
            ["Offered", o.resources.offered],
            ["Idle", o.resources.idle],
          ], "res"),
        )),
      );
      await Promise.all([active.refresh(), unreachable.refresh(), completed.refresh()]);
      if (first) {
        first = false;
        document.body.dataset.overview = "rendered";
        window.__mesoFirstViewMs = performance.now();
      }
    },
  };
}

export function agentsPage() {
  const table = pagedTable({
    list: "agents",
    title: "Agents",
    testid: "agents",
    columns: [
      { label: "ID", sort: "id", cell: (a) => f.id(a.id, href(["agents", a.id])) },
      { label: "Host", sort: "hostname", cell: (a) => link(href(["agents", a.id]), a.hostname) },
      { label: "State", sort: "state", cell: (a) => a.state },
      { label: "Tasks", sort: "tasks", class: "num", cell: (a) => a.tasks },
      { label: "CPUs (allocated / total)", sort: "cpus", class: "num", cell: (a) => `${f.num(a.allocated.cpus)} / ${f.num(a.resources.cpus)}` },
      { label: "GPUs", class: "num", cell: (a) => `${f.num(a.allocated.gpus)} / ${f.num(a.resources.gpus)}` },
      { label: "Mem", sort: "mem", class: "num", cell: (a) => `${f.mb(a.allocated.mem)} / ${f.mb(a.resources.mem)}` },
      { label: "Disk", sort: "disk", class: "num", cell: (a) => `${f.mb(a.allocated.disk)} / ${f.mb(a.resources.disk)}` },
      { label: "Registered", sort: "registered_time", cell: (a) => f.time(a.registered_time) },
      { label: "Re-registered", cell: (a) => f.time(a.reregistered_time) },
    ],
  });
  return { el: h("div", { "data-testid": "page-agents" }, table.el), refresh: () => table.refresh() };
}

export function agentPage(agentId) {
  const top = h("div", { class: "grid" });
  const out = h("p", { "data-testid": "action-result" });
  const containers = h("div", { "data-testid": "agent-containers" }, "Loading container statistics…");
  const tasks = pagedTable({ list: "tasks", key: "t", fixed: { kind: "all", agent_id: agentId }, columns: taskColumns(), title: "Tasks on this agent", testid: "agent-tasks" });
  const drain = h("button", {
    type: "button",
    class: "danger",
    "data-testid": "drain-agent",
    onclick: () => confirmCall(`Drain agent ${agentId}? Its tasks will be killed and no new ones placed on it.`,
      { type: "DRAIN_AGENT", drain_agent: { agent_id: { value: agentId } } }, out),
  }, "Drain agent…");
  const el = h("div", { "data-testid": "page-agent" },
    h("h1", {}, "Agent ", h("span", { class: "mono" }, agentId)), top,
    h("div", { class: "actions" }, drain, link(href(["agents", agentId, "view"], { path: "/slave/log" }), "Agent log"), out),
    section("Containers (used resources)", containers), tasks.el);
  return {
    el,
    async refresh() {
      const page = await getJson(`list/agents?id=${encodeURIComponent(agentId)}`);
      const a = (page.items || [])[0];
      if (!a) {
        replace(top, h("p", { class: "error", "data-testid": "not-found" }, `No registered agent ${agentId}.`));
      } else {
        replace(top,
          section("Agent", facts([
            ["Host", a.hostname, "agent-host"], ["Port", a.port], ["PID", a.pid], ["State", a.state, "agent-state"],
            ["Tasks", a.tasks, "agent-tasks-count"], ["Registered", f.time(a.registered_time)], ["Re-registered", f.time(a.reregistered_time)],
          ])),
          section("Resources", resourceTable([["Total", a.resources], ["Allocated", a.allocated], ["Offered", a.offered]], "agent-res")));
      }
      await tasks.refresh();
      getJson(`agents/${encodeURIComponent(agentId)}/containers`).then(
        (list) => replace(containers, containerTable(list)),
        (e) => replace(containers, h("span", { class: "muted" }, `Container statistics unavailable: ${e.message}`)),
      );
    },
  };
}

function containerTable(list) {
  if (!Array.isArray(list) || !list.length) return h("span", { class: "muted" }, "No containers.");
  return h("table", {},
    h("thead", {}, h("tr", {}, ["Container", "Framework", "Executor", "CPU time (user+sys s)", "Mem RSS", "Mem limit"].map((c) => h("th", {}, c)))),
    h("tbody", {}, list.map((c) => {
      const s = c.statistics || {};
      return h("tr", {},
        h("td", {}, f.id(c.container_id)), h("td", {}, f.id(c.framework_id, href(["frameworks", c.framework_id || ""]))),
        h("td", {}, c.executor_id), h("td", { class: "num" }, f.num((s.cpus_user_time_secs || 0) + (s.cpus_system_time_secs || 0))),
        h("td", { class: "num" }, f.bytes(s.mem_rss_bytes)), h("td", { class: "num" }, f.bytes(s.mem_limit_bytes)));
    })));
}

export function frameworksPage(params) {
  const kind = params.get("kind") || "active";
  const tabs = kindTabs("frameworks", ["active", "inactive", "completed", "all"], kind);
  const table = pagedTable({
    list: "frameworks",
    fixed: { kind },
    title: "Frameworks",
    testid: "frameworks",
    columns: [
      { label: "ID", sort: "id", cell: (fw) => f.id(fw.id, href(["frameworks", fw.id])) },
      { label: "Name", sort: "name", cell: (fw) => link(href(["frameworks", fw.id]), fw.name) },
      { label: "User", sort: "user", cell: (fw) => fw.user },
      { label: "Roles", cell: (fw) => (fw.roles || []).join(", ") },
      { label: "Principal", cell: (fw) => fw.principal || "-" },
      { label: "State", sort: "state", cell: (fw) => fw.state },
      { label: "Active tasks", sort: "tasks", class: "num", cell: (fw) => fw.tasks },
      { label: "CPUs", sort: "cpus", class: "num", cell: (fw) => f.num(fw.allocated.cpus) },
      { label: "Mem", sort: "mem", class: "num", cell: (fw) => f.mb(fw.allocated.mem) },
      { label: "Max share", sort: "max_share", class: "num", cell: (fw) => f.pct(fw.max_share) },
      { label: "Registered", sort: "registered_time", cell: (fw) => f.time(fw.registered_time) },
    ],
  });
  return { el: h("div", { "data-testid": "page-frameworks" }, tabs, table.el), refresh: () => table.refresh() };
}

/** Links that switch a list page between kinds, kept in the URL. */
export function kindTabs(page, kinds, current) {
  return h("nav", { class: "tabs", "aria-label": "Kinds" },
    kinds.map((k) => link(href([page], { kind: k }), k, { class: k === current ? "current" : "", "data-testid": `tab-${k}`, "aria-current": k === current ? "page" : null })));
}

export function frameworkPage(frameworkId, params) {
  const kind = params.get("kind") || "all";
  const top = h("div", { class: "grid" });
  const out = h("p", { "data-testid": "action-result" });
  const tasks = pagedTable({ list: "tasks", key: "t", fixed: { kind, framework_id: frameworkId }, columns: taskColumns(), title: "Tasks", testid: "framework-tasks" });
  const teardown = h("button", {
    type: "button",
    class: "danger",
    "data-testid": "teardown-framework",
    onclick: () => confirmCall(`Tear down framework ${frameworkId}? All its tasks will be killed.`,
      { type: "TEARDOWN", teardown: { framework_id: { value: frameworkId } } }, out),
  }, "Tear down…");
  const el = h("div", { "data-testid": "page-framework" }, h("h1", {}, "Framework ", h("span", { class: "mono" }, frameworkId)), top,
    h("div", { class: "actions" }, teardown, out),
    h("nav", { class: "tabs" }, ["all", "active", "unreachable", "completed"].map((k) =>
      link(href(["frameworks", frameworkId], { kind: k }), k, { class: k === kind ? "current" : "" }))),
    tasks.el);
  return {
    el,
    async refresh() {
      const page = await getJson(`list/frameworks?kind=all&id=${encodeURIComponent(frameworkId)}`);
      const fw = (page.items || [])[0];
      if (!fw) {
        replace(top, h("p", { class: "error", "data-testid": "not-found" }, `No framework ${frameworkId} is known to this master.`));
      } else {
        const web = fw.webui_url && /^https?:/i.test(fw.webui_url) ? h("a", { href: fw.webui_url, rel: "noopener noreferrer" }, fw.webui_url) : "-";
        replace(top,
          section("Framework", facts([
            ["Name", fw.name, "framework-name"], ["User", fw.user], ["Roles", (fw.roles || []).join(", ")], ["Principal", fw.principal || "-"],
            ["Web UI", web], ["Host", fw.hostname || "-"], ["State", fw.state, "framework-state"], ["Active tasks", fw.tasks],
            ["Outstanding offers", fw.offers], ["Max share", f.pct(fw.max_share)], ["Checkpoint", String(fw.checkpoint)],
            ["Registered", f.time(fw.registered_time)], ["Re-registered", f.time(fw.reregistered_time)], ["Unregistered", f.time(fw.unregistered_time)],
          ])),
          section("Resources", resourceTable([["Allocated", fw.allocated], ["Offered", fw.offered]], "framework-res")));
      }
      await tasks.refresh();
    },
  };
}
