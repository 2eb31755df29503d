"""Read and check the business's configuration: names, greetings, colours, logo, kiosks,
and how long a customer may wait before the console highlights them.

One YAML file per business (config/assistant.yml is the demo cruise line; ASSISTANT_CONFIG
names another). The pages take every word and colour of the business from it, so adopting
the assistant is writing a file, not editing JavaScript. Mistakes stop the server at start
with the file and the key named, never at a customer's first page view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_NAME_CHARS = 80
MAX_TEXT_CHARS = 1000
MAX_QUICK_QUESTIONS = 9
# How long a customer may wait in the queue before the console highlights them.
DEFAULT_WAIT_LIMIT_S = 180
MAX_WAIT_LIMIT_S = 86400


class AssistantConfigError(ValueError):
    """The configuration file is missing, unreadable or wrong at a named key."""


@dataclass(frozen=True)
class QuickQuestion:
    label: str
    question: str


@dataclass(frozen=True)
class Kiosk:
    id: str
    location: str
    place: str


@dataclass(frozen=True)
class Highlight:
    title: str
    text: str


@dataclass(frozen=True)
class Website:
    """The demonstration website at `/`, standing in for the business's own site."""

    title: str
    headline: str
    lead: str
    highlights: tuple[Highlight, ...]
    contact: str


@dataclass(frozen=True)
class AssistantConfig:
    """One business's assistant, as every page shows it."""

    business_name: str
    business_short_name: str
    business_team: str
    assistant_name: str
    kiosk_title: str
    greetings: dict[str, str]
    colours: dict[str, str]
    logo: Path
    quick_questions: tuple[QuickQuestion, ...]
    kiosks: dict[str, Kiosk]
    website: Website
    wait_limit_s: int = DEFAULT_WAIT_LIMIT_S

    def public(self) -> dict[str, Any]:
        """Return what the widget reads from /assistant.json (its logo is /logo.svg)."""
        return {
            "business_name": self.business_name,
            "assistant_name": self.assistant_name,
            "greeting": self.greetings["website"],
            "colours": self.colours,
        }

    def stylesheet(self) -> str:
        """Return the colours as CSS custom properties, for pages and the widget's shadow root."""
        names = {"primary": "--brand", "primary_dark": "--brand-dark", "accent": "--brand-accent"}
        lines = "".join(f"  {names[key]}: {value};\n" for key, value in self.colours.items())
        return f":root,\n:host {{\n{lines}}}\n"


class _Reader:
    """Walk the YAML document, naming the file and key in every error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> AssistantConfigError:
        return AssistantConfigError(f"{self.path}: {key}: {problem}")

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "expected a mapping of keys to values")
        return value

    def items(self, value: Any, key: str, most: int) -> list[Any]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, "expected a list with at least one entry")
        if len(value) > most:
            raise self.fail(key, f"at most {most} entries, got {len(value)}")
        return value

    def text(self, parent: dict[str, Any], name: str, key: str, most: int = MAX_NAME_CHARS) -> str:
        value = parent.get(name)
        where = f"{key}.{name}" if key else name
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "missing, or not a text")
        value = " ".join(value.split())
        if len(value) > most:
            raise self.fail(where, f"at most {most} characters, got {len(value)}")
        return value

    def pair(self, entry: Any, key: str, short: str, long: str) -> tuple[str, str]:
        """Read a short text (a label, a title) and a longer one from one list entry."""
        entry = self.mapping(entry, key)
        return self.text(entry, short, key), self.text(entry, long, key, MAX_TEXT_CHARS)


def load_assistant_config(path: Path) -> AssistantConfig:
    """Read the business's configuration file, or raise AssistantConfigError naming the key."""
    read = _Reader(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AssistantConfigError(f"{path}: cannot read it ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise AssistantConfigError(f"{path}: not valid YAML ({error})") from error
    root = read.mapping(document, "(top level)")
    business = read.mapping(root.get("business"), "business")
    assistant = read.mapping(root.get("assistant"), "assistant")
    greetings = read.mapping(root.get("greetings"), "greetings")
    colours = read.mapping(root.get("colours"), "colours")
    for name in ("primary", "primary_dark", "accent"):
        if not isinstance(colours.get(name), str) or not _COLOUR.match(colours[name]):
            raise read.fail(f"colours.{name}", 'expected a colour like "#0b3d5c" (quoted)')
    logo = path.parent / read.text(root, "logo", "")
    if logo.suffix != ".svg" or not logo.is_file():
        raise read.fail("logo", f"expected an SVG file next to the configuration, not {logo}")
    kiosk = read.mapping(root.get("kiosk"), "kiosk")
    questions = read.items(
        kiosk.get("quick_questions"), "kiosk.quick_questions", MAX_QUICK_QUESTIONS
    )
    kiosks: dict[str, Kiosk] = {}
    for index, entry in enumerate(read.items(root.get("kiosks"), "kiosks", 1000)):
        key = f"kiosks[{index}]"
        entry = read.mapping(entry, key)
        kiosk_id = read.text(entry, "id", key)
        if not _ID.match(kiosk_id) or kiosk_id in kiosks:
            raise read.fail(f"{key}.id", f"{kiosk_id!r} is not a unique id of A-Z, 0-9, . _ -")
        kiosks[kiosk_id] = Kiosk(
            kiosk_id, read.text(entry, "location", key), read.text(entry, "place", key)
        )
    website = read.mapping(root.get("website"), "website")
    console = read.mapping(root.get("console", {}), "console")
    wait_limit_s = console.get("wait_limit_s", DEFAULT_WAIT_LIMIT_S)
    if type(wait_limit_s) is not int or not 1 <= wait_limit_s <= MAX_WAIT_LIMIT_S:
        raise read.fail("console.wait_limit_s", f"expected whole seconds, 1 to {MAX_WAIT_LIMIT_S}")
    return AssistantConfig(
        business_name=read.text(business, "name", "business"),
        business_short_name=read.text(business, "short_name", "business"),
        business_team=read.text(business, "team", "business"),
        assistant_name=read.text(assistant, "name", "assistant"),
        kiosk_title=read.text(assistant, "kiosk_title", "assistant"),
        greetings={
            channel: read.text(greetings, channel, "greetings", MAX_TEXT_CHARS)
            for channel in ("website", "kiosk")
        },
        colours={name: colours[name].lower() for name in ("primary", "primary_dark", "accent")},
        logo=logo,
        quick_questions=tuple(
            QuickQuestion(*read.pair(entry, f"kiosk.quick_questions[{index}]", "label", "question"))
            for index, entry in enumerate(questions)
        ),
        kiosks=kiosks,
        website=Website(
            title=read.text(website, "title", "website", MAX_TEXT_CHARS),
            headline=read.text(website, "headline", "website", MAX_TEXT_CHARS),
            lead=read.text(website, "lead", "website", MAX_TEXT_CHARS),
            highlights=tuple(
                Highlight(*read.pair(entry, f"website.highlights[{index}]", "title", "text"))
                for index, entry in enumerate(
                    read.items(website.get("highlights"), "website.highlights", 12)
                )
            ),
            contact=read.text(website, "contact", "website", MAX_TEXT_CHARS),
        ),
        wait_limit_s=wait_limit_s,
    )
