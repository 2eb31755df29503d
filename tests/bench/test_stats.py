"""Percentiles, the open-loop schedule, rates and verdicts of the benchmarks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.stats import (
    achieved_rate,
    cdf_points,
    open_loop_schedule,
    percentile,
    percentile_per_window,
    rate_per_window,
    summarize,
    verdict,
    windows,
)


@pytest.mark.parametrize("q", [0, 1, 25, 50, 90, 95, 99, 99.9, 100])
def test_percentile_matches_numpy_linear_interpolation(q):
    values = [float(value) for value in np.random.default_rng(3).lognormal(2, 1, 1001)]

    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_interpolates_between_ranks_of_unsorted_values():
    assert percentile([40.0, 10.0, 30.0, 20.0], 50) == 25.0
    assert percentile([7.0], 95) == 7.0


def test_percentile_of_nothing_is_nan_and_out_of_range_is_refused():
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_of_a_series():
    summary = summarize([float(value) for value in range(1, 101)])

    assert (summary.count, summary.p50, summary.max, summary.mean) == (100, 50.5, 100.0, 50.5)
    assert summary.p95 == pytest.approx(95.05)
    assert math.isnan(summarize([]).p95)


def test_open_loop_schedule_is_evenly_spaced_at_the_rate():
    schedule = open_loop_schedule(200, 20, start=5.0)

    assert len(schedule) == 4000
    assert schedule[0] == 5.0
    assert schedule[-1] == pytest.approx(5.0 + 3999 / 200)
    gaps = np.diff(schedule)
    assert gaps.min() == pytest.approx(0.005) and gaps.max() == pytest.approx(0.005)


def test_open_loop_schedule_does_not_lose_a_request_to_rounding():
    # 0.1 * 30 is 2.9999999999999996 in floating point.
    assert len(open_loop_schedule(0.1, 30)) == 3
    with pytest.raises(ValueError):
        open_loop_schedule(0, 10)


def test_achieved_rate_counts_completions_inside_the_window():
    completions = [0.5, 1.0, 1.5, 2.0, 9.0]

    assert achieved_rate(completions, 0.0, 2.0) == 2.0
    with pytest.raises(ValueError):
        achieved_rate(completions, 1.0, 1.0)


def test_cdf_points_rise_to_one_over_sorted_values():
    xs, ys = cdf_points([3.0, 1.0, 2.0, 2.0])

    assert xs == [1.0, 2.0, 2.0, 3.0]
    assert ys == [0.25, 0.5, 0.75, 1.0]


def test_verdict_against_a_target():
    assert verdict(250.0, 300.0) == "PASS"
    assert verdict(301.0, 300.0) == "FAIL"
    assert verdict(500.0, 500.0, higher_is_better=True) == "PASS"
    assert verdict(499.0, 500.0, higher_is_better=True) == "FAIL"
    assert verdict(math.nan, 300.0) == "FAIL"
    assert verdict(1.0, None) == ""


def test_per_window_figures_group_by_time_and_the_last_window_may_be_shorter():
    times, values = [0.5, 1.5, 9.9, 12.0], [10.0, 30.0, 50.0, 70.0]

    assert windows(25, 10) == [0, 10, 20]
    assert percentile_per_window(times, values, 10, 25, 50)[:2] == [30.0, 70.0]
    assert math.isnan(percentile_per_window(times, values, 10, 25, 50)[2])
    assert rate_per_window([1.0, 2.0, 21.0, 24.0], 10, 25) == [0.2, 0.0, 0.4]
