"""Limit failed sign-ins per client address and per account (Flask-Limiter).

Only failed sign-ins (401) count: a team signing in behind one office address at the start
of a shift is never slowed down, while guessing is. Once an address has failed
SIGN_IN_LIMIT_PER_ADDRESS times it gets 429 for every account, the right password included,
until its oldest failure leaves the moving window; the account's owner signing in from
elsewhere is unaffected. Guesses spread over many addresses meet SIGN_IN_LIMIT_PER_ACCOUNT,
set higher: past it the account gets 429 from every address until the window moves on (a
lock-out an attacker can cause, the price of stopping distributed guessing). Every 429
carries Retry-After. The counts live in RATE_LIMIT_STORAGE_URI: memory:// keeps them per
process (each gunicorn worker counts apart), redis://HOST:PORT shares them (needs the redis
package). Behind a reverse proxy, the client address is the proxy's unless it is trusted
(TRUSTED_PROXIES: werkzeug's ProxyFix reads the address nginx forwards).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import limits
from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.errors import ConfigurationError

from handoff_server import schemas
from handoff_server.openapi import may_refuse
from handoff_server.settings import Settings
from handoff_server.validation import read_json

SIGN_IN_ENDPOINT = "api.create_token"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _account_named() -> str:
    # A malformed body is refused here as the view would refuse it (400), so never counted.
    return f"account:{read_json(schemas.TOKEN_REQUEST)['username']}"


def _readable_limit(name: str, value: str) -> str:
    try:
        limits.parse(value)
    except ValueError as error:
        raise ValueError(f"{name}: cannot read {value!r} (e.g. '10 per 10 minutes')") from error
    return value


def limit_sign_in(app: Flask, settings: Settings) -> Limiter:
    """Put the failed sign-in limits of `settings` on the app's sign-in route."""
    per_address = _readable_limit("SIGN_IN_LIMIT_PER_ADDRESS", settings.sign_in_limit_per_address)
    per_account = _readable_limit("SIGN_IN_LIMIT_PER_ACCOUNT", settings.sign_in_limit_per_account)
    try:
        limiter = Limiter(
            get_remote_address,
            app=app,
            storage_uri=settings.rate_limit_storage_uri,
            strategy="moving-window",
            headers_enabled=True,
            key_prefix="handoff-sign-in",
        )
    except ConfigurationError as error:
        raise ValueError(f"RATE_LIMIT_STORAGE_URI: {error}") from error
    view: Callable[..., Any] = app.view_functions[SIGN_IN_ENDPOINT]
    # Checked in the order applied: the address first, so one guesser hears about its own.
    view = limiter.limit(
        per_address,
        deduct_when=_failed,
        error_message="too many failed sign-ins from this address; try again later",
    )(view)
    view = limiter.limit(
        per_account,
        key_func=_account_named,
        deduct_when=_failed,
        error_message="too many failed sign-ins for this account; try again later",
    )(view)
    app.view_functions[SIGN_IN_ENDPOINT] = may_refuse(429)(view)
    return limiter
