"""Attraction toward an anchor colour (search.move) against a plain step-by-step reference on random grids,
a hand-made case, and real ARC-AGI-1 training tasks."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves, random_sparse, ref_components

from trm_submit.io.tasks import Task
from trm_submit.search import move
from trm_submit.search.dsl import make_context
from trm_submit.search.move import attract


def _ref_attract(g: np.ndarray, anchor: int) -> np.ndarray:
    ys, xs = np.nonzero(g == anchor)
    top, left, bottom, right = ys.min(), xs.min(), ys.max(), xs.max()
    movers = np.where(g == anchor, 0, g)
    comps = ref_components(movers, 0, True, True)
    comps.sort(key=lambda cs: (min(y for y, _ in cs), min(x for _, x in cs)))
    cy, cx = (top + bottom) / 2, (left + right) / 2
    comps.sort(key=lambda cs: abs(min(y for y, _ in cs) - cy) + abs(min(x for _, x in cs) - cx))
    out = g.copy()
    h, w = g.shape
    for cs in comps:
        colours = {(y, x): out[y, x] for y, x in cs}
        for y, x in cs:
            out[y, x] = 0
        cells = list(cs)
        while True:
            y0, y1 = min(y for y, _ in cells), max(y for y, _ in cells)
            x0, x1 = min(x for _, x in cells), max(x for _, x in cells)
            dy = 1 if y1 < top else -1 if y0 > bottom else 0
            dx = 1 if x1 < left else -1 if x0 > right else 0
            if (dy, dx) == (0, 0) or not all(0 <= y + dy < h and 0 <= x + dx < w and out[y + dy, x + dx] == 0
                                             for y, x in cells):
                break
            cells = [(y + dy, x + dx) for y, x in cells]
        for (y, x), (oy, ox) in zip(cells, cs):
            out[y, x] = colours[(oy, ox)]
    return out


def test_attract_equals_reference():
    rng = np.random.default_rng(60)
    for _ in range(60):
        g = random_sparse(rng, 12, 12, colours=2, fill=0.08)
        g[5:7, 5:8] = 3
        assert (attract(g, 0, 3) == _ref_attract(g, 3)).all()


def test_attract_hand_example():
    g = np.zeros((5, 7), np.uint8)
    g[2, 3] = 8          # anchor
    g[2, 0] = 1          # same row: slides right until next to the anchor
    g[0, 6] = 2          # no shared row or column: down-left to (1, 5), (2, 4), then blocked by the anchor
    out = attract(g, 0, 8)
    assert out.tolist() == [[0] * 7, [0] * 7, [0, 0, 1, 8, 2, 0, 0], [0] * 7, [0] * 7]
    assert attract(g, 0, 5) is None   # no anchor of colour 5
    painted = attract(g, 0, 8, paint=True)   # the same moves, the moved cells in the anchor's colour
    assert painted.tolist() == [[0] * 7, [0] * 7, [0, 0, 8, 8, 8, 0, 0], [0] * 7, [0] * 7]


@pytest.mark.parametrize("task_id,names", [
    ("05f2a901", ["attract(8)"]),
    ("a48eeaf7", ["attract(2)"]),
    ("4093f84a", ["attract(5,paint)"]),
])
def test_real_training_tasks(task_id, names):
    assert_op_solves(move, task_id, names)


def _ref_shift(g: np.ndarray, offsets: dict[int, tuple[int, int]]) -> np.ndarray:
    """Cell by cell: a moved colour leaves background behind and lands (in colour order) where it still fits."""
    out = g.copy()
    h, w = g.shape
    for (y, x), c in np.ndenumerate(g):
        if c and offsets[int(c)] != (0, 0):
            out[y, x] = 0
    for c in sorted(offsets):
        dy, dx = offsets[c]
        if (dy, dx) == (0, 0):
            continue
        for (y, x), v in np.ndenumerate(g):
            if v == c and 0 <= y + dy < h and 0 <= x + dx < w:
                out[y + dy, x + dx] = c
    return out


def test_shift_colours_equals_reference():
    rng = np.random.default_rng(61)
    offsets = {1: (0, 2), 2: (-1, 0), 3: (0, 0)}
    as_tuple = tuple((c, dy, dx) for c, (dy, dx) in offsets.items())
    for _ in range(40):
        g = random_sparse(rng, 9, 11, colours=3, fill=0.15)
        assert (move.shift_colours(g, 0, as_tuple) == _ref_shift(g, offsets)).all()
    g = np.zeros((4, 4), np.uint8)
    g[1, 1] = 4    # a colour without an offset: no answer
    assert move.shift_colours(g, 0, as_tuple) is None


def test_shift_colours_fitted_per_colour_on_a_hand_task():
    def grid(cells):
        g = np.zeros((6, 6), np.uint8)
        for (y, x), c in cells.items():
            g[y, x] = c
        return g
    # colour 1 goes two right, colour 2 one up, colour 5 stays
    pairs = [(grid({(2, 0): 1, (3, 3): 2, (0, 5): 5}), grid({(2, 2): 1, (2, 3): 2, (0, 5): 5})),
             (grid({(4, 1): 1, (4, 2): 1, (5, 5): 2}), grid({(4, 3): 1, (4, 4): 1, (4, 5): 2}))]
    test = grid({(1, 1): 1, (5, 0): 2, (3, 3): 5})
    from trm_submit.io.tasks import Task
    from trm_submit.search.dsl import make_context
    ops = {op.name: op for op in move.ops(make_context(Task("hand", tuple(pairs), (test,))))}
    op = ops["shift_colours(1:0,2 2:-1,0)"]
    assert (op.fn(test) == grid({(1, 3): 1, (4, 0): 2, (3, 3): 5})).all()


@pytest.mark.parametrize("task_id,name", [
    ("342dd610", "shift_colours(1:0,1 2:0,-2 7:-2,0 9:2,0)"),   # each colour its own direction
    ("f45f5ca7", "shift_colours(2:0,2 3:0,4 4:0,3 8:0,1)"),     # each colour its own distance
])
def test_shift_colours_on_arc_agi_2_training_tasks(task_id, name):
    assert_op_solves(move, task_id, [name], dataset="arc-agi-2")


def test_move_by_measure_hand_example():
    g = np.zeros((8, 5), np.uint8)
    g[7, :] = 8                    # the floor: a colour that stays
    g[5:7, 0] = 1                  # a 2-cell bar: rises 2
    g[6, 2:5] = 3                  # a 3-cell bar: rises 3
    out = move.move_by_measure(g, 0, "c8", "up", "cells", (8,))
    want = np.zeros((8, 5), np.uint8)
    want[7, :] = 8
    want[3:5, 0] = 1
    want[3, 2:5] = 3
    assert (out == want).all()
    assert (move.move_by_measure(g, 0, "c8", "up", "height", (8,))[3:5, 0] == 1).all()   # height 2 for the bar
    assert move.move_by_measure(np.zeros((3, 3), np.uint8), 0, "c8", "up", "cells", ()) is None


def test_move_by_measure_never_adds_cells_to_a_colour_the_premise_of_its_cheap_gate():
    from trm_submit.io.tasks import Task
    from trm_submit.search.dsl import make_context
    rng = np.random.default_rng(42)
    for _ in range(60):
        g = (rng.random((7, 9)) < 0.3) * rng.integers(1, 5, (7, 9))
        g = g.astype(np.uint8)
        for mode, direction, measure in (("c8", "up", "cells"), ("c4", "right", "width"), ("m8", "down", "height")):
            out = move.move_by_measure(g, 0, mode, direction, measure, (4,))
            if out is not None:
                assert move._no_colour_grows(make_context(Task("moved", ((g, out),), (g,))))
    grown = np.array([[1, 0], [0, 0]], np.uint8), np.array([[1, 1], [0, 0]], np.uint8)
    assert not move._no_colour_grows(make_context(Task("grown", (grown,), (grown[0],))))


@pytest.mark.parametrize("task_id,dataset,name", [
    ("5521c0d9", "arc-agi-1", "move_by_measure(c8,up,height)"),   # each block rises by its height
    ("b2bc3ffd", "arc-agi-2", "move_by_measure(c8,up,cells)"),    # each shape rises by its cell count
])
def test_move_by_measure_on_training_tasks(task_id, dataset, name):
    assert_op_solves(move, task_id, [name], dataset=dataset)


def test_to_own_colour_moves_lone_cells_next_to_their_colour_over_obstacles():
    g = np.zeros((5, 7), np.uint8)
    g[:, 0] = 2          # a wall of 2s on the left
    g[:, 6] = 3          # a wall of 3s on the right
    g[1, 4] = 2          # goes left, over nothing, to column 1
    g[3, 1] = 3          # goes right to column 5
    g[2, 3] = 5          # no 5 anywhere else: erased, or kept
    want = np.zeros_like(g)
    want[:, 0], want[:, 6] = 2, 3
    want[1, 1], want[3, 5] = 2, 3
    assert (move.to_own_colour(g, 0, False) == want).all()
    want[2, 3] = 5
    assert (move.to_own_colour(g, 0, True) == want).all()
    tie = np.zeros((3, 5), np.uint8)
    tie[1, 0], tie[1, 4], tie[1, 2] = 4, 4, 4   # two walls of its colour equally near: no answer
    tie[0, 0], tie[2, 0], tie[0, 4], tie[2, 4] = 4, 4, 4, 4
    assert move.to_own_colour(tie, 0, False) is None


@pytest.mark.parametrize("task_id", ["1a07d186", "d687bc17"])
def test_to_own_colour_solves_training_tasks(task_id):
    assert_op_solves(move, task_id, ["to_own_colour(erase)"])


def test_to_own_wall_slides_objects_as_rigid_bodies_nearest_first():
    g = np.zeros((6, 8), np.uint8)
    g[:, 0] = 2               # the left edge is 2s, the right edge 3s
    g[:, 7] = 3
    g[1, 3:5] = 2             # a 2-bar: slides left to columns 1-2
    g[3, 4], g[4, 5] = 2, 2   # a diagonal 2-pair (one 8-neighbour object): its left cell stops at column 1
    g[5, 3] = 3               # a 3-cell: slides right to column 6
    g[0, 4] = 5               # no edge of 5s: erased, or kept
    want = np.zeros_like(g)
    want[:, 0], want[:, 7] = 2, 3
    want[1, 1:3] = 2
    want[3, 1], want[4, 2] = 2, 2
    want[5, 6] = 3
    assert (move.to_own_wall(g, 0, False) == want).all()
    want[0, 4] = 5
    assert (move.to_own_wall(g, 0, True) == want).all()
    blocked = np.zeros((3, 6), np.uint8)
    blocked[:, 0] = 4
    blocked[1, 1], blocked[1, 4] = 6, 4   # the 4 stops against the 6 in its way
    assert move.to_own_wall(blocked, 0, True)[1].tolist() == [4, 6, 4, 0, 0, 0]
    assert move.to_own_wall(np.zeros((3, 3), np.uint8), 0, True) is None   # no edge of one colour


@pytest.mark.parametrize("task_id,dataset", [("d687bc17", "arc-agi-1"), ("f0100645", "arc-agi-2")])
def test_to_own_wall_solves_training_tasks(task_id, dataset):
    assert_op_solves(move, task_id, ["to_own_wall(erase)"], dataset=dataset)


def test_reflect_out_mirrors_each_object_across_its_nearest_spanning_line():
    g = np.zeros((9, 8), np.uint8)
    g[2, 1:6] = 2                 # a 2-line over columns 1-5
    g[3, 3], g[4, 2:4] = 5, 5     # an L under it, rows 3-4: mirrored across row 2 to rows 0-1
    g[6:9, 5] = 2                 # a 2-column over rows 6-8
    g[7, 3] = 4                   # two cells left of it: mirrored to column 7
    want = np.zeros_like(g)
    want[2, 1:6], want[6:9, 5] = 2, 2
    want[1, 3], want[0, 2:4] = 5, 5
    want[7, 7] = 4
    assert np.array_equal(move.reflect_out(g, 0, 2), want)
    g[6:9, 1] = 2                 # a second column, as near to the 4 as the first: no answer
    assert move.reflect_out(g, 0, 2) is None
    g[6:9, 1], g[7, 3], g[7, 2] = 0, 0, 4   # three cells left of column 5: its mirror (column 8) leaves the grid
    assert move.reflect_out(g, 0, 2) is None


@pytest.mark.parametrize("task_id", ["f8a8fe49", "6855a6e4"])
def test_reflect_out_solves_training_tasks(task_id):
    assert_op_solves(move, task_id, ["reflect_out(2)"])


def test_gather_onto_moves_each_lone_cell_to_its_nearest_target_cell():
    g = np.zeros((8, 8), np.uint8)
    g[3:5, 3:5] = 8
    g[0, 0], g[0, 7], g[7, 6] = 1, 2, 3
    want = np.zeros_like(g)
    want[3:5, 3:5] = 8
    want[3, 3], want[3, 4], want[4, 4] = 1, 2, 3
    assert np.array_equal(move.gather_onto(g, 0, 8), want)
    g[2, 1] = 4                    # nearest to the same corner as the 1: no answer
    assert move.gather_onto(g, 0, 8) is None
    tie = np.zeros((3, 5), np.uint8)
    tie[1, 0], tie[1, 4], tie[1, 2] = 8, 8, 5   # two target cells equally near
    assert move.gather_onto(tie, 0, 8) is None


def test_gather_onto_solves_a_real_training_task():
    assert_op_solves(move, "d89b689b", ["gather_onto(8)"])


def test_to_anchor_pulls_cells_next_to_the_anchor_they_see():
    g = np.zeros((7, 7), np.uint8)
    g[3, 3] = 2                    # the anchor
    g[0, 3], g[3, 6] = 5, 5        # above it and right of it: pulled next to it
    g[6, 0] = 4                    # sees no anchor: stays
    want = np.zeros_like(g)
    want[3, 3], want[2, 3], want[3, 4], want[6, 0] = 2, 5, 5, 4
    assert np.array_equal(move.to_anchor(g, 0, (2,)), want)
    g[3, 0] = 7                    # left of it, three cells away; the 5 on the right also three: both move
    want[3, 2] = 7
    assert np.array_equal(move.to_anchor(g, 0, (2,)), want)
    between = np.zeros((1, 5), np.uint8)
    between[0, 0], between[0, 4], between[0, 2] = 2, 2, 5   # sees two anchors equally near: no answer
    assert move.to_anchor(between, 0, (2,)) is None


def test_to_anchor_solves_a_real_training_task():
    assert_op_solves(move, "ae3edfdc", ["to_anchor(12)"])


def test_align_moves_every_object_to_the_anchors_top_row():
    g = np.zeros((6, 7), np.uint8)
    g[2:4, 0] = 1            # the anchor, rows 2-3
    g[0, 2:4] = 5            # moves down to row 2
    g[4:6, 5] = 6            # moves up to row 2
    want = np.zeros_like(g)
    want[2:4, 0] = 1
    want[2, 2:4] = 5
    want[2:4, 5] = 6
    assert (move.align(g, 0, 1) == want).all()
    assert move.align(g, 0, 7) is None           # no anchor
    low = np.zeros((4, 3), np.uint8)
    low[3, 0] = 1
    low[0:3, 2] = 4                              # three rows tall from row 3: leaves the grid
    assert move.align(low, 0, 1) is None


def test_align_solves_a_training_task():
    assert_op_solves(move, "1caeab9d", ["align(1)"])


def test_step_to_corner_moves_each_block_toward_its_marked_corner():
    g = np.full((8, 8), 7, np.uint8)
    g[1:3, 1:4] = 2
    g[1, 1] = 8                      # the 2-block's top-left corner is marked: it steps up-left
    g[5:8, 4:6] = 3
    g[5, 5] = 8                      # the 3-block's top-right corner: up-right
    want = np.full((8, 8), 7, np.uint8)
    want[0:2, 0:3] = 2
    want[4:7, 5:7] = 3
    assert np.array_equal(move.step_to_corner(g, 7), want)
    g[1:3, 1:4] = 2                  # the 2-block unmarked, and the 3-block's marker moved to its bottom-right,
    g[5, 5], g[7, 5] = 3, 8          # at the grid's edge: its step would leave the grid
    assert move.step_to_corner(g, 7) is None


def test_step_to_corner_solves_a_training_task():
    assert_op_solves(move, "470c91de", ["step_to_corner"], "arc-agi-2")


def test_dock_turns_each_shape_onto_the_markers_that_repeat_its_key_cells():
    g = np.zeros((9, 9), np.uint8)
    g[1, 1:5] = 5
    g[1, 1], g[1, 4] = 2, 3          # a bar of 5 with a 2 at its left end and a 3 at its right end
    g[4, 6], g[7, 6] = 2, 3          # the same two colours, stacked three apart
    want = np.zeros((9, 9), np.uint8)
    want[4:8, 6] = [2, 5, 5, 3]      # the bar turned upright onto them, gone from where it was
    assert np.array_equal(move.dock(g, keep=False), want)
    g[7, 6] = 4                      # a marker of another colour: no place for the bar
    assert move.dock(g, keep=False) is None
    g[7, 6] = 3
    g[3, 1], g[3, 4] = 2, 3          # a second place for the same bar: ambiguous when moving it
    assert move.dock(g, keep=False) is None
    both = g.copy()
    both[3, 1:5], both[4:8, 6] = [2, 5, 5, 3], [2, 5, 5, 3]
    assert np.array_equal(move.dock(g, keep=True), both)   # copied onto both groups, the bar kept
    g[0, 8] = 2                      # a marker no placement uses
    assert move.dock(g, keep=True) is None


def test_dock_solves_a_training_task():
    assert_op_solves(move, "0e206a2e", ["dock(move)"])
    assert_op_solves(move, "6aa20dc0", ["dock(copy)"])   # copied at scales 1 to 3, the background differs by pair


def test_move_by_count_moves_the_rest_one_step_per_marker_cell():
    from trm_submit.search.move import move_by_count
    g = np.zeros((6, 6), np.uint8)
    g[2, 1:3] = 4                          # a bar
    g[0, 5] = g[1, 5] = 5                  # two markers: two steps
    want = np.zeros((6, 6), np.uint8)
    want[4, 1:3] = 4
    assert np.array_equal(move_by_count(g, 0, 5, "down", False), want)
    want = np.zeros((6, 6), np.uint8)
    want[0, 3:5] = 4                       # up-right two steps
    assert np.array_equal(move_by_count(g, 0, 5, "ur", False), want)
    g[:, 0] = 3                            # a line across the grid: lost at the edge, or continued with `extend`
    lost, kept = move_by_count(g, 0, 5, "down", False), move_by_count(g, 0, 5, "down", True)
    assert lost[:2, 0].tolist() == [0, 0] and (kept[:, 0] == 3).all() and kept[4, 1:3].tolist() == [4, 4]
    assert move_by_count(np.zeros((3, 3), np.uint8), 0, 5, "down", False) is None   # no marker


def test_move_by_count_solves_a_training_task():
    assert_op_solves(move, "e48d4e1a", ["move_by_count(5,dl,extend)"])


def test_snap_pairs_moves_the_later_cell_of_a_known_pair_beside_the_earlier():
    g = np.array([[4, 0, 0, 7, 0],
                  [6, 0, 0, 7, 0],
                  [0, 7, 0, 0, 4]], np.uint8)
    want = np.array([[4, 7, 0, 0, 0],
                     [6, 0, 0, 7, 0],      # 6 and 7: not a pair
                     [0, 7, 4, 0, 0]], np.uint8)
    assert np.array_equal(move.snap_pairs(g, 0, frozenset({(4, 7)}), 0), want)
    assert np.array_equal(move.snap_pairs(g.T.copy(), 0, frozenset({(4, 7)}), 1), want.T)
    assert move.snap_pairs(g, 0, frozenset({(1, 2)}), 0) is None    # nothing moves


def test_snap_pairs_reads_the_pairs_off_the_demonstrations():
    a = np.array([[4, 0, 0, 7], [6, 0, 7, 0]], np.uint8)
    b = np.array([[4, 7, 0, 0], [6, 0, 7, 0]], np.uint8)
    test = np.array([[0, 7, 0, 4], [7, 0, 0, 6]], np.uint8)
    ops = {o.name: o for o in move.ops(make_context(Task("hand", ((a, b),), (test,))))}
    assert np.array_equal(ops["snap_pairs(rows;47)"].fn(test), np.array([[0, 7, 4, 0], [7, 0, 0, 6]], np.uint8))
    # a pair that one demonstration snaps and another leaves apart is no rule
    c = np.array([[7, 0, 4, 0]], np.uint8)
    names = [o.name for o in move.ops(make_context(Task("hand", ((a, b), (c, c.copy())), (test,))))]
    assert not [n for n in names if n.startswith("snap_pairs")]


def test_snap_pairs_solves_a_training_task():
    assert_op_solves(move, "494ef9d7", ["snap_pairs(rows;18,47)"], dataset="arc-agi-2")


def test_plug_holes_moves_each_piece_into_the_hole_of_its_shape():
    g = np.zeros((8, 8), dtype=np.uint8)
    g[0:4, 0:4] = 5
    g[1:3, 1], g[1, 2] = 0, 0                    # an L-shaped hole in a box of 5
    g[5, 5:7], g[6, 5] = 3, 3                    # a piece of that L shape
    g[7, 0:2] = 4                                # a bar: no hole of its shape, it stays
    want = g.copy()
    want[5, 5:7], want[6, 5] = 0, 0              # the piece leaves its place
    want[1:3, 1], want[1, 2] = 3, 3              # and fills the hole
    got = move.plug_holes(g, 0)
    assert got is not None and (got == want).all()
    g[2, 5:7], g[3, 5] = 2, 2                    # a second piece of the L shape (and colour 2 nowhere else): a tie
    assert move.plug_holes(g, 0) is None
    g[7, 7] = 2                                  # 2 now scattered over two objects: the piece of 3 wins again
    want[2, 5:7], want[3, 5], want[7, 7] = 2, 2, 2
    got = move.plug_holes(g, 0)
    assert got is not None and (got == want).all()


def test_plug_holes_solves_a_training_task():
    assert_op_solves(move, "228f6490", ["plug_holes"])


def test_retract_tethers_pulls_the_body_in_along_its_stalk():
    g = np.zeros((9, 7), dtype=np.uint8)
    g[0:2, 1:6] = 4                              # the anchor
    g[2:5, 3] = 2                                # a stalk three cells long, its tip under the anchor
    g[5:7, 2:5] = 2                              # the body
    want = np.zeros((9, 7), dtype=np.uint8)
    want[0:2, 1:6] = 4
    want[2:4, 2:5] = 2                           # the body moved up three rows, the stalk gone
    got = move.retract_tethers(g, 0)
    assert got is not None and (got == want).all()
    loose = g.copy()
    loose[0:2, 1:6] = 0                          # nothing at the tip: nothing pulls
    assert move.retract_tethers(loose, 0) is None


def test_retract_tethers_solves_a_training_task():
    assert_op_solves(move, "98cf29f8", ["retract_tethers"])


def test_corners_inward_steps_the_matching_corner_blocks_in_by_their_size():
    g = np.zeros((8, 9), dtype=np.uint8)
    g[0:2, 0:3] = 5                              # 5 in two corners: both move
    g[6:8, 7:9] = 5
    g[0, 8] = 6                                  # 6 in one corner only: it stays
    want = np.zeros((8, 9), dtype=np.uint8)
    want[2:4, 3:6] = 5                           # in by its 2 rows and 3 columns
    want[4:6, 5:7] = 5
    want[0, 8] = 6
    got = move.corners_inward(g, 0)
    assert got is not None and (got == want).all()
    g[6:8, 7:9] = 0                              # no colour in two corners
    assert move.corners_inward(g, 0) is None
    bar = np.zeros((6, 6), dtype=np.uint8)
    bar[0, :] = 5                                # a bar across two corners has no one way in: it does not count
    bar[4:6, 0:2] = 5
    assert move.corners_inward(bar, 0) is None


def test_corners_inward_solves_a_training_task():
    assert_op_solves(move, "22208ba4", ["corners_inward"], "arc-agi-2")


def test_turn_about_moves_each_marker_to_its_turned_offset_from_its_anchor():
    g = np.zeros((9, 9), dtype=np.uint8)
    g[4, 4] = 1                                  # the anchor
    g[4, 7] = 6                                  # three cells right of it
    g[0, 0] = 1                                  # a second anchor, the marker below it
    g[2, 0] = 6
    want = np.zeros_like(g)
    want[4, 4], want[0, 0] = 1, 1
    want[1, 4] = 7                               # right turned counter-clockwise: three cells up
    want[0, 2] = 7                               # two cells below turned counter-clockwise: two cells right
    got = move.turn_about(g, 0, (1,), "ccw", 7)
    assert got is not None and (got == want).all()
    half = move.turn_about(g, 0, (1,), "half", -1)   # a half turn: to the other side, own colour
    want_half = np.zeros_like(g)
    want_half[4, 4], want_half[0, 0], want_half[4, 1] = 1, 1, 6   # the marker below (0, 0) leaves the grid
    assert half is not None and (half == want_half).all()
    alone = np.zeros((3, 3), dtype=np.uint8)
    alone[0, 0], alone[2, 2] = 1, 6              # the marker sees no anchor along its row or column
    assert move.turn_about(alone, 0, (1,), "ccw", 7) is None


def test_turn_about_gives_each_anchor_one_marker():
    row = np.zeros((5, 7), dtype=np.uint8)
    row[4, 0], row[4, 3], row[4, 6] = 1, 6, 1    # the 6 sees two anchors three cells away
    assert move.turn_about(row, 0, (1,), "ccw", 7) is None
    row[1, 0] = 6                                # this 6 sees only the left anchor, which it takes first
    got = move.turn_about(row, 0, (1,), "cw", -1)
    want = np.zeros_like(row)
    want[4, 0], want[4, 6] = 1, 1
    want[1, 6] = 6                               # the middle 6 pairs with the right anchor: (0, -3) turns to (-3, 0)
    want[4, 3] = 6                               # the upper 6: (-3, 0) from the left anchor turns to (0, 3)
    assert got is not None and (got == want).all()


def test_turn_about_solves_a_training_task():
    assert_op_solves(move, "1a244afd", ["turn_about(1,ccw,7)"], dataset="arc-agi-2")
