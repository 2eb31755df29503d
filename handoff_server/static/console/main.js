// The agent console: sign in, watch the queue live (server-sent events), read a
// conversation's full context, claim it, write to the customer, add notes, transfer, resolve,
// several conversations at once, with alerts and keyboard shortcuts.
// Supervisors also teach the questions the bot could not answer to FAQs and keep the
// canned responses. This module signs in and out and wires the others together; each
// concern has its own: api.js (the JSON API), stream.js (live events), queue.js, tabs.js,
// conversation.js, canned.js, transfer.js, alerts.js, shortcuts.js, teaching.js.
// Everything from the API is put on the page as text (../dom.js), never as HTML.

import { byId } from "../dom.js";
import { alertAgent, askToNotify, initAlerts, showAttention } from "./alerts.js";
import { api, onSessionEnded, showError } from "./api.js";
import { initCanned, loadCanned } from "./canned.js";
import {
  closeConversation,
  initConversation,
  loadConversation,
  openedId,
  showConversation,
  showTyping,
} from "./conversation.js";
import { customerName } from "./format.js";
import {
  clearQueue,
  firstWaitingId,
  listed,
  onQueueRefreshed,
  onQueueSelect,
  refreshQueue,
  renderQueue,
  selectInQueue,
  waitingCount,
} from "./queue.js";
import { canTeach, forget, remember, session } from "./session.js";
import { initShortcuts } from "./shortcuts.js";
import { closeStream, connectStream } from "./stream.js";
import {
  clearTabs,
  countUnread,
  markRead,
  onTabSwitch,
  renderTabs,
  showTab,
  tabAfter,
  tabIds,
  unreadTotal,
} from "./tabs.js";
import {
  hideQuestions,
  initTeaching,
  loadFaqs,
  refreshQuestions,
  scheduleQuestionsRefresh,
} from "./teaching.js";
import { initTransfer, openTransfer } from "./transfer.js";

const REFRESH_DEBOUNCE_MS = 150;
// Ages in the queue move on even when nothing happens.
const AGES_EVERY_MS = 30000;

// --- Sign in and out ---------------------------------------------------------------------

byId("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button");
  byId("login-error").textContent = "";
  button.disabled = true;
  askToNotify(); // signing in is a click: the one moment browsers let a page ask
  try {
    const username = byId("username").value.trim();
    const data = await api("POST", "/api/auth/token", { username, password: byId("password").value });
    remember(data.token, data.agent ?? { username });
    form.reset();
    startConsole();
  } catch (error) {
    byId("login-error").textContent = error.status === 429 ? tooManySignIns(error.retryAfterS) : error.message;
  } finally {
    button.disabled = false;
  }
});

/** Say how long to wait once the server refuses sign-ins (429, Retry-After in seconds). */
function tooManySignIns(retryAfterS) {
  if (!retryAfterS) return "Too many failed sign-ins. Please wait a few minutes, then try again.";
  const minutes = Math.ceil(retryAfterS / 60);
  return `Too many failed sign-ins. Please wait ${minutes} minute${minutes === 1 ? "" : "s"}, then try again.`;
}

byId("sign-out").addEventListener("click", () => signOut());
onSessionEnded(signOut);

function signOut(message = "") {
  closeStream();
  forget();
  closeConversation();
  clearQueue();
  clearTabs();
  showAttention(0);
  hideQuestions();
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  byId("app-view").hidden = true;
  byId("login-view").hidden = false;
  byId("login-error").textContent = message;
  byId("username").focus();
}

function startConsole() {
  byId("login-view").hidden = true;
  byId("app-view").hidden = false;
  byId("whoami").textContent = session.agent?.name || session.agent?.username || "";
  byId("gaps-open").hidden = !canTeach();
  byId("reports-link").hidden = !canTeach();
  byId("questions-link").hidden = !canTeach();
  byId("people-link").hidden = session.agent?.role !== "admin";
  byId("canned-open").hidden = !canTeach();
  showError("");
  connectStream({
    connected: () => {
      scheduleRefresh(true); // anything that happened while we were away
      if (canTeach()) scheduleQuestionsRefresh();
    },
    refused: () => refreshQueue(),
    changed: (kind, conversationId, payload) => {
      if (kind === "message") noticeMessage(payload);
      scheduleRefresh(conversationId === undefined || conversationId === openedId());
    },
    typing: showTyping,
    questions: () => canTeach() && scheduleQuestionsRefresh(),
    transferred: noticeTransfer,
    canned: loadCanned,
  });
  refreshQueue();
  loadCanned();
  // The FAQs first: a rejected suggestion is shown by its question.
  if (canTeach()) loadFaqs().then(refreshQuestions);
}

