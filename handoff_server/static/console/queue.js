// The queue: who is waiting, who is being helped, and the messages left while nobody was on duty.

import { HANDOFF_REASON_LABELS as REASONS } from "../../vocabulary.js";
import { byId, element } from "../dom.js";
import { api, attempt } from "./api.js";
import { age, channelLabel, customerName } from "./format.js";

const LISTS = ["queued", "assigned", "offline"];

let conversations = [];
let selectedId = null;
let onSelect = () => {};

/** Call `handler(id)` when the agent picks a conversation in the lists. */
export function onQueueSelect(handler) {
  onSelect = handler;
}

/** Mark conversation `id` (or none, null) as the one open. */
export function selectInQueue(id) {
  selectedId = id;
  renderQueue();
}

export async function refreshQueue() {
  // Waiting and in progress (the default list), and the messages left while nobody was on duty.
  const lists = await attempt(() =>
    Promise.all([api("GET", "/api/conversations"), api("GET", "/api/conversations?state=offline")])
  );
  if (!lists) return;
  conversations = lists.flatMap((data) => data.conversations ?? []);
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
  item.append(button);
  return item;
}
