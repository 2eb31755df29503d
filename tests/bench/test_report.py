"""The printed summary and the HTML report with its charts."""

from __future__ import annotations

import math

from bench.report import Chart, Row, format_summary, write_report


def test_rows_carry_a_verdict_only_where_there_is_a_target():
    assert Row("p95", 250.0, "ms", target=300.0).verdict == "PASS"
    assert Row("p95", 350.0, "ms", target=300.0).verdict == "FAIL"
    assert Row("held", 500, "streams", target=500, higher_is_better=True).verdict == "PASS"
    assert Row("p50", 12.0, "ms").verdict == ""


def test_summary_aligns_values_baselines_targets_and_verdicts():
    text = format_summary(
        [
            Row("agent message -> socket p95", 412.3, "ms", 120.0, target=300.0, note="n=100"),
            Row("API errors", 0, "req", 0),
            Row("fan-out p95", math.nan, "ms"),
        ]
    )
    header, slow, errors, missing = text.splitlines()

    assert header.split() == ["figure", "value", "baseline", "target", "note"]
    assert "412 ms" in slow and "120 ms" in slow and "< 300 ms" in slow
    assert slow.index("FAIL") < slow.index("n=100")
    assert "n/a" in missing
    # Values are right-aligned in their column.
    assert slow.index("412 ms") + len("412 ms") == errors.index("0 req") + len("0 req")


def test_report_holds_the_table_the_notes_and_one_svg_per_chart(tmp_path):
    path = write_report(
        tmp_path / "bench" / "handoff.html",
        "Handoff <benchmark>",
        [Row("agent message -> socket p95", 412.3, "ms", 120.0, target=300.0)],
        [
            Chart("CDF", {"load": [5.0, 7.0, 30.0], "baseline": [1.0, 2.0]}, target=20.0),
            Chart("In order", {"load": [5.0, 7.0, 30.0], "empty": []}, kind="series"),
        ],
        ["load average 1.2"],
    )

    page = path.read_text()
    assert page.startswith("<!doctype html>")
    assert "Handoff &lt;benchmark&gt;" in page
    assert "<td class=fail>FAIL</td>" in page
    assert "<li>load average 1.2</li>" in page
    assert page.count("<svg") == 2
    assert "<?xml" not in page
