// A task's sandbox, read through the master's proxy to the agent
// (`agents/<id>/files/browse|read|download`), so a browser that cannot reach agents works:
// a directory listing and a file viewer that shows the file's tail and follows it.

import { h, replace, link, section } from "./dom.js";
import { getJson } from "./api.js";
import { href, setParams } from "./router.js";
import * as f from "./format.js";

const TAIL_BYTES = 32 * 1024;
const CHUNK_BYTES = 64 * 1024;
const KEEP_CHARS = 50_000;
const FOLLOW_MS = 1000;

function filesUrl(agentId, what, params) {
  return `agents/${encodeURIComponent(agentId)}/files/${what}?${new URLSearchParams(params)}`;
}

function crumbs(agentId, path) {
  const parts = path.split("/").filter(Boolean);
  return h("nav", { class: "crumbs", "aria-label": "Path", "data-testid": "crumbs" },
    parts.map((p, i) => [i ? " / " : "/ ", link(href(["agents", agentId, "browse"], { path: "/" + parts.slice(0, i + 1).join("/") }), p)]));
}

export function browsePage(agentId, params) {
  const path = params.get("path") || "/";
  const list = h("div", {}, "Loading…");
  const el = h("div", { "data-testid": "page-browse" }, h("h1", {}, "Sandbox on ", link(href(["agents", agentId]), agentId)), crumbs(agentId, path), list);
  return {
    el,
    async refresh() {
      let entries;
      try {
        entries = await getJson(filesUrl(agentId, "browse", { path }));
      } catch (e) {
        replace(list, h("p", { class: "error", "data-testid": "browse-error" }, `Cannot list ${path}: ${e.status || ""} ${e.body || e.message}`));
        return;
      }
      entries.sort((a, b) => (b.mode.startsWith("d") - a.mode.startsWith("d")) || a.path.localeCompare(b.path));
      replace(list, h("table", { "data-testid": "browse-table" },
        h("thead", {}, h("tr", {}, ["Mode", "Links", "UID", "GID", "Size", "Modified", "Name", ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, entries.map((e) => {
          const name = e.path.split("/").pop();
          const dir = e.mode.startsWith("d");
          return h("tr", { "data-testid": "browse-row" },
            h("td", { class: "mono" }, e.mode), h("td", { class: "num" }, e.nlink), h("td", {}, e.uid), h("td", {}, e.gid),
            h("td", { class: "num" }, f.bytes(e.size)), h("td", {}, f.time(e.mtime)),
            h("td", {}, dir ? link(href(["agents", agentId, "browse"], { path: e.path }), name + "/")
              : link(href(["agents", agentId, "view"], { path: e.path, follow: "1" }), name, { "data-testid": `file-${name}` })),
            h("td", {}, dir ? "" : h("a", { href: filesUrl(agentId, "download", { path: e.path }), download: name }, "Download")));
        }))));
    },
  };
}

export function viewPage(agentId, params) {
  const path = params.get("path") || "";
  const text = h("pre", { class: "file", "data-testid": "file-text", tabindex: "0" });
  const status = h("span", { class: "muted", "data-testid": "file-status" }, "loading");
  const follow = h("input", { type: "checkbox", checked: params.get("follow") === "1", "data-testid": "follow" });
  const dir = path.split("/").slice(0, -1).join("/") || "/";
  const el = h("div", { "data-testid": "page-view" },
    h("h1", {}, path.split("/").pop() || path), crumbs(agentId, dir),
    h("div", { class: "actions" },
      h("label", {}, follow, " Follow"), " ",
      h("a", { href: filesUrl(agentId, "download", { path }), download: path.split("/").pop(), "data-testid": "download" }, "Download"), " ",
      status),
    section("", text));
  let offset = null;
  let content = "";
  let timer = null;
  let stopped = false;

  async function read() {
    if (stopped) return;
    try {
      if (offset === null) {
        const size = (await getJson(filesUrl(agentId, "read", { path, offset: -1 }))).offset;
        offset = Math.max(0, size - TAIL_BYTES);
        if (offset > 0) content = "";
      }
      for (;;) {
        const chunk = await getJson(filesUrl(agentId, "read", { path, offset, length: CHUNK_BYTES }));
        const data = chunk.data || "";
        content = (content + data).slice(-KEEP_CHARS);
        offset += new TextEncoder().encode(data).length;
        if (data.length < CHUNK_BYTES) break;
      }
      text.textContent = content;
      status.textContent = follow.checked ? "following" : `${f.bytes(offset)} read`;
      status.className = "muted";
    } catch (e) {
      status.textContent = `failed (${e.status || ""} ${e.body || e.message}); retrying`;
      status.className = "error";
    }
    if (follow.checked && !stopped) timer = setTimeout(read, FOLLOW_MS);
  }

  follow.addEventListener("change", () => {
    setParams({ follow: follow.checked ? "1" : "" });
    clearTimeout(timer);
    if (follow.checked) read();
    else status.textContent = "paused";
  });

  return {
    el,
    live: false,
    async refresh() {
      if (timer === null) await read();
    },
    dispose() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
