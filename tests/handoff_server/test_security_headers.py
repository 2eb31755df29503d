"""Every response carries the browser security headers; the policy allows no inline script.

The browser test (tests/e2e/test_page_security.py) shows the pages work under the policy.
"""

from __future__ import annotations

import pytest

from tests.handoff_server.conftest import build_app

PAGES = ["/", "/kiosk", "/console", "/widget.js", "/vocabulary.js", "/static/chat-core.js"]


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    parsed = (directive.split() for directive in policy.split(";") if directive.strip())
    return {name: sources for name, *sources in parsed}


def assert_secured(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_and_script_carries_the_security_headers(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert_secured(response)


def test_api_answers_and_errors_carry_them_too(client, agent_headers):
    assert_secured(client.get("/api/conversations", headers=agent_headers("alice")))
    assert_secured(client.get("/api/conversations/1", headers=agent_headers("alice")))
    assert_secured(client.post("/api/auth/token", json={}))
    assert_secured(client.get("/healthz"))


def test_pages_may_connect_to_rasa_at_its_public_url_and_nowhere_else(database_url, rasa, app):
    public = build_app(database_url, rasa, PUBLIC_RASA_URL="https://chat.example.com:8443")

    policy = directives(public.test_client().get("/"))

    assert policy["connect-src"] == [
        "'self'",
        "https://chat.example.com:8443",
        "wss://chat.example.com:8443",
    ]
