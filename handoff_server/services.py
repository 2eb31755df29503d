"""Hold the collaborators create_app builds, for views to reach through the current app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from handoff_server.assistant_config import AssistantConfig
from handoff_server.db import Database
from handoff_server.event_log import EventFeed
from handoff_server.mailer import Mailer
from handoff_server.outbox import Outbox
from handoff_server.settings import Settings
from knowledge_base.faqs import KnowledgeBaseDirectory


@dataclass(frozen=True)
class Services:
    """The settings, database, outbox, event feed, knowledge base, business and mailer of an app."""

    settings: Settings
    db: Database
    outbox: Outbox
    feed: EventFeed
    knowledge_base: KnowledgeBaseDirectory
    assistant: AssistantConfig
    mailer: Mailer


def services() -> Services:
    """Return the current app's collaborators."""
    return current_app.extensions["handoff"]  # type: ignore[no-any-return]
