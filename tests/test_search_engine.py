"""The search engine: breadth-first composition, dedup of states, exact verification with a fitted finisher,
the rank rule, the test-input failure policy, budget and state caps, and robustness to failing primitives."""

from __future__ import annotations

import numpy as np

from trm_submit.budget import Budget
from trm_submit.io.tasks import Task
from trm_submit.search import engine, library, solve_task
from trm_submit.search.colour import fit_colour_map
from trm_submit.search.dsl import GRID, LIST, Op, make_context, value_key

RNG = np.random.default_rng(7)


def grid(h: int, w: int, colours: int = 4, rng: np.random.Generator = RNG) -> np.ndarray:
    return rng.integers(0, colours, size=(h, w), dtype=np.uint8)


def make_task(fn, inputs: list[np.ndarray], n_test: int = 1) -> tuple[Task, list[np.ndarray]]:
    """A task whose demonstrations and test answers are `fn` of the inputs (the last n_test are tests)."""
    train = tuple((i, np.ascontiguousarray(fn(i), dtype=np.uint8)) for i in inputs[:-n_test])
    tests = tuple(inputs[-n_test:])
    return Task("hand", train, tests), [np.ascontiguousarray(fn(t), dtype=np.uint8) for t in tests]


def only(*ops: Op, fitters=()):
    return lambda ctx: (list(ops), list(fitters))


def test_one_step_task_gives_the_true_answer_with_its_program():
    task, truth = make_task(lambda g: g[:, ::-1], [grid(3, 4), grid(5, 2), grid(4, 4)])
    res = solve_task(task, Budget.seconds(10), max_depth=1)
    best = res.candidates[0][0]
    assert np.array_equal(best.grid, truth[0])
    assert best.source == "search" and best.mean_conf == 1.0 and best.count >= 1
    assert "flip_h" in best.program
    assert res.depth == 1 and res.stopped_by == "done"


def test_two_step_program_needs_depth_two(monkeypatch):
    monkeypatch.setattr(engine, "GENERIC_PIECES", False)  # their compositions are depth 2 at any search depth
    monkeypatch.setattr(library, "MAX_REFITS", 0)   # a refit would fit the flip after the depth-1 crop
    def crop_then_flip(g):
        rows, cols = np.flatnonzero((g != 0).any(1)), np.flatnonzero((g != 0).any(0))
        return g[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1][::-1, :]

    inputs = []
    for h, w, y, x in ((8, 9, 2, 3), (10, 7, 1, 4), (9, 9, 5, 1), (12, 10, 3, 3)):
        g = np.zeros((h, w), dtype=np.uint8)
        g[y: y + 3, x: x + 3] = grid(3, 3, 3) + 1
        inputs.append(g)
    task, truth = make_task(crop_then_flip, inputs)
    assert solve_task(task, Budget.seconds(10), max_depth=1).candidates == [[]]
    res = solve_task(task, Budget.seconds(10), max_depth=2)
    assert np.array_equal(res.candidates[0][0].grid, truth[0])
    assert res.candidates[0][0].program.count("|") == 1


def test_task_no_program_explains_gives_no_candidate():
    rng = np.random.default_rng(1)
    train = tuple((grid(5, 5, 6, rng), grid(4, 6, 6, rng)) for _ in range(3))
    task = Task("noise", train, (grid(5, 5, 6, rng),))
    res = solve_task(task, Budget.seconds(5), max_depth=2)
    assert res.candidates == [[]] and res.programs == 0


def test_same_values_everywhere_are_one_state():
    flip = Op("flip_h", lambda g: g[:, ::-1])
    mirror = Op("mirror", lambda g: np.fliplr(g))          # the same map under another name
    turn = Op("rot180", lambda g: np.rot90(g, 2))
    task, _ = make_task(lambda g: g, [grid(3, 3), grid(2, 4), grid(4, 2)])
    res = solve_task(task, Budget.seconds(5), max_depth=3, collect=only(flip, mirror, turn), givens=False)
    # stored states (levels 0..2; the last level only checks): input, flip_h, rot180, flip_v = flip_h | rot180
    # (mirror = flip_h and the double flips are duplicates)
    assert res.states == 4


