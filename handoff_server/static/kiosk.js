// The kiosk: the shared chat, full screen, for strangers one after another.
// Nothing outlives the page in storage, and after a quiet spell the conversation is
// wiped and a new Rasa session begins, so the next guest never sees the last one's chat;
// the old conversation ends on the server too (a guest who walked away leaves the queue).

import { chatStorage, createChat } from "./chat-core.js";

const settings = document.body.dataset;
const IDLE_MS = Number(settings.idleSeconds || 120) * 1000;
const COUNTDOWN_S = Number(settings.countdownSeconds || 15);
const LARGE_TEXT_KEY = "lumen-kiosk:large-text";

const chat = createChat(document.getElementById("chat"), {
  rasaUrl: settings.rasaUrl,
  storage: chatStorage("memory"),
  storageKey: "lumen-kiosk",
  // The business's words, from its configuration (config/assistant.yml) through the page.
  assistantName: settings.assistantName,
  intro: settings.greeting,
  placeholder: "Type your question here…",
  refocusAfterSend: false, // focusing the input would pop up the on-screen keyboard
  customData: () => ({
    channel: "kiosk",
    kiosk_id: settings.kioskId,
    kiosk_location: settings.kioskLocation,
    kiosk_place: settings.kioskPlace,
    locale: navigator.language,
  }),
  onActivity: () => armIdleTimer(),
});

for (const button of document.querySelectorAll(".kiosk-quick-button")) {
  button.addEventListener("click", () => {
    hideAttract();
    chat.send(button.dataset.question || button.textContent.trim());
  });
}

// The attract screen: the assistant's name, "Tap to ask" and what's on next on board.
const nextOnBoard = document.getElementById("attract-next");
function showAttract() {
  document.body.classList.add("kiosk--attract");
  nextOnBoard.hidden = true;
  fetch("/kiosk/next")
    .then((response) => (response.ok ? response.json() : { next: null }))
    .then(({ next }) => {
      if (!next) return;
      nextOnBoard.textContent = `Next on board: ${next.title} at ${next.start}, ${next.place} (${next.where})`;
      nextOnBoard.hidden = false;
    })
    .catch(() => {}); // the attract screen works without it
}
function hideAttract() {
  document.body.classList.remove("kiosk--attract");
}
document.getElementById("tap-to-ask").addEventListener("click", () => {
  hideAttract();
  chat.focus();
});
showAttract();
document.getElementById("talk-to-person").addEventListener("click", () => {
  chat.send("/request_human", "I'd like to talk to a person");
});
document.getElementById("new-chat").addEventListener("click", () => wipe());

// Larger text: the choice of a guest with poor sight, kept while this page lives.
const textSize = document.getElementById("text-size");
const textPreference = chatStorage("session");
function setLargeText(large) {
  document.body.classList.toggle("kiosk--large", large);
  textSize.setAttribute("aria-pressed", String(large));
  textPreference.set(LARGE_TEXT_KEY, large ? "1" : "");
  chat.scrollToEnd(); // bigger text pushes the latest answer out of view
}
textSize.addEventListener("click", () => setLargeText(!document.body.classList.contains("kiosk--large")));
setLargeText(Boolean(textPreference.get(LARGE_TEXT_KEY)));

// Idle: after IDLE_MS without a touch, key or message, ask "Still there?" and count down.
const dialog = document.getElementById("idle-dialog");
const secondsLeft = document.getElementById("idle-seconds");
let idleTimer = null;
let countdownTimer = null;

function armIdleTimer() {
  clearTimeout(idleTimer);
  if (dialog.open) return;
  // An untouched screen has nothing to wipe.
  if (chat.hasConversation) idleTimer = setTimeout(askStillThere, IDLE_MS);
}

function askStillThere() {
  // Never wipe a guest who is waiting for an answer; the dots give up after a few seconds.
  if (chat.awaitingReply) {
    armIdleTimer();
    return;
  }
  let remaining = COUNTDOWN_S;
  secondsLeft.textContent = String(remaining);
  dialog.showModal();
  countdownTimer = setInterval(() => {
    remaining -= 1;
    secondsLeft.textContent = String(remaining);
    if (remaining <= 0) wipe();
  }, 1000);
}

function closeDialog() {
  clearInterval(countdownTimer);
  if (dialog.open) dialog.close();
}

function wipe() {
  closeDialog();
  clearTimeout(idleTimer);
  setLargeText(false);
  chat.leave();
  showAttract();
}

document.getElementById("still-here").addEventListener("click", () => {
  closeDialog();
  armIdleTimer();
});
document.getElementById("clear-now").addEventListener("click", () => wipe());
dialog.addEventListener("cancel", (event) => {
  // Escape means "I'm still here", not "close and leave the countdown running".
  event.preventDefault();
  closeDialog();
  armIdleTimer();
});
for (const kind of ["pointerdown", "keydown", "input"]) {
  document.addEventListener(kind, () => armIdleTimer(), { passive: true });
}
