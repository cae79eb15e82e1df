"""Object rewrites (search/rewrite.py) against grids written by hand and real ARC-AGI-1 training tasks."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves

from trm_submit.io.tasks import Task
from trm_submit.search import rewrite
from trm_submit.search.dsl import make_context

HOLLOW = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.uint8)
PLUS = np.array([[0, 2, 0], [2, 2, 2], [0, 2, 0]], dtype=np.uint8)
BAR = np.array([[1, 1, 1]], dtype=np.uint8)


def _canvas(*placed, side: int = 9) -> np.ndarray:
    g = np.zeros((side, side), dtype=np.uint8)
    for patch, r, c in placed:
        g[r:r + patch.shape[0], c:c + patch.shape[1]] = patch
    return g


def _task(pairs, tests) -> Task:
    return Task("hand", tuple(pairs), tuple(tests))


def test_hollow_squares_become_pluses_and_other_shapes_stay():
    pairs = [(_canvas((HOLLOW, 0, 0), (BAR, 6, 4)), _canvas((PLUS, 0, 0), (BAR, 6, 4))),
             (_canvas((BAR, 1, 1), (HOLLOW, 4, 5)), _canvas((BAR, 1, 1), (PLUS, 4, 5)))]
    test = _canvas((HOLLOW, 5, 1), (HOLLOW, 0, 6), (BAR, 2, 0))
    ops = rewrite.ops(make_context(_task(pairs, [test])))
    assert [op.name for op in ops][:1] == ["rewrite(c4,margin 0;2 looks)"]
    want = _canvas((PLUS, 5, 1), (PLUS, 0, 6), (BAR, 2, 0))
    assert (ops[0].fn(test) == want).all()
    # a shape no demonstration shows has no known rewrite
    unseen = _canvas((HOLLOW, 0, 0), (np.ones((2, 2), dtype=np.uint8), 6, 6))
    assert ops[0].fn(unseen) is None


def test_a_margin_paints_around_each_object_and_is_cut_at_the_edge():
    seed = np.array([[5]], dtype=np.uint8)
    ring = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], dtype=np.uint8)
    pairs = [(_canvas((seed, 2, 2), side=6), _canvas((ring, 1, 1), side=6)),
             (_canvas((seed, 3, 4), side=6), _canvas((ring, 2, 3), side=6))]
    table = rewrite.fit_rewrites(pairs, 0, "c4", 1)
    assert table is not None and len(table) == 1
    assert rewrite.fit_rewrites(pairs, 0, "c4", 0) is not None   # fits the seed alone, but does not reproduce
    corner = _canvas((seed, 0, 5), side=6)
    want = corner.copy()
    want[0:2, 4:6] = 1
    want[0, 5] = 5
    assert (rewrite.apply_rewrites(corner, 0, "c4", 1, table) == want).all()
    names = [op.name for op in rewrite.ops(make_context(_task(pairs, [corner])))]
    assert names == ["rewrite(c4,margin 1;1 looks)"]


def test_disagreeing_demonstrations_do_not_fit():
    pairs = [(_canvas((HOLLOW, 0, 0)), _canvas((PLUS, 0, 0))),
             (_canvas((HOLLOW, 3, 3)), _canvas((HOLLOW, 3, 3)))]
    assert rewrite.fit_rewrites(pairs, 0, "c4", 0) is None
    assert rewrite.ops(make_context(_task(pairs, [pairs[0][0]]))) == []


@pytest.mark.parametrize("task_id,name", [("6c434453", "rewrite(c4,margin 0;5 looks)"),
                                          ("b60334d2", "rewrite(c4,margin 1;1 looks)")])
def test_training_tasks_solved_by_a_rewrite(task_id, name):
    assert_op_solves(rewrite, task_id, [name])


def test_rewrite_touching_recolours_touching_pairs_in_any_orientation():
    g = np.zeros((5, 5), np.uint8)
    g[0, 0], g[0, 1] = 3, 2          # side by side
    g[3, 3], g[2, 3] = 3, 2          # the 2 above the 3
    g[4, 0] = 3                      # a 3 touching no 2: stays
    want = g.copy()
    want[0, 0], want[0, 1] = 8, 0
    want[3, 3], want[2, 3] = 8, 0
    assert np.array_equal(rewrite.rewrite_touching(g, 3, 2, 8, 0), want)
    assert rewrite.rewrite_touching(g, 3, 5, 8, 0) is None      # no 3 touches a 5


def test_rewrite_touching_solves_a_training_task():
    assert_op_solves(rewrite, "d90796e8", ["rewrite_touching(2>0,3>8)"])


L = np.array([[4, 0], [4, 4]], dtype=np.uint8)
L_FILLED = np.array([[4, 1], [4, 4]], dtype=np.uint8)


def test_a_turned_rewrite_turns_the_patch_with_the_object():
    # the demonstrations show the L in two orientations; the test shows it in two others
    pairs = [(_canvas((L, 0, 0), (BAR, 6, 4)), _canvas((L_FILLED, 0, 0), (BAR, 6, 4))),
             (_canvas((np.rot90(L), 4, 4)), _canvas((np.rot90(L_FILLED), 4, 4)))]
    test = _canvas((np.rot90(L, 2), 0, 5), (L.T, 5, 1), (BAR, 3, 3))
    ops = {op.name: op for op in rewrite.ops(make_context(_task(pairs, [test])))}
    assert not any("turned" not in name for name in ops)   # as they are, the test's Ls are unseen
    turned = ops["rewrite(c4,margin 0,turned;2 looks)"]
    want = _canvas((np.rot90(L_FILLED, 2), 0, 5), (L_FILLED.T, 5, 1), (BAR, 3, 3))
    assert (turned.fn(test) == want).all()
    # a symmetric object's patch must agree under each map that leaves it as it is: a bar painted at one end does not
    bars = [(_canvas((BAR, 0, 0)), _canvas((np.array([[2, 1, 1]], np.uint8), 0, 0)))]
    assert rewrite.fit_rewrites(bars, 0, "c4", 0, turned=True) is None


def test_a_turned_rewrite_solves_a_training_task():
    assert_op_solves(rewrite, "3aa6fb7a", ["rewrite(c4,margin 0,turned;1 looks)"])
