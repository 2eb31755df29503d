// Who is signed in: the API token and the agent, kept for this tab (sessionStorage).

const TOKEN_KEY = "lumen-console:token";
const AGENT_KEY = "lumen-console:agent";
const TEACHING_ROLES = ["supervisor", "admin"];

export const session = {
  token: sessionStorage.getItem(TOKEN_KEY),
  agent: JSON.parse(sessionStorage.getItem(AGENT_KEY) || "null"),
};

/** Remember the token and agent the sign-in returned. */
export function remember(token, agent) {
  session.token = token;
  session.agent = agent;
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(AGENT_KEY, JSON.stringify(agent));
}

/** Forget who was signed in. */
export function forget() {
  session.token = null;
  session.agent = null;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(AGENT_KEY);
}

/** Say whether the signed-in agent may teach the bot (supervisors and admins). */
export function canTeach() {
  return TEACHING_ROLES.includes(session.agent?.role);
}

/** Say whether `agent` (as the API describes one) is the signed-in agent. */
export function isMe(agent) {
  return Boolean(agent) && agent.username === session.agent?.username;
}
