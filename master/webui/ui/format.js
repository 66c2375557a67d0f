// How values are shown: sizes in binary units, times relative or absolute (a click on any
// time switches every time on the page; the choice is kept), ids shortened with the full
// id in the tooltip, task states without the TASK_ prefix.

import { h } from "./dom.js";

let absolute = localStorage.getItem("meso.absolute-times") === "1";

/** Megabytes as KiB/MiB/GiB/TiB. */
export function mb(value) {
  let v = Number(value || 0) * 1024 * 1024;
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** Bytes as B/KiB/MiB/... */
export function bytes(value) {
  return mb(Number(value || 0) / (1024 * 1024));
}

/** A number with at most two decimals. */
export function num(value) {
  const v = Number(value || 0);
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** A percentage of a share in [0, 1]. */
export function pct(value) {
  return `${(Number(value || 0) * 100).toFixed(1)}%`;
}

/** `TASK_RUNNING` -> `RUNNING`. */
export function state(s) {
  return String(s || "").replace(/^TASK_/, "");
}

/** An element showing seconds-since-the-epoch `secs`, relative or absolute. */
export function time(secs) {
  if (!secs) return h("span", { class: "muted" }, "-");
  const date = new Date(secs * 1000);
  return h(
    "time",
    {
      datetime: date.toISOString(),
      title: absolute ? relative(secs) : date.toISOString(),
      class: "clickable",
      onclick: () => {
        absolute = !absolute;
        localStorage.setItem("meso.absolute-times", absolute ? "1" : "0");
        window.dispatchEvent(new Event("meso:rerender"));
      },
    },
    absolute ? date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : relative(secs),
  );
}

function relative(secs) {
  const d = Date.now() / 1000 - secs;
  const ago = d >= 0;
  const a = Math.abs(d);
  const text =
    a < 60 ? `${Math.round(a)} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 86400 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86400)} d`;
  return ago ? `${text} ago` : `in ${text}`;
}

/** An id cut to its tail after the 4th '-', the whole id in the tooltip, and a copy button. */
export function id(full, route) {
  const text = String(full || "");
  const parts = text.split("-");
  const short = parts.length > 5 ? "…" + parts.slice(4).join("-") : text;
  const label = route ? h("a", { href: "#" + route, title: text }, short) : h("span", { title: text }, short);
  const copy = h(
    "button",
    {
      type: "button",
      class: "copy",
      title: "Copy the full id",
      "aria-label": `Copy ${text}`,
      onclick: (e) => {
        e.preventDefault();
        navigator.clipboard?.writeText(text).catch(() => {});
      },
    },
    "copy",
  );
  return h("span", { class: "id" }, label, copy);
}
