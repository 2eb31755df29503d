// The agent console: sign in, watch the queue live (server-sent events), read a
// conversation's full context, claim it, write to the customer, add notes, resolve.
// Supervisors also teach the questions the bot could not answer to FAQs.
// Everything from the API is put on the page as text (textContent), never as HTML.

// Labels come from the server (lumen/vocabulary.py), the one place they are written.
import {
  HANDOFF_REASON_LABELS as REASONS,
  MISS_OUTCOME_LABELS as OUTCOMES,
  TURN_ROLE_LABELS as ROLES,
} from "../vocabulary.js";

const TOKEN_KEY = "lumen-console:token";
const AGENT_KEY = "lumen-console:agent";
const REFRESH_DEBOUNCE_MS = 150;
// "Dana is typing…": sent at most this often while writing, shown this long after the last.
const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 6000;

const TEACHING_ROLES = ["supervisor", "admin"];

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  agent: JSON.parse(sessionStorage.getItem(AGENT_KEY) || "null"),
  conversations: [],
  openId: null,
  open: null,
  stream: null,
  refreshTimer: null,
  gapsTimer: null,
  // "question (id)" as offered in the FAQ picker -> FAQ id; and FAQ id -> question.
  faqIdsByOption: new Map(),
  faqQuestions: new Map(),
};

