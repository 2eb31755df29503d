"""NLU quality on held-out examples written apart from the training data.

`tests/nlu/heldout.yml` is never trained on. The same-run baseline is the model's score
on its own training data: the gap between the two shows how much is memorised.
Run: `python -m bench.nlu`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.report import Chart, Row, format_summary, write_report

REPO_ROOT = Path(__file__).resolve().parent.parent
HELDOUT = REPO_ROOT / "tests" / "nlu" / "heldout.yml"
TRAINING = REPO_ROOT / "data" / "nlu"
REPORT = REPO_ROOT / "reports" / "bench" / "nlu.html"
MACRO_F1_TARGET_PERCENT = 95.0


def evaluate(nlu_data: Path, out: Path) -> dict[str, Any]:
    """Run `rasa test nlu` with the trained model on `nlu_data`; return its intent report."""
    print(f"    rasa test nlu on {nlu_data.relative_to(REPO_ROOT)}", flush=True)
    subprocess.run(
        [
            str(REPO_ROOT / ".venv-rasa" / "bin" / "rasa"),
            "test",
            "nlu",
            "--nlu",
            str(nlu_data),
            "--model",
            "models/rasa",
            "--out",
            str(out),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        check=True,
        capture_output=True,
    )
    report: dict[str, Any] = json.loads((out / "intent_report.json").read_text())
    return report


def percent(score: float) -> float:
    """Return a 0-1 score as a percentage, the unit the summary prints."""
    return round(100 * score, 1)


def per_intent_f1(report: dict[str, Any]) -> dict[str, float]:
    """Return the F1 score (in percent) of every intent of a Rasa intent report."""
    averages = {"accuracy", "macro avg", "weighted avg", "micro avg"}
    return {
        intent: percent(scores["f1-score"])
        for intent, scores in sorted(report.items())
        if intent not in averages and isinstance(scores, dict)
    }


def confusions(report: dict[str, Any]) -> list[str]:
    """Describe which intents were taken for which, worst first."""
    found = [
        (count, f"{intent} taken for {other} ({count}x)")
        for intent, scores in report.items()
        if isinstance(scores, dict)
        for other, count in (scores.get("confused_with") or {}).items()
    ]
    return [text for _, text in sorted(found, reverse=True)]


def main(argv: list[str] | None = None) -> int:
    """Measure held-out macro F1 beside the training-data score, print it, draw the report."""
    with tempfile.TemporaryDirectory() as workdir:
        heldout = evaluate(HELDOUT, Path(workdir) / "heldout")
        training = evaluate(TRAINING, Path(workdir) / "training")
    heldout_f1, training_f1 = per_intent_f1(heldout), per_intent_f1(training)
    rows = [
        Row(
            "intent macro F1, held-out",
            percent(heldout["macro avg"]["f1-score"]),
            "%",
            baseline=percent(training["macro avg"]["f1-score"]),
            target=MACRO_F1_TARGET_PERCENT,
            higher_is_better=True,
            note="baseline: the same model on its training data",
        ),
        Row(
            "intent accuracy, held-out",
            percent(heldout["accuracy"]),
            "%",
            baseline=percent(training["accuracy"]),
        ),
        Row(
            "worst intent F1, held-out",
            min(heldout_f1.values()),
            "%",
            note=min(heldout_f1, key=lambda intent: heldout_f1[intent]),
        ),
    ]
    print(format_summary(rows), flush=True)
    mistakes = confusions(heldout)
    for mistake in mistakes[:8]:
        print(f"    {mistake}")
    chart = Chart(
        title="Intent F1: held-out examples vs training data",
        series={
            "held-out": list(heldout_f1.values()),
            "training": [training_f1.get(intent, 0.0) for intent in heldout_f1],
        },
        categories=list(heldout_f1),
        kind="bar",
        xlabel="intent",
        ylabel="F1 (%)",
        target=MACRO_F1_TARGET_PERCENT,
        caption=f"{HELDOUT.relative_to(REPO_ROOT)} is written apart from data/nlu and never "
        "trained on.",
    )
    path = write_report(REPORT, "NLU quality", rows, [chart], mistakes[:12])
    print(f"    report: {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
