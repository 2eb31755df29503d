// One conversation: its transcript and context, and what the agent does with it (claim,
// write, add notes, resolve, reopen), with the knowledge base's suggested answers.

import { HANDOFF_REASON_LABELS as REASONS, TURN_ROLE_LABELS as ROLES } from "../../vocabulary.js";
import { byId, element } from "../dom.js";
import { api, attempt } from "./api.js";
import { renderCustomerCard } from "./customer-card.js";
import { age, channelLabel, clock, customerName, sentimentLabel } from "./format.js";
import { refreshQueue } from "./queue.js";
import { isMe } from "./session.js";

// "Dana is typing…": sent at most this often while writing, shown this long after the last.
const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 6000;

let openId = null;
let open = null; // the conversation on screen, as the API last described it
let typingSentAt = 0;
let typingTimer = null;

/** Return the id of the conversation on screen, or null. */
export function openedId() {
  return openId;
}

/** Return the conversation on screen (as the API last described it), or null. */
export function openedConversation() {
  return open;
}

/** Show conversation `id`, scrolled to its latest turn, with an empty reply box. */
export async function showConversation(id) {
  openId = id;
  byId("typing-hint").hidden = true;
  byId("reply-text").value = "";
  byId("note-text").value = "";
  await loadConversation(id, { scroll: true });
}

/** Put the conversation away (another view takes the detail pane). */
export function closeConversation() {
  openId = null;
  open = null;
  byId("conversation").hidden = true;
  byId("detail-empty").hidden = false;
}

/** Fetch the open conversation again, keeping the transcript where the agent reads it. */
export async function loadConversation(id, { scroll = false } = {}) {
  const transcript = byId("transcript");
  const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
  const data = await attempt(() => api("GET", `/api/conversations/${id}`));
  if (!data || openId !== id) return;
  open = data;
  renderConversation(data);
  if (scroll || nearBottom) transcript.scrollTop = transcript.scrollHeight;
}