// --- Small helpers ---------------------------------------------------------------

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function age(isoTime) {
  const seconds = Math.max(0, (Date.now() - Date.parse(isoTime)) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d`;
}

function clock(isoTime) {
  return isoTime ? new Date(isoTime).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

function customerName(conversation) {
  return conversation.customer_name || conversation.customer?.name || "Guest";
}

function channelLabel(conversation) {
  if (conversation.channel === "kiosk") {
    return `Kiosk${conversation.kiosk_location ? ` · ${conversation.kiosk_location}` : ""}`;
  }
  return "Website";
}

function sentimentLabel(score) {
  if (typeof score !== "number") return "unknown";
  const word = score <= -0.5 ? "very negative" : score < -0.05 ? "negative" : score > 0.05 ? "positive" : "neutral";
  return `${word} (${score.toFixed(2)})`;
}

function showError(message) {
  const banner = $("error-banner");
  banner.textContent = message;
  banner.hidden = !message;
}

// --- API ----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, retryAfterS = null) {
    super(message);
    this.status = status;
    this.retryAfterS = retryAfterS;
  }
}

/** Call the JSON API; errors carry the server's `message` ({"error", "message"}). */
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "The server cannot be reached. Check your connection and try again.");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const retryAfterS = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    const error = new ApiError(
      response.status,
      data?.message || `${response.status} ${response.statusText}`,
      Number.isFinite(retryAfterS) ? retryAfterS : null,
    );
    if (response.status === 401 && state.token) signOut("Your session has ended. Please sign in again.");
    throw error;
  }
  return data;
}

/** Run an agent's action, showing its error (if any) in the banner. */
async function attempt(action) {
  try {
    showError("");
    return await action();
  } catch (error) {
    if (error instanceof ApiError) showError(error.message);
    else throw error;
    return undefined;
  }
}

// --- Sign in and out ---------------------------------------------------------------------

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button");
  $("login-error").textContent = "";
  button.disabled = true;
  try {
    const data = await api("POST", "/api/auth/token", {
      username: $("username").value.trim(),
      password: $("password").value,
    });
    state.token = data.token;
    state.agent = data.agent ?? { username: $("username").value.trim() };
    sessionStorage.setItem(TOKEN_KEY, state.token);
    sessionStorage.setItem(AGENT_KEY, JSON.stringify(state.agent));
    form.reset();
    startConsole();
  } catch (error) {
    $("login-error").textContent = error.status === 429 ? tooManySignIns(error.retryAfterS) : error.message;
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

$("sign-out").addEventListener("click", () => signOut());

function signOut(message = "") {
  state.stream?.close();
  state.stream = null;
  state.token = null;
  state.agent = null;
  state.openId = null;
  $("gaps").hidden = true;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(AGENT_KEY);
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  $("login-error").textContent = message;
  $("username").focus();
}

function startConsole() {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("whoami").textContent = state.agent?.name || state.agent?.username || "";
  $("gaps-open").hidden = !canTeach();
  showError("");
  connectStream();
  refreshQueue();
  // The FAQs first: a rejected suggestion is shown by its question.
  if (canTeach()) loadFaqs().then(refreshGaps);
}

// --- Live updates --------------------------------------------------------------------------

function setLive(status, text) {
  const live = $("live-status");
  live.dataset.state = status;
  live.textContent = text;
}

function connectStream() {
  state.stream?.close();
  // EventSource cannot send headers, so the token goes in the query string; the browser
  // reconnects by itself and sends Last-Event-ID, so the server resumes where we were.
  const stream = new EventSource(`/api/stream?token=${encodeURIComponent(state.token)}`);
  state.stream = stream;
  stream.addEventListener("open", () => {
    setLive("live", "Live");
    scheduleRefresh(true); // anything that happened while we were away
    if (canTeach()) scheduleGapsRefresh();
  });
  stream.addEventListener("error", () => {
    if (stream.readyState === EventSource.CLOSED) {
      // The server refused the stream (expired token?): find out through the API.
      setLive("down", "Offline");
      refreshQueue();
    } else {
      setLive("connecting", "Reconnecting…");
    }
  });
  stream.addEventListener("typing", (event) => showTyping(JSON.parse(event.data)));
  // A question was recorded, taught or dismissed (by this supervisor or another one).
  stream.addEventListener("unanswered_question", () => canTeach() && scheduleGapsRefresh());
  for (const kind of ["conversation", "message", "note"]) {
    stream.addEventListener(kind, (event) => {
      let payload = {};
      try {
        payload = JSON.parse(event.data);
      } catch {
        /* an event we cannot read still means something changed */
      }
      const conversationId = kind === "conversation" ? payload.id : payload.conversation;
      scheduleRefresh(conversationId === undefined || conversationId === state.openId);
    });
  }
}

let detailIsStale = false;

/** Refresh the queue (and the open conversation if it changed), a burst of events at once. */
function scheduleRefresh(includeDetail) {
  detailIsStale ||= includeDetail;
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    refreshQueue();
    if (detailIsStale && state.openId !== null) loadConversation(state.openId);
    detailIsStale = false;
  }, REFRESH_DEBOUNCE_MS);
}

// --- The queue --------------------------------------------------------------------------------

async function refreshQueue() {
  // Waiting and in progress (the default list), and the messages left while nobody was on duty.
  const lists = await attempt(() =>
    Promise.all([api("GET", "/api/conversations"), api("GET", "/api/conversations?state=offline")])
  );
  if (!lists) return;
  state.conversations = lists.flatMap((data) => data.conversations ?? []);
  renderQueue();
}

function renderQueue() {
  // Live updates redraw the lists; keep the keyboard focus on the same conversation.
  const focusedId = document.activeElement?.closest(".queue-item")?.dataset.id;
  for (const listState of ["queued", "assigned", "offline"]) {
    const items = state.conversations.filter((conversation) => conversation.state === listState);
    const list = $(`${listState}-list`);
    list.replaceChildren(...items.map(queueItem));
    $(`${listState}-count`).textContent = String(items.length);
    $(`${listState}-empty`).hidden = items.length > 0;
  }
  if (focusedId) document.querySelector(`.queue-item[data-id="${focusedId}"]`)?.focus();
}

function queueItem(conversation) {
  const item = element("li");
  const button = element("button", "queue-item");
  button.type = "button";
  button.dataset.id = String(conversation.id);
  if (conversation.id === state.openId) button.setAttribute("aria-current", "true");

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
  button.addEventListener("click", () => openConversation(conversation.id));
  item.append(button);
  return item;
}

// --- One conversation -------------------------------------------------------------------------

async function openConversation(id) {
  $("gaps").hidden = true;
  state.openId = id;
  $("typing-hint").hidden = true;
  $("reply-text").value = "";
  $("note-text").value = "";
  renderQueue();
  await loadConversation(id, { scroll: true });
}

async function loadConversation(id, { scroll = false } = {}) {
  const transcript = $("transcript");
  const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
  const data = await attempt(() => api("GET", `/api/conversations/${id}`));
  if (!data || state.openId !== id) return;
  state.open = data;
  renderConversation(data);
  if (scroll || nearBottom) transcript.scrollTop = transcript.scrollHeight;
}

function renderConversation(conversation) {
  $("detail-empty").hidden = true;
  $("conversation").hidden = false;
  $("conversation-title").textContent = customerName(conversation);
  const waited = age(conversation.created_at);
  $("conversation-sub").textContent =
    `${REASONS[conversation.reason] ?? conversation.reason} · ${channelLabel(conversation)} · ` +
    `handed off ${waited === "just now" ? waited : `${waited} ago`}`;
  const stateBadge = $("conversation-state");
  stateBadge.textContent = conversation.state;
  stateBadge.dataset.state = conversation.state;

  const mine = conversation.assignee?.username === state.agent?.username;
  $("claim").hidden = conversation.state !== "queued";
  $("resolve").hidden = !["assigned", "offline"].includes(conversation.state);
  // The customer wrote before the resolve reached them: the agent may take it back.
  const wroteLate = (conversation.transcript ?? []).some((turn) => turn.late);
  $("reopen").hidden = !(conversation.state === "resolved" && wroteLate);
  const canWrite = conversation.state === "assigned";
  $("reply-form").classList.toggle("reply--disabled", !canWrite);
  $("reply-text").disabled = !canWrite;
  $("reply-form").querySelector("button").disabled = !canWrite;
  $("reply-hint").textContent =
    conversation.state === "queued"
      ? "Claim this conversation to write to the customer."
      : conversation.state === "assigned" && !mine
        ? `Assigned to ${conversation.assignee?.name ?? "another agent"}.`
        : conversation.state === "assigned"
          ? "The customer sees your messages in their chat. Enter sends, Shift+Enter adds a line."
          : conversation.state === "offline"
            ? `The customer left this message while nobody was on duty. Answer them at ${conversation.contact}, then resolve.`
            : `This conversation is ${conversation.state}.`;

  $("transcript").replaceChildren(...(conversation.transcript ?? []).map(transcriptTurn));
  renderSuggestions(conversation.suggested_answers ?? [], canWrite && mine);
  renderFacts(conversation);
  $("summary").textContent = conversation.summary || "No summary.";
  const notes = conversation.notes ?? [];
  $("notes").replaceChildren(
    ...(notes.length ? notes.map(noteItem) : [element("li", "muted", "No notes yet.")])
  );
  $("history").replaceChildren(
    ...(conversation.history ?? []).map((step) =>
      element("li", null, `${clock(step.at)} · ${step.from} → ${step.to} (${step.actor})`)
    )
  );
}

function transcriptTurn(turn) {
  const item = element("li", `turn turn-${turn.role}${turn.late ? " turn-late" : ""}`);
  const who = turn.role === "agent" && turn.agent ? turn.agent.name : (ROLES[turn.role] ?? turn.role);
  const head = element("div", "turn-head");
  head.append(element("span", "turn-who", who), element("span", "turn-time", clock(turn.created_at)));
  item.append(head, element("p", "turn-text", turn.text));

  const meta = [];
  if (turn.late) meta.push("arrived after the conversation was resolved");
  if (turn.intent) {
    const confidence = typeof turn.confidence === "number" ? ` ${turn.confidence.toFixed(2)}` : "";
    meta.push(`intent ${turn.intent}${confidence}`);
  }
  if (turn.role === "customer" && typeof turn.sentiment === "number") {
    meta.push(`sentiment ${turn.sentiment.toFixed(2)}`);
  }
  if (Array.isArray(turn.faq_hits) && turn.faq_hits.length) {
    const hits = turn.faq_hits
      .map((hit) => (typeof hit.score === "number" ? `${hit.faq_id} ${hit.score.toFixed(2)}` : hit.faq_id))
      .join(", ");
    meta.push(`FAQ hits: ${hits}`);
  }
  if (meta.length) item.append(element("p", "turn-meta", meta.join(" · ")));
  return item;
}

/** The knowledge base's answers to the customer's latest message; one click fills the reply box. */
function renderSuggestions(answers, usable) {
  $("suggestions").hidden = !usable || !answers.length;
  $("suggestion-list").replaceChildren(...answers.map(suggestionItem));
}

function suggestionItem(suggestion) {
  const item = element("li", "suggestion");
  const score = typeof suggestion.score === "number" ? ` · ${suggestion.score.toFixed(2)}` : "";
  item.append(element("p", "suggestion-question", `${suggestion.question}${score}`));
  item.append(element("p", "suggestion-answer", suggestion.answer));
  const use = element("button", "button", "Use this answer");
  use.type = "button";
  use.addEventListener("click", () => {
    const reply = $("reply-text");
    reply.value = suggestion.answer;
    reply.focus();
  });
  item.append(use);
  return item;
}

function renderFacts(conversation) {
  const customer = conversation.customer ?? {};
  // A guest at a kiosk is found by its place (from the venue data): it comes first.
  const kiosk = ["Kiosk", [conversation.kiosk_location, conversation.kiosk_id].filter(Boolean).join(" · ")];
  const facts = [
    ...(conversation.channel === "kiosk" ? [kiosk] : []),
    ["Customer", customer.name || "Not given"],
    ["Email", customer.email],
    ["Phone", customer.phone],
    ["Left a contact", conversation.contact],
    ["Reason", REASONS[conversation.reason] ?? conversation.reason],
    ["Channel", conversation.channel === "kiosk" ? "Kiosk" : "Website"],
    ["Page", conversation.page_url],
    ["Language", conversation.locale],
    ["Sentiment", sentimentLabel(conversation.sentiment)],
    ["Team", conversation.team],
    ["Topics", (conversation.tags ?? []).join(", ")],
    ["Queue", conversation.position ? `#${conversation.position}` : ""],
    ["Agent", conversation.assignee?.name],
    ["Session id", conversation.sender_id],
  ];
  const rows = [];
  for (const [name, value] of facts) {
    if (value === undefined || value === null || value === "") continue;
    rows.push(element("dt", null, name), element("dd", null, value));
  }
  $("facts").replaceChildren(...rows);
}

