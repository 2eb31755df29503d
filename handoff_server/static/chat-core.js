// The chat shared by the website widget and the kiosk: Rasa's socket.io protocol
// (as rasa-webchat speaks it) and the conversation view. No framework, no build step.
//
// Everything a person or the bot wrote is put on the page as text (text nodes,
// textContent), never as HTML, so `<b>hi</b>` shows as those very characters.

// The text limit the Rasa channels enforce, from the server (lumen/vocabulary.py), not a copy.
import { MAX_TEXT_CHARS } from "../vocabulary.js";
import { element } from "./dom.js";

const COUNTER_FROM_CHARS = 3500;
// The bot answers in well under a second; a person may take longer, and the bot
// stays silent while one owns the conversation, so the dots must not linger.
const TYPING_TIMEOUT_MS = 10000;
const HISTORY_LIMIT = 200;
const SOCKET_IO_URL = new URL("vendor/socket.io.min.js", import.meta.url).href;
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'"]/g;

let socketIoLoading = null;

/** Load the vendored socket.io client once, leaving any `io` the host page has untouched. */
export function loadSocketIo() {
  socketIoLoading ??= new Promise((resolve, reject) => {
    const hostIo = Object.getOwnPropertyDescriptor(window, "io");
    const script = document.createElement("script");
    script.src = SOCKET_IO_URL;
    script.async = true;
    script.onload = () => {
      const io = window.io;
      if (hostIo) Object.defineProperty(window, "io", hostIo);
      else delete window.io;
      if (typeof io === "function") resolve(io);
      else reject(new Error("the socket.io client did not define io()"));
    };
    script.onerror = () => {
      socketIoLoading = null;
      reject(new Error(`could not load ${SOCKET_IO_URL}`));
    };
    document.head.append(script);
  });
  return socketIoLoading;
}

/** Return a random hex id; crypto.randomUUID() needs https, a kiosk may not have it. */
export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Return a small key-value store over localStorage or sessionStorage, or memory only. */
export function chatStorage(kind) {
  const memory = new Map();
  let backend = null;
  try {
    backend = { local: window.localStorage, session: window.sessionStorage }[kind] ?? null;
    backend?.setItem("lrc-probe", "1");
    backend?.removeItem("lrc-probe");
  } catch {
    backend = null; // storage disabled (privacy settings, sandboxed frame): fall back to memory
  }
  return {
    get(key) {
      try {
        return backend ? backend.getItem(key) : (memory.get(key) ?? null);
      } catch {
        return memory.get(key) ?? null;
      }
    },
    set(key, value) {
      try {
        if (backend) backend.setItem(key, value);
        else memory.set(key, value);
      } catch {
        memory.set(key, value); // quota exceeded: keep working for this page at least
      }
    },
    remove(key) {
      memory.delete(key);
      try {
        backend?.removeItem(key);
      } catch {
        /* nothing to remove */
      }
    },
  };
}

/**
 * One conversation with Rasa over socket.io.
 *
 * Rasa names the session: it confirms a new one, or the one whose token (`sessionToken`,
 * kept from an earlier confirmation) the page presents, and each socket speaks for the
 * session it opened. Events: "state" (detail: "connecting" | "online" | "reconnecting" |
 * "failed"), "session" (detail: { id, token }, on every confirmation) and "message"
 * (detail: a bot_uttered payload). Messages sent while the socket is down wait in an
 * outbox and go once Rasa has confirmed the session again. On resuming, the page names
 * the time of the last message it showed (`since()`), and Rasa sends what came after.
 * Rasa acknowledges a message it refused (the customer sends faster than the chat limits
 * allow) with {error, message}.
 */
export class ChatConnection extends EventTarget {
  constructor({ rasaUrl, sessionToken, customData, since = () => null }) {
    super();
    this.rasaUrl = rasaUrl;
    this.sessionToken = sessionToken ?? null;
    this.customData = customData;
    this.since = since;
    this.state = "idle";
    this.socket = null;
    this.confirmed = false;
    this.closed = false;
    this.outbox = [];
  }

