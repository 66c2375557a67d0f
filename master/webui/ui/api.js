// Every request the page makes, to the master that served it (relative URLs, so the page
// also works under a reverse proxy's path prefix): GETs of the master's JSON endpoints,
// POSTs of operator calls, and the SUBSCRIBE stream read with fetch() and a streaming
// body reader. Credentials, once given in the login dialog, are kept for the tab
// (sessionStorage) and sent with every request.

export class HttpError extends Error {
  constructor(status, body, path) {
    super(`${path}: ${status} ${body}`.trim());
    this.status = status;
    this.body = body;
    this.path = path;
  }
}

/** Bytes read from the master so far (what the page downloaded). */
export const traffic = { bytes: 0 };

const listeners = { unauthorized: [] };

/** Calls `f(error)` whenever the master answers 401. */
export function onUnauthorized(f) {
  listeners.unauthorized.push(f);
}

/** Whether credentials are set. */
export function hasCredentials() {
  return sessionStorage.getItem("meso.auth") !== null;
}

/** Sets (or clears, with null) the principal and secret sent with every request. */
export function setCredentials(principal, secret) {
  if (principal === null) {
    sessionStorage.removeItem("meso.auth");
  } else {
    const raw = new TextEncoder().encode(`${principal}:${secret}`);
    let bin = "";
    for (const b of raw) bin += String.fromCharCode(b);
    sessionStorage.setItem("meso.auth", "Basic " + btoa(bin));
  }
}

function headers(extra) {
  // Marks the page's own requests: the master then leaves the Basic challenge out of a
  // 401, so the browser shows the page's login dialog instead of its own prompt.
  const out = { "X-Requested-With": "XMLHttpRequest", ...(extra || {}) };
  const auth = sessionStorage.getItem("meso.auth");
  if (auth) out.Authorization = auth;
  return out;
}

async function check(response, path) {
  if (response.ok) return response;
  const body = await response.text();
  traffic.bytes += body.length;
  const error = new HttpError(response.status, body, path);
  if (response.status === 401) listeners.unauthorized.forEach((f) => f(error));
  throw error;
}

/** GET `path` (relative, e.g. `overview`) as JSON. */
export async function getJson(path, signal) {
  const response = await check(await fetch(path, { headers: headers(), cache: "no-store", signal }), path);
  const text = await response.text();
  traffic.bytes += text.length;
  return JSON.parse(text);
}

/** GET `path` as text. */
export async function getText(path, signal) {
  const response = await check(await fetch(path, { headers: headers(), cache: "no-store", signal }), path);
  const text = await response.text();
  traffic.bytes += text.length;
  return text;
}

/**
 * POST an operator call (`{"type": ...}`) to `api/v1`, or `body` to another of the master's
 * endpoints (`path`, relative, e.g. `kill-task`); the answer's JSON or null.
 */
export async function call(body, path = "api/v1") {
  const response = await check(
    await fetch(path, {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", Accept: "application/json" }),
      body: JSON.stringify(body),
    }),
    path,
  );
  const text = await response.text();
  traffic.bytes += text.length;
  return text ? JSON.parse(text) : null;
}

/** The leadership as a master at `base` (`""`: this one) knows it. */
export async function leader(base, signal) {
  const url = `${base || ""}${base ? "/master/" : ""}leader`;
  const response = await fetch(url, { cache: "no-store", signal, credentials: "omit" });
  if (!response.ok) throw new HttpError(response.status, await response.text(), url);
  const text = await response.text();
  traffic.bytes += text.length;
  return JSON.parse(text);
}

/**
 * Opens the operator SUBSCRIBE stream (without the state: the page reads bounded
 * summaries) and calls `onEvent(event)` for every record, until the stream ends or
 * `signal` aborts. Resolves when the stream ends; rejects on a failed request.
 */
export async function subscribe(onEvent, signal) {
  const response = await check(
    await fetch("api/v1", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", Accept: "application/json" }),
      body: JSON.stringify({ type: "SUBSCRIBE", subscribe: { omit_state: true } }),
      signal,
    }),
    "api/v1",
  );
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    traffic.bytes += value.length;
    const joined = new Uint8Array(buffer.length + value.length);
    joined.set(buffer);
    joined.set(value, buffer.length);
    buffer = joined;
    // RecordIO: "<length>\n<length bytes of JSON>", repeated.
    for (;;) {
      const newline = buffer.indexOf(10);
      if (newline < 0) break;
      const length = Number(decoder.decode(buffer.subarray(0, newline)));
      if (!Number.isFinite(length)) throw new Error("bad RecordIO length in the event stream");
      if (buffer.length < newline + 1 + length) break;
      const record = buffer.subarray(newline + 1, newline + 1 + length);
      buffer = buffer.slice(newline + 1 + length);
      onEvent(JSON.parse(decoder.decode(record)));
    }
  }
}
