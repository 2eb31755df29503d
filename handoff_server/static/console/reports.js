// The reports page: every report of /api/reports over a range of UTC days, drawn with
// Chart.js (vendored at setup, loaded before this module as the global `Chart`), each
// downloadable as CSV. Charts are built from the API's rows alone.

import { byId, element } from "../dom.js";
import { api, attempt, showError } from "./api.js";
import { startAdminPage } from "./admin-page.js";
import { session } from "./session.js";

const DEFAULT_DAYS = 30;
const DAY_MS = 86400000;
// Distinct on white and to colour-blind eyes (Okabe-Ito), the brand's colour first.
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#6b6b6b"];
const HOURS = Array.from({ length: 24 }, (_, hour) => String(hour).padStart(2, "0"));

const isoDay = (date) => date.toISOString().slice(0, 10);

function brandColour() {
  return getComputedStyle(document.documentElement).getPropertyValue("--brand").trim() || PALETTE[0];
}

const percent = (share) => (share === null || share === undefined ? "–" : `${Math.round(share * 100)}%`);
const sum = (rows, field) => rows.reduce((total, row) => total + (row[field] ?? 0), 0);

/** How each report becomes a chart: its type, labels, datasets and a one-line summary. */
const CHARTS = {
  containment: (rows) => ({
    type: "bar",
    labels: rows.map((row) => row.day),
    datasets: [
      { label: "Bot alone", data: rows.map((row) => row.bot_alone) },
      { label: "Handed off", data: rows.map((row) => row.handed_off) },
    ],
    stacked: true,
    summary: () => {
      const alone = sum(rows, "bot_alone");
      const total = alone + sum(rows, "handed_off");
      return total ? `The bot handled ${alone} of ${total} conversations alone (${percent(alone / total)}).` : "No conversations in these days.";
    },
  }),
  "handoff-reasons": (rows) => ({
    type: "bar",
    labels: rows.map((row) => row.label),
    datasets: [{ label: "Handoffs", data: rows.map((row) => row.handoffs) }],
    summary: () => `${sum(rows, "handoffs")} handoffs.`,
  }),
  "wait-times": (rows) => ({
    type: "bar",
    labels: rows.map((row) => row.label),
    datasets: [{ label: "Conversations", data: rows.map((row) => row.conversations) }],
    summary: () => `${sum(rows, "conversations")} customers reached a person.`,
  }),
  "wait-by-hour": (rows) => ({
    type: "bar",
    labels: HOURS,
    datasets: [{ label: "Median wait (seconds)", data: rows.map((row) => row.median_wait_s) }],
    summary: () => {
      const busiest = rows.reduce((best, row) => (row.claimed > best.claimed ? row : best), rows[0]);
      return busiest?.claimed ? `Most claims at ${HOURS[busiest.hour]}:00, median wait ${busiest.median_wait_s} s.` : "No claimed handoffs.";
    },
  }),
  ratings: (rows) => ({
    type: "line",
    labels: rows.map((row) => row.day),
    datasets: [{ label: "Mean rating (1 to 5)", data: rows.map((row) => row.mean_rating), spanGaps: true }],
    yRange: { min: 1, max: 5 },
    summary: () => {
      const count = sum(rows, "ratings");
      const total = rows.reduce((all, row) => all + (row.mean_rating ?? 0) * row.ratings, 0);
      return count ? `${count} ratings, ${(total / count).toFixed(2)} on average.` : "No ratings in these days.";
    },
  }),
  "busiest-hours": (rows) => {
    const weekdays = [...new Set(rows.map((row) => row.weekday))];
    return {
      type: "line",
      labels: HOURS,
      datasets: weekdays.map((weekday) => ({
        label: weekday,
        data: rows.filter((row) => row.weekday === weekday).map((row) => row.handoffs),
      })),
      summary: () => {
        const top = rows.reduce((best, row) => (row.handoffs > best.handoffs ? row : best), rows[0]);
        return top?.handoffs ? `Busiest: ${top.weekday} ${HOURS[top.hour]}:00 (${top.handoffs} handoffs).` : "No handoffs.";
      },
    };
  },
  "faq-outcomes": (rows) => ({
    type: "doughnut",
    labels: rows.map((row) => row.label),
    datasets: [{ label: "Decisions", data: rows.map((row) => row.decisions) }],
    summary: () => rows.map((row) => `${row.label} ${percent(row.share)}`).join(" · "),
  }),
};

function draw(name, rows) {
  const spec = CHARTS[name](rows);
  const canvas = byId(`chart-${name}`);
  Chart.getChart(canvas)?.destroy();
  const colours = [brandColour(), ...PALETTE.slice(1)];
  const datasets = spec.datasets.map((dataset, index) => {
    const colour = spec.type === "doughnut" ? colours : colours[index % colours.length];
    return { ...dataset, backgroundColor: colour, borderColor: colour };
  });
  const axes = spec.type === "doughnut"
    ? {}
    : {
        x: { stacked: Boolean(spec.stacked) },
        y: { stacked: Boolean(spec.stacked), beginAtZero: true, ...(spec.yRange ?? {}) },
      };
  new Chart(canvas, {
    type: spec.type,
    data: { labels: spec.labels, datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: axes,
      plugins: { legend: { display: datasets.length > 1 || spec.type === "doughnut" } },
    },
  });
  byId(`summary-${name}`).textContent = spec.summary();
}

function listQuestions(rows) {
  const list = byId("list-unanswered");
  list.replaceChildren(
    ...rows.map((row) => {
      const item = element("li", "", row.question);
      item.append(element("span", "muted", `asked ${row.times_asked}×, last ${row.last_asked.slice(0, 10)}`));
      return item;
    }),
  );
  byId("list-unanswered-empty").hidden = rows.length > 0;
}

function range() {
  return { from: byId("range-from").value, to: byId("range-to").value };
}

async function show() {
  const { from, to } = range();
  const query = new URLSearchParams({ from, to });
  byId("reports-status").textContent = "Loading…";
  const loaded = await attempt(() =>
    Promise.all(
      [...document.querySelectorAll(".report-csv")].map(async (button) => {
        const name = button.dataset.report;
        const report = await api("GET", `/api/reports/${name}?${query}`);
        if (name === "unanswered") listQuestions(report.rows);
        else draw(name, report.rows);
      }),
    ),
  );
  byId("reports-status").textContent = loaded ? `Showing ${from} to ${to} (UTC days).` : "";
}

/** Download one report as CSV: a link cannot carry the bearer token, so fetch it here. */
async function download(name) {
  const { from, to } = range();
  const response = await fetch(`/api/reports/${name}.csv?${new URLSearchParams({ from, to })}`, {
    headers: { Authorization: `Bearer ${session.token}` },
  });
  if (!response.ok) {
    showError(`The export failed (${response.status}).`);
    return;
  }
  const link = element("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `${name}_${from}_${to}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(link.href);
}

if (startAdminPage("supervisor")) {
  const today = new Date();
  byId("range-to").value = isoDay(today);
  byId("range-from").value = isoDay(new Date(today.getTime() - (DEFAULT_DAYS - 1) * DAY_MS));
  byId("range-form").addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  for (const button of document.querySelectorAll(".report-csv")) {
    button.addEventListener("click", () => download(button.dataset.report));
  }
  show();
}