  async open() {
    this.setState("connecting");
    let io;
    try {
      io = await loadSocketIo();
    } catch (error) {
      console.error("Lumen chat:", error);
      this.setState("failed");
      return;
    }
    if (this.closed) return;
    const socket = io(this.rasaUrl, { path: "/socket.io", reconnectionDelayMax: 10000 });
    this.socket = socket;
    // Every (re)connection is a new socket on Rasa's side: present the session's token
    // again so this socket joins its room and receives the bot's and agents' messages.
    socket.on("connect", () => {
      this.confirmed = false;
      socket.emit("session_request", { session_token: this.sessionToken, since: this.since() });
    });
    socket.on("session_confirm", (session) => {
      if (typeof session?.session_id !== "string" || typeof session.session_token !== "string") {
        return;
      }
      this.sessionToken = session.session_token;
      this.dispatchEvent(
        new CustomEvent("session", { detail: { id: session.session_id, token: this.sessionToken } })
      );
      this.confirmed = true;
      this.setState("online");
      this.flush();
    });
    socket.on("bot_uttered", (payload) => {
      if (payload && typeof payload === "object") {
        this.dispatchEvent(new CustomEvent("message", { detail: payload }));
      }
    });
    socket.on("disconnect", (reason) => {
      this.confirmed = false;
      if (this.closed) return;
      this.setState("reconnecting");
      // socket.io retries by itself except when the server closed the socket on purpose.
      if (reason === "io server disconnect") socket.connect();
    });
    socket.on("connect_error", () => {
      if (!this.closed) this.setState("reconnecting");
    });
  }

  /**
   * Send a message now, or as soon as the session is confirmed; `onSent` runs when it goes,
   * `onRefused(reason)` if Rasa refused it.
   */
  send(message, onSent = () => {}, onRefused = () => {}) {
    this.outbox.push({ message, onSent, onRefused });
    this.flush();
  }

  flush() {
    while (this.confirmed && this.socket?.connected && this.outbox.length) {
      const { message, onSent, onRefused } = this.outbox.shift();
      // shown_until: what the page had shown when the customer wrote (bot/late_messages.py).
      const customData = { ...this.customData(), shown_until: this.since() };
      this.socket.emit("user_uttered", { message, customData }, (answer) => {
        if (typeof answer?.error === "string") {
          onRefused(typeof answer.message === "string" ? answer.message : "Please try again.");
        }
      });
      onSent();
    }
  }

  close() {
    this.closed = true;
    this.outbox = [];
    this.socket?.off();
    this.socket?.disconnect();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }
}

/** Append `text` to `parent`, turning http(s) addresses into links; everything else stays text. */
function appendLinkifiedText(parent, text) {
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    parent.append(document.createTextNode(text.slice(last, match.index)));
    const link = element("a", "lrc-link", match[0]);
    link.href = match[0];
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    parent.append(link);
    last = match.index + match[0].length;
  }
  parent.append(document.createTextNode(text.slice(last)));
}

function isWebUrl(value) {
  return typeof value === "string" && /^https?:\/\//i.test(value);
}

/** Turn a bot_uttered payload into the entries we show; unknown payloads give none. */
export function entriesFromPayload(payload) {
  const entries = [];
  const choices = payload.quick_replies ?? payload.buttons;
  const quickReplies = Array.isArray(choices)
    ? choices
        .filter((choice) => choice && typeof choice.title === "string")
        .map((choice) => ({ title: choice.title, payload: String(choice.payload ?? choice.title) }))
    : [];
  if (typeof payload.text === "string" && payload.text.trim()) {
    entries.push({ role: "bot", text: payload.text, quickReplies });
  }
  const attachment = payload.attachment;
  const source = attachment?.payload?.src ?? attachment?.payload?.url ?? attachment;
  if (attachment && isWebUrl(source)) {
    entries.push(
      attachment.type === "image" ? { role: "bot", image: source } : { role: "bot", text: source }
    );
  }
  // {custom} payloads and anything else are for the page to handle, not to display.
  return entries;
}

/**
 * Build the chat (conversation log, typing dots, connection status, composer) inside
 * `root` and connect it to Rasa. Returns the controls the widget and kiosk need.
 *
 * options: rasaUrl, storage (chatStorage), storageKey, customData() -> object,
 * assistantName (who answers, read out before each answer), intro (text shown first,
 * not sent), placeholder, connectNow (else on first use),
 * refocusAfterSend, onActivity(), onCustom(payload), onStateChange(state).
 */