function renderConversation(conversation) {
  byId("detail-empty").hidden = true;
  byId("conversation").hidden = false;
  byId("conversation-title").textContent = customerName(conversation);
  const waited = age(conversation.created_at);
  byId("conversation-sub").textContent =
    `${REASONS[conversation.reason] ?? conversation.reason} · ${channelLabel(conversation)} · ` +
    `handed off ${waited === "just now" ? waited : `${waited} ago`}`;
  const stateBadge = byId("conversation-state");
  stateBadge.textContent = conversation.state;
  stateBadge.dataset.state = conversation.state;

  const mine = isMe(conversation.assignee);
  byId("claim").hidden = conversation.state !== "queued";
  byId("resolve").hidden = !["assigned", "offline"].includes(conversation.state);
  byId("transfer").hidden = !["queued", "assigned"].includes(conversation.state);
  // The customer wrote before the resolve reached them: the agent may take it back.
  const wroteLate = (conversation.transcript ?? []).some((turn) => turn.late);
  byId("reopen").hidden = !(conversation.state === "resolved" && wroteLate);
  // A message left while nobody was on duty is answered from the reply box: by email to an
  // address, or, for a phone number, by recording what the agent said on the call.
  const answering = conversation.state === "offline";
  const byEmail = answering && (conversation.contact ?? "").includes("@");
  const canWrite = conversation.state === "assigned" || answering;
  const send = byId("reply-form").querySelector("button");
  byId("reply-form").classList.toggle("reply--disabled", !canWrite);
  byId("reply-text").disabled = !canWrite;
  send.disabled = !canWrite;
  send.textContent = !answering ? "Send" : byEmail ? "Send by email" : "Record the call";
  byId("reply-hint").textContent =
    conversation.state === "queued"
      ? "Claim this conversation to write to the customer."
      : conversation.state === "assigned" && !mine
        ? `Assigned to ${conversation.assignee?.name ?? "another agent"}.`
        : conversation.state === "assigned"
          ? "The customer sees your messages in their chat. Enter sends, Shift+Enter adds a line."
          : byEmail
            ? `The customer left this message while nobody was on duty. Your answer goes by email to ${conversation.contact} and closes it.`
            : answering
              ? `The customer left a phone number: call ${conversation.contact}, then write what you told them and record the call.`
              : `This conversation is ${conversation.state}.`;

  byId("transcript").replaceChildren(...(conversation.transcript ?? []).map(transcriptTurn));
  renderSuggestions(conversation.suggested_answers ?? [], canWrite && (mine || answering));
  renderFacts(conversation);
  renderCustomerCard(conversation, showConversation);
  byId("summary").textContent = conversation.summary || "No summary.";
  const notes = conversation.notes ?? [];
  byId("notes").replaceChildren(
    ...(notes.length ? notes.map(noteItem) : [element("li", "muted", "No notes yet.")])
  );
  byId("history").replaceChildren(
    ...(conversation.history ?? []).map((step) =>
      element(
        "li",
        null,
        `${clock(step.at)} · ${step.from} → ${step.to} (${step.actor})${step.detail ? `: ${step.detail}` : ""}`
      )
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
  byId("suggestions").hidden = !usable || !answers.length;
  byId("suggestion-list").replaceChildren(...answers.map(suggestionItem));
}

function suggestionItem(suggestion) {
  const item = element("li", "suggestion");
  const score = typeof suggestion.score === "number" ? ` · ${suggestion.score.toFixed(2)}` : "";
  item.append(element("p", "suggestion-question", `${suggestion.question}${score}`));
  item.append(element("p", "suggestion-answer", suggestion.answer));
  const use = element("button", "button", "Use this answer");
  use.type = "button";
  use.addEventListener("click", () => {
    const reply = byId("reply-text");
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
  byId("facts").replaceChildren(...rows);
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
  if (result !== undefined) await showChanges();
  return result;
}

/** Show what an action changed: the open conversation and the queue, fetched again. */
export async function showChanges() {
  if (openId !== null) await loadConversation(openId, { scroll: true });
  refreshQueue();
}

function submitOnEnter(textarea, form) {
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

/** Post what `textareaId` holds to the open conversation's route that `route()` names. */
function textForm(formId, textareaId, route) {
  const form = byId(formId);
  const textarea = byId(textareaId);
  submitOnEnter(textarea, form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text) return;
    const sent = await act(form.querySelector("button"), () =>
      api("POST", `/api/conversations/${openId}/${route()}`, { text })
    );
    if (sent !== undefined) {
      textarea.value = "";
      textarea.focus();
    }
  });
}

/** Show that a colleague is writing in the open conversation (a "typing" event). */
export function showTyping({ conversation, agent, at }) {
  const recent = Date.now() - Date.parse(at) < TYPING_SHOWN_MS; // a replayed event is old news
  if (conversation !== openId || isMe(agent) || !recent) return;
  const hint = byId("typing-hint");
  hint.textContent = `${agent.name} is typing…`;
  hint.hidden = false;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => (hint.hidden = true), TYPING_SHOWN_MS);
}

/** Wire the conversation's buttons and forms. */
export function initConversation() {
  byId("claim").addEventListener("click", (event) =>
    act(event.currentTarget, () => api("POST", `/api/conversations/${openId}/claim`)).then(
      (result) => result && byId("reply-text").focus()
    )
  );
  byId("resolve").addEventListener("click", (event) =>
    act(event.currentTarget, () => api("POST", `/api/conversations/${openId}/resolve`))
  );
  byId("reopen").addEventListener("click", (event) =>
    act(event.currentTarget, () => api("POST", `/api/conversations/${openId}/reopen`)).then(
      (result) => result && byId("reply-text").focus()
    )
  );
  textForm("reply-form", "reply-text", () => (open?.state === "offline" ? "answer" : "messages"));
  textForm("note-form", "note-text", () => "notes");

  byId("reply-text").addEventListener("input", () => {
    if (open?.state !== "assigned") return; // only a live chat shows the customer's side typing
    if (Date.now() - typingSentAt < TYPING_SEND_EVERY_MS || !byId("reply-text").value.trim()) return;
    typingSentAt = Date.now();
    // A lost "typing" is no error worth a banner.
    api("POST", `/api/conversations/${openId}/typing`).catch(() => {});
  });
}
