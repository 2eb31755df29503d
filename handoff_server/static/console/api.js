// The handoff server's JSON API, as the signed-in agent; errors carry the server's
// `message` ({"error", "message"}) and show in the page's banner.

import { byId } from "../dom.js";
import { session } from "./session.js";

export class ApiError extends Error {
  constructor(status, message, retryAfterS = null) {
    super(message);
    this.status = status;
    this.retryAfterS = retryAfterS;
  }
}

let sessionEnded = () => {};

/** Call `handler(message)` when the server no longer accepts the agent's token (401). */
export function onSessionEnded(handler) {
  sessionEnded = handler;
}

/** Call the JSON API; errors carry the server's `message` ({"error", "message"}). */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
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
    if (response.status === 401 && session.token) sessionEnded("Your session has ended. Please sign in again.");
    throw error;
  }
  return data;
}

export function showError(message) {
  const banner = byId("error-banner");
  banner.textContent = message;
  banner.hidden = !message;
}

/** Run an agent's action, showing its error (if any) in the banner. */
export async function attempt(action) {
  try {
    showError("");
    return await action();
  } catch (error) {
    if (error instanceof ApiError) showError(error.message);
    else throw error;
    return undefined;
  }
}
