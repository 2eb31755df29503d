"""Send browser security headers with every response: the pages' second line of defence.

The pages already show every text as text; the policy is the backstop should markup ever
slip through. Scripts, styles, images and fonts come only from this server, with no inline
script, no eval and no plugin; the pages connect only to this server and to Rasa's socket.io
(PUBLIC_RASA_URL). No page may be framed, not even by this site: the widget is a script that
draws into the host page's own DOM (a shadow root), not a frame, so websites embed it without
framing anything of ours. Responses are never MIME-sniffed, and no URL of the console leaks to
other sites as a referrer.

A small after_request hook rather than flask-talisman: talisman's defaults (HTTPS redirect,
HSTS, secure session cookie) belong to the TLS-terminating proxy in front of this server and
would all be switched off, leaving these four headers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

# http:// or https:// to Rasa means ws:// or wss:// for its socket.io WebSocket transport.
_WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss"}


def content_security_policy(public_rasa_url: str) -> str:
    """Return the policy of every page, allowing connections to Rasa at `public_rasa_url`."""
    rasa = urlsplit(public_rasa_url)
    rasa_origins = [f"{rasa.scheme}://{rasa.netloc}"]
    if rasa.scheme in _WEBSOCKET_SCHEMES:
        rasa_origins.append(f"{_WEBSOCKET_SCHEMES[rasa.scheme]}://{rasa.netloc}")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'", *rasa_origins],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def send_security_headers(app: Flask, public_rasa_url: str) -> None:
    """Add the security headers to every response of `app`, pages, API and files alike."""
    headers = {
        "Content-Security-Policy": content_security_policy(public_rasa_url),
        # For browsers that predate frame-ancestors.
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
