"""The business's configuration: checked at start naming file and key, served to the pages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from handoff_server.__main__ import main
from handoff_server.assistant_config import (
    DEFAULT_WAIT_LIMIT_S,
    AssistantConfigError,
    load_assistant_config,
)
from tests.handoff_server.conftest import build_app

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO = REPO_ROOT / "config" / "assistant.yml"
HOTEL = REPO_ROOT / "tests" / "data" / "hotel" / "assistant.yml"


def broken_copy(tmp_path: Path, change) -> Path:
    """Copy the hotel's configuration and its logo, with `change` applied to the document."""
    shutil.copy(HOTEL.parent / "logo.svg", tmp_path / "logo.svg")
    document = yaml.safe_load(HOTEL.read_text())
    change(document)
    path = tmp_path / "assistant.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_the_demo_and_the_hotel_configurations_are_valid():
    assert load_assistant_config(DEMO).business_name == "Lumen River Cruises"
    hotel = load_assistant_config(HOTEL)
    assert hotel.business_name == "Harbour View Hotel"
    assert hotel.quick_questions[0].label == "Breakfast times"
    # The wait limit the console highlights from: the demo's own, the hotel's by default.
    assert load_assistant_config(DEMO).wait_limit_s == 180
    assert hotel.wait_limit_s == DEFAULT_WAIT_LIMIT_S


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda doc: doc["colours"].update(primary="blue"), "colours.primary"),
        (lambda doc: doc["business"].pop("name"), "business.name"),
        (lambda doc: doc["greetings"].update(kiosk=""), "greetings.kiosk"),
        (
            lambda doc: doc["kiosk"]["quick_questions"][1].pop("question"),
            "kiosk.quick_questions[1]",
        ),
        (lambda doc: doc["kiosks"].append(dict(doc["kiosks"][0])), "kiosks[1].id"),
        (lambda doc: doc.update(logo="missing.svg"), "logo"),
        (lambda doc: doc.update(kiosks=[]), "kiosks"),
        (lambda doc: doc.update(console={"wait_limit_s": "3 min"}), "console.wait_limit_s"),
        (lambda doc: doc.update(console={"wait_limit_s": 0}), "console.wait_limit_s"),
    ],
)
def test_a_mistake_is_refused_naming_the_file_and_the_key(tmp_path, change, key):
    path = broken_copy(tmp_path, change)

    with pytest.raises(AssistantConfigError, match=rf"^{re.escape(str(path))}: {re.escape(key)}"):
        load_assistant_config(path)


def test_the_server_does_not_start_on_a_broken_configuration(tmp_path, database_url, rasa):
    path = broken_copy(tmp_path, lambda doc: doc["colours"].update(accent="#12345"))

    with pytest.raises(AssistantConfigError, match=r"colours\.accent"):
        build_app(database_url, rasa, ASSISTANT_CONFIG=str(path))


def test_setup_checks_the_configuration(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_CONFIG", str(broken_copy(tmp_path, lambda doc: doc.pop("kiosk"))))
    assert main(["check-config"]) == 1
    assert "assistant.yml: kiosk: expected a mapping" in capsys.readouterr().err

    monkeypatch.setenv("ASSISTANT_CONFIG", str(HOTEL))
    assert main(["check-config"]) == 0


def test_every_page_shows_the_configured_business(database_url, rasa):
    client = build_app(database_url, rasa, ASSISTANT_CONFIG=str(HOTEL)).test_client()

    widget = client.get("/assistant.json")
    body = widget.json or {}
    assert body["business_name"] == "Harbour View Hotel"
    assert body["greeting"].startswith("Welcome to the Harbour View Hotel")
    assert widget.headers["Access-Control-Allow-Origin"] == "*"
    assert "--brand: #5b1a32;" in client.get("/brand.css").text
    assert client.get("/logo.svg").data == (HOTEL.parent / "logo.svg").read_bytes()

    kiosk = client.get("/kiosk?kiosk_id=lobby").text
    assert "<title>Ask the concierge · Main lobby</title>" in kiosk
    assert 'data-question="When is breakfast served?">Breakfast times</button>' in kiosk
    assert "Harbour View Hotel front desk" in client.get("/console").text
    assert "Wake up to the harbour" in client.get("/").text
    for page in ("/", "/kiosk", "/console", "/assistant.json"):
        assert "Lumen River" not in client.get(page).text


def test_an_unknown_kiosk_shows_no_location(client):
    page = client.get("/kiosk?kiosk_id=nowhere").text

    assert 'data-kiosk-id="kiosk"' in page
    assert 'data-kiosk-location=""' in page
    assert 'data-kiosk-place=""' in page


def test_the_kiosk_page_without_an_id_is_the_first_configured_kiosk(client):
    page = client.get("/kiosk").text

    assert 'data-kiosk-id="reception-2"' in page
    assert 'data-kiosk-place="reception"' in page


def test_a_configured_kiosk_shows_its_location_and_knows_its_place(client):
    page = client.get("/kiosk?kiosk_id=lounge-3").text

    assert 'data-kiosk-location="Lounge, deck 3"' in page
    assert 'data-kiosk-place="lounge"' in page


def test_nothing_of_the_demo_business_is_written_into_the_pages():
    demo = load_assistant_config(DEMO)
    words = [
        demo.business_name,
        demo.business_short_name,
        demo.kiosk_title,
        demo.greetings["website"][:40],
        demo.greetings["kiosk"][:40],
        *(quick.question for quick in demo.quick_questions),
        *demo.colours.values(),
    ]
    pages = REPO_ROOT / "handoff_server"
    files = [*pages.glob("static/*.*"), *pages.glob("templates/*.html")]
    found = [
        (file.name, word)
        for file in files
        for word in words
        if word.lower() in file.read_text(encoding="utf-8").lower()
    ]
    assert found == []
