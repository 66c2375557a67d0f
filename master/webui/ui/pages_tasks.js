// The tasks pages: the list (active, unreachable, completed or all, filtered and sorted by
// the master) and one task with its status history, sandbox link and kill action.

import { h, replace, section, facts, link } from "./dom.js";
import { getJson } from "./api.js";
import { pagedTable } from "./table.js";
import { href } from "./router.js";
import * as f from "./format.js";
import { taskColumns, sandboxPath, kindTabs } from "./pages.js";
import { confirmCall } from "./dialogs.js";

export function tasksPage(params) {
  const kind = params.get("kind") || "active";
  const fixed = { kind };
  if (params.get("state")) fixed.state = params.get("state");
  const table = pagedTable({ list: "tasks", fixed, columns: taskColumns(), title: `Tasks (${kind})`, testid: "tasks" });
  return {
    el: h("div", { "data-testid": "page-tasks" }, kindTabs("tasks", ["active", "unreachable", "completed", "all"], kind), table.el),
    refresh: () => table.refresh(),
  };
}

export function taskPage(taskId, params) {
  const frameworkId = params.get("framework_id");
  const top = h("div", { "data-testid": "task-detail" }, "Loading…");
  const out = h("p", { "data-testid": "action-result" });
  const el = h("div", { "data-testid": "page-task" }, h("h1", {}, "Task ", h("span", { class: "mono", "data-testid": "task-id" }, taskId)), top);
  return {
    el,
    async refresh() {
      const query = new URLSearchParams({ kind: "all", id: taskId });
      if (frameworkId) query.set("framework_id", frameworkId);
      const page = await getJson(`list/tasks?${query}`);
      const items = page.items || [];
      if (!items.length) {
        replace(top, h("p", { class: "error", "data-testid": "not-found" }, `No task ${taskId} is known to this master (completed tasks are kept for a while only).`));
        return;
      }
      if (items.length > 1 && !frameworkId) {
        replace(top, h("p", {}, "Several frameworks have a task with this id:"),
          h("ul", {}, items.map((t) => h("li", {}, link(href(["tasks", t.id], { framework_id: t.framework_id }), t.framework_id)))));
        return;
      }
      const t = items[0];
      const kill = h("button", {
        type: "button",
        class: "danger",
        "data-testid": "kill-task",
        disabled: t.kind === "completed",
        onclick: () => confirmCall(`Kill task ${t.id} (${t.name})?`,
          { task_id: t.id, framework_id: t.framework_id }, out, "kill-task"),
      }, "Kill task…");
      replace(top,
        h("div", { class: "grid" },
          section("Task", facts([
            ["Name", h("span", { "data-testid": "task-detail-name" }, t.name)],
            ["State", h("span", { class: `state ${t.state}`, "data-testid": "task-detail-state" }, f.state(t.state))],
            ["Framework", f.id(t.framework_id, href(["frameworks", t.framework_id]))],
            ["Agent", link(href(["agents", t.agent_id]), t.hostname || t.agent_id)],
            ["Executor", t.executor_id || "(command executor)"],
            ["Role", t.role], ["Command", t.command ?? "-"],
            ["Started", f.time(t.started)], ["Stopped", f.time(t.stopped)],
            ["CPUs", f.num(t.resources.cpus)], ["Mem", f.mb(t.resources.mem)], ["Disk", f.mb(t.resources.disk)],
          ])),
          section("Labels", (t.labels || []).length
            ? facts(t.labels.map((l) => [l.key, l.value ?? ""]), "task-labels")
            : h("p", { class: "muted" }, "No labels."))),
        h("div", { class: "actions" },
          link(href(["agents", t.agent_id, "browse"], { path: sandboxPath(t) }), "Sandbox", { "data-testid": "task-sandbox" }),
          link(href(["agents", t.agent_id, "view"], { path: `${sandboxPath(t)}/stdout`, follow: "1" }), "stdout", { "data-testid": "task-stdout" }),
          link(href(["agents", t.agent_id, "view"], { path: `${sandboxPath(t)}/stderr`, follow: "1" }), "stderr", { "data-testid": "task-stderr" }),
          kill, out),
        section("Status history",
          h("table", { "data-testid": "status-history" },
            h("thead", {}, h("tr", {}, ["State", "Time", "Source", "Reason", "Message"].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, (t.statuses || []).map((s) => h("tr", { "data-testid": "status-row" },
              h("td", {}, f.state(s.state)), h("td", {}, f.time(s.timestamp)), h("td", {}, s.source || "-"),
              h("td", {}, s.reason || "-"), h("td", {}, s.message || "-")))))),
      );
    },
  };
}
