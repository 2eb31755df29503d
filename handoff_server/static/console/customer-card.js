// The customer card beside a conversation: how the customer's mood went turn by turn (a small
// Chart.js chart, loaded on first use) and their earlier conversations, each openable.

import { HANDOFF_REASON_LABELS as REASONS } from "../../vocabulary.js";
import { byId, element } from "../dom.js";
import { api } from "./api.js";
import { clock } from "./format.js";

const CHART_JS = "/static/vendor/chart.umd.js";
let chartLibrary = null;
let shownFor = null;

/** Load Chart.js once, when the first card is drawn: the console's first load stays light. */
function loadChartLibrary() {
  chartLibrary ??= new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), { src: CHART_JS });
    script.addEventListener("load", () => resolve(window.Chart));
    script.addEventListener("error", () => reject(new Error("Chart.js could not be loaded")));
    document.head.append(script);
  });
  return chartLibrary;
}

async function drawSentiment(conversation) {
  const turns = (conversation.transcript ?? []).filter(
    (turn) => turn.role === "customer" && typeof turn.sentiment === "number",
  );
  const canvas = byId("sentiment-chart");
  byId("sentiment-trend").hidden = turns.length === 0;
  if (!turns.length) return;
  const Chart = await loadChartLibrary();
  const colour = getComputedStyle(document.documentElement).getPropertyValue("--brand").trim();
  const data = {
    labels: turns.map((turn) => clock(turn.created_at)),
    datasets: [{ label: "Sentiment", data: turns.map((turn) => turn.sentiment), borderColor: colour, backgroundColor: colour }],
  };
  const existing = Chart.getChart(canvas);
  if (existing) {
    existing.data = data;
    existing.update();
    return;
  }
  new Chart(canvas, {
    type: "line",
    data,
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { y: { min: -1, max: 1, ticks: { stepSize: 1 } } },
    },
  });
  const first = turns[0].sentiment;
  const last = turns.at(-1).sentiment;
  canvas.setAttribute(
    "aria-label",
    `Sentiment over ${turns.length} customer messages, from ${first.toFixed(2)} to ${last.toFixed(2)} (−1 negative, +1 positive)`,
  );
}

function earlierItem(earlier, open) {
  const item = element("li", "earlier");
  const button = element("button", "button earlier-open", `${clock(earlier.created_at)} · ${REASONS[earlier.reason] ?? earlier.reason} · ${earlier.state}`);
  button.type = "button";
  button.setAttribute("aria-label", `Open the earlier conversation of ${earlier.created_at.slice(0, 10)}: ${REASONS[earlier.reason] ?? earlier.reason}, ${earlier.state}`);
  button.addEventListener("click", () => open(earlier.id));
  item.append(button);
  const how = earlier.match === "session" ? "same session" : "same contact";
  const rating = earlier.rating ? ` · rated ${earlier.rating}/5` : "";
  item.append(element("p", "gap-meta", `${how}${rating}${earlier.summary ? ` · ${earlier.summary}` : ""}`));
  return item;
}

/** Draw the card for the conversation on screen; `open(id)` shows another conversation. */
export async function renderCustomerCard(conversation, open) {
  await drawSentiment(conversation);
  if (shownFor === conversation.id) return; // earlier conversations do not change meanwhile
  shownFor = conversation.id;
  const list = byId("earlier-conversations");
  list.replaceChildren();
  const found = await api("GET", `/api/conversations/${conversation.id}/earlier`).catch(() => null);
  if (shownFor !== conversation.id || !found) return;
  list.replaceChildren(...found.conversations.map((earlier) => earlierItem(earlier, open)));
  byId("earlier-empty").hidden = found.conversations.length > 0;
}