function noteItem(note) {
  const item = element("li", "note");
  item.append(
    element("p", "note-text", note.text),
    element("p", "note-meta", `${note.agent?.name ?? "Agent"} · ${clock(note.created_at)}`)
  );
  return item;
}

// --- Actions ------------------------------------------------------------------------------------

async function act(button, action) {
  button.disabled = true;
  const result = await attempt(action);
  button.disabled = false;
  if (result !== undefined && state.openId !== null) {
    await loadConversation(state.openId, { scroll: true });
    refreshQueue();
  }
  return result;
}

$("claim").addEventListener("click", (event) =>
  act(event.currentTarget, () => api("POST", `/api/conversations/${state.openId}/claim`)).then(
    (result) => result && $("reply-text").focus()
  )
);

$("resolve").addEventListener("click", (event) =>
  act(event.currentTarget, () => api("POST", `/api/conversations/${state.openId}/resolve`))
);

$("reopen").addEventListener("click", (event) =>
  act(event.currentTarget, () => api("POST", `/api/conversations/${state.openId}/reopen`)).then(
    (result) => result && $("reply-text").focus()
  )
);

function submitOnEnter(textarea, form) {
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

function textForm(formId, textareaId, path) {
  const form = $(formId);
  const textarea = $(textareaId);
  submitOnEnter(textarea, form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text) return;
    const sent = await act(form.querySelector("button"), () =>
      api("POST", `/api/conversations/${state.openId}/${path}`, { text })
    );
    if (sent !== undefined) {
      textarea.value = "";
      textarea.focus();
    }
  });
}

