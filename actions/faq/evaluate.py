"""Evaluate the decision on labelled queries against a knowledge base given as CSV."""

from __future__ import annotations

import csv
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from actions.faq.encoder import OnnxEncoder, export_encoder
from actions.faq.engine import FaqEngine
from actions.faq.index import build_index
from knowledge_base.faqs import (
    Faq,
    KnowledgeBaseError,
    find_conflicts,
    parse_faq,
    write_faqs,
)


def read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Read a CSV file that must have the given columns."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in columns if column not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        return [{column: (row[column] or "").strip() for column in columns} for row in reader]


def knowledge_base_from_csv(path: Path) -> list[Faq]:
    """Group `faq_id,question` rows into FAQs: the first text is the question."""
    texts: dict[str, list[str]] = defaultdict(list)
    for row in read_csv(path, ("faq_id", "question")):
        texts[row["faq_id"]].append(row["question"])
    problems: list[str] = []
    entries = []
    for faq_id, questions in texts.items():
        # Evaluation scores FAQ ids, never answers; the placeholder keeps the data valid.
        raw = {"id": faq_id, "question": questions[0], "paraphrases": questions[1:]}
        faq = parse_faq({**raw, "answer": f"(answer of {faq_id})"}, f"{path}: {faq_id}", problems)
        if faq is not None:
            entries.append((faq, str(path)))
    problems += find_conflicts(entries)
    if problems:
        raise KnowledgeBaseError(problems)
    return [faq for faq, _ in entries]


def evaluate(kb_csv: Path, queries_csv: Path, quantized: bool = True) -> dict[str, Any]:
    """Build a temporary index from kb_csv and score every query, one at a time, as the bot."""
    faqs = knowledge_base_from_csv(kb_csv)
    queries = read_csv(queries_csv, ("text", "faq_id"))
    known = {faq.id for faq in faqs}
    unknown = sorted({query["faq_id"] for query in queries} - known - {""})
    if unknown:
        raise ValueError(f"{queries_csv}: faq_id(s) not in {kb_csv}: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="faq-eval-") as workdir:
        faq_dir, index_dir = Path(workdir, "faq"), Path(workdir, "index")
        write_faqs(faqs, faq_dir / "kb.yml")
        started = time.perf_counter()
        export_encoder(index_dir, quantize=quantized)
        encoder = OnnxEncoder(index_dir, quantized)
        index = build_index(faqs, encoder, show_progress=True)
        build_seconds = time.perf_counter() - started
        index.save(index_dir)
        engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir, encoder=encoder)
        engine.load()
        kinds, shown, milliseconds = [], [], []
        for query in queries:
            started = time.perf_counter()
            decision = engine.decide(query["text"])
            milliseconds.append((time.perf_counter() - started) * 1000)
            kinds.append(decision.kind)
            shown.append([hit.faq.id for hit in decision.hits[:3]])
    firsts = [ids[0] if ids else "" for ids in shown]
    # Labels are read from here on only.
    labels = [query["faq_id"] for query in queries]
    in_scope = [i for i, label in enumerate(labels) if label]
    out_of_scope = [i for i, label in enumerate(labels) if not label]
    answers = [i for i, kind in enumerate(kinds) if kind == "answer"]
    return {
        "in_scope_accuracy": _share(
            [kinds[i] != "none" and firsts[i] == labels[i] for i in in_scope]
        ),
        # What the customer is spared a click for: the right answer given at once.
        "direct_accuracy": _share(
            [kinds[i] == "answer" and firsts[i] == labels[i] for i in in_scope]
        ),
        "answer_precision": _share([firsts[i] == labels[i] for i in answers]),
        # Ranking quality alone, whatever was decided: what the thresholds have to work with.
        "top1_accuracy": _share([firsts[i] == labels[i] for i in in_scope]),
        "top3_accuracy": _share([labels[i] in shown[i] for i in in_scope]),
        "oos_recall": _share([kinds[i] == "none" for i in out_of_scope]),
        "n_in_scope": len(in_scope),
        "n_oos": len(out_of_scope),
        "decisions": {kind: Counter(kinds)[kind] for kind in ("answer", "suggest", "none")},
        "p50_ms": round(float(np.percentile(milliseconds, 50)), 2) if milliseconds else None,
        "p95_ms": round(float(np.percentile(milliseconds, 95)), 2) if milliseconds else None,
        "build_s": round(build_seconds, 1),
        "model": encoder.name,
        "thresholds": vars(index.thresholds),
    }


def _share(outcomes: list[bool]) -> float | None:
    return round(sum(outcomes) / len(outcomes), 4) if outcomes else None
