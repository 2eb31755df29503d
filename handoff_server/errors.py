"""Answer every error, Flask's own and the data layer's included, with one JSON shape."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug import exceptions as http

from handoff_server import domain_errors

log = logging.getLogger(__name__)

# The one place where the data layer's refusals become HTTP statuses.
HTTP_ERRORS: dict[type[domain_errors.HandoffError], type[http.HTTPException]] = {
    domain_errors.NotFound: http.NotFound,
    domain_errors.Conflict: http.Conflict,
    domain_errors.Forbidden: http.Forbidden,
    domain_errors.Invalid: http.BadRequest,
    domain_errors.Unprocessable: http.UnprocessableEntity,
    domain_errors.HandoffError: http.BadRequest,
}


def error_response(error: http.HTTPException) -> Response:
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


def refusal_response(error: domain_errors.HandoffError) -> Response:
    """Render a refusal of the data layer with its HTTP status (409 for a conflict, ...)."""
    if isinstance(error, domain_errors.Busy):
        # Loud for the operator: something (a backup, a migration) holds the database.
        log.warning("%s %s answered 503: %s", request.method, request.path, error.message)
        # 503 with Retry-After: the client may send the same request again, nothing was stored.
        return error_response(
            http.ServiceUnavailable(error.message, retry_after=error.retry_after_s)
        )
    kind = next(kind for kind in type(error).__mro__ if kind in HTTP_ERRORS)
    return error_response(HTTP_ERRORS[kind](error.message))


def handle_unexpected(error: Exception) -> Response:
    """Log an unhandled exception and answer 500 without leaking its details."""
    log.exception("unhandled error", exc_info=error)
    return error_response(http.InternalServerError("internal server error"))


def register_error_handlers(app: Flask) -> None:
    """Make `app` answer every error as JSON."""
    app.register_error_handler(http.HTTPException, error_response)
    app.register_error_handler(domain_errors.HandoffError, refusal_response)
    app.register_error_handler(Exception, handle_unexpected)
