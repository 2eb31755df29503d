"""What every simulated customer and agent of a load run shares: the stage, a clock, pauses."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from bench.accounting import Observations
from bench.plan import Plan


def think_time(rng: random.Random, mean_s: float, remaining_s: float) -> float:
    """Return an exponential pause of mean `mean_s`, cut at the `remaining_s` the run has left."""
    pause = rng.expovariate(1 / mean_s) if mean_s > 0 else 0.0
    return max(0.0, min(pause, remaining_s))


@dataclass(frozen=True)
class Stage:
    """The run every actor plays in: its plan, its record, and seconds since it started."""

    plan: Plan
    seen: Observations
    clock: Callable[[], float]


class Actor:
    """A simulated person: a number, the stage, random numbers of its own, and pauses."""

    def __init__(self, index: int, stage: Stage, rng: random.Random) -> None:
        self.index = index
        self.plan = stage.plan
        self.seen = stage.seen
        self.clock = stage.clock
        self.rng = rng

    def running(self) -> bool:
        """Return whether the run still wants new messages."""
        return self.clock() < self.plan.duration_s

    async def pause(self, mean_s: float) -> None:
        """Think for an exponential time of mean `mean_s`, but not past the end of the run."""
        await asyncio.sleep(think_time(self.rng, mean_s, self.plan.duration_s - self.clock()))
