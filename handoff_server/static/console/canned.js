// Canned responses: `/` in the reply box searches them by shortcut or text and puts the
// chosen one in the box, {customer_name} and {agent_name} filled in, for the agent to edit
// and send (nothing is sent without them). Supervisors keep the list in the console.

import { byId, element } from "../dom.js";
import { ApiError, api, attempt } from "./api.js";
import { openedConversation } from "./conversation.js";
import { session } from "./session.js";

const MAX_SHOWN = 8;
// "/" and what follows it, up to the caret, at the start of the box or after a space.
const TYPED_SEARCH = /(^|\s)\/([^\s/]*)$/;

let responses = [];
let matches = [];
let chosen = 0;

export async function loadCanned() {
  const data = await attempt(() => api("GET", "/api/canned-responses"));
  if (!data) return;
  responses = data.canned_responses;
  renderManaged();
}

/** Fill a canned text's placeholders from the open conversation and the signed-in agent. */
export function fillPlaceholders(text, conversation, agent) {
  const values = {
    customer_name: conversation?.customer?.name || conversation?.customer_name || "",
    agent_name: agent?.name || agent?.username || "",
  };
  // A value nobody knows stays as written, for the agent to see and fill.
  return text.replace(/\{([a-z_]+)\}/g, (placeholder, name) => values[name] || placeholder);
}

function search() {
  const reply = byId("reply-text");
  return TYPED_SEARCH.exec(reply.value.slice(0, reply.selectionStart));
}

function showMatches() {
  const typed = search();
  if (!typed) return hideMatches();
  const query = typed[2].toLowerCase();
  matches = responses
    .filter((canned) => canned.shortcut.startsWith(query) || canned.text.toLowerCase().includes(query))
    .slice(0, MAX_SHOWN);
  chosen = 0;
  renderMatches();
}

function hideMatches() {
  matches = [];
  renderMatches();
}

function renderMatches() {
  const list = byId("canned-matches");
  const reply = byId("reply-text");
  list.hidden = matches.length === 0;
  list.replaceChildren(
    ...matches.map((canned, index) => {
      const option = element("li", "canned-option");
      option.id = `canned-option-${canned.id}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", String(index === chosen));
      option.append(element("span", "canned-shortcut", `/${canned.shortcut}`), element("span", "canned-text", canned.text));
      // mousedown, not click: the reply box keeps its focus and caret.
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        insert(canned);
      });
      return option;
    })
  );
  if (matches.length) reply.setAttribute("aria-activedescendant", `canned-option-${matches[chosen].id}`);
  else reply.removeAttribute("aria-activedescendant");
  byId("canned-status").textContent = search()
    ? matches.length
      ? `${matches.length} canned response${matches.length === 1 ? "" : "s"}: arrows to choose, Enter to insert.`
      : "No canned response matches."
    : "";
}

function insert(canned) {
  const reply = byId("reply-text");
  const typed = search();
  if (!typed) return;
  const start = reply.selectionStart - typed[2].length - 1;
  const text = fillPlaceholders(canned.text, openedConversation(), session.agent);
  reply.setRangeText(text, start, reply.selectionStart, "end");
  hideMatches();
  // A placeholder nobody could fill is selected, for the agent to type over.
  const unfilled = /\{[a-z_]+\}/.exec(reply.value.slice(start, start + text.length));
  if (unfilled) reply.setSelectionRange(start + unfilled.index, start + unfilled.index + unfilled[0].length);
  reply.focus();
  reply.dispatchEvent(new Event("input", { bubbles: true }));
}

/** Wire `/` search in the reply box and the supervisors' list. */
export function initCanned() {
  const reply = byId("reply-text");
  reply.addEventListener("input", showMatches);
  reply.addEventListener("click", showMatches);
  reply.addEventListener("blur", hideMatches);
  // Captured on the form, before the reply box's own Enter (send) handler.
  byId("reply-form").addEventListener(
    "keydown",
    (event) => {
      if (event.target !== reply || !matches.length) return;
      const moves = { ArrowDown: 1, ArrowUp: -1 };
      if (event.key in moves) {
        chosen = (chosen + moves[event.key] + matches.length) % matches.length;
        renderMatches();
      } else if (event.key === "Enter" || event.key === "Tab") {
        insert(matches[chosen]);
      } else if (event.key === "Escape") {
        hideMatches();
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
    },
    true
  );

  byId("canned-open").addEventListener("click", () => {
    byId("canned").showModal();
    byId("canned-shortcut").focus();
  });
  byId("canned-close").addEventListener("click", () => byId("canned").close());
  byId("canned-form").addEventListener("submit", save);
  byId("canned-cancel").addEventListener("click", () => editing(null));
}

// --- Keeping the list (supervisors) ------------------------------------------------------------

let editedId = null;

function editing(canned) {
  editedId = canned?.id ?? null;
  byId("canned-shortcut").value = canned?.shortcut ?? "";
  byId("canned-text").value = canned?.text ?? "";
  byId("canned-save").textContent = canned ? "Save changes" : "Add response";
  byId("canned-cancel").hidden = !canned;
  byId("canned-error").textContent = "";
  if (canned) byId("canned-text").focus();
}

async function save(event) {
  event.preventDefault();
  const body = { shortcut: byId("canned-shortcut").value.trim().replace(/^\//, ""), text: byId("canned-text").value };
  const error = byId("canned-error");
  try {
    if (editedId === null) await api("POST", "/api/canned-responses", body);
    else await api("POST", `/api/canned-responses/${editedId}`, body);
    byId("canned-status-text").textContent = `Saved /${body.shortcut}.`;
    editing(null);
    await loadCanned();
    byId("canned-shortcut").focus();
  } catch (failure) {
    if (!(failure instanceof ApiError)) throw failure;
    error.textContent = failure.message;
  }
}

function renderManaged() {
  byId("canned-count").textContent = String(responses.length);
  byId("canned-empty").hidden = responses.length > 0;
  byId("canned-list").replaceChildren(
    ...responses.map((canned) => {
      const item = element("li", "canned-item");
      item.append(element("p", "canned-shortcut", `/${canned.shortcut}`), element("p", "canned-text", canned.text));
      const edit = element("button", "button", "Edit");
      edit.type = "button";
      edit.setAttribute("aria-label", `Edit /${canned.shortcut}`);
      edit.addEventListener("click", () => editing(canned));
      const remove = element("button", "button", "Delete");
      remove.type = "button";
      remove.setAttribute("aria-label", `Delete /${canned.shortcut}`);
      remove.addEventListener("click", async () => {
        if (await attempt(() => api("POST", `/api/canned-responses/${canned.id}/delete`))) {
          byId("canned-status-text").textContent = `Deleted /${canned.shortcut}.`;
          if (editedId === canned.id) editing(null);
          await loadCanned();
        }
      });
      const actions = element("div", "canned-actions");
      actions.append(edit, remove);
      item.append(actions);
      return item;
    })
  );
}
