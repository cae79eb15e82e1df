"""Time: the one owner of a run's clock. A `Budget` is an end on the monotonic clock plus a stop signal; it
hands out task shares and stage budgets, and crosses a process boundary once, as wall-clock time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Budget:
    """Time until `end` (time.monotonic() seconds); `stop()` true means stop now whatever the clock says.

    A child budget never ends after its parent: `child` takes the earlier end of the two.
    """

    end: float
    stop: Callable[[], bool] = field(default=_never, compare=False)

    @classmethod
    def seconds(cls, seconds: float, stop: Callable[[], bool] = _never) -> "Budget":
        """A budget of `seconds` from now (inf: no time limit, only the stop signal)."""
        return cls(time.monotonic() + seconds, stop)

    @classmethod
    def from_wall(cls, wall_end: float, stop: Callable[[], bool] = _never) -> "Budget":
        """Rebuild a budget in another process from `to_wall()` (monotonic clocks are per process)."""
        return cls(time.monotonic() + (wall_end - time.time()), stop)

    def to_wall(self) -> float:
        """The end as time.time(), to hand to another process."""
        return time.time() + self.left()

    def left(self) -> float:
        """Seconds left (negative once over); the stop signal does not change it."""
        return self.end - time.monotonic()

    def over(self) -> bool:
        return self.stop() or time.monotonic() >= self.end

    def child(self, seconds: float) -> "Budget":
        """A stage budget of at most `seconds` from now, ending no later than this one."""
        return Budget(min(self.end, time.monotonic() + max(0.0, seconds)), self.stop)

    def fraction(self, share: float) -> "Budget":
        """A stage budget of `share` (0..1) of the time left."""
        return self.child(max(0.0, self.left()) * share)

    def share(self, items_left: int, parallel: int = 1) -> "Budget":
        """The budget of one of `items_left` items still to do, `parallel` of them at a time: the time left
        spread evenly (every item gets its part, none more than all of it)."""
        if items_left <= 0:
            return self.child(0.0)
        left = max(0.0, self.left())
        return self.child(min(left, left * parallel / items_left))


class Costs:
    """Measured seconds of one piece of repeated work (a fine-tuning step, an inference view), by kind and size
    (tokens per row), kept by a worker across tasks, so a piece is started only when its measured cost fits the
    time left. A size never measured is estimated from the largest measured size of its kind, in proportion to
    the tokens; a kind never measured has no estimate (its first piece is started, and measured)."""

    def __init__(self) -> None:
        self._seconds: dict[tuple[str, int], float] = {}

    def record(self, kind: str, tokens: int, seconds: float) -> None:
        self._seconds[(kind, tokens)] = max(0.0, seconds)

    def estimate(self, kind: str, tokens: int) -> float | None:
        if (kind, tokens) in self._seconds:
            return self._seconds[(kind, tokens)]
        sizes = [(t, s) for (k, t), s in self._seconds.items() if k == kind]
        if not sizes:
            return None
        t, s = max(sizes)
        return s * tokens / max(1, t)

    def fits(self, budget: Budget, kind: str, tokens: int, count: int = 1) -> bool:
        """Whether `count` pieces of `kind` at `tokens` may start: the budget is not over and their measured
        cost (when known) is within the time left."""
        cost = self.estimate(kind, tokens)
        return not budget.over() and (cost is None or cost * count <= budget.left())

    def affordable(self, budget: Budget, kind: str, tokens: int, wanted: int) -> int:
        """How many of `wanted` pieces fit the time left at their measured cost (all of them when unknown)."""
        cost = self.estimate(kind, tokens)
        if budget.over():
            return 0
        if cost is None or cost <= 0:
            return wanted
        return max(0, min(wanted, int(budget.left() / cost)))
