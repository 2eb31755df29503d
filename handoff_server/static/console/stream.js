// Live updates: the server's event stream (server-sent events), resumed after a drop.

import { byId } from "../dom.js";
import { session } from "./session.js";

let stream = null;

function setLive(status, text) {
  const live = byId("live-status");
  live.dataset.state = status;
  live.textContent = text;
}

/**
 * Listen to the server's events as the signed-in agent.
 *
 * handlers: connected() (on every (re)connection), refused(), changed(kind, conversationId,
 * payload) for "conversation", "message" and "note" events, typing(payload), questions(),
 * transferred(payload), canned().
 */
export function connectStream(handlers) {
  stream?.close();
  // EventSource cannot send headers, so the token goes in the query string; the browser
  // reconnects by itself and sends Last-Event-ID, so the server resumes where we were.
  const source = new EventSource(`/api/stream?token=${encodeURIComponent(session.token)}`);
  stream = source;
  source.addEventListener("open", () => {
    setLive("live", "Live");
    handlers.connected();
  });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      // The server refused the stream (expired token?): find out through the API.
      setLive("down", "Offline");
      handlers.refused();
    } else {
      setLive("connecting", "Reconnecting…");
    }
  });
  source.addEventListener("typing", (event) => handlers.typing(JSON.parse(event.data)));
  // A question was recorded, taught or dismissed (by this supervisor or another one).
  source.addEventListener("unanswered_question", () => handlers.questions());
  source.addEventListener("transfer", (event) => handlers.transferred(JSON.parse(event.data)));
  source.addEventListener("canned_response", () => handlers.canned());
  for (const kind of ["conversation", "message", "note"]) {
    source.addEventListener(kind, (event) => {
      let payload = {};
      try {
        payload = JSON.parse(event.data);
      } catch {
        /* an event we cannot read still means something changed */
      }
      handlers.changed(kind, kind === "conversation" ? payload.id : payload.conversation, payload);
    });
  }
}

export function closeStream() {
  stream?.close();
  stream = null;
}
