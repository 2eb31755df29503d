"""Pure figures of a benchmark: percentiles, open-loop schedules, rates and verdicts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0 to 100) with linear interpolation between ranks."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """Latency percentiles of one series, in the unit of its samples."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float


def summarize(values: Sequence[float]) -> Summary:
    """Summarize a series of latencies."""
    if not values:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    return Summary(
        count=len(values),
        p50=percentile(values, 50),
        p95=percentile(values, 95),
        p99=percentile(values, 99),
        max=max(values),
        mean=sum(values) / len(values),
    )


def open_loop_schedule(rate_per_s: float, duration_s: float, start: float = 0.0) -> list[float]:
    """Return the intended send times of a constant-rate load: one every 1/rate seconds."""
    if rate_per_s <= 0 or duration_s < 0:
        raise ValueError("the rate must be positive and the duration not negative")
    count = math.floor(rate_per_s * duration_s + 1e-9)
    return [start + index / rate_per_s for index in range(count)]


def achieved_rate(completion_times: Sequence[float], start: float, end: float) -> float:
    """Return how many completions per second fell inside [start, end]."""
    if end <= start:
        raise ValueError("the window must have a positive length")
    return sum(start <= moment <= end for moment in completion_times) / (end - start)


def cdf_points(values: Sequence[float]) -> tuple[list[float], list[float]]:
    """Return (sorted values, cumulative fraction) for plotting an empirical CDF."""
    ordered = sorted(values)
    count = len(ordered)
    return ordered, [(index + 1) / count for index in range(count)]


def verdict(value: float, target: float | None, *, higher_is_better: bool = False) -> str:
    """Return PASS or FAIL against a target, or an empty string where there is none."""
    if target is None:
        return ""
    if math.isnan(value):
        return "FAIL"
    return "PASS" if (value >= target if higher_is_better else value <= target) else "FAIL"


def windows(end_s: float, width_s: float) -> list[float]:
    """Return the start of each window of `width_s` seconds that covers [0, end_s)."""
    if width_s <= 0:
        raise ValueError("a window must have a positive width")
    return [index * width_s for index in range(max(1, math.ceil(end_s / width_s - 1e-9)))]


def percentile_per_window(
    times: Sequence[float], values: Sequence[float], width_s: float, end_s: float, q: float
) -> list[float]:
    """Return the q-th percentile of the values that fell in each window (nan if none)."""
    starts = windows(end_s, width_s)
    grouped: list[list[float]] = [[] for _ in starts]
    for moment, value in zip(times, values, strict=True):
        if 0 <= moment < end_s:
            grouped[min(int(moment // width_s), len(starts) - 1)].append(value)
    return [percentile(group, q) for group in grouped]


def rate_per_window(times: Sequence[float], width_s: float, end_s: float) -> list[float]:
    """Return how many events per second fell in each window (the last may be shorter)."""
    starts = windows(end_s, width_s)
    counts = [0] * len(starts)
    for moment in times:
        if 0 <= moment < end_s:
            counts[min(int(moment // width_s), len(starts) - 1)] += 1
    return [
        count / (min(end_s, start + width_s) - start) if end_s > start else 0.0
        for start, count in zip(starts, counts, strict=True)
    ]
