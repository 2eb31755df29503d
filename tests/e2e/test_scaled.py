"""The end-to-end tests again, on the scaled-out stack of `make run-scaled`.

Two Rasa instances on PostgreSQL and the Redis lock store, two action servers, the handoff
server on PostgreSQL, nginx in front: the same test functions as on the embedded stack,
imported here, with this module's `stack`. The customer's socket in the conversation tests
is on Rasa instance 1 (`stack.rasa_url`) while the handoff server pushes the agent's
messages through instance 2 (RASA_URL, scripts/stack.py): they reach the socket through
Redis (bot/socketio_scale.py). The pages and the console go through nginx, one origin, the
widget's socket.io too (each later request routed to the instance holding its session).
A second host of the handoff server takes one agent's actions while a colleague's console
streams from the first: what one takes, the other's streams show at once (Redis).
Last, one instance of each kind is killed mid-conversation, and nothing is lost.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from scripts.handoff_process import HandoffProcess, running_handoff_server
from scripts.stack import Stack, running_scaled_stack, serving_process, serving_processes
from tests.e2e.clients import (
    WidgetClient,
    agent_api,
    agent_on_duty,
    claimed_by_an_agent,
    wait_for,
)
from tests.e2e.conftest import watched
from tests.e2e.pages import ask, asks_a_question_then_for_a_person, signed_in
from tests.e2e.test_conversation import (
    test_a_message_written_as_the_agent_resolved_reaches_them_and_the_bot_stays_quiet,
    test_faq_answer_handoff_agent_and_back,
    test_the_rest_channel_answers_too,
    widget,
)
from tests.e2e.test_pages import (
    console_login,
    queued_in_console,
    test_console_agent_takes_over_a_handed_off_conversation,
)
from tests.e2e.test_teaching import (
    test_a_supervisor_teaches_a_question_and_the_bot_answers_it_at_once,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

AGENT_LINE = "Agent line"
# Far longer than the browser waits: a console that hears another handoff worker's change
# only at its stream's keepalive fails.
SSE_KEEPALIVE_S = "300"
# Times every handoff worker is killed between two of the agent's messages.
WORKER_DEATHS = 5

# Collected here too, against this module's stack.
REUSED = [
    test_faq_answer_handoff_agent_and_back,
    test_a_message_written_as_the_agent_resolved_reaches_them_and_the_bot_stays_quiet,
    test_the_rest_channel_answers_too,
    test_console_agent_takes_over_a_handed_off_conversation,
    test_a_supervisor_teaches_a_question_and_the_bot_answers_it_at_once,
    widget,
    console_login,
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Run the scaled-out stack for this module, on databases of its own."""
    workdir = tmp_path_factory.mktemp("scaled")
    with watched(
        running_scaled_stack(workdir, pushes_through=2, SSE_KEEPALIVE_S=SSE_KEEPALIVE_S)
    ) as running:
        yield running


@pytest.fixture(scope="module")
def agent_token(stack: Stack) -> Iterator[str]:
    with agent_on_duty(stack) as token:
        yield token


@pytest.fixture(scope="module")
def second_handoff_host(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HandoffProcess]:
    """The handoff server as a second host would run it: a gunicorn of its own on the stack's
    PostgreSQL, secrets and event bus, not behind nginx."""
    settings = {name: value for name, value in stack.env.items() if name != "HANDOFF_PORT"}
    settings["HANDOFF_WORKERS"] = "1"
    with running_handoff_server(tmp_path_factory.mktemp("second-host"), **settings) as server:
        yield server


def kill_group_serving(port: int) -> int:
    """Kill -9 the whole process group of the server on `port`, as a crash would; return it."""
    group = os.getpgid(serving_process(port))
    os.killpg(group, signal.SIGKILL)
    return group


def customer_texts(stack: Stack, token: str, conversation: str) -> list[str]:
    transcript = agent_api(stack, token, "GET", conversation)["transcript"]
    return [turn["text"] for turn in transcript if turn["role"] == "customer"]


def agent_lines_until(client: WidgetClient, last: str) -> list[str]:
    """Return the agent's lines the customer got, in order, up to and with `last`."""
    lines: list[str] = []
    while last not in lines:
        text = client.next_reply().get("text", "")
        if text.startswith(AGENT_LINE):
            lines.append(text)
    return lines


