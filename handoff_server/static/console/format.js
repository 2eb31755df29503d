// How the console words times, customers, channels and sentiment.

export function age(isoTime) {
  const seconds = Math.max(0, (Date.now() - Date.parse(isoTime)) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d`;
}

export function clock(isoTime) {
  return isoTime ? new Date(isoTime).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

export function customerName(conversation) {
  return conversation.customer_name || conversation.customer?.name || "Guest";
}

export function channelLabel(conversation) {
  if (conversation.channel === "kiosk") {
    return `Kiosk${conversation.kiosk_location ? ` · ${conversation.kiosk_location}` : ""}`;
  }
  return "Website";
}

export function sentimentLabel(score) {
  if (typeof score !== "number") return "unknown";
  const word = score <= -0.5 ? "very negative" : score < -0.05 ? "negative" : score > 0.05 ? "positive" : "neutral";
  return `${word} (${score.toFixed(2)})`;
}
