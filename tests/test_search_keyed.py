"""Key recolouring (search.keyed) against plain loops on random grids, a hand-made per-object case and a
real ARC-AGI-1 training task."""

from __future__ import annotations

import numpy as np
from search_reference import assert_op_solves, random_sparse

from trm_submit.search import keyed
from trm_submit.search.keyed import fill_template, recolour_by_key


def _ref_by_key_left(g: np.ndarray, placeholder: int) -> np.ndarray:
    out = g.copy()
    for r in range(g.shape[0]):
        for c in range(g.shape[1]):
            if g[r, c] != placeholder:
                continue
            for x in range(c - 1, -1, -1):
                if g[r, x] not in (0, placeholder):
                    out[r, c] = g[r, x]
                    break
    return out


def test_recolour_by_key_per_cell_equals_reference():
    rng = np.random.default_rng(70)
    for _ in range(40):
        g = random_sparse(rng, 9, 9, colours=4, fill=0.4)
        g[0, 0] = 0
        assert (recolour_by_key(g, 0, 4, "left", False) == _ref_by_key_left(g, 4)).all()
        want_up = _ref_by_key_left(g.T.copy(), 4).T
        assert (recolour_by_key(g, 0, 4, "up", False) == want_up).all()


def test_recolour_by_key_per_object_takes_the_most_frequent_key():
    g = np.array([[2, 3, 3, 0],
                  [0, 0, 0, 0],
                  [5, 5, 5, 0],
                  [0, 0, 0, 5]], dtype=np.uint8)
    out = recolour_by_key(g, 0, 5, "up", True)
    # the 8-connected grey object sees keys 2, 3, 3 above its top row cells and 0/none for the rest
    assert out.tolist() == [[2, 3, 3, 0], [0, 0, 0, 0], [3, 3, 3, 0], [0, 0, 0, 3]]
    # 4-neighbour objects: the corner cell is an object of its own, with no key above it, and keeps its colour
    out = recolour_by_key(g, 0, 5, "up", True, mode="c4")
    assert out.tolist() == [[2, 3, 3, 0], [0, 0, 0, 0], [3, 3, 3, 0], [0, 0, 0, 5]]


def test_fill_template_hand_example():
    g = np.zeros((6, 7), np.uint8)
    g[0:2, 0:2] = [[1, 2], [0, 3]]     # the template (multicolour, with a background cell)
    g[4:6, 3:5] = 5                    # a 2x2 placeholder: same box shape
    g[0:3, 6:7] = 5                    # a 3x1 placeholder: no template of that shape, stays
    out = fill_template(g, 0, 5)
    want = g.copy()
    want[4:6, 3:5] = [[1, 2], [0, 3]]
    assert (out == want).all()
    assert fill_template(np.where(g == 5, 0, g).astype(np.uint8), 0, 5) is None   # no placeholder


def test_real_training_tasks():
    assert_op_solves(keyed, "c9f8e694", ["recolour_by_key(5,left,cell)"])
    assert_op_solves(keyed, "e76a88a6", ["fill_template(5)"])
    assert_op_solves(keyed, "ddf7fa4f", ["recolour_by_key(5,up,object4)"])   # two boxes touch at a corner


def test_frame_by_legend_rings_named_objects_and_leaves_their_holes():
    from trm_submit.search.keyed import frame_by_legend, legend_pairs
    g = np.zeros((9, 9), dtype=np.uint8)
    g[7:9, 0], g[7:9, 1] = 3, 1       # legend: 3 goes with 1 (two one-colour halves side by side)
    g[1:4, 2:5] = 3
    g[2, 3] = 0                       # a hole the 3-ring encloses
    g[1, 7] = 4                       # a colour the legend does not name
    table, mask = legend_pairs(g, 0)
    assert table == {3: 1} and mask.sum() == 4
    want = g.copy()
    want[0:5, 1:6] = np.where(g[0:5, 1:6] == 0, 1, g[0:5, 1:6])
    want[2, 3] = 0
    assert np.array_equal(frame_by_legend(g, 0), want)
    g[7:9, 1] = 2
    g[5, 7], g[6, 7] = 3, 1           # a second legend piece that disagrees (3 with 2, 3 with 1)
    assert frame_by_legend(g, 0) is None


def test_frame_by_legend_solves_a_training_task():
    assert_op_solves(keyed, "5adee1b2", ["frame_by_legend"], dataset="arc-agi-2")


def test_dye_by_marker_dyes_touched_shapes_and_drops_every_marker():
    from trm_submit.search.keyed import dye_by_marker
    g = np.zeros((6, 6), dtype=np.uint8)
    g[1, 1:4] = 6                     # a shape touched by a 3
    g[1, 4] = 3
    g[4, 0:2] = 6                     # a shape no marker touches
    g[5, 5] = 2                       # a lone marker
    want = np.zeros_like(g)
    want[1, 1:4] = 3
    want[4, 0:2] = 6
    assert np.array_equal(dye_by_marker(g, 0, 6), want)
    g[0, 1] = 4                       # a second marker colour on the same shape: no single dye
    assert dye_by_marker(g, 0, 6) is None


def test_dye_by_marker_solves_a_training_task():
    assert_op_solves(keyed, "b7256dcd", ["dye_by_marker(6)"], dataset="arc-agi-2")


def test_recolour_by_table_applies_the_pairs_in_order():
    g = np.zeros((6, 8), np.uint8)
    g[0:3, 0:2] = [[1, 4], [3, 5], [4, 6]]        # 1 -> 4, then 3 -> 5, then 4 -> 6: 1 ends as 6
    g[4, 4], g[5, 6], g[1, 5], g[2, 7] = 1, 3, 4, 8
    want = g.copy()
    want[4, 4], want[5, 6], want[1, 5] = 6, 5, 6    # 8 is no key: it stays; the table stays
    assert np.array_equal(keyed.recolour_by_table(g, 0), want)
    assert np.array_equal(keyed.recolour_by_table(g.T.copy(), 0), want.T)   # a table lying down: pairs as columns
    g[0, 2] = 7                                   # the block is no longer two wide: no table
    assert keyed.recolour_by_table(g, 0) is None


def test_recolour_by_table_solves_a_training_task():
    assert_op_solves(keyed, "e4888269", ["recolour_by_table"], dataset="arc-agi-2")
