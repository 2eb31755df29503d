"""The FAQ knowledge base: load `data/faq/*.yml`, validate it, fingerprint it."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.files import replace_file
from lumen.vocabulary import CHANNELS


class KnowledgeBaseError(ValueError):
    """The knowledge base has problems; `problems` lists every one of them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid FAQ knowledge base:\n" + "\n".join(f"- {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Faq:
    """One question with its paraphrases and approved answer."""

    id: str
    question: str
    paraphrases: tuple[str, ...]
    answer: str
    tags: tuple[str, ...]
    channels: tuple[str, ...]
    escalate: bool = False
    buttons: tuple[dict[str, str], ...] = field(default=())
    links: tuple[dict[str, str], ...] = field(default=())

    def __hash__(self) -> int:
        # Buttons and links are dicts, which cannot be hashed; ids are unique in a KB.
        return hash(self.id)

    @property
    def texts(self) -> tuple[str, ...]:
        """Return the question followed by its paraphrases: everything the index embeds."""
        return (self.question, *self.paraphrases)


def normalize_text(text: str) -> str:
    """Return the form under which two texts count as the same question."""
    return " ".join(text.casefold().split()).rstrip(" ?!.")


def load_knowledge_base(faq_dir: Path) -> list[Faq]:
    """Load and validate every FAQ file in `faq_dir`; raise KnowledgeBaseError listing problems."""
    faq_dir = Path(faq_dir)
    if not faq_dir.is_dir():
        raise KnowledgeBaseError([f"{faq_dir}: no such directory"])
    entries, problems = read_entries(faq_dir)
    problems += find_conflicts(entries)
    if not entries and not problems:
        problems.append(f"{faq_dir}: no FAQs found in *.yml")
    if problems:
        raise KnowledgeBaseError(problems)
    return [faq for faq, _ in entries]


class KnowledgeBaseDirectory:
    """The knowledge base of one directory, loaded once and again only when its files change.

    A request that needs the FAQs costs a `stat` of each file, not a YAML parse.
    """

    def __init__(self, faq_dir: Path) -> None:
        self.faq_dir = Path(faq_dir)
        self._lock = threading.Lock()
        self._loaded: tuple[tuple[tuple[str, int, int], ...], list[Faq]] | None = None

    def faqs(self) -> list[Faq]:
        """Return the FAQs, reloading if a file changed; raise KnowledgeBaseError if broken."""
        stamp = self._stamp()
        with self._lock:
            if self._loaded is None or self._loaded[0] != stamp:
                self._loaded = (stamp, load_knowledge_base(self.faq_dir))
            return self._loaded[1]

    def _stamp(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for path in sorted(self.faq_dir.glob("*.yml")):
            try:
                status = path.stat()
            except FileNotFoundError:
                continue
            found.append((path.name, status.st_mtime_ns, status.st_size))
        return tuple(found)


def read_entries(
    faq_dir: Path, skip: Path | None = None
) -> tuple[list[tuple[Faq, str]], list[str]]:
    """Parse the FAQ files of a directory (but `skip`): (FAQ, file) pairs and the problems."""
    problems: list[str] = []
    entries: list[tuple[Faq, str]] = []
    for path in sorted(Path(faq_dir).glob("*.yml")):
        if skip is not None and path.resolve() == Path(skip).resolve():
            continue
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            problems.append(f"{path}: not valid YAML ({error})")
            continue
        if not isinstance(document, dict) or not isinstance(document.get("faqs"), list):
            problems.append(f"{path}: expected a top-level 'faqs:' list")
            continue
        for position, raw in enumerate(document["faqs"], start=1):
            faq = parse_faq(raw, f"{path}: entry {position}", problems)
            if faq is not None:
                entries.append((faq, str(path)))
    return entries, problems


# What an answer may say in braces, filled in where the customer asks (actions/kiosk.py):
# where a kiosk stands (away from a kiosk, the information desk), the local time there.
ANSWER_PLACEHOLDERS = ("kiosk_place", "now")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def parse_faq(raw: Any, where: str, problems: list[str]) -> Faq | None:
    """Build a Faq from one raw mapping, appending what is wrong with it to `problems`."""
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a mapping with id, question and answer")
        return None
    faq_id = str(raw.get("id") or "").strip()
    label = f"{where} (faq '{faq_id}')" if faq_id else where
    found: list[str] = []
    if not faq_id:
        found.append(f"{where}: missing id")
    question = str(raw.get("question") or "").strip()
    if not question:
        found.append(f"{label}: empty question")
    answer = str(raw.get("answer") or "").strip()
    if not answer:
        found.append(f"{label}: empty answer")
    for name in PLACEHOLDER.findall(answer):
        if name not in ANSWER_PLACEHOLDERS:
            known = ", ".join(f"{{{known}}}" for known in ANSWER_PLACEHOLDERS)
            found.append(f"{label}: unknown placeholder {{{name}}} in the answer (known: {known})")
    paraphrases = _string_list(raw.get("paraphrases"), f"{label}: paraphrases", found)
    tags = _string_list(raw.get("tags"), f"{label}: tags", found)
    channels = _string_list(raw.get("channels", list(CHANNELS)), f"{label}: channels", found)
    for channel in channels:
        if channel not in CHANNELS:
            found.append(f"{label}: unknown channel '{channel}' (known: {', '.join(CHANNELS)})")
    if not channels:
        found.append(f"{label}: channels is empty, so no customer could ever see this FAQ")
    escalate = raw.get("escalate", False)
    if not isinstance(escalate, bool):
        found.append(f"{label}: escalate must be true or false")
    buttons = _mapping_list(raw.get("buttons"), ("title", "payload"), f"{label}: buttons", found)
    links = _mapping_list(raw.get("links"), ("title", "url"), f"{label}: links", found)
    problems += found
    if found:
        return None
    return Faq(
        id=faq_id,
        question=question,
        paraphrases=_unique(question, paraphrases),
        answer=answer,
        tags=tuple(tags),
        channels=tuple(channels),
        escalate=escalate,
        buttons=buttons,
        links=links,
    )


def text_owners(faqs: Iterable[Faq]) -> dict[str, str]:
    """Map every question and paraphrase, normalized, to the id of the FAQ it belongs to."""
    return {normalize_text(text): faq.id for faq in faqs for text in faq.texts}


def find_conflicts(entries: Iterable[tuple[Faq, str]]) -> list[str]:
    """List duplicate ids and texts that belong to two FAQs, naming both places."""
    problems: list[str] = []
    id_sources: dict[str, str] = {}
    text_owners: dict[str, tuple[str, str]] = {}
    for faq, source in entries:
        if faq.id in id_sources:
            problems.append(f"duplicate id '{faq.id}': in {id_sources[faq.id]} and in {source}")
            continue
        id_sources[faq.id] = source
        for text in faq.texts:
            key = normalize_text(text)
            owner = text_owners.setdefault(key, (faq.id, source))
            if owner[0] != faq.id:
                problems.append(
                    f"'{text}' is a question or paraphrase of two FAQs: "
                    f"'{owner[0]}' ({owner[1]}) and '{faq.id}' ({source})"
                )
    return problems


def fingerprint(faqs: Iterable[Faq]) -> str:
    """Return the sha256 of what the index is built from: every FAQ id with its texts."""
    # Answers, tags and channels are read from the data at load time, so editing them
    # does not make the index stale; only the embedded texts and their FAQ ids do.
    indexed = sorted((faq.id, list(faq.texts)) for faq in faqs)
    return hashlib.sha256(json.dumps(indexed, ensure_ascii=False).encode("utf-8")).hexdigest()


def write_faqs(faqs: Iterable[Faq], path: Path) -> None:
    """Write FAQs as a `faqs:` YAML file in the knowledge base format."""
    document = {"faqs": [_faq_to_dict(faq) for faq in faqs]}
    replace_file(
        path, yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100).encode()
    )


def _unique(question: str, paraphrases: Iterable[str]) -> tuple[str, ...]:
    # A paraphrase repeating the question (or another paraphrase) would only add a
    # duplicate vector that crowds the search results.
    seen = {normalize_text(question)}
    kept = []
    for text in paraphrases:
        key = normalize_text(text)
        if key and key not in seen:
            seen.add(key)
            kept.append(text.strip())
    return tuple(kept)


def _string_list(value: Any, where: str, problems: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(f"{where} must be a list of strings")
        return []
    return [item.strip() for item in value if item.strip()]


def _mapping_list(
    value: Any, keys: tuple[str, ...], where: str, problems: list[str]
) -> tuple[dict[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(item, Mapping) and all(item.get(key) for key in keys) for item in value
    ):
        problems.append(f"{where} must be a list of mappings with {' and '.join(keys)}")
        return ()
    return tuple({key: str(item[key]) for key in keys} for item in value)


def _faq_to_dict(faq: Faq) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": faq.id,
        "question": faq.question,
        "paraphrases": list(faq.paraphrases),
        "answer": faq.answer,
        "tags": list(faq.tags),
        "channels": list(faq.channels),
    }
    if faq.escalate:
        data["escalate"] = True
    if faq.buttons:
        data["buttons"] = [dict(button) for button in faq.buttons]
    if faq.links:
        data["links"] = [dict(link) for link in faq.links]
    return data
