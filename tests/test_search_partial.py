"""Partial fits: a program (or a stack) that reproduces some demonstrations but not all gives candidates ranked
after every full fit, tagged partial, in the engine, in the merge of the runs, in the journal and in the merge
of the sources."""

from __future__ import annotations

import numpy as np

from trm_submit.budget import Budget
from trm_submit.grids import vote
from trm_submit.io import records
from trm_submit.io.tasks import Task
from trm_submit.search import solve_task
from trm_submit.search.dsl import Op
from trm_submit.search.runs import Run, merge_runs
from trm_submit.search.stack import Pieces, partial_stacks

RNG = np.random.default_rng(11)
FLIP = Op("flip_h", lambda g: g[:, ::-1])
TURN = Op("rot180", lambda g: np.rot90(g, 2))


def only(*ops):
    return lambda ctx: (list(ops), [])


def grids(n, shape=(3, 4)):
    return [RNG.integers(1, 5, size=shape, dtype=np.uint8) for _ in range(n)]


def test_a_program_that_misses_one_demonstration_is_a_partial_candidate_after_the_full_fits():
    a, b, c, t = grids(4)
    odd = np.full_like(c, 9)  # demonstration 3 follows no rule
    task = Task("partial", ((a, a[:, ::-1].copy()), (b, b[:, ::-1].copy()), (c, odd)), (t,))
    res = solve_task(task, Budget.seconds(5), max_depth=1, collect=only(FLIP, TURN), givens=False)
    best = res.candidates[0][0]
    assert best.partial and best.program == "flip_h" and np.array_equal(best.grid, t[:, ::-1])
    # the same task with a consistent third demonstration: flip_h is a full fit, nothing partial
    task = Task("full", ((a, a[:, ::-1].copy()), (b, b[:, ::-1].copy()), (c, c[:, ::-1].copy())), (t,))
    res = solve_task(task, Budget.seconds(5), max_depth=1, collect=only(FLIP, TURN), givens=False)
    assert [(c.program, c.partial) for c in res.candidates[0]] == [("flip_h", False)]


def test_a_full_fit_ranks_before_a_partial_fit_of_lower_cost():
    _, _, c, t = grids(4, (3, 3))
    # inputs 1-2 are symmetric both ways, so their outputs are identity, flip_h and rot180 of them at once;
    # demonstration 3 is only rot180 of its input
    a = np.array([[1, 2, 1], [3, 4, 3], [1, 2, 1]], np.uint8)
    b = np.array([[2, 2, 2], [5, 6, 5], [2, 2, 2]], np.uint8)
    turn_only = Op("rot180", lambda g: np.rot90(g, 2), cost=3)     # dearer than flip_h, but fits everywhere
    task = Task("rank", ((a, a[:, ::-1].copy()), (b, b[:, ::-1].copy()), (c, np.rot90(c, 2).copy())), (t,))
    res = solve_task(task, Budget.seconds(5), max_depth=1, collect=only(FLIP, turn_only), givens=False)
    # the full fit first; then the partial fits by cost: identity (0), flip_h (1)
    assert [(x.program, x.partial) for x in res.candidates[0]] == [
        ("rot180", False), ("identity", True), ("flip_h", True)]


def test_the_last_levels_post_pass_gives_a_partial_fit():
    rng = np.random.default_rng(5)
    inputs = [rng.choice(np.array([0, 0, 0, 1, 2, 3], np.uint8), size=(3, 4)) for _ in range(4)]
    for g in inputs:
        g[0, 0] = 1  # no input is all background
    low2 = Op("low2", lambda g: g[1:])
    outs = [np.hstack([g[1:], np.zeros((2, 1), np.uint8)]) for g in inputs]  # low2 embedded into 2 x 5
    outs[2] = np.full((2, 5), 9, np.uint8)                                   # demonstration 3 follows no rule
    task = Task("embed", tuple(zip(inputs[:3], outs[:3])), (inputs[3],))
    res = solve_task(task, Budget.seconds(5), max_depth=1, collect=only(low2), givens=False)
    best = res.candidates[0][0]
    assert best.partial and best.program == "low2 | embed" and np.array_equal(best.grid, outs[3])


def test_two_demonstrations_give_no_partial_fit():
    a, b, t = grids(3)
    task = Task("two", ((a, a[:, ::-1].copy()), (b, np.full_like(b, 9))), (t,))
    res = solve_task(task, Budget.seconds(5), max_depth=1, collect=only(FLIP, TURN), givens=False)
    assert res.candidates == [[]]


