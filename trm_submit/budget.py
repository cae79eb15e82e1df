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
