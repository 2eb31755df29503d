"""The shape of a `make load` run: how many customers and agents, how long, how they pace."""

from __future__ import annotations

from dataclasses import dataclass, replace

# Hard bounds: the load runs on the developer's machine beside the stack it measures.
MAX_CUSTOMERS = 2000
MAX_AGENTS = 200
MAX_DURATION_S = 3600.0


@dataclass(frozen=True)
class Plan:
    """Everything that shapes the run; the defaults are the issue's target configuration."""

    customers: int = 200
    agents: int = 20
    duration_s: float = 300.0
    # REST customers only ask questions: Rasa's REST channel answers in the response to a
    # message and has no way to push an agent's words, so handoffs go through socket.io.
    rest_share: float = 0.2
    handoff_share: float = 0.2  # of the socket.io customers, who ask for a person once
    customer_pause_s: float = 10.0  # mean of an exponential pause between messages
    agent_pause_s: float = 5.0  # mean pause of an agent before each reply and the resolve
    agent_replies: int = 3
    reply_timeout_s: float = 30.0  # a question with no reply by then counts as unanswered
    drain_s: float = 30.0  # after the end, how long messages in flight may take to arrive
    seed: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.customers <= MAX_CUSTOMERS:
            raise ValueError(f"customers must be 1 to {MAX_CUSTOMERS}")
        if not 1 <= self.agents <= MAX_AGENTS:
            raise ValueError(f"agents must be 1 to {MAX_AGENTS}")
        if not 5 <= self.duration_s <= MAX_DURATION_S:
            raise ValueError(f"the duration must be 5 to {MAX_DURATION_S:.0f} seconds")
        for name in ("rest_share", "handoff_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if min(self.customer_pause_s, self.agent_pause_s, self.drain_s) < 0:
            raise ValueError("pauses and the drain cannot be negative")
        if self.agent_replies < 1 or self.reply_timeout_s <= 0:
            raise ValueError("agents reply at least once and questions wait a while for a reply")

    @property
    def ramp_s(self) -> float:
        """Return the time over which customers arrive: none of them starts at the same instant."""
        return min(30.0, self.duration_s / 5)

    @property
    def rest_customers(self) -> int:
        """Return how many of the customers use REST."""
        return round(self.customers * self.rest_share)


def quick(plan: Plan) -> Plan:
    """Shrink a plan to about a minute with a few customers, half of whom ask for a person."""
    return replace(
        plan,
        customers=16,
        agents=4,
        duration_s=50.0,
        handoff_share=0.5,
        customer_pause_s=4.0,
        agent_pause_s=3.0,
        drain_s=20.0,
    )