export function createChat(root, options) {
  const {
    rasaUrl,
    storage,
    storageKey,
    customData,
    assistantName = "Assistant",
    intro = "",
    placeholder = "Type your question…",
    connectNow = true,
    refocusAfterSend = true,
    onActivity = () => {},
    onCustom = () => {},
    onStateChange = () => {},
  } = options;
  // The session Rasa issued (its id, for reference) and the token that resumes it.
  const sessionKey = `${storageKey}:session`;
  const tokenKey = `${storageKey}:token`;
  const historyKey = `${storageKey}:history`;
  // The server's time of the last bot message shown: after a drop, Rasa sends what followed.
  const seenKey = `${storageKey}:seen`;
  const uid = randomId().slice(0, 8);

  const chat = element("div", "lrc-chat");
  const status = element("div", "lrc-status");
  status.setAttribute("role", "status");
  const statusText = element("span", "lrc-status-text");
  status.append(statusText);
  const log = element("div", "lrc-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;
  const typing = element("div", "lrc-typing");
  typing.hidden = true;
  typing.append(
    element("span", "lrc-sr-only", "The assistant is typing"),
    element("span", "lrc-dot"),
    element("span", "lrc-dot"),
    element("span", "lrc-dot")
  );
  const form = element("form", "lrc-composer");
  const label = element("label", "lrc-sr-only", "Your message");
  label.htmlFor = `lrc-input-${uid}`;
  const input = element("textarea", "lrc-input");
  input.id = label.htmlFor;
  input.rows = 1;
  input.maxLength = MAX_TEXT_CHARS;
  input.placeholder = placeholder;
  input.setAttribute("enterkeyhint", "send");
  const counter = element("div", "lrc-counter");
  counter.id = `lrc-counter-${uid}`;
  counter.hidden = true;
  input.setAttribute("aria-describedby", counter.id);
  const sendButton = element("button", "lrc-send");
  sendButton.type = "submit";
  sendButton.setAttribute("aria-label", "Send message");
  sendButton.append(sendIcon());
  form.append(label, input, sendButton, counter);
  chat.append(status, log, typing, form);
  root.append(chat);

  let history = [];
  let connection = null;
  let typingTimer = null;
  let lastSentAt = 0;

  function loadHistory() {
    try {
      const saved = JSON.parse(storage.get(historyKey) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch {
      return [];
    }
  }

  function saveHistory() {
    history = history.slice(-HISTORY_LIMIT);
    storage.set(historyKey, JSON.stringify(history));
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function removeQuickReplies() {
    for (const group of log.querySelectorAll(".lrc-chips")) group.remove();
  }

  function render(entry, { live = true } = {}) {
    const row = element("div", `lrc-msg lrc-msg--${entry.role}`);
    const who = entry.role === "user" ? "You" : assistantName;
    const bubble = element("div", "lrc-bubble");
    bubble.append(element("span", "lrc-sr-only", `${who}: `));
    if (entry.image) {
      const image = element("img", "lrc-image");
      image.src = entry.image;
      image.alt = "Image sent by the assistant";
      bubble.append(image);
    } else {
      appendLinkifiedText(bubble, entry.text);
    }
    row.append(bubble);
    if (entry.notSent) markNotSent(row, entry);
    if (entry.quickReplies?.length) {
      const chips = element("div", "lrc-chips");
      chips.setAttribute("role", "group");
      chips.setAttribute("aria-label", "Suggested replies");
      for (const choice of entry.quickReplies) {
        const chip = element("button", "lrc-chip", choice.title);
        chip.type = "button";
        chip.addEventListener("click", () => send(choice.payload, choice.title));
        chips.append(chip);
      }
      row.append(chips);
    }
    if (live) removeQuickReplies();
    log.append(row);
    scrollToEnd();
    return row;
  }

  /** Show a message Rasa refused as not sent, with the reason and a way to send it again. */
  function markNotSent(row, entry) {
    row.classList.remove("lrc-msg--pending");
    row.classList.add("lrc-msg--not-sent");
    const notice = element("div", "lrc-not-sent", `Not sent. ${entry.notSent} `);
    const again = element("button", "lrc-send-again", "Send again");
    again.type = "button";
    again.addEventListener("click", () => {
      const index = history.indexOf(entry);
      if (index >= 0) history.splice(index, 1);
      saveHistory();
      row.remove();
      send(entry.payload ?? entry.text, entry.text);
    });
    notice.append(again);
    row.append(notice);
  }

  function showTyping(visible) {
    clearTimeout(typingTimer);
    typing.hidden = !visible;
    if (visible) typingTimer = setTimeout(() => showTyping(false), TYPING_TIMEOUT_MS);
    scrollToEnd();
  }

  function showState(state) {
    chat.dataset.state = state;
    const messages = {
      connecting: "Connecting…",
      reconnecting: "Connection lost. Reconnecting…",
      failed: "The chat could not start. Please try again later.",
    };
    status.hidden = !messages[state];
    statusText.textContent = messages[state] ?? "";
    onStateChange(state);
  }

  function connect() {
    if (connection) return;
    connection = new ChatConnection({
      rasaUrl,
      sessionToken: storage.get(tokenKey),
      customData,
      since: () => Number(storage.get(seenKey)) || null,
    });
    connection.addEventListener("state", (event) => showState(event.detail));
    connection.addEventListener("session", (event) => {
      storage.set(sessionKey, event.detail.id);
      storage.set(tokenKey, event.detail.token);
    });
    connection.addEventListener("message", (event) => {
      const payload = event.detail;
      if (typeof payload.timestamp === "number") storage.set(seenKey, String(payload.timestamp));
      showTyping(false);
      const entries = entriesFromPayload(payload);
      for (const entry of entries) {
        history.push(entry);
        render(entry);
      }
      if (entries.length) saveHistory();
      if (payload.custom !== undefined) onCustom(payload.custom);
      onActivity("received");
    });
    connection.open();
  }

  /** Send `message` to the assistant, showing `shown` (a button's title) as the customer's words. */
  function send(message, shown = message) {
    if (!message.trim()) return;
    connect();
    const entry = { role: "user", text: shown };
    if (message !== shown) entry.payload = message; // a button's: Send again sends it again
    history.push(entry);
    saveHistory();
    const row = render(entry);
    row.classList.add("lrc-msg--pending");
    lastSentAt = Date.now();
    connection.send(
      message,
      () => {
        row.classList.remove("lrc-msg--pending");
        showTyping(true);
      },
      (reason) => {
        // Kept in the history as not sent: a reload never shows it as delivered.
        entry.notSent = reason;
        saveHistory();
        markNotSent(row, entry);
        showTyping(false);
      }
    );
    if (refocusAfterSend) input.focus();
    onActivity("sent");
  }

  function updateComposer() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
    const length = input.value.length;
    counter.hidden = length < COUNTER_FROM_CHARS;
    counter.textContent = `${length.toLocaleString()} / ${MAX_TEXT_CHARS.toLocaleString()}`;
    counter.classList.toggle("lrc-counter--full", length >= MAX_TEXT_CHARS);
    sendButton.disabled = !input.value.trim();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    updateComposer();
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter starts a new line; never while an IME is composing.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", updateComposer);

  function start() {
    if (intro) render({ role: "bot", text: intro }, { live: false });
    history = loadHistory();
    history.forEach((entry, index) => {
      // Only the latest message keeps its buttons, as they were on screen before.
      const stale = index < history.length - 1 && entry.quickReplies?.length;
      render(stale ? { ...entry, quickReplies: [] } : entry, { live: false });
    });
    updateComposer();
    showState("idle");
    if (connectNow || history.length) connect();
  }

  start();

  return {
    send,
    connect,
    focus: () => input.focus(),
    scrollToEnd,
    get hasConversation() {
      return history.length > 0;
    },
    /** True while an answer may still come: the typing dots show, or a message just went out. */
    get awaitingReply() {
      const sending = log.querySelector(".lrc-msg--pending") !== null;
      return !typing.hidden || (sending && Date.now() - lastSentAt < TYPING_TIMEOUT_MS);
    },
    /** Tell the assistant the customer has left (a queued handoff is given up), then reset. */
    leave() {
      if (connection && history.length) connection.send("/session_end");
      this.reset();
    },
    /** Forget this conversation entirely and start a new session on a new socket. */
    reset() {
      connection?.close();
      connection = null;
      storage.remove(sessionKey);
      storage.remove(tokenKey);
      storage.remove(historyKey);
      storage.remove(seenKey);
      history = [];
      log.replaceChildren();
      input.value = "";
      showTyping(false);
      start();
    },
  };
}

function sendIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M3.4 20.4 21 12 3.4 3.6 3.4 10.1 15 12 3.4 13.9z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}
