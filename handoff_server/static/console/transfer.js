// Transfer the open conversation to a colleague or a team, with an internal note.

import { byId, element } from "../dom.js";
import { ApiError, api } from "./api.js";
import { openedId, showChanges } from "./conversation.js";
import { session } from "./session.js";

async function fillTargets() {
  const [agents, teams] = await Promise.all([api("GET", "/api/agents"), api("GET", "/api/teams")]);
  const colleagues = agents.agents.filter((agent) => agent.username !== session.agent?.username);
  const group = (label, options) => {
    const optgroup = element("optgroup");
    optgroup.label = label;
    optgroup.append(...options);
    return optgroup;
  };
  const option = (value, text) => {
    const node = element("option", null, text);
    node.value = value;
    return node;
  };
  byId("transfer-to").replaceChildren(
    group(
      "Colleagues",
      colleagues.map((agent) =>
        option(`agent:${agent.username}`, `${agent.name}${agent.on_duty ? " (on duty)" : ""}`)
      )
    ),
    group("Teams", teams.teams.map((team) => option(`team:${team}`, `The ${team} team`)))
  );
}

/** Open the transfer dialog for the conversation on screen. */
export async function openTransfer() {
  if (openedId() === null || byId("transfer").hidden) return;
  byId("transfer-error").textContent = "";
  byId("transfer-note").value = "";
  try {
    await fillTargets();
  } catch (failure) {
    if (!(failure instanceof ApiError)) throw failure;
    byId("transfer-error").textContent = failure.message;
  }
  byId("transfer-dialog").showModal();
  byId("transfer-to").focus();
}

export function initTransfer() {
  byId("transfer").addEventListener("click", openTransfer);
  byId("transfer-cancel").addEventListener("click", () => byId("transfer-dialog").close());
  byId("transfer-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const [kind, name] = byId("transfer-to").value.split(/:(.*)/s);
    if (!name) {
      byId("transfer-error").textContent = "Choose a colleague or a team.";
      return;
    }
    const note = byId("transfer-note").value.trim() || null;
    const send = byId("transfer-send");
    send.disabled = true;
    try {
      await api("POST", `/api/conversations/${openedId()}/transfer`, { [kind]: name, note });
      byId("transfer-dialog").close();
      await showChanges();
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      byId("transfer-error").textContent = failure.message;
    } finally {
      send.disabled = false;
    }
  });
}
