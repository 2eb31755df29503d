// What the supervisors' pages (reports, people) share: the signed-in agent from the console's
// session, the top bar, and going back to the console's sign-in when the session ends.

import { byId } from "../dom.js";
import { onSessionEnded } from "./api.js";
import { forget, session } from "./session.js";

const ROLE_RANK = { agent: 0, supervisor: 1, admin: 2 };

/** Say whether the signed-in agent has at least `role`. */
export function hasRole(role) {
  return (ROLE_RANK[session.agent?.role] ?? -1) >= ROLE_RANK[role];
}

function backToSignIn() {
  forget();
  window.location.assign("/console");
}

/**
 * Start a page for agents with at least `role`; false (and the sign-in page) if nobody is
 * signed in. The server checks the role of every call; this only hides what would be refused.
 */
export function startAdminPage(role) {
  if (!session.token) {
    backToSignIn();
    return false;
  }
  onSessionEnded(backToSignIn);
  byId("whoami").textContent = session.agent?.name || session.agent?.username || "";
  byId("sign-out").addEventListener("click", backToSignIn);
  for (const link of document.querySelectorAll(".topbar-link")) {
    if (link.dataset.role && !hasRole(link.dataset.role)) link.hidden = true;
    if (link.pathname === window.location.pathname) link.setAttribute("aria-current", "page");
  }
  if (!hasRole(role)) {
    byId("error-banner").textContent = `This page is for ${role}s. Ask an admin if you need it.`;
    byId("error-banner").hidden = false;
    return false;
  }
  return true;
}
