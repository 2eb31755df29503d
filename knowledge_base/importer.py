"""Import question/answer pairs from CSV or JSON into a knowledge base YAML file."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from knowledge_base.faqs import (
    Faq,
    KnowledgeBaseError,
    find_conflicts,
    parse_faq,
    read_entries,
    write_faqs,
)

REQUIRED_COLUMNS = ("question", "answer")
LIST_SEPARATORS = re.compile(r"[;,|\s]+")


def import_faqs(source: Path, out: Path) -> list[Faq]:
    """Validate `source` with the knowledge base beside `out`, then write it to `out`."""
    records = read_records(source)
    existing, problems = read_entries(out.parent, skip=out) if out.parent.is_dir() else ([], [])
    faqs = _group(records, source, {faq.id for faq, _ in existing}, problems)
    problems += find_conflicts([*existing, *faqs])
    if problems:
        raise KnowledgeBaseError(problems)
    write_faqs([faq for faq, _ in faqs], out)
    return [faq for faq, _ in faqs]


def read_records(source: Path) -> list[tuple[str, dict[str, Any]]]:
    """Return (where, record) pairs from a CSV file or a JSON list of objects."""
    if source.suffix.lower() == ".json":
        try:
            document = json.loads(source.read_text(encoding="utf-8"))
        except ValueError as error:
            raise KnowledgeBaseError([f"{source}: not valid JSON ({error})"]) from error
        if isinstance(document, dict):
            document = document.get("faqs")
        if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
            raise KnowledgeBaseError([f"{source}: expected a list of objects (or 'faqs': [...])"])
        records = [(f"{source} item {n}", record) for n, record in enumerate(document, 1)]
        columns = set().union(*(record.keys() for _, record in records)) if records else set()
    else:
        with source.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            records = [(f"{source} line {reader.line_num}", dict(row)) for row in reader]
            columns = set(reader.fieldnames or ())
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        found = ", ".join(sorted(columns)) or "none"
        raise KnowledgeBaseError(
            [f"{source}: missing column(s) {', '.join(missing)} (found: {found})"]
        )
    return records


def _group(
    records: list[tuple[str, dict[str, Any]]],
    source: Path,
    existing_ids: set[str],
    problems: list[str],
) -> list[tuple[Faq, str]]:
    """Group records by faq_id (one FAQ per record without one) and parse them as FAQs."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    # Generated ids avoid every id already in use, so only ids someone chose can clash.
    taken = existing_ids | {_text(record.get("faq_id")) for _, record in records}
    for where, record in records:
        faq_id = _text(record.get("faq_id"))
        if not _text(record.get("question")):
            problems.append(f"{where}: empty question")
            continue
        if not faq_id:
            faq_id = _unique_slug(_text(record["question"]), taken)
        taken.add(faq_id)
        groups.setdefault(faq_id, []).append((where, record))
    faqs: list[tuple[Faq, str]] = []
    for faq_id, members in groups.items():
        where, first = members[0]
        answers = {_text(record.get("answer")) for _, record in members} - {""}
        if len(answers) > 1:
            places = " and ".join(place for place, _ in members)
            problems.append(f"{where} (faq '{faq_id}'): different answers in {places}")
            continue
        raw = {
            "id": faq_id,
            "question": _text(first["question"]),
            "paraphrases": [_text(record["question"]) for _, record in members[1:]],
            "answer": next(iter(answers), ""),
            "tags": _list(first.get("tags")),
            "escalate": _text(first.get("escalate")).lower() in ("true", "yes", "1"),
        }
        if _text(first.get("channels")):
            raw["channels"] = _list(first["channels"])
        faq = parse_faq(raw, where, problems)
        if faq is not None:
            faqs.append((faq, where))
    if not records:
        problems.append(f"{source}: no rows to import")
    return faqs


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_text(item) for item in value if _text(item)]
    return [item for item in LIST_SEPARATORS.split(_text(value)) if item]


def _unique_slug(question: str, taken: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", question.casefold()).strip("_")[:48] or "faq"
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}_{number}", number + 1
    return candidate