def test_rank_rule_cheapest_program_first_then_agreement():
    # train inputs are symmetric left-right, so flip_h and identity agree on them; the test input is not
    sym = [np.array([[1, 2, 1], [3, 0, 3]], np.uint8), np.array([[4, 4], [5, 5]], np.uint8)]
    test = np.array([[1, 2, 3]], np.uint8)
    task = Task("rank", tuple((g, g.copy()) for g in sym), (test,))
    flip = Op("flip_h", lambda g: g[:, ::-1])
    flip2 = Op("flip_h_again", lambda g: g[:, ::-1], cost=1)
    res = solve_task(task, Budget.seconds(5), max_depth=2, collect=only(flip, flip2))
    grids = [c.grid for c in res.candidates[0]]
    assert np.array_equal(grids[0], test)              # the empty program (cost 0) comes first
    assert np.array_equal(grids[1], test[:, ::-1])
    assert res.candidates[0][0].program == "identity"
    assert [c.cost for c in res.candidates[0][:2]] == [0.0, 1.0]   # the cost the runs' merge ranks by


def test_more_agreeing_programs_win_at_equal_cost():
    g = np.array([[1, 2], [2, 1]], np.uint8)            # flip_h(g) == flip_v(g): both fit the demonstration
    task = Task("votes", ((g, g[::-1, :].copy()),),
                (np.array([[1, 2], [3, 4]], np.uint8), np.array([[1, 2, 3], [4, 5, 6]], np.uint8)))
    ops = only(Op("a_flip_h", lambda g: g[:, ::-1]),
               Op("b_flip_v", lambda g: g[::-1, :]),
               # = flip_v except on width 3: a distinct program that agrees with b_flip_v on test input 0
               Op("c_flip_v_or_transpose", lambda g: g[::-1, :] if g.shape[1] != 3 else g.T))
    res = solve_task(task, Budget.seconds(5), max_depth=1, collect=ops)
    first, second = res.candidates[0]
    assert np.array_equal(first.grid, [[3, 4], [1, 2]]) and first.count == 2   # two programs beat one
    assert np.array_equal(second.grid, [[2, 1], [4, 3]]) and second.count == 1
    assert [c.count for c in res.candidates[1]] == [1, 1, 1]


def test_colour_map_finisher_fixes_a_recoloured_answer():
    perm = np.array([0, 3, 1, 2, 4, 5, 6, 7, 8, 9], np.uint8)
    task, truth = make_task(lambda g: perm[g[::-1, :]], [grid(3, 3), grid(4, 5), grid(2, 6), grid(5, 5)])
    res = solve_task(task, Budget.seconds(5), max_depth=1,
                     collect=only(Op("flip_v", lambda g: g[::-1, :]), fitters=[fit_colour_map]))
    best = res.candidates[0][0]
    assert np.array_equal(best.grid, truth[0])
    assert best.program == "flip_v | colour_map(1->3, 2->1, 3->2)"


def test_test_input_failure_only_removes_that_test_answer():
    big = np.ones((4, 4), np.uint8)
    op = Op("top_row_if_small", lambda g: g[:1] if g.shape[0] < 4 else None)
    train = ((np.array([[1, 2], [3, 4]], np.uint8), np.array([[1, 2]], np.uint8)),)
    task = Task("fail", train, (np.array([[5, 6], [7, 8]], np.uint8), big))
    res = solve_task(task, Budget.seconds(5), max_depth=1, collect=only(op))
    assert np.array_equal(res.candidates[0][0].grid, [[5, 6]])
    # the op gives the big test input nothing (the post-pass may still answer it: identity | embed)
    assert all("top_row_if_small" not in c.program for c in res.candidates[1])


def test_raising_primitive_is_skipped():
    def boom(g):
        raise RuntimeError("bad primitive")

    task, truth = make_task(lambda g: g.T, [grid(2, 3), grid(3, 4), grid(3, 2)])
    res = solve_task(task, Budget.seconds(5), max_depth=2,
                     collect=only(Op("boom", boom), Op("transpose", lambda g: g.T)))
    assert np.array_equal(res.candidates[0][0].grid, truth[0])
    assert res.errors > 0


def test_list_values_flow_through_list_ops():
    split = Op("rows", lambda g: tuple(g[i: i + 1] for i in range(g.shape[0])), GRID, LIST)
    join = Op("join_reversed", lambda items: np.vstack(items[::-1]), LIST, GRID)
    task, truth = make_task(lambda g: g[::-1, :], [grid(3, 3), grid(4, 2), grid(2, 5)])
    res = solve_task(task, Budget.seconds(5), max_depth=2, collect=only(split, join))
    assert res.candidates[0][0].program == "rows | join_reversed"
    assert np.array_equal(res.candidates[0][0].grid, truth[0])


def test_budget_over_stops_the_search():
    slow = [Op(f"copy{i}", lambda g, i=i: np.roll(g, i % 5, axis=i % 2)) for i in range(40)]
    task, _ = make_task(lambda g: g, [grid(6, 6) for _ in range(4)])
    res = solve_task(task, Budget.seconds(0.0), max_depth=3, collect=only(*slow))
    assert res.stopped_by == "time" and res.depth == 0


