"""Case splits (search/cases.py): two programs joined by a feature of the input that tells their demonstrations apart,
by hand and through the engine, ranked after the full fits and before the partial fits."""

from __future__ import annotations

import numpy as np

from trm_submit.budget import Budget
from trm_submit.io.tasks import Task
from trm_submit.search import cases, solve_task
from trm_submit.search.dsl import Op

RNG = np.random.default_rng(5)
FLIP_H = Op("flip_h", lambda g: g[:, ::-1])
FLIP_V = Op("flip_v", lambda g: g[::-1])


def only(*ops):
    return lambda ctx: (list(ops), [])


def grid(height, width=4):
    return RNG.integers(1, 5, size=(height, width), dtype=np.uint8)


def _odd_flips_sideways_even_flips_over(tests):
    """Odd heights: flip_h; even heights: flip_v."""
    pairs = []
    for h in (3, 5, 4, 6):
        g = grid(h)
        pairs.append((g, (g[:, ::-1] if h % 2 else g[::-1]).copy()))
    return Task("cases", tuple(pairs), tuple(tests))


def test_a_split_takes_each_test_input_to_the_program_of_its_side():
    odd, even, wide = grid(7), grid(8), grid(2, 9)
    side_odd, side_even = np.full((7, 4), 1, np.uint8), np.full((8, 4), 2, np.uint8)
    by_demos = {0b0011: [("flip_h", 1, (odd[:, ::-1], even[:, ::-1], side_odd))],
                0b1100: [("flip_v", 1, (odd[::-1], even[::-1], side_even))]}
    train = tuple(grid(h) for h in (3, 5, 4, 6))
    found = cases.splits(by_demos, train, (odd, even, wide), [None, None, (2, 9)])
    assert [f[0] for f in found] == ["case(height_parity: flip_h / flip_v)"]
    text, cost, answers = found[0]
    assert cost == 1 + 1 + cases.SPLIT_COST
    assert np.array_equal(answers[0], odd[:, ::-1]) and np.array_equal(answers[1], even[::-1])
    assert answers[2] is None    # its side's answer has another size than the one predicted


def test_no_split_without_evidence_or_where_the_sides_do_not_cover_every_demonstration():
    train = tuple(grid(h) for h in (3, 5, 4, 6))
    test = (grid(7),)
    answer = (test[0][:, ::-1],)
    two_apart = {0b0111: [("a", 1, answer)], 0b1110: [("b", 1, answer)]}   # only demonstrations 0 and 3 apart
    assert cases.splits(two_apart, train, test, []) == []
    gap = {0b0011: [("a", 1, answer)], 0b0100: [("b", 1, answer)]}         # demonstration 3: nobody
    assert cases.splits(gap, train, test, []) == []
    mixed = tuple(grid(h) for h in (3, 4, 5, 6))                             # each side holds both parities:
    sides = {0b0011: [("a", 1, answer)], 0b1100: [("b", 1, answer)]}        # no feature but chance tells them
    assert not [f for f in cases.splits(sides, mixed, test, []) if "parity" in f[0]]


def test_the_engine_joins_two_programs_and_ranks_the_split_after_full_fits():
    odd, even = grid(7), grid(8)
    res = solve_task(_odd_flips_sideways_even_flips_over((odd, even)), Budget.seconds(5), max_depth=1,
                     collect=only(FLIP_H, FLIP_V), givens=False)
    first = [c[0] for c in res.candidates]
    assert all(c.partial and c.program == "case(height_parity: flip_h / flip_v)" for c in first)
    assert np.array_equal(first[0].grid, odd[:, ::-1]) and np.array_equal(first[1].grid, even[::-1])
    # with a program that fits every demonstration, it comes first and the split after it
    task = _odd_flips_sideways_even_flips_over((odd,))
    whole = Op("both", lambda g: g[:, ::-1] if g.shape[0] % 2 else g[::-1])
    res = solve_task(task, Budget.seconds(5), max_depth=1, collect=only(FLIP_H, FLIP_V, whole), givens=False)
    assert [c.program for c in res.candidates[0]][:1] == ["both"] and not res.candidates[0][0].partial
