// The people page (admins): every account, its role and team, deactivate or reactivate it,
// reset its password, add a person. A deactivated account's tokens stop working at once:
// its open console finds itself signed out.

import { byId, element } from "../dom.js";
import { api, attempt } from "./api.js";
import { startAdminPage } from "./admin-page.js";
import { isMe } from "./session.js";

let choices = { roles: [], teams: [] };
let resetting = null;

function say(text) {
  byId("people-status").textContent = text;
}

function select(options, value, label) {
  const node = element("select");
  node.setAttribute("aria-label", label);
  node.append(...options.map((option) => Object.assign(element("option", "", option), { value: option })));
  node.value = value;
  return node;
}

async function change(person, changes, done) {
  const updated = await attempt(() => api("PATCH", `/api/agents/${encodeURIComponent(person.username)}`, changes));
  if (updated) say(done(updated));
  await load();
}

function row(person) {
  const tr = element("tr");
  tr.dataset.username = person.username;
  tr.dataset.active = String(person.active);
  const me = isMe(person);
  const role = select(choices.roles, person.role, `Role of ${person.name}`);
  role.disabled = me;
  role.addEventListener("change", () =>
    change(person, { role: role.value }, (updated) => `${updated.name} is now ${updated.role}.`),
  );
  const team = select(choices.teams, person.team, `Team of ${person.name}`);
  team.addEventListener("change", () =>
    change(person, { team: team.value }, (updated) => `${updated.name} is now in ${updated.team}.`),
  );
  const toggle = element("button", "button", person.active ? "Deactivate" : "Reactivate");
  toggle.type = "button";
  toggle.disabled = me;
  toggle.setAttribute("aria-label", `${person.active ? "Deactivate" : "Reactivate"} ${person.name}`);
  toggle.addEventListener("click", () =>
    change(person, { active: !person.active }, (updated) =>
      updated.active ? `${updated.name} can sign in again.` : `${updated.name} is deactivated and signed out.`,
    ),
  );
  const reset = element("button", "button", "Reset password");
  reset.type = "button";
  reset.setAttribute("aria-label", `Reset the password of ${person.name}`);
  reset.addEventListener("click", () => askPassword(person));
  const actions = element("div", "people-actions");
  actions.append(toggle, reset);
  const cells = [
    element("td", "", person.name),
    element("td", "", person.username),
    element("td"),
    element("td"),
    element("td", "", person.active ? (person.on_duty ? "Active, on duty" : "Active") : "Deactivated"),
    element("td"),
  ];
  cells[2].append(role);
  cells[3].append(team);
  cells[5].append(actions);
  tr.append(...cells);
  return tr;
}

async function load() {
  const listed = await attempt(() => api("GET", "/api/people"));
  if (!listed) return;
  choices = { roles: listed.roles, teams: listed.teams };
  byId("people-rows").replaceChildren(...listed.people.map(row));
  for (const [id, options] of [["new-role", listed.roles], ["new-team", listed.teams]]) {
    const current = byId(id).value;
    byId(id).replaceChildren(...options.map((option) => Object.assign(element("option", "", option), { value: option })));
    if (current) byId(id).value = current;
  }
  if (byId("people-status").textContent === "Loading…") say(`${listed.people.length} accounts.`);
}

function askPassword(person) {
  resetting = person;
  byId("password-who").textContent = person.name;
  byId("password-error").textContent = "";
  byId("reset-password").value = "";
  byId("password-dialog").showModal();
}

if (startAdminPage("admin")) {
  byId("password-cancel").addEventListener("click", () => byId("password-dialog").close());
  byId("password-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const path = `/api/agents/${encodeURIComponent(resetting.username)}/password`;
      await api("POST", path, { password: byId("reset-password").value });
      byId("password-dialog").close();
      say(`${resetting.name} has a new password; their earlier sessions have ended.`);
    } catch (error) {
      byId("password-error").textContent = error.message;
    }
  });
  byId("new-person").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = Object.fromEntries(new FormData(form));
    if (!body.name) delete body.name;
    const created = await attempt(() => api("POST", "/api/agents", body));
    if (!created) return;
    form.reset();
    say(`${created.name} (${created.role}, ${created.team}) can sign in now.`);
    await load();
  });
  load();
}