def test_state_cap_stops_storing_states():
    shifts = [Op(f"roll{i}", lambda g, i=i: np.roll(g, i, axis=1)) for i in range(1, 6)]
    task, _ = make_task(lambda g: g, [grid(3, 8) for _ in range(3)])
    capped = solve_task(task, Budget.seconds(5), max_depth=3, max_states=4, collect=only(*shifts))
    free = solve_task(task, Budget.seconds(5), max_depth=3, collect=only(*shifts))
    assert capped.stopped_by == "states" and free.stopped_by == "done"
    assert capped.applications < free.applications


def test_answers_larger_than_30_are_not_candidates():
    task, _ = make_task(lambda g: np.tile(g, (1, 2)), [grid(3, 10), grid(2, 12), grid(2, 20)])
    res = solve_task(task, Budget.seconds(5), max_depth=1,
                     collect=only(Op("hcat", lambda g: np.hstack([g, g]))))
    assert res.programs == 1 and res.candidates == [[]]


def test_constant_output_task():
    out = np.array([[1, 2], [3, 4]], np.uint8)
    task = Task("const", tuple((grid(3, 3), out.copy()) for _ in range(3)), (grid(5, 5),))
    res = solve_task(task, Budget.seconds(5), max_depth=1)
    assert np.array_equal(res.candidates[0][0].grid, out)


def test_task_arrays_are_not_frozen_or_changed():
    task, _ = make_task(lambda g: g[:, ::-1], [grid(3, 4), grid(3, 3)])
    before = [g.copy() for g in task.grids]
    solve_task(task, Budget.seconds(5), max_depth=2)
    assert all(np.array_equal(a, b) for a, b in zip(before, task.grids))
    assert all(g.flags.writeable for g in task.grids)


def test_context_facts():
    i1 = np.array([[0, 0, 1], [0, 2, 0]], np.uint8)
    o1 = np.array([[5, 1]], np.uint8)
    ctx = make_context(Task("ctx", ((i1, o1),), (np.zeros((2, 2), np.uint8),)))
    assert ctx.bg == 0 and ctx.new_colours == (5,) and ctx.colours == (0, 1, 2, 5)
    assert ctx.const_shape == (1, 2) and not ctx.same_shape
    assert value_key(i1) == value_key(i1.copy()) != value_key(i1.T)


def symmetric_overlay(g: np.ndarray) -> np.ndarray:
    """Reference: each background cell takes the colour of its left-right mirror cell."""
    h, w = g.shape
    return np.array([[g[i, j] if g[i, j] else g[i, w - 1 - j] for j in range(w)] for i in range(h)], np.uint8)


def test_stacker_combines_pieces_that_each_fit_part_of_the_output():
    rng = np.random.default_rng(9)
    inputs = []
    for _ in range(4):
        g = rng.integers(1, 5, size=(4, 6), dtype=np.uint8)
        g[rng.random(g.shape) < 0.5] = 0
        inputs.append(g)
    task, truth = make_task(symmetric_overlay, inputs)
    res = solve_task(task, Budget.seconds(5), max_depth=2, collect=only(Op("flip_h", lambda g: g[:, ::-1])))
    best = res.candidates[0][0]
    assert np.array_equal(best.grid, truth[0])
    assert best.program == "stack(identity [fg] ; flip_h [all])"


