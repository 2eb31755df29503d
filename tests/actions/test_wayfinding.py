"""What's on and directions, from the kiosk's place at an injected time."""

from __future__ import annotations

from datetime import datetime

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandoff
from actions.wayfinding import ActionDirections, ActionWhatsOn
from scripts.stack import REPO_ROOT
from tests.actions.conftest import (
    EMERGENCY,
    REFUND,
    FakeEngine,
    FakeHandoffClient,
    decision,
    make_tracker,
    not_a_question,
    user_event,
)
from venue.data import Venue, load_venue

AT_LOUNGE_KIOSK = {"channel": "kiosk", "kiosk_id": "lounge-3", "kiosk_place": "lounge"}
AT_RECEPTION_KIOSK = {"channel": "kiosk", "kiosk_id": "reception-2", "kiosk_place": "reception"}
ON_THE_WEBSITE = {"channel": "web", "page_url": "https://example.com/"}


@pytest.fixture(scope="module")
def ship() -> Venue:
    return load_venue(REPO_ROOT / "data" / "venue")


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["text"] for message in dispatcher.messages]


def ask(action, dispatcher, text: str, intent: str, metadata: dict) -> list[str]:
    action.run(dispatcher, make_tracker([user_event(text, intent, metadata=metadata)]), {})
    return texts(dispatcher)


def whats_on(ship: Venue, when: str) -> ActionWhatsOn:
    now = datetime.fromisoformat(when).replace(tzinfo=ship.timezone)
    return ActionWhatsOn(FakeHandoffClient(), not_a_question(), venue=ship, clock=lambda: now)


def directions(ship: Venue, engine: FakeEngine | None = None) -> ActionDirections:
    return ActionDirections(FakeHandoffClient(), engine or not_a_question(), venue=ship)


def test_whats_on_now_at_a_kiosk_gives_the_event_and_the_way_there(ship, dispatcher):
    said = ask(
        whats_on(ship, "2026-12-01T21:45"),
        dispatcher,
        "what's on now?",
        "ask_whats_on",
        AT_RECEPTION_KIOSK,
    )
    assert said[0].startswith("On now: Live music with the Lumen Trio, until 23:30, in the Lounge.")
    assert (
        "1. Go to the midship lift beside Reception.\n2. Take the midship lift up to deck 3."
        in said[0]
    )
    assert said[1].startswith("Next: Late-night piano, 23:30 to 00:30, in the Lounge.")


@pytest.mark.parametrize(
    ("action", "text", "intent"),
    [
        ("whats_on", "what is the capital of Peru", "ask_whats_on"),
        ("directions", "how tall is the eiffel tower", "ask_directions"),
    ],
)
def test_a_question_about_anything_else_gets_an_honest_i_dont_know(
    ship, dispatcher, action, text, intent
):
    # The classifier was sure of both (0.94, 0.95); neither names the programme, a place or a way.
    venue_action = whats_on(ship, "2026-12-01T21:45") if action == "whats_on" else directions(ship)
    ask(venue_action, dispatcher, text, intent, AT_RECEPTION_KIOSK)
    assert [message.get("response") for message in dispatcher.messages] == ["utter_dont_know"]


def test_on_the_website_the_same_programme_without_directions(ship, dispatcher):
    said = ask(
        whats_on(ship, "2026-12-01T21:45"),
        dispatcher,
        "what's on now?",
        "ask_whats_on",
        ON_THE_WEBSITE,
    )
    assert said == [
        "On now: Live music with the Lumen Trio, until 23:30, in the Lounge. "
        "The Lounge is on deck 3, forward.",
        "Next: Late-night piano, 23:30 to 00:30, in the Lounge. The Lounge is on deck 3, forward.",
    ]


def test_nothing_on_in_the_lounge_says_so_and_what_is_next(ship, dispatcher):
    said = ask(
        whats_on(ship, "2026-12-01T14:30"),
        dispatcher,
        "what's next in the lounge?",
        "ask_whats_on",
        AT_LOUNGE_KIOSK,
    )
    assert said[0] == "Nothing is on in the Lounge right now (14:30)."
    assert said[1].startswith("Next: Afternoon tea, 16:00 to 17:00, in the Lounge.")
    assert "You're there: it's right here." in said[1]