def test_partial_stack_paints_every_demonstration_but_one():
    # pieces A (left half right) and B (right half right) stack to the output of demonstrations 1 and 2;
    # on demonstration 3 piece A disagrees with the output, so only leaving it out admits A
    out = [np.array([[1, 1, 2, 2]], np.uint8), np.array([[3, 3, 4, 4]], np.uint8), np.array([[5, 5, 6, 6]], np.uint8)]
    a = ([[1, 1, 0, 0]], [[3, 3, 0, 0]], [[7, 7, 0, 0]])
    b = ([[0, 0, 2, 2]], [[0, 0, 4, 4]], [[0, 0, 6, 6]])
    pieces = Pieces()
    pieces.add("A", 1, tuple(np.array(x, np.uint8) for x in a), (np.array([[8, 8, 0, 0]], np.uint8),))
    pieces.add("B", 1, tuple(np.array(x, np.uint8) for x in b), (np.array([[0, 0, 9, 9]], np.uint8),))
    found = partial_stacks(pieces, tuple(out), 0, Budget.seconds(5))
    assert [(text, tests[0].tolist()) for text, _, tests in found] == [("stack(A [fg] ; B [fg])", [[8, 8, 9, 9]])]
    # with demonstration 3 consistent the stack is a full fit, which is no partial stack
    out[2] = np.array([[7, 7, 6, 6]], np.uint8)
    assert partial_stacks(pieces, tuple(out), 0, Budget.seconds(5)) == []


def _cand(grid, partial=False, cost=1.0):
    return vote.Candidate(np.asarray(grid, np.uint8), 1, 1.0, 0, "search", "p", partial, cost)


def test_the_runs_merge_ranks_every_full_fit_before_any_partial_fit():
    a, b, c = [[1]], [[2]], [[3]]
    raw, view = Run("raw", 1, 0.0), Run("transpose", 1, 1.5)
    merged = merge_runs([(raw, [[_cand(a, partial=True)]]), (view, [[_cand(b, cost=40), _cand(c, cost=60)]])], 1)[0]
    assert [(m.grid.tolist(), m.partial) for m in merged] == [(b, False), (c, False), (a, True)]   # costs aside
    # a grid one run fits fully and another partly is a full fit
    merged = merge_runs([(raw, [[_cand(a, partial=True)]]), (view, [[_cand(a)]])], 1)[0]
    assert [(m.grid.tolist(), m.partial) for m in merged] == [(a, False)]


def test_the_sources_merge_puts_a_partial_fit_after_a_full_fit_and_behind_a_fair_trm_vote():
    trm = [vote.Candidate(np.array([[7]], np.uint8), 12, 0.5, 0, "trm"),
           vote.Candidate(np.array([[6]], np.uint8), 8, 0.5, 0, "trm")]
    per = {"search": [_cand([[1]]), _cand([[2]], partial=True)], "trm": trm}
    merged = vote.merge(per, "confidence")
    # full fit 0.95; TRM 12/20 x 0.5 = 0.3 and 0.2; the partial fit 0.04 last
    assert [m.grid.tolist() for m in merged] == [[[1]], [[7]], [[6]], [[2]]]
    assert vote.search_confidence(0, partial=True) < min(vote.SEARCH_CONFIDENCE)


def test_a_partial_candidate_is_tagged_in_the_journal_and_reads_back():
    rec = records.candidate(np.array([[1, 2]], np.uint8), 1, 1.0, "flip_h", partial=True)
    assert rec["partial"] is True
    assert "partial" not in records.candidate(np.array([[1, 2]], np.uint8), 1, 1.0, "flip_h")
    back = vote.candidates_from_records([rec], "search")[0]
    assert back.partial and back.program == "flip_h" and back.grid.tolist() == [[1, 2]]


def test_subset_stacks_enter_the_engine_by_demonstrations_reproduced_and_length(monkeypatch):
    from trm_submit.search import stack

    a, b, c, t = grids(4)
    task = Task("subsets", ((a, grids(1)[0]), (b, grids(1)[0]), (c, grids(1)[0])), (t,))
    answers = [np.full((3, 4), k, np.uint8) for k in range(5)]
    canned = [("full", 5, (answers[0],), 3, 2),   # every demonstration, 2 pieces: a full fit
              ("long", 5, (answers[1],), 3, 6),   # every demonstration, 6 pieces: a partial fit
              ("two", 3, (answers[2],), 2, 2),    # 2 of 3: a partial fit
              ("one", 1, (answers[3],), 1, 2)]    # 1 of 3: a partial fit after those that miss one
    monkeypatch.setattr(stack, "subset_stacks", lambda *args: canned)
    res = solve_task(task, Budget.seconds(5), max_depth=1, collect=only(), givens=False)
    assert [(x.program, x.partial) for x in res.candidates[0]] == [
        ("full", False), ("two", True), ("long", True), ("one", True)]
    # two demonstrations: reproducing one is no partial fit; a long stack reproducing both still is
    two = Task("two", ((a, grids(1)[0]), (b, grids(1)[0])), (t,))
    canned[:] = [("long", 5, (answers[1],), 2, 6), ("half", 1, (answers[3],), 1, 2)]
    res = solve_task(two, Budget.seconds(5), max_depth=1, collect=only(), givens=False)
    assert [(x.program, x.partial) for x in res.candidates[0]] == [("long", True)]
