// The agent console: sign in, watch the queue live (server-sent events), read a
// conversation's full context, claim it, write to the customer, add notes, resolve.
// Supervisors also teach the questions the bot could not answer to FAQs.
// This module signs in and out and wires the others together; each concern has its own:
// api.js (the JSON API), stream.js (live events), queue.js, conversation.js, teaching.js.
// Everything from the API is put on the page as text (../dom.js), never as HTML.

import { byId } from "../dom.js";
import { api, onSessionEnded, showError } from "./api.js";
import {
  closeConversation,
  initConversation,
  loadConversation,
  openedId,
  showConversation,
  showTyping,
} from "./conversation.js";
import { onQueueSelect, refreshQueue, renderQueue, selectInQueue } from "./queue.js";
import { canTeach, forget, remember, session } from "./session.js";
import { closeStream, connectStream } from "./stream.js";
import {
  hideQuestions,
  initTeaching,
  loadFaqs,
  refreshQuestions,
  scheduleQuestionsRefresh,
} from "./teaching.js";

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
  selectInQueue(null);
  hideQuestions();
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
  byId("people-link").hidden = session.agent?.role !== "admin";
  showError("");
  connectStream({
    connected: () => {
      scheduleRefresh(true); // anything that happened while we were away
      if (canTeach()) scheduleQuestionsRefresh();
    },
    refused: () => refreshQueue(),
    changed: (kind, conversationId) =>
      scheduleRefresh(conversationId === undefined || conversationId === openedId()),
    typing: showTyping,
    questions: () => canTeach() && scheduleQuestionsRefresh(),
  });
  refreshQueue();
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

// --- Opening a conversation ------------------------------------------------------------------

onQueueSelect(async (id) => {
  hideQuestions();
  selectInQueue(id);
  await showConversation(id);
});

initConversation();
initTeaching();

setInterval(() => session.token && renderQueue(), AGES_EVERY_MS);

if (session.token) startConsole();
else signOut();
