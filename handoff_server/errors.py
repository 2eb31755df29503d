"""Answer every error, Flask's own included, with one JSON shape."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


def error_response(error: HTTPException) -> Response:
    """Render an HTTP error as {"error": "not_found", "message": "..."}."""
    response = jsonify(
        error=(error.name or "error").lower().replace(" ", "_"), message=error.description
    )
    response.status_code = error.code or 500
    # Keep what the exception adds, such as WWW-Authenticate on 401 or Allow on 405.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_unexpected(error: Exception) -> Response:
    """Log an unhandled exception and answer 500 without leaking its details."""
    log.exception("unhandled error", exc_info=error)
    return error_response(InternalServerError("internal server error"))


def register_error_handlers(app: Flask) -> None:
    """Make `app` answer every error as JSON."""
    app.register_error_handler(HTTPException, error_response)
    app.register_error_handler(Exception, handle_unexpected)
