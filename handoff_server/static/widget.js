/*
 * The chat widget. Embed it on any page with one tag:
 *
 *   <script src="https://HANDOFF-SERVER/widget.js" data-rasa-url="https://RASA" async></script>
 *
 * Names, greeting, colours and logo are the business's, from its server's configuration
 * (/assistant.json, /brand.css, /logo.svg); a page may override the title and colours:
 * data-title="..." data-color-primary="#..." data-color-primary-dark="#..." data-color-accent="#...".
 *
 * This is a classic script (so `async` and document.currentScript work everywhere);
 * it loads the shared chat module (static/chat-core.js) from its own server and draws
 * the launcher and panel inside a shadow root, so the host page's CSS and ours never mix.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || window.lumenChatWidget) return; // embedded twice: keep the first one
  window.lumenChatWidget = { version: 1 };

  const rasaUrl = script.dataset.rasaUrl;
  // Relative to widget.js, so the server also works behind a path prefix (/support/widget.js).
  const asset = (path) => new URL(path, script.src).href;
  const STORAGE_KEY = "lumen-chat";
  const OPEN_KEY = `${STORAGE_KEY}:open`;
  // data-color-* attribute → the custom property of brand.css it overrides.
  const COLOUR_OVERRIDES = {
    colorPrimary: "--brand",
    colorPrimaryDark: "--brand-dark",
    colorAccent: "--brand-accent",
  };

  function svgIcon(pathData) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", pathData);
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    return svg;
  }

  const CHAT_ICON =
    "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z";
  const CLOSE_ICON =
    "M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Return a <link> to a stylesheet and a promise that settles once it has loaded (or failed). */
  function stylesheet(href) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    const loaded = new Promise((resolve) => {
      link.onload = link.onerror = resolve;
    });
    return { link, loaded };
  }

  async function mount() {
    if (!rasaUrl) {
      console.error("Lumen chat: the widget's <script> tag needs a data-rasa-url attribute.");
      return;
    }
    const [core, business] = await Promise.all([
      import(asset("static/chat-core.js")),
      fetch(asset("assistant.json")).then((response) => {
        if (!response.ok) throw new Error(`assistant.json answered ${response.status}`);
        return response.json();
      }),
    ]);
    const title = script.dataset.title || business.business_name;
    const session = core.chatStorage("session");

    // A tag of our own: host-page rules such as `div { ... }` never match it.
    const host = document.createElement("lumen-chat-widget");
    const shadow = host.attachShadow({ mode: "open" });
    // Everything sits in one root that resets what the host element would pass down.
    const root = el("div", "lrc-root");
    // Hidden until our styles are in, so the page never flashes an unstyled widget.
    root.style.visibility = "hidden";
    const styles = [
      stylesheet(asset("brand.css")),
      stylesheet(asset("static/chat.css")),
      stylesheet(asset("static/widget.css")),
    ];
    // The page's own colours, if it gives any, win over the business's (brand.css sets :host).
    for (const [attribute, property] of Object.entries(COLOUR_OVERRIDES)) {
      const colour = script.dataset[attribute];
      if (colour && CSS.supports("color", colour)) host.style.setProperty(property, colour);
    }
    shadow.append(...styles.map((style) => style.link));

    const launcher = el("button", "lrc-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-label", `Chat with ${title}`);
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "lrc-panel");
    const badge = el("span", "lrc-badge");
    badge.hidden = true;
    const chatIcon = svgIcon(CHAT_ICON);
    chatIcon.classList.add("lrc-icon-chat");
    const closeIcon = svgIcon(CLOSE_ICON);
    closeIcon.classList.add("lrc-icon-close");
    launcher.append(chatIcon, closeIcon, badge);

    const panel = el("section", "lrc-panel");
    panel.id = "lrc-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-labelledby", "lrc-title");
    const header = el("header", "lrc-header");
    const avatar = el("img", "lrc-avatar");
    avatar.src = asset("logo.svg");
    avatar.alt = "";
    const heading = el("div", "lrc-heading");
    const titleHeading = el("h2", "lrc-title", title);
    titleHeading.id = "lrc-title";
    const subtitle = el("p", "lrc-subtitle", "Assistant · a person can join any time");
    heading.append(titleHeading, subtitle);
    const closeButton = el("button", "lrc-close");
    closeButton.type = "button";
    closeButton.setAttribute("aria-label", "Close chat");
    closeButton.append(svgIcon(CLOSE_ICON));
    header.append(avatar, heading, closeButton);
    const body = el("div", "lrc-body");
    panel.append(header, body);
    root.append(panel, launcher);
    shadow.append(root);

    let unread = 0;
    const chat = core.createChat(body, {
      rasaUrl,
      // localStorage: a reload or another tab of the site continues the same conversation.
      storage: core.chatStorage("local"),
      storageKey: STORAGE_KEY,
      assistantName: business.assistant_name,
      intro: business.greeting,
      connectNow: false, // connect on first open, or at once if a conversation is under way
      customData: () => ({
        channel: "web",
        page_url: location.href,
        locale: navigator.language,
      }),
      onActivity: (kind) => {
        if (kind === "received" && panel.hidden) {
          unread += 1;
          badge.textContent = String(unread);
          badge.hidden = false;
          launcher.setAttribute("aria-label", `Chat with ${title}, ${unread} new`);
        }
      },
    });

    function setOpen(open, { focus = true } = {}) {
      panel.hidden = !open;
      launcher.setAttribute("aria-expanded", String(open));
      launcher.classList.toggle("lrc-launcher--open", open);
      session.set(OPEN_KEY, open ? "1" : "");
      if (open) {
        unread = 0;
        badge.hidden = true;
        launcher.setAttribute("aria-label", `Chat with ${title}`);
        chat.connect();
        chat.scrollToEnd(); // the log had no height while the panel was hidden
        if (focus) chat.focus();
      } else if (focus) {
        launcher.focus();
      }
    }

    launcher.addEventListener("click", () => setOpen(panel.hidden));
    closeButton.addEventListener("click", () => setOpen(false));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        setOpen(false);
      }
    });

    document.body.append(host); // stylesheets load once the host is in the document
    await Promise.all(styles.map((style) => style.loaded));
    root.style.visibility = "";
    // A reload keeps the panel as it was in this tab.
    if (session.get(OPEN_KEY)) setOpen(true, { focus: false });
  }

  const start = () =>
    mount().catch((error) => console.error("Lumen chat: the widget could not start.", error));
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  } else {
    start();
  }
})();