textForm("reply-form", "reply-text", "messages");
textForm("note-form", "note-text", "notes");

// --- Typing ------------------------------------------------------------------------------------

let typingSentAt = 0;
$("reply-text").addEventListener("input", () => {
  if (Date.now() - typingSentAt < TYPING_SEND_EVERY_MS || !$("reply-text").value.trim()) return;
  typingSentAt = Date.now();
  // A lost "typing" is no error worth a banner.
  api("POST", `/api/conversations/${state.openId}/typing`).catch(() => {});
});

function showTyping({ conversation, agent, at }) {
  const recent = Date.now() - Date.parse(at) < TYPING_SHOWN_MS; // a replayed event is old news
  if (conversation !== state.openId || agent.username === state.agent?.username || !recent) return;
  const hint = $("typing-hint");
  hint.textContent = `${agent.name} is typing…`;
  hint.hidden = false;
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(() => (hint.hidden = true), TYPING_SHOWN_MS);
}

// --- Questions the bot couldn't answer (supervisors) ---------------------------------------------

function canTeach() {
  return TEACHING_ROLES.includes(state.agent?.role);
}

function faqLabel(faqId) {
  const question = state.faqQuestions.get(faqId);
  return question ? `${question} (${faqId})` : faqId;
}

$("gaps-open").addEventListener("click", async () => {
  state.openId = null;
  state.open = null;
  renderQueue();
  $("detail-empty").hidden = true;
  $("conversation").hidden = true;
  $("gaps").hidden = false;
  $("gaps-status").textContent = "";
  await loadFaqs();
  await refreshGaps();
  $("gaps-list").querySelector("input")?.focus();
});

