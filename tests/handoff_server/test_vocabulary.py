"""The pages read the shared words (reason labels, text limit) from the server, not a copy."""

from __future__ import annotations

import json
import re

from lumen.vocabulary import MAX_TEXT_CHARS, HandoffReason


def exported(module: str, name: str) -> object:
    """Return the JSON value a `export const NAME = ...;` line of an ES module holds."""
    match = re.search(rf"^export const {name} = (?:Object\.freeze\()?(.*?)\)?;$", module, re.M)
    assert match, f"{name} is not exported"
    return json.loads(match.group(1))


def test_the_pages_module_holds_every_reason_label_and_the_text_limit(client):
    response = client.get("/vocabulary.js")

    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    # The widget's chat module imports it from websites on other origins.
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    module = response.get_data(as_text=True)
    assert exported(module, "MAX_TEXT_CHARS") == MAX_TEXT_CHARS
    labels = exported(module, "HANDOFF_REASON_LABELS")
    assert labels == {reason.value: reason.label for reason in HandoffReason}
    assert labels["repeated_misses"] == "Bot could not help"


def test_the_console_bounds_replies_and_notes_to_the_same_limit(client):
    page = client.get("/console").get_data(as_text=True)

    # The reply, a note, a transfer's note and a canned response's text.
    assert page.count(f'maxlength="{MAX_TEXT_CHARS}"') == 4
