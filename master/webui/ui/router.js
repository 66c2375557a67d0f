// Hash routes: `#/<path>?<params>`. Every page and its filters live in the URL.

/** The current route: `{path: ["tasks", "<id>"], params: URLSearchParams}`. */
export function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?", 2);
  return {
    path: path.split("/").filter(Boolean).map(decodeURIComponent),
    params: new URLSearchParams(query || ""),
  };
}

/** Changes parameters of the current route in place (empty values removed), without a reload. */
export function setParams(changes) {
  const { path, params } = route();
  for (const [name, value] of Object.entries(changes)) {
    if (value === "" || value === null || value === undefined) params.delete(name);
    else params.set(name, value);
  }
  const query = params.toString();
  const hash = "#/" + path.map(encodeURIComponent).join("/") + (query ? "?" + query : "");
  history.replaceState(null, "", hash);
}

/** A route string for a path of segments and optional params. */
export function href(segments, params) {
  const query = params ? new URLSearchParams(params).toString() : "";
  return "/" + segments.map(encodeURIComponent).join("/") + (query ? "?" + query : "");
}
