// Every action has a key; `?` lists them. Alt+letter works while typing in the reply box,
// `?` only outside text fields (it is a character agents type).

import { byId, element } from "../dom.js";

// One list: what the keys do here, and what the help shows.
const SHORTCUTS = [
  { keys: "Alt+C", code: "KeyC", action: "claim", does: "Claim the conversation" },
  { keys: "Alt+M", code: "KeyM", action: "write", does: "Write to the customer (reply box)" },
  { keys: "Enter", action: null, does: "Send the reply (Shift+Enter: new line)" },
  { keys: "Alt+S", code: "KeyS", action: "send", does: "Send the reply" },
  { keys: "/", action: null, does: "In the reply box: search canned responses" },
  { keys: "Alt+N", code: "KeyN", action: "note", does: "Write an internal note" },
  { keys: "Alt+T", code: "KeyT", action: "transfer", does: "Transfer to a colleague or team" },
  { keys: "Alt+R", code: "KeyR", action: "resolve", does: "Resolve the conversation" },
  { keys: "Alt+J", code: "KeyJ", action: "nextTab", does: "Next open conversation" },
  { keys: "Alt+K", code: "KeyK", action: "previousTab", does: "Previous open conversation" },
  { keys: "Alt+1 … Alt+9", action: null, does: "Go to open conversation 1 to 9" },
  { keys: "Alt+W", code: "KeyW", action: "nextWaiting", does: "Open the next waiting customer" },
  { keys: "?", action: null, does: "Show these shortcuts" },
  { keys: "Escape", action: null, does: "Close a dialog or the canned responses list" },
];

function typingIn(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

/** Show the shortcuts overlay. */
export function showShortcuts() {
  byId("shortcuts").showModal();
}

/**
 * Listen for the shortcuts; `actions` maps each action name of SHORTCUTS to a function,
 * and `goToTab(index)` handles Alt+1 to Alt+9.
 */
export function initShortcuts(actions, goToTab) {
  byId("shortcut-list").replaceChildren(
    ...SHORTCUTS.flatMap(({ keys, does }) => [element("dt", null, keys), element("dd", null, does)])
  );
  byId("shortcuts-open").addEventListener("click", showShortcuts);
  byId("shortcuts-close").addEventListener("click", () => byId("shortcuts").close());
  document.addEventListener("keydown", (event) => {
    if (byId("app-view").hidden || event.isComposing || document.querySelector("dialog[open]")) return;
    if (event.key === "?" && !typingIn(event.target) && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      showShortcuts();
      return;
    }
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const digit = /^Digit([1-9])$/.exec(event.code);
    const shortcut = SHORTCUTS.find((candidate) => candidate.code === event.code);
    if (digit) goToTab(Number(digit[1]) - 1);
    else if (shortcut?.action) actions[shortcut.action]();
    else return;
    event.preventDefault();
  });
}
