"""Serve the pages people see: the demo website with its widget, the kiosk, the agent console."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
    send_from_directory,
)

from handoff_server.accounts import MIN_PASSWORD_LENGTH
from handoff_server.reports import REPORTS
from handoff_server.services import services
from lumen.vocabulary import (
    CHANNELS,
    MAX_TEXT_CHARS,
    MISS_OUTCOME_LABELS,
    TURN_ROLE_LABELS,
    HandoffReason,
)
from venue.data import Venue, load_venue
from venue.schedule import local_now, programme

pages = Blueprint("pages", __name__)

DEFAULT_KIOSK_IDLE_S = 120
DEFAULT_KIOSK_COUNTDOWN_S = 15
# The business's files: websites embed the widget, which reads them from their own origin.
BRAND_MAX_AGE_S = 300


def public_rasa_url() -> str:
    """Return the Rasa socket.io URL as customers' browsers reach it."""
    return services().settings.public_rasa_url


def _seconds(name: str, default: int, low: int, high: int) -> int:
    """Read a whole number of seconds from the query string, clamped; `default` if unreadable."""
    value = request.args.get(name, "")
    # ASCII digits only, and few: int() refuses "²" and numbers of thousands of digits.
    return min(high, max(low, int(value))) if re.fullmatch(r"[0-9]{1,9}", value) else default


@pages.app_context_processor
def business() -> dict[str, object]:
    """Give every page the business's configuration as `assistant`."""
    return {"assistant": services().assistant}


def shared(response: Response) -> Response:
    """Let any website read `response` (public, no credentials), cached a few minutes."""
    response.cache_control.public = True
    response.cache_control.max_age = BRAND_MAX_AGE_S
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@pages.get("/assistant.json")
def assistant_json() -> Response:
    """Serve what the widget shows of the business: names, greeting, colours, logo."""
    return shared(jsonify(services().assistant.public()))


@pages.get("/brand.css")
def brand_css() -> Response:
    """Serve the business's colours as CSS custom properties (the pages allow no inline style)."""
    return shared(Response(services().assistant.stylesheet(), mimetype="text/css"))


@pages.get("/logo.svg")
def logo() -> Response:
    """Serve the business's logo."""
    return shared(send_file(services().assistant.logo, mimetype="image/svg+xml"))


@pages.get("/")
def demo_site() -> str:
    """Show the business's demo website, with the chat widget embedded as customers do."""
    return render_template("demo.html", rasa_url=public_rasa_url())


@pages.get("/widget.js")
def widget_js() -> Response:
    """Serve the embeddable widget script to any website."""
    static = current_app.static_folder or "static"
    return shared(send_from_directory(static, "widget.js", mimetype="text/javascript"))


@pages.get("/vocabulary.js")
def vocabulary_js() -> Response:
    """Serve the words the pages share with the servers (text limit, labels) as a module."""
    # The pages import this rather than keep their own copies (lumen/vocabulary.py is the one).
    labels = {reason.value: reason.label for reason in HandoffReason}
    module = (
        f"export const MAX_TEXT_CHARS = {MAX_TEXT_CHARS};\n"
        f"export const HANDOFF_REASON_LABELS = Object.freeze({json.dumps(labels)});\n"
        f"export const CHANNELS = Object.freeze({json.dumps(list(CHANNELS))});\n"
        f"export const TURN_ROLE_LABELS = Object.freeze({json.dumps(TURN_ROLE_LABELS)});\n"
        f"export const MISS_OUTCOME_LABELS = Object.freeze({json.dumps(MISS_OUTCOME_LABELS)});\n"
    )
    # The widget's chat module imports it from websites on other origins.
    return shared(Response(module, mimetype="text/javascript"))


@pages.after_app_request
def share_widget_assets(response: Response) -> Response:
    """Let pages on other origins load the widget's modules and styles (public, no credentials)."""
    # widget.js imports static/chat-core.js as an ES module, which browsers fetch with CORS.
    if request.path.startswith("/static/") and request.method in ("GET", "HEAD"):
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


@pages.get("/kiosk")
def kiosk() -> str:
    """Show the full-screen, touch-first kiosk for on-board screens."""
    # The kiosks are configured (config/assistant.yml): no id shows the first, an unknown id
    # a kiosk with no place.
    kiosks = services().assistant.kiosks
    kiosk_id = request.args.get("kiosk_id") or next(iter(kiosks), "")
    kiosk = kiosks.get(kiosk_id)
    return render_template(
        "kiosk.html",
        rasa_url=public_rasa_url(),
        kiosk_id=kiosk.id if kiosk else "kiosk",
        kiosk_location=kiosk.location if kiosk else "",
        kiosk_place=kiosk.place if kiosk else "",
        idle_s=_seconds("idle", DEFAULT_KIOSK_IDLE_S, 1, 3600),
        countdown_s=_seconds("countdown", DEFAULT_KIOSK_COUNTDOWN_S, 1, 120),
    )


@lru_cache(maxsize=1)
def venue_of(directory: Path) -> Venue:
    """Load the kiosks' venue once per process (data/venue is checked at setup)."""
    return load_venue(directory)


@pages.get("/kiosk/next")
def kiosk_next() -> dict[str, Any]:
    """Say what's on next on board, for the kiosk's attract screen (the public programme)."""
    settings = services().settings
    venue = venue_of(settings.venue_dir)
    upcoming = programme(venue, local_now(venue, settings.venue_now)).next
    if not upcoming:
        return {"next": None}
    showing = upcoming[0]
    place = venue.places[showing.event.place]
    return {
        "next": {
            "title": showing.event.title,
            "start": f"{showing.start:%H:%M}",
            "place": place.name.removeprefix("the "),
            "where": place.where,
        }
    }


@pages.get("/console")
def console() -> str:
    """Show the agent console; it signs in and talks to the JSON API from the browser."""
    return render_template("console.html", max_text_chars=MAX_TEXT_CHARS)


# Charts that read better across the page.
_WIDE_REPORTS = ("containment", "busiest-hours", "unanswered")


@pages.get("/console/reports")
def reports_page() -> str:
    """Show supervisors' reports; the page reads them from the API as the signed-in agent."""
    reports = [
        {"name": report.name, "title": report.title, "wide": report.name in _WIDE_REPORTS}
        for report in REPORTS
    ]
    return render_template("reports.html", reports=reports)


@pages.get("/console/people")
def people_page() -> str:
    """Show admins the accounts: add people, change roles and teams, deactivate, reset passwords."""
    return render_template("people.html", min_password_length=MIN_PASSWORD_LENGTH)


@pages.get("/console/questions")
def questions_page() -> str:
    """Show supervisors the unanswered questions grouped by meaning, to teach a group at once."""
    return render_template("questions.html")
