// The two dialogs of the page: a confirmation before any action that changes the cluster,
// and the login for a master that asks for credentials.

import { replace } from "./dom.js";
import { call, setCredentials } from "./api.js";

/** Asks `question`; on yes sends the operator call `body` and shows what the master answered in `out`. */
export function confirmCall(question, body, out, path) {
  const dialog = document.getElementById("confirm");
  replace(document.getElementById("confirm-text"), question);
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "ok") return;
    replace(out, "Sent; waiting for the master…");
    out.className = "muted";
    try {
      await call(body, path);
      replace(out, "The master accepted it.");
      out.className = "ok";
    } catch (e) {
      replace(out, `The master refused it: ${e.status || ""} ${e.body || e.message}`);
      out.className = "error";
    }
  };
  dialog.showModal();
}

let loginOpen = false;

/** Opens the login dialog (once at a time); `done` runs after credentials are set. */
export function login(why, done) {
  const dialog = document.getElementById("login");
  if (loginOpen) return;
  loginOpen = true;
  replace(document.getElementById("login-why"), why || "");
  const form = dialog.querySelector("form");
  dialog.onclose = () => {
    loginOpen = false;
    if (dialog.returnValue === "ok") {
      setCredentials(form.principal.value, form.secret.value);
      form.secret.value = "";
      if (done) done();
    }
  };
  dialog.showModal();
}
