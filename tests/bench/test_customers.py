"""How the load tool's socket customers count what they write to a person, without a server."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from bench.accounting import Observations
from bench.actors import Stage
from bench.customers import BOT_BACK, HANDED_OFF, SocketCustomer
from bench.plan import Plan

BUSY_REFUSAL = {"error": "busy", "message": "Please send it again.", "retry_after_s": 0}


class RefusingSocket:
    """A widget socket whose Rasa refuses the first message as busy; while the customer
    waits to send it again, the bot says it is back."""

    session_id = "conversation-1"

    def __init__(self, customer: SocketCustomer) -> None:
        self.customer = customer
        self.sent: list[str] = []

    async def say(self, text: str, ack_timeout_s: float) -> dict[str, Any] | None:
        self.sent.append(text)
        if len(self.sent) == 1:
            self.customer.on_reply({"text": f"{BOT_BACK}. Is there anything else?"})
            return BUSY_REFUSAL
        return None


def test_a_refused_message_to_a_person_is_not_sent_again_once_the_bot_is_back() -> None:
    seen = Observations()
    stage = Stage(Plan(duration_s=60.0), seen, clock=lambda: 1.0)
    customer = SocketCustomer(0, stage, random.Random(1), [], wants_person=True)
    customer.socket = socket = RefusingSocket(customer)  # type: ignore[assignment]
    customer.on_reply({"text": f"{HANDED_OFF} from our team."})

    asyncio.run(customer.write_to_person())

    # Rasa never took it, and sent again now it would go to the bot: no message to the person.
    assert len(socket.sent) == 1
    assert seen.customer_sent.sent_at == {}
    assert not customer.held.is_set()