def test_the_route_back_to_a_cabin_from_the_lounge_kiosk(ship, dispatcher):
    said = ask(
        directions(ship),
        dispatcher,
        "how do I get back to cabin 214?",
        "ask_directions",
        AT_LOUNGE_KIOSK,
    )
    assert said == [
        "The deck 2 cabin corridor is on deck 2, midship.\nFrom here:\n"
        "1. Walk aft from the Lounge to the midship lift.\n"
        "2. Take the midship lift down to deck 2.\n"
        "3. Step into the cabin corridor beside the lift.\n"
        "Cabin 214 is along this corridor: odd numbers are on the left and even numbers on "
        "the right, facing forward."
    ]


def test_a_place_by_its_alias(ship, dispatcher):
    said = ask(
        directions(ship), dispatcher, "where's the doctor?", "ask_directions", AT_RECEPTION_KIOSK
    )
    assert said[0].startswith(
        "The Medical Centre is on deck 1, aft.\nFrom here:\n1. Go to the midship lift"
    )
    assert said[0].endswith("The Medical Centre is the door beside the aft staircase.")


def test_an_unknown_cabin_is_said_so_with_the_way_to_reception(ship, dispatcher):
    said = ask(
        directions(ship), dispatcher, "how do I get to cabin 999", "ask_directions", AT_LOUNGE_KIOSK
    )
    assert said[0].startswith(
        "I don't know a cabin 999 on this ship. The crew at Reception can help."
    )
    assert (
        "2. Take the midship lift down to deck 2.\n3. Reception is right beside the lift."
        in said[0]
    )


def test_an_unknown_place_that_no_faq_answers_gets_reception(ship, dispatcher):
    said = ask(
        directions(ship), dispatcher, "where is the casino", "ask_directions", ON_THE_WEBSITE
    )
    assert said == [
        "I don't know that place, sorry. The crew at Reception can help. "
        "Reception is on deck 2, midship."
    ]


def test_an_emergency_gets_the_faq_before_any_route(ship, dispatcher):
    engine = FakeEngine(decision("answer", EMERGENCY))
    said = ask(
        directions(ship, engine),
        dispatcher,
        "where's the doctor, someone collapsed",
        "ask_directions",
        AT_LOUNGE_KIOSK,
    )
    assert said[0] == EMERGENCY.answer


def test_talk_to_a_person_at_a_kiosk_sends_the_kiosks_place(dispatcher):
    client = FakeHandoffClient()
    tracker = make_tracker(
        [user_event("/request_human", "request_human", metadata=AT_LOUNGE_KIOSK)]
    )
    ActionHandoff(engine=not_a_question(), client=client).run(dispatcher, tracker, {})
    (packet,) = client.packets
    assert (packet["kiosk_id"], packet["kiosk_location"]) == (
        "lounge-3",
        "Lounge (deck 3, forward)",
    )
    assert "number 2 in the queue" in texts(dispatcher)[0]


def test_nobody_on_duty_sends_the_kiosk_guest_to_the_nearest_desk_not_for_an_email(dispatcher):
    client = FakeHandoffClient(agents_online=0)
    tracker = make_tracker(
        [user_event("/request_human", "request_human", metadata=AT_LOUNGE_KIOSK)]
    )
    events = ActionHandoff(engine=not_a_question(), client=client).run(dispatcher, tracker, {})
    (said,) = texts(dispatcher)
    assert said.startswith(
        "Nobody from our team can answer on this screen right now, but you can talk to someone "
        "in person. The crew at Reception can help. Reception is on deck 2, midship.\nFrom here:"
    )
    assert "email" not in said
    assert client.abandoned == [7]
    assert SlotSet("handoff_active", False) in events
    assert SlotSet("taking_message", False) in events


def test_a_question_the_faq_answers_outright_on_another_topic_gets_its_answer(ship, dispatcher):
    # The classifier may hear a question as "what's on"; the FAQ knows better.
    engine = FakeEngine(decision("answer", REFUND))
    said = ask(
        ActionWhatsOn(FakeHandoffClient(), engine, venue=ship),
        dispatcher,
        "when do i get my money back",
        "ask_whats_on",
        ON_THE_WEBSITE,
    )
    assert said == [REFUND.answer]
