"""The handoff server: the live-agent queue between the bot and the people who take over."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, jsonify
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.middleware.proxy_fix import ProxyFix

from handoff_server import (
    api,
    customers,
    events,
    faq_decisions,
    faq_gaps,
    people,
    question_groups,
    reports,
    teaching,
)
from handoff_server.assistant_config import load_assistant_config
from handoff_server.db import Database, make_engine
from handoff_server.errors import register_error_handlers
from handoff_server.event_bus import RedisEventBus
from handoff_server.event_log import EventFeed
from handoff_server.mailer import Mailer
from handoff_server.outbox import Outbox
from handoff_server.pages import pages
from handoff_server.rasa_client import RasaClient
from handoff_server.security_headers import send_security_headers
from handoff_server.services import Services
from handoff_server.settings import load_settings
from handoff_server.sign_in_limits import limit_sign_in
from handoff_server.validation import RowIdConverter
from knowledge_base.faqs import KnowledgeBaseDirectory

# A handoff packet carries the whole transcript; 4,000 characters a turn leaves room for ~250.
MAX_REQUEST_BYTES = 1024 * 1024


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment; `config` overrides settings and may hold RASA_CLIENT."""
    overrides = dict(config or {})
    rasa_client = overrides.pop("RASA_CLIENT", None)
    settings = load_settings(overrides)
    for name, value in (
        ("SECRET_KEY", settings.secret_key),
        ("HANDOFF_SERVICE_TOKEN", settings.service_token),
    ):
        if not value:
            raise RuntimeError(f"{name} is empty: run `make setup` or set it in .env")

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
    )
    db = Database(
        make_engine(settings.database_url, settings.db_lock_timeout_s), settings.db_lock_timeout_s
    )
    outbox = Outbox(db, rasa_client or RasaClient(settings.rasa_url, settings.rasa_api_token))
    app.extensions["handoff"] = Services(
        settings=settings,
        db=db,
        outbox=outbox,
        feed=EventFeed(db),
        knowledge_base=KnowledgeBaseDirectory(settings.faq_data_dir),
        # Read once at start: a mistake in the file stops the server here, naming the key.
        assistant=load_assistant_config(settings.assistant_config),
        mailer=Mailer.check(settings.smtp_url, settings.smtp_from),
    )
    if settings.trusted_proxies:
        # The client's address and scheme as nginx saw them (the sign-in limits count by it).
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    register_error_handlers(app)
    send_security_headers(app, settings.public_rasa_url)
    # Every <int:...> in a route is a row id; set before the blueprints' rules are built.
    app.url_map.converters["int"] = RowIdConverter
    app.register_blueprint(api.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(faq_gaps.bp)
    app.register_blueprint(teaching.bp)
    app.register_blueprint(faq_decisions.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(question_groups.bp)
    app.register_blueprint(customers.bp)
    app.register_blueprint(pages)
    limit_sign_in(app, settings)

    @app.get("/healthz")
    def healthz() -> Response:
        """Answer whether the server and its database are up."""
        try:
            with db.read() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as error:
            raise ServiceUnavailable("the database is unreachable") from error
        return jsonify(status="ok")

    if settings.event_bus_url:
        RedisEventBus(settings.event_bus_url, db.changed).start()
    if settings.outbox_worker:
        outbox.start()
    return app
