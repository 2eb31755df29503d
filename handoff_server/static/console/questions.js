// Unanswered questions grouped by meaning (supervisors): teach a whole group to the FAQ that
// answers it in one step, or draft a new FAQ from it. The server groups them with the FAQ
// engine's own embeddings, sent by the action server with each question.

import { byId, element } from "../dom.js";
import { ApiError, api, attempt } from "./api.js";
import { startAdminPage } from "./admin-page.js";

// "question (id)" as offered in the FAQ picker -> FAQ id.
let faqIdsByOption = new Map();

function say(text) {
  byId("questions-status").textContent = text;
}

async function loadFaqs() {
  const data = await attempt(() => api("GET", "/api/faqs"));
  if (!data) return;
  faqIdsByOption = new Map(data.faqs.map((faq) => [`${faq.question} (${faq.id})`, faq.id]));
  byId("faq-options").replaceChildren(
    ...[...faqIdsByOption.keys()].map((label) => Object.assign(element("option"), { value: label })),
  );
}

function groupItem(group, number) {
  const ids = group.questions.flatMap((question) => question.ids);
  const item = element("li", "question-group");
  const titleId = `group-${number}`;
  const title = element("h2", "", group.label);
  title.id = titleId;
  item.setAttribute("aria-labelledby", titleId);
  const asked = group.size === 1 ? "asked once" : `asked ${group.size} times`;
  item.append(title, element("p", "gap-meta", `${asked}, in ${group.questions.length} wording${group.questions.length === 1 ? "" : "s"}`));
  const wordings = element("ul", "question-wordings");
  wordings.append(...group.questions.map((question) => element("li", "", question.count > 1 ? `${question.text} (×${question.count})` : question.text)));
  item.append(wordings);

  const form = element("form", "group-form");
  const inputId = `group-faq-${number}`;
  const label = element("label", "sr-only", `FAQ that answers “${group.label}”`);
  label.htmlFor = inputId;
  const picker = Object.assign(element("input"), { id: inputId, placeholder: "Search the FAQs…", autocomplete: "off" });
  picker.setAttribute("list", "faq-options");
  const teach = Object.assign(element("button", "button button-primary", `Teach all ${group.size}`), { type: "submit" });
  const draft = Object.assign(element("button", "button", "Draft a new FAQ"), { type: "button" });
  form.append(label, picker, teach, draft);
  const error = element("p", "form-error gap-error");
  error.setAttribute("role", "alert");
  item.append(form, error);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const faqId = faqIdsByOption.get(picker.value.trim());
    if (!faqId) {
      error.textContent = "Pick an FAQ from the list first.";
      picker.focus();
      return;
    }
    teach.disabled = true;
    try {
      const result = await api("POST", "/api/unanswered-questions/teach-group", { question_ids: ids, faq_id: faqId });
      const refused = result.refused.length ? ` ${result.refused.length} refused: ${result.refused[0].message}` : "";
      say(`Taught ${result.taught.length} of “${group.label}” to ${picker.value.trim()}.${refused}`);
      await refresh();
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      error.textContent = failure.message;
    } finally {
      teach.disabled = false;
    }
  });
  draft.addEventListener("click", async () => {
    const result = await attempt(() => api("POST", "/api/unanswered-questions/faq-draft", { question_ids: ids }));
    if (!result) return;
    item.querySelector(".faq-draft")?.remove();
    const shown = element("pre", "faq-draft", result.yaml);
    shown.setAttribute("aria-label", `New FAQ drafted from “${group.label}”: add it to data/faq with its answer`);
    shown.tabIndex = 0;
    item.append(shown);
    say(`Drafted a new FAQ from “${group.label}”: complete its answer, add it to data/faq and rebuild the index.`);
  });
  return item;
}

async function refresh() {
  const data = await attempt(() => api("GET", "/api/unanswered-questions/groups"));
  if (!data) return;
  byId("question-groups").replaceChildren(...data.groups.map(groupItem));
  if (!data.groups.length) say("No open questions: the bot had an answer for everything.");
  else if (byId("questions-status").textContent === "Loading…") {
    const questions = data.groups.reduce((total, group) => total + group.size, 0);
    say(`${questions} open questions in ${data.groups.length} groups.`);
  }
}

if (startAdminPage("supervisor")) {
  loadFaqs().then(refresh);
}
