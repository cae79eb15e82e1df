"""The run's clock: shares, stage budgets that never outlive their parent, the stop signal, and the hand-over
across a process boundary as wall time."""

from __future__ import annotations

import math
import time

import pytest

from trm_submit.budget import Budget


def test_share_spreads_the_time_left_over_the_items_left():
    b = Budget.seconds(100.0)
    assert b.share(10).left() == pytest.approx(10.0, abs=0.05)
    assert b.share(10, parallel=2).left() == pytest.approx(20.0, abs=0.05)
    assert b.share(1, parallel=4).left() == pytest.approx(100.0, abs=0.05)  # never more than all of it
    assert b.share(0).left() <= 0.0


def test_a_child_never_ends_after_its_parent():
    parent = Budget.seconds(5.0)
    assert parent.child(60.0).end == parent.end
    assert parent.child(1.0).left() == pytest.approx(1.0, abs=0.05)
    assert parent.fraction(0.5).left() == pytest.approx(2.5, abs=0.05)
    assert parent.child(-3).over()


def test_over_follows_the_clock_and_the_stop_signal():
    flag = {"stop": False}
    b = Budget.seconds(60.0, stop=lambda: flag["stop"])
    child = b.share(3)
    assert not b.over() and not child.over()
    flag["stop"] = True
    assert b.over() and child.over()  # children share the stop signal
    assert Budget.seconds(0.0).over()


def test_wall_time_round_trip_keeps_the_end():
    b = Budget.seconds(42.0)
    again = Budget.from_wall(b.to_wall())
    assert again.left() == pytest.approx(b.left(), abs=0.05)


def test_no_limit_is_infinite_but_stoppable():
    b = Budget.seconds(math.inf)
    assert math.isinf(b.left()) and not b.over() and b.share(4).left() == math.inf
    t0 = time.monotonic()
    assert Budget(t0 - 1).over() and Budget(t0 - 1).left() < 0


def test_costs_estimate_from_measurements_only():
    from trm_submit.budget import Costs

    costs = Costs()
    assert costs.estimate("step", 100) is None  # nothing measured: no estimate, nothing assumed
    assert costs.fits(Budget.seconds(0.5), "step", 100) and costs.affordable(Budget.seconds(0.5), "step", 100, 8) == 8
    costs.record("step", 100, 2.0)
    costs.record("step", 400, 6.0)
    assert costs.estimate("step", 100) == 2.0 and costs.estimate("step", 900) == 6.0 * 900 / 400  # from the largest
    assert costs.estimate("view", 100) is None  # another kind
    assert not costs.fits(Budget.seconds(1.5), "step", 100)
    assert costs.fits(Budget.seconds(60), "step", 100, count=3)
    assert costs.affordable(Budget.seconds(7.0), "step", 100, 8) == 3  # 3 x 2 s fit in 7 s, a fourth does not
    assert costs.affordable(Budget.seconds(0.0), "step", 100, 8) == 0
