"""Brute-force protection on sign-in: failed attempts are limited per address and per account.

Semantics (see handoff_server/sign_in_limits.py): only failed sign-ins (401) count; an
address that failed too often gets 429 for every account, the right password included; an
account that failed too often from any addresses gets 429 from every address until the
window moves on. The defaults are the real ones unless a test says otherwise.
"""

from __future__ import annotations

import limits
import pytest

from handoff_server.settings import load_settings
from tests.handoff_server.conftest import PASSWORD, build_app

ATTACKER = "203.0.113.7"
OFFICE = "198.51.100.20"


def default_window_s() -> int:
    """The window of the default per-address limit, in seconds."""
    return limits.parse(load_settings({}).sign_in_limit_per_address).get_expiry()


class FakeClock:
    """Stand in for the `time` module of the limiter's in-memory storage."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr("limits.storage.memory.time", fake)
    return fake


def sign_in(client, username: str, password: str, address: str = ATTACKER):
    return client.post(
        "/api/auth/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def guess_until_refused(client, username: str, address: str = ATTACKER, tries: int = 30):
    """Send wrong passwords until one gets 429; return how many were answered 401 first."""
    for attempt in range(tries):
        response = sign_in(client, username, f"guess number {attempt}", address)
        if response.status_code == 429:
            return attempt, response
        assert response.status_code == 401, response.json
    raise AssertionError(f"{tries} wrong passwords and no 429")


def test_thirty_wrong_passwords_meet_a_429_with_retry_after_before_the_thirtieth(client):
    failures, refused = guess_until_refused(client, "alice")

    assert failures < 29
    assert refused.json == {
        "error": "too_many_requests",
        "message": "too many failed sign-ins from this address; try again later",
    }
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= default_window_s()
    # The address is refused for every account, even with the right password.
    assert sign_in(client, "alice", PASSWORD).status_code == 429
    assert sign_in(client, "bob", PASSWORD).status_code == 429


def test_the_right_password_from_another_address_still_signs_in(client):
    guess_until_refused(client, "alice")

    response = sign_in(client, "alice", PASSWORD, address=OFFICE)

    assert response.status_code == 200
    assert response.json["agent"]["username"] == "alice"


def test_guesses_spread_over_many_addresses_lock_that_account_only(client):
    addresses = iter(f"192.0.2.{number}" for number in range(1, 200))
    failures = 0
    while True:
        address = next(addresses)
        tried, refused = guess_until_refused(client, "alice", address)
        failures += tried
        if refused.json["message"].endswith("for this account; try again later"):
            break

    assert failures < 100
    assert sign_in(client, "alice", PASSWORD, address=OFFICE).status_code == 429
    assert sign_in(client, "bob", PASSWORD, address=OFFICE).status_code == 200


def test_successful_sign_ins_from_one_office_address_are_not_limited(client):
    for agent in ["alice", "bob", "sue", "ada"] * 10:
        assert sign_in(client, agent, PASSWORD, address=OFFICE).status_code == 200


def test_a_malformed_sign_in_is_a_400_and_does_not_count(client):
    for _ in range(30):
        response = client.post("/api/auth/token", json={"username": "alice"})
        assert response.status_code == 400

    assert sign_in(client, "alice", PASSWORD).status_code == 200


def test_the_address_may_try_again_once_the_window_has_passed(client, clock):
    guess_until_refused(client, "alice")

    clock.now += default_window_s() + 1

    assert sign_in(client, "alice", PASSWORD).status_code == 200


def test_the_limits_come_from_the_settings(database_url, rasa, app):
    strict = build_app(database_url, rasa, SIGN_IN_LIMIT_PER_ADDRESS="2 per minute")

    failures, refused = guess_until_refused(strict.test_client(), "alice")

    assert failures == 2
    assert int(refused.headers["Retry-After"]) <= 60


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGN_IN_LIMIT_PER_ADDRESS", "lots"),
        ("SIGN_IN_LIMIT_PER_ACCOUNT", "10 per fortnight"),
        ("RATE_LIMIT_STORAGE_URI", "carrier-pigeon://loft"),
        ("TRUSTED_PROXIES", "-1"),
        ("TRUSTED_PROXIES", "nginx"),
    ],
)
def test_an_unreadable_limit_setting_stops_the_server_at_start(database_url, rasa, name, value):
    with pytest.raises(ValueError, match=name):
        build_app(database_url, rasa, **{name: value})


def behind_the_proxy(client, forwarded_for: str, tries: int):
    """Wrong passwords as nginx passes them on: every request from nginx's own address."""
    statuses = []
    for attempt in range(tries):
        response = client.post(
            "/api/auth/token",
            json={"username": "alice", "password": f"guess number {attempt}"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
            headers={"X-Forwarded-For": forwarded_for},
        )
        statuses.append(response.status_code)
    return statuses


def test_behind_a_trusted_proxy_each_client_address_counts_apart(database_url, rasa, app):
    proxied = build_app(
        database_url, rasa, SIGN_IN_LIMIT_PER_ADDRESS="2 per minute", TRUSTED_PROXIES="1"
    )
    client = proxied.test_client()

    assert behind_the_proxy(client, ATTACKER, 3) == [401, 401, 429]
    # The office behind the same nginx is not locked out by the attacker's guesses.
    assert behind_the_proxy(client, OFFICE, 1) == [401]


def test_without_a_trusted_proxy_a_forwarded_address_is_not_believed(database_url, rasa, app):
    strict = build_app(database_url, rasa, SIGN_IN_LIMIT_PER_ADDRESS="2 per minute")
    client = strict.test_client()

    # A client naming a new address in each request is still the one address it comes from.
    statuses = [behind_the_proxy(client, f"192.0.2.{n}", 1)[0] for n in range(3)]
    assert statuses == [401, 401, 429]
