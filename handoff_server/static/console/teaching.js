// Questions the bot couldn't answer (supervisors): teach each to the FAQ that answers it,
// or dismiss it.

import { MISS_OUTCOME_LABELS as OUTCOMES } from "../../vocabulary.js";
import { byId, element } from "../dom.js";
import { ApiError, api, attempt } from "./api.js";
import { closeConversation } from "./conversation.js";
import { channelLabel, clock } from "./format.js";
import { selectInQueue } from "./queue.js";

const REFRESH_DEBOUNCE_MS = 150;

// "question (id)" as offered in the FAQ picker -> FAQ id; and FAQ id -> question.
let faqIdsByOption = new Map();
let faqQuestions = new Map();
let refreshTimer = null;

function faqLabel(faqId) {
  const question = faqQuestions.get(faqId);
  return question ? `${question} (${faqId})` : faqId;
}

/** Take the questions away from the detail pane. */
export function hideQuestions() {
  byId("gaps").hidden = true;
}

/** Wire the teaching panel's open and close buttons. */
export function initTeaching() {
  byId("gaps-open").addEventListener("click", async () => {
    closeConversation();
    selectInQueue(null);
    byId("detail-empty").hidden = true;
    byId("gaps").hidden = false;
    byId("gaps-status").textContent = "";
    await loadFaqs();
    await refreshQuestions();
    byId("gaps-list").querySelector("input")?.focus();
  });

  byId("gaps-close").addEventListener("click", () => {
    byId("gaps").hidden = true;
    byId("detail-empty").hidden = false;
    byId("gaps-open").focus();
  });
}

/** Fill the FAQ picker (a datalist of "question (id)") from the knowledge base. */
export async function loadFaqs() {
  const data = await attempt(() => api("GET", "/api/faqs"));
  if (!data) return;
  faqIdsByOption = new Map(data.faqs.map((faq) => [`${faq.question} (${faq.id})`, faq.id]));
  faqQuestions = new Map(data.faqs.map((faq) => [faq.id, faq.question]));
  byId("faq-options").replaceChildren(
    ...[...faqIdsByOption.keys()].map((label) => {
      const option = element("option");
      option.value = label;
      return option;
    })
  );
}

/** Refresh the questions soon, once for a burst of events. */
export function scheduleQuestionsRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshQuestions, REFRESH_DEBOUNCE_MS);
}

export async function refreshQuestions() {
  const data = await attempt(() => api("GET", "/api/unanswered-questions?limit=200"));
  if (data) renderQuestions(data.questions);
}

function renderQuestions(questions) {
  // Keep the items already shown as they are: a supervisor may be typing in one of them.
  const list = byId("gaps-list");
  const shown = new Map([...list.children].map((item) => [item.dataset.id, item]));
  const open = new Set(questions.map((question) => String(question.id)));
  for (const [id, item] of shown) if (!open.has(id)) item.remove();
  let next = list.firstElementChild;
  for (const question of questions) {
    const item = shown.get(String(question.id));
    if (item) next = item.nextElementSibling;
    else list.insertBefore(questionItem(question), next);
  }
  updateCount();
}

function updateCount() {
  const count = byId("gaps-list").children.length;
  byId("gaps-count").textContent = String(count);
  byId("gaps-empty").hidden = count > 0;
}

function questionItem(question) {
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
      updateCount();
      byId("gaps-status").textContent = done;
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
    const faqId = faqIdsByOption.get(choice) ?? (faqQuestions.has(choice) ? choice : null);
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
