"""Fuzz the served API from its own OpenAPI document (schemathesis), over real HTTP.

Every operation gets schema-valid requests with the credentials it documents (the service
token, or an admin's token for agent routes): no answer may be a server error, and every
status, header and body must be one the document declares. Invalid requests (schemathesis's
negative mode) are not generated yet: it counts an unknown query parameter, which the API
ignores on purpose, as accepted invalid data.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from werkzeug.serving import make_server

# The stream never ends on its own; its hostile cases are in test_hostile_api.py.
UNFUZZED = {("GET", "/api/stream")}
EXAMPLES_PER_OPERATION = 60
MIN_REQUESTS = 1000

# Some rules are beyond JSON Schema, so schema-valid data may still get a documented refusal:
# NUL and lone surrogates anywhere (keys too), "exactly one of agent or team", a reserved
# username, an FAQ id that does not exist, a sign-in past its limit.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)

pytestmark = pytest.mark.slow


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """Serve the app on a loopback port for the test, as a real HTTP server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def fuzz_operation(
    operation, base_url: str, headers: dict[str, str], statuses: Counter[tuple[str, int]]
) -> None:
    """Send the operation's generated requests; count each answer by status."""

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case) -> None:
        response = case.call_and_validate(base_url=base_url, headers=headers, timeout=30)
        statuses[(case.operation.label, response.status_code)] += 1

    fuzz()


def test_no_generated_request_meets_a_server_error_or_an_undocumented_answer(
    client, served, hand_off, service, agent_headers
):
    admin = agent_headers("ada")
    # Something to act on: a queued conversation (id 1) and one Ada claimed (id 2).
    hand_off("conv-1")
    client.post(f"/api/conversations/{hand_off('conv-2')['id']}/claim", headers=admin)
    schema = schemathesis.openapi.from_url(f"{served}/api/openapi.json", config=CONFIG)
    statuses: Counter[tuple[str, int]] = Counter()

    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document itself is valid OpenAPI
        operation = result.ok()
        if (operation.method.upper(), operation.path) in UNFUZZED:
            continue
        security = operation.definition.raw.get("security", [{}])[0]
        headers = service if "serviceToken" in security else admin
        fuzz_operation(operation, served, headers, statuses)

    total = sum(statuses.values())
    print(f"\nschemathesis: {total} requests")
    for (label, status), count in sorted(statuses.items()):
        print(f"  {label} -> {status}: {count}")
    assert total >= MIN_REQUESTS
    assert not [key for key in statuses if key[1] >= 500]
