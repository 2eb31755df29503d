// The agent console: sign in, watch the queue live (server-sent events), read a
// conversation's full context, claim it, write to the customer, add notes, resolve.
// Everything from the API is put on the page as text (textContent), never as HTML.

const TOKEN_KEY = "lumen-console:token";
const AGENT_KEY = "lumen-console:agent";
const REFRESH_DEBOUNCE_MS = 150;
// "Dana is typing…": sent at most this often while writing, shown this long after the last.
const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 6000;

const REASONS = {
  customer_request: "Asked for a person",
  frustration: "Frustrated",
  repeated_misses: "Bot could not help",
  sensitive_topic: "Sensitive topic",
  bot_failure: "Bot failure",
};
const ROLES = { customer: "Customer", bot: "Bot", agent: "Agent", system: "System" };

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  agent: JSON.parse(sessionStorage.getItem(AGENT_KEY) || "null"),
  conversations: [],
  openId: null,
  open: null,
  stream: null,
  refreshTimer: null,
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
  constructor(status, message) {
    super(message);
    this.status = status;
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
    const error = new ApiError(response.status, data?.message || `${response.status} ${response.statusText}`);
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
    $("login-error").textContent = error.message;
  } finally {
    button.disabled = false;
  }
});

$("sign-out").addEventListener("click", () => signOut());

function signOut(message = "") {
  state.stream?.close();
  state.stream = null;
  state.token = null;
  state.agent = null;
  state.openId = null;
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
  showError("");
  connectStream();
  refreshQueue();
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
  const item = element("li", `turn turn-${turn.role}`);
  const who = turn.role === "agent" && turn.agent ? turn.agent.name : (ROLES[turn.role] ?? turn.role);
  const head = element("div", "turn-head");
  head.append(element("span", "turn-who", who), element("span", "turn-time", clock(turn.created_at)));
  item.append(head, element("p", "turn-text", turn.text));

  const meta = [];
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

function renderFacts(conversation) {
  const customer = conversation.customer ?? {};
  const facts = [
    ["Customer", customer.name || "Not given"],
    ["Email", customer.email],
    ["Phone", customer.phone],
    ["Left a contact", conversation.contact],
    ["Reason", REASONS[conversation.reason] ?? conversation.reason],
    ["Channel", conversation.channel === "kiosk" ? "Kiosk" : "Website"],
    ["Page", conversation.page_url],
    ["Kiosk", [conversation.kiosk_id, conversation.kiosk_location].filter(Boolean).join(" · ")],
    ["Language", conversation.locale],
    ["Sentiment", sentimentLabel(conversation.sentiment)],
    ["Team", conversation.team],
    ["Topics", (conversation.tags ?? []).join(", ")],
    ["Queue", conversation.position ? `#${conversation.position}` : ""],
    ["Agent", conversation.assignee?.name],
    ["Conversation id", conversation.conversation_id],
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

// Ages in the queue move on even when nothing happens.
setInterval(() => state.token && renderQueue(), 30000);

if (state.token) startConsole();
else signOut();
