// What every page of ours needs to draw: elements with text, never HTML.
// Everything a person, the bot or the API wrote goes on the page through textContent,
// so `<b>hi</b>` shows as those very characters. Shared by the chat (chat-core.js,
// widget and kiosk) and the agent console.

/** Create an element with a class and optional text (as text, never HTML). */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** Return the element with this id. */
export const byId = (id) => document.getElementById(id);
