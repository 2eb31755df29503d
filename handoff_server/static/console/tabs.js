// Several conversations at once: the ones the agent holds and the ones they opened, as tabs
// over the detail pane, each with the customer messages the agent has not seen yet.

import { byId, element } from "../dom.js";
import { customerName } from "./format.js";
import { heldBy, listed } from "./queue.js";
import { session } from "./session.js";

let opened = []; // ids the agent opened, in order
const closed = new Set(); // held conversations the agent closed the tab of
const unread = new Map(); // id -> customer messages not seen
const names = new Map(); // id -> the customer's name, as last seen
let currentId = null;
let onSwitch = () => {};

/** Call `handler(id)` when the agent picks a tab. */
export function onTabSwitch(handler) {
  onSwitch = handler;
}

/** Return the tabs' conversation ids, in order: opened ones, then the others held. */
export function tabIds() {
  const held = heldBy(session.agent?.username).map((conversation) => conversation.id);
  return [...opened, ...held.filter((id) => !opened.includes(id) && !closed.has(id))];
}

/** Show conversation `id` as the current tab (adding it), its messages read. */
export function showTab(id, name) {
  if (!opened.includes(id)) opened.push(id);
  closed.delete(id);
  if (name) names.set(id, name);
  currentId = id;
  unread.delete(id);
  renderTabs();
}

/** Count a customer message the agent has not seen in conversation `id`. */
export function countUnread(id) {
  closed.delete(id); // a closed tab of a held conversation comes back with the news
  unread.set(id, (unread.get(id) ?? 0) + 1);
  renderTabs();
}

/** Mark conversation `id` read (the agent is looking at it). */
export function markRead(id) {
  if (unread.delete(id)) renderTabs();
}

/** Return the customer messages not seen, over every conversation. */
export function unreadTotal() {
  return [...unread.values()].reduce((sum, count) => sum + count, 0);
}

/** Return the id of the tab `step` places after the current one (wrapping), or null. */
export function tabAfter(step) {
  const ids = tabIds();
  if (!ids.length) return null;
  const index = ids.indexOf(currentId);
  return ids[(index + step + ids.length * 2) % ids.length] ?? ids[0];
}

/** Forget every tab (signed out). */
export function clearTabs() {
  opened = [];
  closed.clear();
  unread.clear();
  currentId = null;
  renderTabs();
}

function closeTab(id) {
  opened = opened.filter((other) => other !== id);
  closed.add(id);
  unread.delete(id);
  renderTabs();
}

/** Draw the tabs (also after the queue changed: held conversations come and go). */
export function renderTabs() {
  const ids = tabIds();
  byId("tabs").hidden = ids.length === 0;
  byId("tab-list").replaceChildren(...ids.map((id, index) => tab(id, index)));
}

function tab(id, index) {
  const conversation = listed(id);
  const name = conversation ? customerName(conversation) : (names.get(id) ?? `Conversation ${id}`);
  if (conversation) names.set(id, name);
  const count = unread.get(id) ?? 0;
  const item = element("li", "tab");
  item.dataset.id = String(id);
  const open = element("button", "tab-open");
  open.type = "button";
  if (id === currentId) open.setAttribute("aria-current", "true");
  open.append(element("span", "tab-name", name));
  if (count) open.append(element("span", "tab-unread", count));
  const shortcut = index < 9 ? `, Alt+${index + 1}` : "";
  open.setAttribute("aria-label", `${name}${count ? `, ${count} unread` : ""}${shortcut}`);
  open.addEventListener("click", () => onSwitch(id));
  const close = element("button", "tab-close", "×");
  close.type = "button";
  close.setAttribute("aria-label", `Close ${name}`);
  close.addEventListener("click", () => closeTab(id));
  item.append(open, close);
  return item;
}