def test_consoles_see_at_once_what_another_handoff_host_took(
    stack: Stack,
    agent_token: str,
    second_handoff_host: HandoffProcess,
    new_page: Callable[[], Page],
) -> None:
    # Dana's console is on the second host, so her claim and reply are taken by its worker;
    # her colleague's console streams from the stack's own handoff server, behind nginx.
    session = {"token": agent_token, "agent": {"username": "alice"}}
    customer = new_page()
    session_id = asks_a_question_then_for_a_person(customer, stack.handoff_url)
    colleague = signed_in(new_page(), session)
    colleague.goto(f"{stack.handoff_url}/console")
    expect(colleague.get_by_role("status")).to_have_text("Live")
    dana = signed_in(new_page(), session)
    dana.goto(f"{second_handoff_host.url}/console")
    expect(dana.get_by_role("status")).to_have_text("Live")

    queued = queued_in_console(colleague, stack, agent_token, session_id)
    for console in (colleague, dana):
        console.locator(f'#queued-list .queue-item[data-id="{queued["id"]}"]').click()
    dana.get_by_role("button", name="Claim").click()
    expect(colleague.locator("#conversation-state")).to_have_text("assigned")

    reply = "Hi, I'm Dana, writing from the other host."
    dana.get_by_label("Message to the customer").fill(reply)
    dana.get_by_role("button", name="Send", exact=True).click()
    expect(customer.get_by_text(reply)).to_be_visible()
    expect(colleague.locator("#transcript")).to_contain_text(reply)

    # The customer's answer, taken through nginx, reaches Dana's stream on the second host.
    ask(customer, "Thanks, my cabin is 214")
    expect(dana.locator("#transcript")).to_contain_text("Thanks, my cabin is 214")
    expect(colleague.locator("#transcript")).to_contain_text("Thanks, my cabin is 214")


def test_an_agent_message_sent_just_after_the_handoff_workers_die_goes_through(
    stack: Stack, agent_token: str
):
    # gunicorn's master keeps the port and starts new workers; a message sent meanwhile
    # waits for one. nginx never sends a POST twice, so it must not try one on a connection
    # it kept open to a worker that is gone (a 502 for the agent, or a lost push).
    customer = WidgetClient(stack.rasa_url)
    try:
        conversation = claimed_by_an_agent(stack, agent_token, customer)
        sent = []
        for attempt in range(WORKER_DEATHS):
            sent.append(f"{AGENT_LINE} before death {attempt}")
            agent_api(
                stack, agent_token, "POST", f"{conversation}/messages", json={"text": sent[-1]}
            )
            for worker in serving_processes(stack.env["HANDOFF_PORT"]):
                os.kill(worker, signal.SIGKILL)
            sent.append(f"{AGENT_LINE} after death {attempt}")
            agent_api(
                stack, agent_token, "POST", f"{conversation}/messages", json={"text": sent[-1]}
            )
        assert agent_lines_until(customer, sent[-1]) == sent
    finally:
        customer.close()


def test_killing_a_rasa_an_action_server_and_a_handoff_worker_loses_nothing(
    stack: Stack, agent_token: str
):
    token = agent_token
    # The customer's socket is on Rasa 1; the agent's pushes go through Rasa 2.
    customer = WidgetClient(stack.rasa_url)
    conversation = claimed_by_an_agent(stack, token, customer)
    agent_api(stack, token, "POST", f"{conversation}/messages", json={"text": "Agent line 1"})
    last_seen = customer.reply_containing("Agent line 1")

    # One of each kind dies at once: the customer's Rasa, an action server, a handoff worker.
    rasa_port, actions_port = stack.rasa_ports[0], stack.action_server_ports[0]
    kill_group_serving(rasa_port)
    kill_group_serving(actions_port)
    os.kill(serving_processes(stack.env["HANDOFF_PORT"])[0], signal.SIGKILL)
    customer.close()

    # The agent goes on writing while the customer's socket is down.
    for line in ("Agent line 2", "Agent line 3"):
        agent_api(stack, token, "POST", f"{conversation}/messages", json={"text": line})

    # The widget reconnects through nginx (to the surviving Rasa), naming the last message
    # it showed: the two lines it missed come once, in order.
    again = WidgetClient(
        stack.public_url, session_token=customer.session_token, since=last_seen["timestamp"]
    )
    try:
        assert agent_lines_until(again, "Agent line 3") == ["Agent line 2", "Agent line 3"]
        again.say("my cabin is 214")
        wait_for(
            lambda: "my cabin is 214" in customer_texts(stack, token, conversation),
            "the customer's message to reach the agent",
        )
        agent_api(stack, token, "POST", f"{conversation}/messages", json={"text": "Agent line 4"})
        assert agent_lines_until(again, "Agent line 4") == ["Agent line 4"]
        agent_api(stack, token, "POST", f"{conversation}/resolve")
        again.reply_containing("I'm back")
        later = [reply.get("text", "") for reply in again.drain(3)]
    finally:
        again.close()
    assert not any(text.startswith(AGENT_LINE) for text in later), later
    assert customer_texts(stack, token, conversation).count("my cabin is 214") == 1
