// A paged table over one of the master's lists (`list/<kind>`): the master filters, sorts
// and cuts the page, so 100,000 rows cost the browser 50. Filter, sort column, order and
// offset live in the page's URL (prefixed by the table's `key`, so a page can hold
// several tables), so a link or a reload shows the same rows.

import { h, append, replace } from "./dom.js";
import { getJson } from "./api.js";
import { route, setParams } from "./router.js";

export function pagedTable({ list, columns, key = "", fixed = {}, title, testid, pageSize = 50, empty = "Nothing here." }) {
  const param = (name) => route().params.get(key + name) || "";
  const filter = h("input", {
    type: "search",
    placeholder: "Filter…",
    value: param("filter"),
    "aria-label": `Filter ${title || list}`,
    "data-testid": `${testid}-filter`,
  });
  const count = h("span", { class: "muted", "data-testid": `${testid}-count` });
  const head = h("tr");
  const body = h("tbody");
  const prev = h("button", { type: "button", "data-testid": `${testid}-prev` }, "‹ Prev");
  const next = h("button", { type: "button", "data-testid": `${testid}-next` }, "Next ›");
  const el = h(
    "section",
    { class: "card", "data-testid": testid },
    h("div", { class: "table-head" }, title ? h("h2", {}, title) : null, filter, count),
    h("div", { class: "scroll" }, h("table", {}, h("thead", {}, head), body)),
    h("div", { class: "pager" }, prev, next),
  );
  let timer = null;
  let inflight = null;
  filter.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      setParams({ [key + "filter"]: filter.value, [key + "offset"]: "" });
      refresh();
    }, 250);
  });
  prev.addEventListener("click", () => move(-pageSize));
  next.addEventListener("click", () => move(pageSize));

  function move(delta) {
    const offset = Math.max(0, Number(param("offset") || 0) + delta);
    setParams({ [key + "offset"]: offset ? String(offset) : "" });
    refresh();
  }

  function drawHead() {
    const sort = param("sort");
    const desc = param("order") === "desc";
    replace(
      head,
      columns.map((c) => {
        if (!c.sort) return h("th", { scope: "col" }, c.label);
        const active = sort === c.sort;
        const button = h(
          "button",
          {
            type: "button",
            class: "sort",
            "data-testid": `${testid}-sort-${c.sort}`,
            onclick: () => {
              const order = active && !desc ? "desc" : "asc";
              setParams({ [key + "sort"]: c.sort, [key + "order"]: order, [key + "offset"]: "" });
              refresh();
            },
          },
          c.label,
          active ? (desc ? " ▼" : " ▲") : "",
        );
        return h("th", { scope: "col", "aria-sort": active ? (desc ? "descending" : "ascending") : "none" }, button);
      }),
    );
  }

  async function refresh() {
    drawHead();
    const query = new URLSearchParams(fixed);
    for (const name of ["filter", "sort", "order", "offset"]) {
      if (param(name)) query.set(name, param(name));
    }
    query.set("limit", String(pageSize));
    if (inflight) inflight.abort();
    const controller = new AbortController();
    inflight = controller;
    let page;
    try {
      page = await getJson(`list/${list}?${query}`, controller.signal);
    } catch (e) {
      if (e.name === "AbortError") return;
      replace(body, h("tr", {}, h("td", { colspan: columns.length, class: "error" }, e.message)));
      return;
    }
    if (inflight === controller) inflight = null;
    const offset = page.offset || 0;
    const rows = page.items || [];
    replace(
      body,
      rows.length
        ? rows.map((row) =>
            h(
              "tr",
              { "data-testid": `${testid}-row`, "data-id": row.id },
              columns.map((c) => append(h("td", { class: c.class }), [c.cell(row)])),
            ),
          )
        : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, empty)),
    );
    replace(count, rows.length ? `${offset + 1}–${offset + rows.length} of ${page.total}` : `0 of ${page.total}`);
    prev.disabled = offset === 0;
    next.disabled = offset + rows.length >= page.total;
  }

  return { el, refresh };
}