// --- Live updates --------------------------------------------------------------------------

let refreshTimer = null;
let detailIsStale = false;

/** Refresh the queue (and the open conversation if it changed), a burst of events at once. */
function scheduleRefresh(includeDetail) {
  detailIsStale ||= includeDetail;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    refreshQueue();
    if (detailIsStale && openedId() !== null) loadConversation(openedId());
    detailIsStale = false;
  }, REFRESH_DEBOUNCE_MS);
}

// --- Never miss a customer -------------------------------------------------------------------

function updateAttention() {
  showAttention(waitingCount() + unreadTotal());
}

function say(text) {
  byId("notice").textContent = text;
}

onQueueRefreshed((arrivals) => {
  renderTabs();
  updateAttention();
  if (!arrivals.length) return;
  const names = arrivals.map(customerName).join(", ");
  const title = arrivals.length === 1 ? "A customer is waiting" : `${arrivals.length} customers are waiting`;
  say(`${title}: ${names}.`);
  alertAgent(title, names, { tag: "lumen-queue", onClick: () => openConversation(arrivals[0].id) });
});

/** A customer wrote: count it unread and alert, unless the agent is looking at it. */
function noticeMessage(message) {
  if (message?.role !== "customer") return;
  const conversation = listed(message.conversation);
  if (conversation?.assignee?.username !== session.agent?.username) return;
  const looking = message.conversation === openedId();
  if (looking && document.visibilityState === "visible") return;
  if (!looking) countUnread(message.conversation);
  updateAttention();
  alertAgent(`${customerName(conversation)} wrote`, message.text, {
    tag: `lumen-conversation-${message.conversation}`,
    onClick: () => openConversation(message.conversation),
  });
}

/** A conversation was transferred: tell its receiver (this agent, or this agent's team). */
function noticeTransfer(transfer) {
  const me = session.agent;
  const toMe = transfer.agent === me?.username || (transfer.team && transfer.team === me?.team);
  if (!toMe || transfer.by?.username === me?.username) return;
  const title = `${transfer.by?.name ?? "A colleague"} transferred a conversation to ${
    transfer.agent ? "you" : `the ${transfer.team} team`
  }`;
  say(`${title}${transfer.note ? `: ${transfer.note}` : "."}`);
  alertAgent(title, transfer.note ?? "", {
    tag: `lumen-conversation-${transfer.conversation}`,
    onClick: () => openConversation(transfer.conversation),
  });
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && openedId() !== null) {
    markRead(openedId());
    updateAttention();
  }
});

// --- Opening conversations ------------------------------------------------------------------

async function openConversation(id) {
  hideQuestions();
  selectInQueue(id);
  const conversation = listed(id);
  showTab(id, conversation && customerName(conversation));
  updateAttention();
  await showConversation(id);
}

onQueueSelect(openConversation);
onTabSwitch(openConversation);

function press(id) {
  const button = byId(id);
  if (!button.hidden && !button.disabled && !byId("conversation").hidden) button.click();
}

function openIfAny(id) {
  if (id !== null && id !== undefined) openConversation(id);
}

initShortcuts(
  {
    claim: () => press("claim"),
    write: () => byId("reply-text").focus(),
    send: () => !byId("reply-text").disabled && byId("reply-form").requestSubmit(),
    note: () => byId("note-text").focus(),
    transfer: openTransfer,
    resolve: () => press("resolve"),
    nextTab: () => openIfAny(tabAfter(1)),
    previousTab: () => openIfAny(tabAfter(-1)),
    nextWaiting: () => openIfAny(firstWaitingId()),
  },
  (index) => openIfAny(tabIds()[index])
);
initAlerts();
initConversation();
initCanned();
initTransfer();
initTeaching();

setInterval(() => session.token && renderQueue(), AGES_EVERY_MS);

if (session.token) startConsole();
else signOut();
