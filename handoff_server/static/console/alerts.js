// Never miss a customer: a short beep, the count in the tab's title, and a browser
// notification while the tab is hidden. Each can be turned off; the choice is kept in
// localStorage, for this browser.

import { byId } from "../dom.js";

const SETTINGS_KEY = "lumen-console:alerts";
const KINDS = ["sound", "title", "notifications"];
const BEEP_HZ = 880;
const BEEP_S = 0.18;

const settings = { sound: true, title: true, notifications: true, ...readSettings() };
const plainTitle = document.title;
let attention = 0;
let audio = null;

function readSettings() {
  try {
    return JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}");
  } catch {
    return {};
  }
}

/** Show the alert settings as checkboxes (#alert-sound, #alert-title, #alert-notifications). */
export function initAlerts() {
  for (const kind of KINDS) {
    const box = byId(`alert-${kind}`);
    box.checked = settings[kind];
    box.addEventListener("change", () => {
      settings[kind] = box.checked;
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
      if (kind === "title") showAttention(attention);
      if (kind === "notifications" && box.checked) askToNotify();
    });
  }
  // Browsers start sound only after the person used the page: be ready from their first touch.
  for (const kind of ["pointerdown", "keydown"]) {
    document.addEventListener(kind, () => audio?.state === "suspended" && audio.resume(), true);
  }
}

/** Ask the browser for notifications (from a click or key press: browsers require one). */
export function askToNotify() {
  if (settings.notifications && "Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().catch(() => {});
  }
}

/** Put `count` (customers waiting, unread messages) before the tab's title; 0 clears it. */
export function showAttention(count) {
  attention = count;
  document.title = settings.title && count > 0 ? `(${count}) ${plainTitle}` : plainTitle;
}

function beep() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  audio ??= new Context();
  const oscillator = audio.createOscillator();
  const gain = audio.createGain();
  oscillator.frequency.value = BEEP_HZ;
  const start = audio.currentTime;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + BEEP_S);
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start(start);
  oscillator.stop(start + BEEP_S);
}

/**
 * Tell the agent something needs them: beep, and raise a notification if the tab is hidden.
 * `tag` collapses repeated notifications about one conversation; `onClick` opens it.
 */
export function alertAgent(title, body, { tag, onClick } = {}) {
  if (settings.sound) beep();
  const hidden = document.visibilityState === "hidden";
  if (!settings.notifications || !hidden || !("Notification" in window)) return;
  if (Notification.permission !== "granted") return;
  const notification = new Notification(title, { body, tag });
  notification.addEventListener("click", () => {
    window.focus();
    onClick?.();
    notification.close();
  });
}
