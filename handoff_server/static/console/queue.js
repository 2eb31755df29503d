// The queue: who is waiting, who is being helped, and the messages left while nobody was on duty.

import { HANDOFF_REASON_LABELS as REASONS } from "../../vocabulary.js";
import { byId, element } from "../dom.js";
import { api, attempt } from "./api.js";
import { age, channelLabel, customerName } from "./format.js";

const LISTS = ["queued", "assigned", "offline"];
// The API's largest page (schemas.CONVERSATION_QUERY): its default of 100 hid the 101st
// customer on a busy day.
const LIST_LIMIT = 500;
// How long a customer may wait before they are highlighted (config/assistant.yml).
const WAIT_LIMIT_S = Number(document.body.dataset.waitLimitS || 180);
const TICK_MS = 1000;
const WAIT_LIMIT_LABEL =
  WAIT_LIMIT_S % 60 ? `Waiting over ${WAIT_LIMIT_S} s` : `Waiting over ${WAIT_LIMIT_S / 60} min`;

let conversations = [];
let waitingIds = null; // the customers waiting at the last refresh; null before the first
let selectedId = null;
let onSelect = () => {};
let onRefreshed = () => {};

/** Call `handler(id)` when the agent picks a conversation in the lists. */
export function onQueueSelect(handler) {
  onSelect = handler;
}

/** Call `handler(arrivals)` after each refresh, with the customers who started waiting since. */
export function onQueueRefreshed(handler) {
  onRefreshed = handler;
}

/** Return the listed conversation `id`, or undefined. */
export function listed(id) {
  return conversations.find((conversation) => conversation.id === id);
}

/** Return the conversations assigned to agent `username`, oldest first. */
export function heldBy(username) {
  return conversations.filter(
    (conversation) => conversation.state === "assigned" && conversation.assignee?.username === username
  );
}

/** Return how many customers wait for an agent. */
export function waitingCount() {
  return conversations.filter((conversation) => conversation.state === "queued").length;
}

/** Return the id of the customer first in the queue, or null. */
export function firstWaitingId() {
  const waiting = conversations.filter((conversation) => conversation.state === "queued");
  waiting.sort((a, b) => (a.position ?? Infinity) - (b.position ?? Infinity));
  return waiting[0]?.id ?? null;
}

/** Mark conversation `id` (or none, null) as the one open. */
export function selectInQueue(id) {
  selectedId = id;
  renderQueue();
}

export async function refreshQueue() {
  // Waiting and in progress (the default list), and the messages left while nobody was on duty.
  const lists = await attempt(() =>
    Promise.all([
      api("GET", `/api/conversations?limit=${LIST_LIMIT}`),
      api("GET", `/api/conversations?state=offline&limit=${LIST_LIMIT}`),
    ])
  );
  if (!lists) return;
  conversations = lists.flatMap((data) => data.conversations ?? []);
  const waiting = conversations.filter((conversation) => conversation.state === "queued");
  const arrivals = waitingIds ? waiting.filter((conversation) => !waitingIds.has(conversation.id)) : [];
  waitingIds = new Set(waiting.map((conversation) => conversation.id));
  renderQueue();
  onRefreshed(arrivals);
}

/** Forget the lists (signed out): the next sign-in's queue is no news. */
export function clearQueue() {
  conversations = [];
  waitingIds = null;
  selectedId = null;
  renderQueue();
}

export function renderQueue() {
  // Live updates redraw the lists; keep the keyboard focus on the same conversation.
  const focusedId = document.activeElement?.closest(".queue-item")?.dataset.id;
  for (const listState of LISTS) {
    const items = conversations.filter((conversation) => conversation.state === listState);
    const list = byId(`${listState}-list`);
    list.replaceChildren(...items.map(queueItem));
    byId(`${listState}-count`).textContent = String(items.length);
    byId(`${listState}-empty`).hidden = items.length > 0;
  }
  if (focusedId) document.querySelector(`.queue-item[data-id="${focusedId}"]`)?.focus();
}

function queueItem(conversation) {
  const item = element("li");
  const button = element("button", "queue-item");
  button.type = "button";
  button.dataset.id = String(conversation.id);
  if (conversation.id === selectedId) button.setAttribute("aria-current", "true");

  const top = element("div", "queue-item-top");
  top.append(element("span", "queue-name", customerName(conversation)));
  const ageText = element("span", "queue-age", age(conversation.created_at));
  ageText.title = new Date(conversation.created_at).toLocaleString();
  if (conversation.state === "queued") ageText.dataset.waitingSince = conversation.created_at;
  top.append(ageText);

  const tags = element("div", "queue-item-tags");
  tags.append(
    element("span", `tag tag-${conversation.reason}`, REASONS[conversation.reason] ?? conversation.reason),
    element("span", "tag", channelLabel(conversation))
  );
  if (conversation.state === "queued" && conversation.position) {
    tags.append(element("span", "tag tag-position", `#${conversation.position} in queue`));
  }
  if (conversation.state === "assigned" && conversation.assignee) {
    tags.append(element("span", "tag", `with ${conversation.assignee.name}`));
  }

  button.append(top, tags);
  if (conversation.summary) button.append(element("p", "queue-summary", conversation.summary));
  button.addEventListener("click", () => onSelect(conversation.id));
  if (conversation.state === "queued") showWait(button, ageText);
  item.append(button);
  return item;
}

/** Show how long the customer has waited, ticking, highlighted past the configured limit. */
function showWait(button, ageText) {
  const waitedS = Math.max(0, Math.floor((Date.now() - Date.parse(ageText.dataset.waitingSince)) / 1000));
  const minutes = Math.floor(waitedS / 60);
  ageText.textContent = `${minutes}:${String(waitedS % 60).padStart(2, "0")}`;
  const late = waitedS > WAIT_LIMIT_S;
  if (late === button.classList.contains("queue-item--late")) return;
  button.classList.toggle("queue-item--late", late);
  const tags = button.querySelector(".queue-item-tags");
  if (late) tags.prepend(element("span", "tag tag-late", WAIT_LIMIT_LABEL));
  else tags.querySelector(".tag-late")?.remove();
}

/** Move the waiting times on, every second. */
export function tickWaits() {
  for (const ageText of document.querySelectorAll("#queued-list .queue-age[data-waiting-since]")) {
    showWait(ageText.closest(".queue-item"), ageText);
  }
}

setInterval(tickWaits, TICK_MS);