$("gaps-close").addEventListener("click", () => {
  $("gaps").hidden = true;
  $("detail-empty").hidden = false;
  $("gaps-open").focus();
});

/** Fill the FAQ picker (a datalist of "question (id)") from the knowledge base. */
async function loadFaqs() {
  const data = await attempt(() => api("GET", "/api/faqs"));
  if (!data) return;
  state.faqIdsByOption = new Map(data.faqs.map((faq) => [`${faq.question} (${faq.id})`, faq.id]));
  state.faqQuestions = new Map(data.faqs.map((faq) => [faq.id, faq.question]));
  $("faq-options").replaceChildren(
    ...[...state.faqIdsByOption.keys()].map((label) => {
      const option = element("option");
      option.value = label;
      return option;
    })
  );
}

function scheduleGapsRefresh() {
  clearTimeout(state.gapsTimer);
  state.gapsTimer = setTimeout(refreshGaps, REFRESH_DEBOUNCE_MS);
}

async function refreshGaps() {
  const data = await attempt(() => api("GET", "/api/unanswered-questions?limit=200"));
  if (data) renderGaps(data.questions);
}

function renderGaps(questions) {
  // Keep the items already shown as they are: a supervisor may be typing in one of them.
  const list = $("gaps-list");
  const shown = new Map([...list.children].map((item) => [item.dataset.id, item]));
  const open = new Set(questions.map((question) => String(question.id)));
  for (const [id, item] of shown) if (!open.has(id)) item.remove();
  let next = list.firstElementChild;
  for (const question of questions) {
    const item = shown.get(String(question.id));
    if (item) next = item.nextElementSibling;
    else list.insertBefore(gapItem(question), next);
  }
  updateGapsCount();
}

function updateGapsCount() {
  const count = $("gaps-list").children.length;
  $("gaps-count").textContent = String(count);
  $("gaps-empty").hidden = count > 0;
}

function gapItem(question) {
  const item = element("li", "gap");
  item.dataset.id = String(question.id);
  const meta = [channelLabel(question), OUTCOMES[question.outcome] ?? question.outcome, clock(question.created_at)];
  item.append(element("p", "gap-text", question.text), element("p", "gap-meta", meta.join(" · ")));
  if (question.suggestions?.length) {
    item.append(element("p", "gap-meta", `Suggested: ${question.suggestions.map(faqLabel).join("; ")}`));
  }

  const form = element("form", "gap-form");
  const inputId = `gap-faq-${question.id}`;
  const label = element("label", "sr-only", "FAQ that answers it");
  label.htmlFor = inputId;
  const picker = element("input");
  picker.id = inputId;
  picker.setAttribute("list", "faq-options");
  picker.placeholder = "Search the FAQs…";
  picker.autocomplete = "off";
  const teach = element("button", "button button-primary", "Teach");
  teach.type = "submit";
  const dismiss = element("button", "button", "Dismiss");
  dismiss.type = "button";
  form.append(label, picker, teach, dismiss);
  const error = element("p", "form-error gap-error");
  error.setAttribute("role", "alert");
  item.append(form, error);

  const close = async (button, path, body, done) => {
    error.textContent = "";
    button.disabled = true;
    try {
      await api("POST", `/api/unanswered-questions/${question.id}/${path}`, body);
      item.remove();
      updateGapsCount();
      $("gaps-status").textContent = done;
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      error.textContent = failure.message;
    } finally {
      button.disabled = false;
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const choice = picker.value.trim();
    const faqId = state.faqIdsByOption.get(choice) ?? (state.faqQuestions.has(choice) ? choice : null);
    if (!faqId) {
      error.textContent = "Pick an FAQ from the list first.";
      picker.focus();
      return;
    }
    close(teach, "teach", { faq_id: faqId }, `Taught “${question.text}” to ${faqLabel(faqId)}.`);
  });
  dismiss.addEventListener("click", () => close(dismiss, "dismiss", undefined, `Dismissed “${question.text}”.`));
  return item;
}

// Ages in the queue move on even when nothing happens.
setInterval(() => state.token && renderQueue(), 30000);

if (state.token) startConsole();
else signOut();
