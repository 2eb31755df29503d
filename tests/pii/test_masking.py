"""Masking card numbers in every message, and contacts in reports, on realistic text."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pii.masking import mask_cards, mask_for_report

REPO_ROOT = Path(__file__).resolve().parents[2]
# The project's own examples, as NLU data annotates them: "[+44 7700 900123](phone)".
ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)")
CONTACT_ENTITIES = {"email", "phone"}


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        (
            "my card 4111 1111 1111 1111 was charged twice",
            "my card **** **** **** 1111 was charged",
        ),
        ("it's 5500-0000-0000-0004, expiry 12/27", "it's **** **** **** 0004, expiry 12/27"),
        ("4012888888881881", "**** **** **** 1881"),
        ("amex 3782 822463 10005 please refund", "amex **** **** **** 0005 please refund"),
        ("Visa ending... no wait, full number 4000056655665556", "full number **** **** **** 5556"),
    ],
)
def test_a_card_number_is_masked_to_its_last_four_digits(typed: str, seen: str):
    masked = mask_cards(typed)
    assert seen in masked
    card = max(re.findall(r"\d[\d -]{11,}\d", typed), key=len)
    assert re.sub(r"\D", "", card) not in re.sub(r"\D", "", masked)


@pytest.mark.parametrize(
    "text",
    [
        "my booking reference is LR123456",
        "booking LR123456 and LR654321, cabin 8042",
        "call me on +44 7700 900123 or +1 (555) 013-4567",
        "we sail on 2026-05-12 and come back on 12/05/2026",
        "I paid $1,249.99 on 12 May 2026 at 14:30",
        "order 1234 5678 9012 3456 never arrived",  # 16 digits, but no card (Luhn fails)
        "ticket numbers 4111 1111 and 1111 1111",
        "is there wifi on board?",
    ],
)
def test_references_phones_dates_and_amounts_are_not_mistaken_for_cards(text: str):
    assert mask_cards(text) == text


def test_a_report_keeps_no_way_to_reach_or_pay_as_the_customer():
    text = (
        "refund to 4111 1111 1111 1111 please, mail maria.lopez@example.com or call "
        "+44 7700 900123 / 555-0199 about booking LR123456 from 2018"
    )
    assert mask_for_report(text) == (
        "refund to **** **** **** 1111 please, mail [email address] or call "
        "[phone number] / [phone number] about booking LR123456 from 2018"
    )


def nlu_examples() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """Yield every example of data/nlu and the held-out set as plain text, with its entities."""
    for path in [
        *sorted((REPO_ROOT / "data" / "nlu").glob("*.yml")),
        REPO_ROOT / "tests/nlu/heldout.yml",
    ]:
        for block in yaml.safe_load(path.read_text()).get("nlu") or []:
            for line in (block.get("examples") or "").splitlines():
                example = line.strip().removeprefix("- ")
                if example:
                    yield ANNOTATION.sub(r"\1", example), ANNOTATION.findall(example)


def test_no_example_of_the_projects_nlu_data_is_mistaken_for_a_card():
    altered = [text for text, _ in nlu_examples() if mask_cards(text) != text]
    assert altered == []


def test_reports_mask_every_annotated_email_and_phone_and_nothing_else():
    examples = list(nlu_examples())
    assert len(examples) > 800
    missed, mistaken = [], []
    for text, entities in examples:
        masked = mask_for_report(text)
        contacts = [value for value, entity in entities if entity in CONTACT_ENTITIES]
        missed += [value for value in contacts if value in masked]
        if not contacts and masked != text:
            mistaken.append(masked)
    assert missed == [] and mistaken == []


def test_masking_never_reaches_the_network(tmp_path: Path):
    """A fresh process with empty caches masks everything with every socket refused."""
    script = textwrap.dedent(
        """
        import sys

        def refuse_network(event, args):
            if event in ("socket.connect", "socket.getaddrinfo"):
                raise RuntimeError(f"reached for the network: {event} {args}")

        sys.addaudithook(refuse_network)
        from pii.masking import mask_cards, mask_for_report

        print(mask_cards("card 4111 1111 1111 1111"))
        print(mask_for_report("mail jo@example.co.uk or call +44 7700 900123"))
        """
    )
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        "card **** **** **** 1111",
        "mail [email address] or call [phone number]",
    ]
