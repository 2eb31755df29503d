"""bot/channels.py under Rasa's own runtime: every part of a bot message carries its time."""

from __future__ import annotations

import unittest
from typing import Any

from rasa.shared.core.events import BotUttered

from bot.channels import FixedSocketIOOutput


class RecordingServer:
    """Stand in for the socket.io server: keep what is emitted, and to which room."""

    def __init__(self) -> None:
        self.emitted: list[tuple[str, Any, str]] = []

    async def emit(self, event: str, data: Any, room: str) -> None:
        self.emitted.append((event, data, room))


class StampedOutputTest(unittest.IsolatedAsyncioTestCase):
    async def test_each_part_of_a_message_carries_its_events_timestamp(self) -> None:
        server = RecordingServer()
        output = FixedSocketIOOutput(server, "bot_uttered")  # type: ignore[arg-type]
        event = BotUttered("First paragraph.\n\nSecond paragraph.", timestamp=1700000000.25)

        await output.send_response("room-1", event.message())

        self.assertEqual(
            server.emitted,
            [
                ("bot_uttered", {"text": "First paragraph.", "timestamp": 1700000000.25}, "room-1"),
                (
                    "bot_uttered",
                    {"text": "Second paragraph.", "timestamp": 1700000000.25},
                    "room-1",
                ),
            ],
        )

    async def test_a_message_sent_without_an_event_is_not_stamped(self) -> None:
        server = RecordingServer()
        output = FixedSocketIOOutput(server, "bot_uttered")  # type: ignore[arg-type]

        await output.send_text_message("room-1", "Too long, sorry.")

        self.assertEqual(server.emitted, [("bot_uttered", {"text": "Too long, sorry."}, "room-1")])


if __name__ == "__main__":
    unittest.main()