def test_last_level_skips_shape_keeping_ops_on_states_of_the_wrong_shape():
    calls = []

    def recolour(g):
        calls.append(g.shape)
        return np.where(g > 0, 5, 0).astype(np.uint8)

    task, truth = make_task(lambda g: np.where(g[:2] > 0, 5, 0), [grid(4, 3), grid(4, 5), grid(4, 4)])
    ops = only(Op("top_half", lambda g: g[: g.shape[0] // 2]), Op("recolour", recolour, keeps_shape=True))
    res = solve_task(task, Budget.seconds(5), max_depth=2, collect=ops, givens=False)
    assert np.array_equal(res.candidates[0][0].grid, truth[0])
    assert res.candidates[0][0].program == "top_half | recolour"
    # level 1 calls recolour on every input (3 values); level 2 only on the half-height state (2 train + 1 test)
    assert len(calls) == 3 + 3


def _pieces(*items):
    from trm_submit.search.stack import Pieces

    pieces = Pieces()
    for text, train, test in items:
        pieces.add(text, 1, (np.array(train, np.uint8),), (np.array(test, np.uint8),))
    return pieces


def test_stacker_steps_and_test_painting_by_hand():
    from trm_submit.search.stack import stacks

    target = (np.array([[1, 2], [0, 3]], np.uint8),)
    pieces = _pieces(("A", [[1, 0], [0, 0]], [[7, 0]]), ("B", [[0, 2], [0, 3]], [[0, 4]]),
                     ("C", [[9, 9], [0, 9]], [[5, 5]]))
    found = stacks(pieces, target, 0, Budget.seconds(5))
    # greedy: B [fg] paints 2 cells; then A [all] paints the last 2 correctly (more than A [fg] or C [bg])
    text, cost, tests = found[0]
    assert text == "stack(B [fg] ; A [all])" and cost == 1 + 1 + 2
    assert tests[0].tolist() == [[7, 4]]


def test_stacker_drops_a_test_answer_left_partly_unpainted():
    from trm_submit.search.stack import stacks

    target = (np.array([[1, 2]], np.uint8),)
    pieces = _pieces(("A", [[1, 0]], [[3, 0, 0]]), ("B", [[0, 2]], [[0, 0, 4]]))
    found = stacks(pieces, target, 0, Budget.seconds(5))
    assert found and found[0][0] == "stack(A [fg] ; B [fg])" and found[0][2] == (None,)


def test_memory_cap_stops_storing_states(monkeypatch):
    shifts = [Op(f"roll{i}", lambda g, i=i: np.roll(g, i, axis=1)) for i in range(1, 6)]
    task, _ = make_task(lambda g: g, [grid(3, 8) for _ in range(3)])
    monkeypatch.setattr(engine, "MAX_BYTES", 2000)       # room for a few 3-value states of 24 cells
    res = solve_task(task, Budget.seconds(5), max_depth=3, collect=only(*shifts))
    assert res.stopped_by == "states"


def test_warm_up_compiles_every_search_kernel():
    """In a fresh process, warm_up() leaves no numba kernel of the search uncompiled (a first task never pays
    for compilation out of its share)."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("from numba.core.registry import CPUDispatcher\n"
            "from trm_submit.search import grid_loops, warm_up\n"
            "warm_up()\n"
            "jitted = {n: f for n, f in vars(grid_loops).items() if isinstance(f, CPUDispatcher)}\n"
            "assert jitted, 'no kernels found'\n"
            "cold = sorted(n for n, f in jitted.items() if not f.signatures)\n"
            "print(len(jitted), cold)\n")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=300,
                         env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr
    n, cold = out.stdout.split(" ", 1)
    assert int(n) >= 5 and cold.strip() == "[]", out.stdout


def test_blank_output_canvas_is_a_start_state():
    """Outputs that ignore the input: a 1-cell frame on a blank canvas of the (constant) output size."""
    from trm_submit.search.draw import frame

    want = frame(np.zeros((4, 5), np.uint8), 8)
    inputs = [np.eye(3, dtype=np.uint8), np.eye(6, 2, dtype=np.uint8) * 2, np.eye(5, dtype=np.uint8) * 3]  # bg 0
    task = Task("blank", tuple((i, want) for i in inputs[:2]), (inputs[2],))
    ring = Op("frame(8)", lambda g: frame(g, 8))
    res = solve_task(task, Budget.seconds(5), max_depth=2, collect=only(ring))
    assert np.array_equal(res.candidates[0][0].grid, want)
    assert res.candidates[0][0].program == "blank_output | frame(8)"
    assert res.predicted_sizes == [(4, 5)]
    assert solve_task(task, Budget.seconds(5), max_depth=2, collect=only(ring), givens=False).candidates == [[]]


def test_refit_fits_the_same_shape_ops_on_a_states_values():
    """A task whose outputs change shape: after the crop to the fenced panel, the rays toward each colour's own
    edge are fitted on the crops -> outputs (5daaa586); the memorising modules are not refitted."""
    from search_reference import training_task

    from trm_submit.search import select
    task, solutions = training_task("5daaa586")
    ctx = make_context(task)
    refit = library._refitter()
    crops = [select.crop_line_box(i, ctx.bg) for i in ctx.train_in]
    op = refit(crops, list(ctx.train_out))
    assert op is not None and op.name == "own_wall_rays"
    assert np.array_equal(op.fn(select.crop_line_box(task.test_inputs[0], ctx.bg)), solutions[0])
    res = solve_task(task, Budget.seconds(20))
    assert np.array_equal(res.candidates[0][0].grid, solutions[0])
    assert refit(crops[::-1], list(ctx.train_out)) is None        # crops of other outputs: nothing fits
    for _ in range(library.MAX_REFITS):
        refit(crops, list(ctx.train_out))
    assert refit(crops, list(ctx.train_out)) is None               # the task's refits are used up
    assert library.rewrite not in library.REFIT_REGISTRY and library.lookup not in library.REFIT_REGISTRY
