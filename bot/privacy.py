"""Card numbers never get past the channel: masked before NLU, the tracker, or any log.

Rasa's tracker stores the text it is given, and everything downstream reads it: the action
server, the context packet, the handoff server's transcript, the customer messages passed to
an agent, the failsafe's packet. So a message's card numbers are masked once, here, as the
first thing that happens to it, and only "**** **** **** 1234" ever exists beyond the channel.
The customer's own chat still shows what they typed: the widget echoes it locally.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

from pii.masking import mask_cards

logger = logging.getLogger(__name__)

Handler = Callable[[UserMessage], Awaitable[Any]]


def masked(on_new_message: Handler) -> Handler:
    """Wrap a channel's message handler so that card numbers are masked before anything else."""

    async def handle(message: UserMessage) -> None:
        if message.text:
            text = mask_cards(message.text)
            if text != message.text:
                logger.info("Masked a card number in a message of %s.", message.sender_id)
                message.text = text
        await on_new_message(message)

    return handle
