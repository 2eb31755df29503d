"""Gunicorn settings for the handoff server: HANDOFF_WORKERS gevent workers hold the SSE streams."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

# Load settings.py by path rather than importing the package: importing Flask and requests
# (and with them ssl) in the master, before the gevent worker monkey-patches, breaks gevent.
_spec = importlib.util.spec_from_file_location(
    "handoff_settings", Path(__file__).with_name("settings.py")
)
assert _spec is not None and _spec.loader is not None
_settings_module = importlib.util.module_from_spec(_spec)
# dataclasses look their module up in sys.modules.
sys.modules[_spec.name] = _settings_module
_spec.loader.exec_module(_settings_module)
# The process entry point: the one place, with `python -m handoff_server`, that reads .env.
_settings_module.load_env_file()
_settings = _settings_module.load_settings()

bind = f"0.0.0.0:{_settings.port}"
# With more than one, set EVENT_BUS_URL: each worker's commits then wake every worker's
# streams at once (event_bus.py), not at their next keepalive poll.
workers = _settings.handoff_workers
worker_class = "gevent"
worker_connections = 1000
# Let a restart proceed without waiting for open event streams; clients resume by id.
graceful_timeout = 5
errorlog = "-"


# Action servers poll for taught paraphrases every few seconds, and `make run`'s supervisor
# checks /healthz every five: a line for each would bury everything else, so only the
# requests that fail are logged.
QUIET_PATHS = ("/api/faq-paraphrases", "/healthz")


class AccessLogger(Logger):
    """Build only the fields access_log_format prints; gunicorn's own copies every header."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Log one request, unless it is a routine poll that succeeded."""
        if environ.get("PATH_INFO") in QUIET_PATHS and str(resp.status).startswith("2"):
            return
        super().access(resp, req, environ, request_time)

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        """Return the fields of one access log line."""
        sent = getattr(resp, "sent", None)
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "m": environ.get("REQUEST_METHOD"),
            "U": environ.get("PATH_INFO"),
            "s": str(resp.status).split(None, 1)[0],
            "b": "-" if sent is None else str(sent),
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
        }


logger_class = AccessLogger
# HANDOFF_ACCESS_LOG=false drops the line per request, a few percent of a busy worker's CPU.
accesslog = "-" if _settings.access_log else None
# %(U)s is the path without the query string, which can hold an agent's stream token.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
# Gunicorn's control socket has one path per user: a second server (an end-to-end test next to
# `make run`) would take it over. Nothing here uses gunicornc.
control_socket_disable = True
