"""Print a benchmark's figures beside their baselines and targets, and draw its HTML report."""

from __future__ import annotations

import html
import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # No display on a server; must precede pyplot.
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter

from bench.stats import cdf_points, verdict

STARTED = time.monotonic()


def say(message: str) -> None:
    """Print a progress line with the time since the benchmarks started."""
    print(f"[{time.monotonic() - STARTED:5.0f}s] {message}", flush=True)


@dataclass(frozen=True)
class Row:
    """One figure of the summary, with its same-run baseline and the issue's target if any."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def verdict(self) -> str:
        """Return PASS, FAIL or an empty string when the issue sets no target."""
        return verdict(self.value, self.target, higher_is_better=self.higher_is_better)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if math.isnan(value):
        return "n/a"
    digits = 0 if abs(value) >= 100 or unit in ("", "streams", "req") else 1
    return f"{value:,.{digits}f} {unit}".strip()


def _target(row: Row) -> str:
    if row.target is None:
        return "-"
    if row.target == 0 and not row.higher_is_better:
        return "0"
    return ("≥ " if row.higher_is_better else "< ") + _number(row.target, row.unit)


def format_summary(rows: Sequence[Row]) -> str:
    """Render the rows as an aligned text table for the terminal."""
    table = [("figure", "value", "baseline", "target", "", "note")]
    table += [
        (
            row.name,
            _number(row.value, row.unit),
            _number(row.baseline, row.unit),
            _target(row),
            row.verdict,
            row.note,
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in table) for column in range(5)]
    lines = []
    for line in table:
        cells = [cell.ljust(widths[column]) for column, cell in enumerate(line[:5])]
        cells[1] = line[1].rjust(widths[1])
        cells[2] = line[2].rjust(widths[2])
        lines.append("  ".join([*cells, line[5]]).rstrip())
    return "\n".join(lines)


@dataclass
class Chart:
    """Named series drawn as latency CDFs (`cdf`), in the order measured (`series`), as
    grouped bars over `categories` (`bar`), or over time (`timeline`: lines at `x`, with
    `rates` as bars on a second axis, labelled `rate_label`)."""

    title: str
    series: dict[str, list[float]]
    xlabel: str = "latency (ms, log scale)"
    kind: str = "cdf"
    target: float | None = None
    caption: str = ""
    ylabel: str = "latency (ms)"
    extra: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    rates: dict[str, list[float]] = field(default_factory=dict)
    rate_label: str = "per second"


def chart_svg(chart: Chart) -> str:
    """Draw one chart and return it as an SVG document."""
    figure, axes = plt.subplots(figsize=(7.5, 4.2), dpi=100)
    try:
        if chart.kind == "timeline":
            _draw_timeline(axes, chart)
            return _svg(figure)
        width = 0.8 / max(1, len(chart.series))
        for number, (label, values) in enumerate(chart.series.items()):
            if not values:
                continue
            if chart.kind == "bar":
                positions = [index + number * width for index in range(len(values))]
                axes.bar(positions, values, width, label=label)
            elif chart.kind == "cdf":
                xs, ys = cdf_points(values)
                axes.step(xs, ys, where="post", label=f"{label} (n={len(values)})")
            else:
                axes.plot(range(1, len(values) + 1), values, ".", ms=4, label=label)
        if chart.kind == "cdf":
            axes.set_xscale("log")
            _plain_log_ticks(axes.xaxis)
            axes.set_xlabel(chart.xlabel)
            axes.set_ylabel("fraction of requests at or below")
            axes.set_ylim(0, 1.01)
            for fraction in (0.5, 0.95, 0.99):
                axes.axhline(fraction, color="0.85", lw=0.8, zorder=0)
            if chart.target is not None:
                axes.axvline(chart.target, color="crimson", ls="--", lw=1, label="target")
        else:
            if chart.kind == "bar":
                middle = (len(chart.series) - 1) * width / 2
                axes.set_xticks([index + middle for index in range(len(chart.categories))])
                axes.set_xticklabels(chart.categories, rotation=35, ha="right", fontsize=8)
            axes.set_xlabel(chart.xlabel)
            axes.set_ylabel(chart.ylabel)
            if chart.target is not None:
                axes.axhline(chart.target, color="crimson", ls="--", lw=1, label="target")
        axes.set_title(chart.title)
        axes.grid(True, which="major", color="0.92")
        if chart.kind == "bar":  # Bars fill the plot from the bottom: the legend goes beside it.
            axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        else:
            axes.legend(loc="upper left" if chart.kind == "series" else "lower right", fontsize=8)
        return _svg(figure)
    finally:
        plt.close(figure)


def _draw_timeline(axes: Axes, chart: Chart) -> None:
    """Draw latency lines over time (log scale) and the rates as bars behind them."""
    step = chart.x[1] - chart.x[0] if len(chart.x) > 1 else 1.0
    rate_axes = axes.twinx()
    width = step / max(1, len(chart.rates))
    for number, (label, values) in enumerate(chart.rates.items()):
        positions = [moment + (number + 0.5) * width for moment in chart.x]
        rate_axes.bar(positions, values, width, alpha=0.25, color=f"C{number + 4}", label=label)
    rate_axes.set_ylabel(chart.rate_label)
    # The latency lines go in front of the rate bars.
    axes.set_zorder(rate_axes.get_zorder() + 1)
    axes.patch.set_visible(False)
    for label, values in chart.series.items():
        axes.plot([moment + step / 2 for moment in chart.x], values, ".-", ms=4, label=label)
    axes.set_yscale("log")
    _plain_log_ticks(axes.yaxis)
    if chart.target is not None:
        axes.axhline(chart.target, color="crimson", ls="--", lw=1, label="target")
    axes.set_xlabel(chart.xlabel)
    axes.set_ylabel(chart.ylabel)
    axes.set_title(chart.title)
    axes.grid(True, which="major", color="0.92")
    lines, labels = axes.get_legend_handles_labels()
    bars, bar_labels = rate_axes.get_legend_handles_labels()
    axes.legend(lines + bars, labels + bar_labels, loc="upper left", fontsize=8)


def _plain_log_ticks(axis: Axis) -> None:
    """Label a log-scale latency axis with plain numbers (20, 50, 100), not powers of ten."""
    for set_formatter in (axis.set_major_formatter, axis.set_minor_formatter):
        set_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


def _svg(figure: Figure) -> str:
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    return buffer.getvalue()


def write_report(
    path: Path, title: str, rows: Sequence[Row], charts: Sequence[Chart], notes: Sequence[str]
) -> Path:
    """Write an HTML page with the summary table and the charts; return its path."""
    header = "".join(
        f"<th>{name}</th>" for name in ("figure", "value", "baseline", "target", "", "note")
    )
    body_rows = "".join(
        "<tr>"
        f"<td>{html.escape(row.name)}</td>"
        f"<td class=num>{html.escape(_number(row.value, row.unit))}</td>"
        f"<td class=num>{html.escape(_number(row.baseline, row.unit))}</td>"
        f"<td>{html.escape(_target(row))}</td>"
        f"<td class={row.verdict.lower() or 'none'}>{row.verdict}</td>"
        f"<td>{html.escape(row.note)}</td>"
        "</tr>"
        for row in rows
    )
    figures = "".join(
        f"<figure>{_inline(chart_svg(chart))}"
        f"<figcaption>{html.escape(chart.caption)}</figcaption></figure>"
        for chart in charts
    )
    notes_html = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:14px system-ui,sans-serif;max-width:60rem;margin:2rem auto}"
        "table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd}"
        ".num{text-align:right}.pass{color:#137333;font-weight:bold}"
        ".fail{color:#c5221f;font-weight:bold}figure{margin:1.5rem 0}"
        "figcaption{color:#555}</style>"
        f"<h1>{html.escape(title)}</h1>"
        f"<table><tr>{header}</tr>{body_rows}</table>"
        f"<ul>{notes_html}</ul>{figures}</html>\n"
    )
    return path


def _inline(svg: str) -> str:
    """Drop the XML prologue so the SVG can sit inside HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
