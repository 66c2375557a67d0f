// Building the page from data without ever parsing data as HTML: every string becomes a
// text node (textContent), attributes are set one by one, and the only URLs put into
// links are the page's own hash routes, the master's relative paths, or http(s) URLs.

/** An element: `h("td", {class: "num"}, "3", otherNode)`. Strings and numbers become text. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "href") {
      el.setAttribute("href", safeHref(String(value)));
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (nodes, strings, numbers, nested arrays; null skipped). */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Removes every child. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

/** A hash link or a relative link; anything else (javascript:, data:) becomes "#". */
export function safeHref(url) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return /^https?:/i.test(url) ? url : "#";
  return url;
}

/** A link to a page of this UI. */
export function link(route, text, attrs) {
  return h("a", { ...(attrs || {}), href: "#" + route }, text);
}

/** A section with a title. */
export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

/** A definition list from [label, value] pairs. */
export function facts(pairs, testid) {
  const dl = h("dl", { class: "facts", "data-testid": testid });
  for (const [label, value, id] of pairs.filter(Boolean)) {
    append(dl, [h("dt", {}, label), h("dd", { "data-testid": id }, value ?? "-")]);
  }
  return dl;
}
