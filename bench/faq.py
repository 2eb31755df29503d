"""FAQ engine on BANKING77: accuracy, out-of-scope recall, latency, build time and memory.

The knowledge base is BANKING77's training set (77 FAQs, 10,003 paraphrases), the queries its
test set. For out-of-scope questions every eighth category (sorted) is left out of the KB and
its test texts are labelled out of scope. A third KB has one question per FAQ, as a business
gets by importing its FAQ page: each category's training text nearest its category's mean
embedding. Accuracy comes from `python -m actions.faq eval`,
the bot's own decision code. Latency is measured side by side with plain sentence-transformers
(`encode` of one query with default settings plus a numpy top-1 over the KB) in one process.
Run: `python -m bench.faq`.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.report import Chart, Row, format_summary, write_report
from bench.stats import summarize

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA = REPO_ROOT.parent / "shared" / "eval" / "banking77"
REPORT = REPO_ROOT / "reports" / "bench" / "faq.html"
LEFT_OUT_EVERY = 8
LATENCY_QUERIES = 300
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def write_csv(path: Path, header: list[str], rows: list[tuple[str, str]]) -> Path:
    """Write a CSV file with a header row."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_banking77(name: str) -> list[tuple[str, str]]:
    """Return (text, category) pairs of BANKING77's train or test split."""
    with (DATA / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


def one_question_per_faq(train: list[tuple[str, str]], workdir: Path) -> list[tuple[str, str]]:
    """Return (category, text) of each category's text nearest its mean embedding."""
    from actions.faq.encoder import OnnxEncoder, export_encoder

    export_encoder(workdir / "encoder")
    embeddings = OnnxEncoder(workdir / "encoder").encode([text for text, _ in train])
    chosen = []
    for category in sorted({category for _, category in train}):
        rows = [n for n, (_, label) in enumerate(train) if label == category]
        centre = embeddings[rows].mean(axis=0)
        chosen.append((category, train[rows[int(np.argmax(embeddings[rows] @ centre))]][0]))
    return chosen


def prepare(workdir: Path) -> dict[str, Path]:
    """Write the KB and query files of the three settings: all FAQs, some left out, one each."""
    train, test = read_banking77("train"), read_banking77("test")
    left_out = set(sorted({category for _, category in train})[::LEFT_OUT_EVERY])
    kb_header, queries_header = ["faq_id", "question"], ["text", "faq_id"]
    return {
        "kb": write_csv(workdir / "kb.csv", kb_header, [(c, t) for t, c in train]),
        "kb_one": write_csv(
            workdir / "kb_one.csv", kb_header, one_question_per_faq(train, workdir)
        ),
        "queries": write_csv(workdir / "queries.csv", queries_header, test),
        "kb_oos": write_csv(
            workdir / "kb_oos.csv", kb_header, [(c, t) for t, c in train if c not in left_out]
        ),
        "queries_oos": write_csv(
            workdir / "queries_oos.csv",
            queries_header,
            [(t, "" if c in left_out else c) for t, c in test],
        ),
    }


def faq_command(*args: str | Path) -> list[str]:
    """Return the command line of the FAQ engine's CLI with these arguments."""
    return [sys.executable, "-m", "actions.faq", *map(str, args)]


def run_eval(kb: Path, queries: Path, *extra: str) -> dict[str, Any]:
    """Run the engine's eval command; its progress goes to the terminal."""
    print(f"    eval {kb.name} {queries.name} {' '.join(extra)} (one to two minutes)", flush=True)
    finished = subprocess.run(
        faq_command("eval", "--kb", kb, "--queries", queries, "--json", *extra),
        cwd=REPO_ROOT,
        env=ENV,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    report: dict[str, Any] = json.loads(finished.stdout)
    return report


def build(kb_csv: Path, workdir: Path) -> tuple[Path, Path, float]:
    """Write the KB as FAQ YAML and build its index with `make index`'s command; time it."""
    from actions.faq.evaluate import knowledge_base_from_csv
    from knowledge_base.faqs import write_faqs

    faq_dir, index_dir = workdir / "faq", workdir / "index"
    write_faqs(knowledge_base_from_csv(kb_csv), faq_dir / "kb.yml")
    print("    python -m actions.faq build (about a minute)", flush=True)
    started = time.perf_counter()
    subprocess.run(
        faq_command("build", "--faq-dir", faq_dir, "--out", index_dir),
        cwd=REPO_ROOT,
        env=ENV,
        check=True,
    )
    return faq_dir, index_dir, time.perf_counter() - started


# A stand-in for the action server: every action registered as rasa-sdk does at startup, then
# one engine on the benchmark's index answering one question.
SERVE_ONCE = """
import os, sys
from pathlib import Path
from rasa_sdk.executor import ActionExecutor
from actions.faq.engine import FaqEngine
from bench.procfs import rss_mib
ActionExecutor().register_package("actions")
engine = FaqEngine(index_dir=Path(sys.argv[1]), faq_dir=Path(sys.argv[2]))
engine.decide("my card has not arrived yet")
print(rss_mib(os.getpid()))
"""


def serving_memory_mib(faq_dir: Path, index_dir: Path) -> float:
    """Return the resident memory of a fresh process that loaded the engine and answered."""
    finished = subprocess.run(
        [sys.executable, "-c", SERVE_ONCE, str(index_dir), str(faq_dir)],
        cwd=REPO_ROOT,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(finished.stdout.split()[-1])


def latencies(faq_dir: Path, index_dir: Path, queries: list[str]) -> dict[str, list[float]]:
    """Time the engine and plain sentence-transformers on the same queries, interleaved."""
    from sentence_transformers import SentenceTransformer

    from actions.faq.encoder import default_model_path, onnx_model_name
    from actions.faq.engine import FaqEngine
    from actions.faq.index import FaqIndex
    from knowledge_base.faqs import fingerprint, load_knowledge_base

    engine = FaqEngine(index_dir=index_dir, faq_dir=faq_dir)
    engine.load()
    plain = SentenceTransformer(str(default_model_path()), device="cpu")
    # The baseline's top-1 scans the KB's vectors as the engine holds them: a matrix of the
    # same size costs the same whatever model made it.
    faqs = load_knowledge_base(faq_dir)
    index = FaqIndex.load(index_dir, onnx_model_name(quantized=True), fingerprint(faqs))
    kb_vectors = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    timings: dict[str, list[float]] = {"engine (ONNX int8)": [], "plain sentence-transformers": []}
    engine.decide(queries[0])
    plain.encode(queries[0])
    print(f"    {len(queries)} single queries through each", flush=True)
    for query in queries:
        started = time.perf_counter()
        engine.decide(query)
        middle = time.perf_counter()
        int(np.argmax(kb_vectors @ plain.encode(query, normalize_embeddings=True)))
        timings["engine (ONNX int8)"].append((middle - started) * 1000)
        timings["plain sentence-transformers"].append((time.perf_counter() - middle) * 1000)
    return timings


def percent(share: float) -> float:
    """Return a 0-1 share as a percentage, the unit the summary prints."""
    return round(100 * share, 1)


@dataclass(frozen=True)
class Measured:
    """Every figure of the FAQ benchmark: evaluation runs, build, memory, latencies."""

    full: dict[str, Any]
    full_fp32: dict[str, Any]
    oos: dict[str, Any]
    oos_fp32: dict[str, Any]
    one: dict[str, Any]
    build_seconds: float
    memory_mib: float
    timings: dict[str, list[float]]

    @property
    def runs(self) -> dict[str, dict[str, Any]]:
        return {
            "all FAQs, int8": self.full,
            "all FAQs, fp32": self.full_fp32,
            "10 FAQs left out, int8": self.oos,
            "10 FAQs left out, fp32": self.oos_fp32,
            "one question per FAQ, int8": self.one,
        }


def measure() -> Measured:
    """Evaluate the engine on BANKING77 in every configuration, then build and time it."""
    with tempfile.TemporaryDirectory(prefix="bench-faq-") as name:
        workdir = Path(name)
        files = prepare(workdir)
        print("==> every FAQ in the KB, int8 and fp32 encoders", flush=True)
        full = run_eval(files["kb"], files["queries"])
        full_fp32 = run_eval(files["kb"], files["queries"], "--fp32")
        print(f"==> out of scope: every {LEFT_OUT_EVERY}th category left out", flush=True)
        oos = run_eval(files["kb_oos"], files["queries_oos"])
        oos_fp32 = run_eval(files["kb_oos"], files["queries_oos"], "--fp32")
        print("==> one question per FAQ", flush=True)
        one = run_eval(files["kb_one"], files["queries"])
        print("==> build, memory and latency on the full KB", flush=True)
        faq_dir, index_dir, build_seconds = build(files["kb"], workdir)
        memory = serving_memory_mib(faq_dir, index_dir)
        queries = [text for text, _ in read_banking77("test")[:LATENCY_QUERIES]]
        timings = latencies(faq_dir, index_dir, queries)
    return Measured(full, full_fp32, oos, oos_fp32, one, build_seconds, memory, timings)


def share(name: str, figure: str, run: dict[str, Any], **row: Any) -> Row:
    """Return a row of one figure of a run, in percent, higher being better."""
    baseline = row.pop("baseline", None)
    return Row(
        name,
        percent(run[figure]),
        row.pop("unit", "%"),
        baseline=None if baseline is None else percent(baseline[figure]),
        higher_is_better=True,
        **row,
    )


def rows_of(m: Measured) -> list[Row]:
    """Return every figure beside its target and baseline."""
    full, full_fp32, oos, oos_fp32, one = m.full, m.full_fp32, m.oos, m.oos_fp32, m.one
    engine_ms, plain_ms = (summarize(series).p50 for series in m.timings.values())
    fp32 = "baseline: the fp32 encoder"
    return [
        share(
            "correct direct answers, all FAQs",
            "direct_accuracy",
            full,
            baseline=full_fp32,
            target=70.0,
            unit="% of in-scope",
            note=fp32,
        ),
        share(
            "answer precision, all FAQs",
            "answer_precision",
            full,
            baseline=full_fp32,
            target=97.0,
            note=fp32,
        ),
        share(
            "answered or suggested, right FAQ first, all FAQs",
            "in_scope_accuracy",
            full,
            baseline=full_fp32,
            target=92.0,
            note=f"{fp32}; conflicts with the out-of-scope recall below (see README)",
        ),
        share(
            "top-1 ranking, all FAQs",
            "top1_accuracy",
            full,
            baseline=full_fp32,
            note=f"{fp32}; whatever was decided",
        ),
        share(
            "correct direct answers, one question per FAQ",
            "direct_accuracy",
            one,
            baseline=full,
            unit="% of in-scope",
            note="baseline: the full KB, same encoder",
        ),
        share("answer precision, one question per FAQ", "answer_precision", one, target=97.0),
        share(
            "right FAQ among the first three, one question per FAQ",
            "top3_accuracy",
            one,
            baseline=full,
            note="baseline: the full KB",
        ),
        share(
            "out-of-scope recall, 10 FAQs left out",
            "oos_recall",
            oos,
            baseline=oos_fp32,
            target=63.0,
            note=fp32,
        ),
        share(
            "in-scope accuracy, 10 FAQs left out",
            "in_scope_accuracy",
            oos,
            baseline=oos_fp32,
            target=90.0,
            note=fp32,
        ),
        share(
            "answer precision, 10 FAQs left out",
            "answer_precision",
            oos,
            baseline=oos_fp32,
            target=97.0,
            note=fp32,
        ),
        Row(
            "single query p50 (embed, search, decide)",
            round(engine_ms, 2),
            "ms",
            baseline=round(plain_ms, 2),
            note="baseline: plain sentence-transformers encode + numpy top-1, same run",
        ),
        Row(
            "latency vs plain sentence-transformers",
            percent(engine_ms / plain_ms),
            "%",
            target=20.0,
            note="ratio of the p50s above",
        ),
        Row("index build, 10,003 paraphrases", round(m.build_seconds, 1), "s", target=60.0),
        Row("resident memory after one answer", round(m.memory_mib), "MiB", target=700.0),
    ]


def charts_of(m: Measured) -> list[Chart]:
    """Draw the latencies against the baseline and the decision quality of every run."""
    engine, plain = m.timings.values()
    figures = (
        "direct_accuracy",
        "in_scope_accuracy",
        "top1_accuracy",
        "answer_precision",
        "oos_recall",
    )
    return [
        Chart(
            title="Single query: the engine against plain sentence-transformers",
            series=m.timings,
            target=0.2 * summarize(plain).p50,
            caption=f"{len(engine)} BANKING77 test queries, interleaved in one process; "
            "the target line is a fifth of the baseline's median.",
        ),
        Chart(
            title="Decision quality on BANKING77",
            series={
                run: [percent(report[figure] or 0.0) for figure in figures]
                for run, report in m.runs.items()
            },
            categories=list(figures),
            kind="bar",
            xlabel="figure",
            ylabel="%",
            caption="direct_accuracy counts right answers given at once; in_scope_accuracy "
            "answers and suggestions with the right FAQ first; top1_accuracy ranks alone, "
            "whatever was decided.",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure every FAQ target of the issue, print it beside its target, draw the report."""
    measured = measure()
    rows = rows_of(measured)
    print(format_summary(rows), flush=True)
    notes = [
        f"{run}: decisions {report['decisions']}, calibrated {report['thresholds']}, "
        f"build {report['build_s']} s"
        for run, report in measured.runs.items()
    ]
    path = write_report(REPORT, "FAQ engine on BANKING77", rows, charts_of(measured), notes)
    print(f"    report: {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
