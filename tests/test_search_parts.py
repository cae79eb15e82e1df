"""Per-part rules on grids cut by separator lines: a hand-made layout against cells painted by hand, and
real ARC-AGI-1 training tasks whose test solutions the fitted tables must give."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves

from trm_submit.io.tasks import Task
from trm_submit.search import parts
from trm_submit.search.dsl import make_context


def _grid(cells: list[list[list[int]]]) -> np.ndarray:
    """2 x 2 parts of 2 x 2 cells each, cut by a row and a column of 5."""
    g = np.full((5, 5), 5, np.uint8)
    for k, part in enumerate(cells):
        r, c = 3 * (k // 2), 3 * (k % 2)
        g[r:r + 2, c:c + 2] = part
    return g


E = [[0, 0], [0, 0]]


def test_fullest_part_takes_its_own_colour_and_the_others_clear():
    pairs = [
        (_grid([[[1, 0], [0, 0]], [[1, 1], [0, 1]], E, E]), _grid([E, [[1, 1], [1, 1]], E, E])),
        (_grid([[[3, 3], [0, 0]], [[3, 0], [0, 0]], E, [[3, 3], [3, 0]]]), _grid([E, E, E, [[3, 3], [3, 3]]])),
    ]
    test = _grid([[[4, 4], [4, 0]], [[4, 0], [0, 0]], E, E])
    task = Task("hand", tuple(pairs), (test,))
    ops = {op.name: op for op in parts.ops(make_context(task))}
    name = "fill_parts(fullest;False:0,True:own)"
    assert name in ops
    assert (ops[name].fn(test) == _grid([[[4, 4], [4, 4]], E, E, E])).all()


def test_place_keys_the_corner_edge_and_centre_parts_of_any_layout():
    assert [parts._place(k, 5) for k in range(5)] == ["first", "inner", "middle", "inner", "last"]
    assert [parts._place(k, 2) for k in range(2)] == ["first", "last"]
    three = np.full((5, 8), 5, np.uint8)        # one row of three parts, cut by columns 2 and 5
    three[:, [0, 1, 3, 4, 6, 7]] = 0
    pair = (three, np.where(three == 5, 5, np.array([0, 0, 5, 3, 3, 5, 0, 0])).astype(np.uint8))   # centre -> 3
    wide = np.full((5, 14), 5, np.uint8)        # five parts: only the centre one is "middle"
    for c in (0, 3, 6, 9, 12):
        wide[:, c:c + 2] = 0
    other = np.full((4, 11), 5, np.uint8)       # three parts of other widths
    other[:, [0, 2, 3, 4, 5, 7, 8, 9, 10]] = 0
    ops = {op.name: op for op in parts.ops(make_context(Task("hand", (pair,), (other,))))}
    name = "fill_parts(place;4 entries)"   # first, middle, last and the unseen places (kept)
    assert name in ops, sorted(ops)
    want = other.copy()
    want[:, 2:6] = 3
    assert (ops[name].fn(other) == want).all()
    want = wide.copy()
    want[:, 6:8] = 3
    ops = {op.name: op for op in parts.ops(make_context(Task("hand", (pair,), (wide,))))}
    assert (ops[name].fn(wide) == want).all()    # "inner" parts never seen: kept, as most parts were
    ops = parts.ops(make_context(Task("hand", (pair, (wide, want)), (wide,))))
    assert any(op.fn(wide) is not None and (op.fn(wide) == want).all() for op in ops)


def test_summary_gives_one_cell_per_part_in_the_layout():
    pairs = [
        (_grid([[[2, 0], [0, 2]], [[2, 0], [0, 0]], E, [[0, 2], [2, 0]]]), np.array([[1, 0], [0, 1]], np.uint8)),
        (_grid([E, [[0, 7], [7, 0]], [[7, 0], [0, 0]], E]), np.array([[0, 1], [0, 0]], np.uint8)),
    ]
    test = _grid([[[6, 6], [0, 0]], E, [[6, 6], [0, 0]], [[0, 0], [0, 6]]])
    task = Task("hand", tuple(pairs), (test,))
    ops = {op.name: op for op in parts.ops(make_context(task))}
    assert (ops["summarise_parts(n_cells;0:0,1:0,2:1)"].fn(test) == np.array([[1, 0], [1, 0]], np.uint8)).all()
    assert ops["summarise_parts(n_cells;0:0,1:0,2:1)"].fn(_grid([[[6, 6], [6, 0]], E, E, E])) is None   # 3 cells


def test_copy_parts_turns_the_one_coloured_part_into_the_empty_ones():
    src = [[1, 2], [0, 3]]
    g = _grid([src, E, E, E])
    out = parts.copy_parts(g, 0, 0, (None, "flip_h", "flip_v", None))
    assert (out == _grid([src, [[2, 1], [3, 0]], [[0, 3], [1, 2]], E])).all()
    assert parts.copy_parts(_grid([src, src, E, E]), 0, 0, (None, "flip_h", "flip_v", None)) is None   # two sources


def test_copy_everywhere_follows_the_coloured_part_wherever_it_is():
    src = [[1, 2], [0, 3]]
    for k in range(4):
        cells = [E] * 4
        cells[k] = src
        assert (parts.copy_everywhere(_grid(cells), 0, "id") == _grid([src] * 4)).all()


def test_no_layout_no_ops():
    g = np.arange(16, dtype=np.uint8).reshape(4, 4) % 3
    task = Task("hand", ((g, g[::-1].copy()), (g.T.copy(), g)), (g,))
    assert parts.ops(make_context(task)) == []


@pytest.mark.parametrize("task_id,name", [
    ("29623171", "fill_parts(fullest;False:0,True:own)"),
    ("54d9e175", "fill_parts(colour;1:6,2:7,3:8,4:9)"),
    ("6773b310", "summarise_parts(fullest;False:0,True:1)"),
    ("8e5a5113", "copy_parts(0;None,rot270,rot180)"),
    ("c444b776", "copy_everywhere(id)"),                  # the coloured part sits elsewhere in each example
    ("272f95fa", "fill_parts(place;9 entries)"),          # each part coloured by where it lies in the layout
])
def test_real_training_tasks(task_id, name):
    assert_op_solves(parts, task_id, [name])


def test_stamp_parts_paints_the_fullest_part_into_the_others():
    plus = [[2, 2], [2, 0]]
    task = Task("hand", ((_grid([plus, [[2, 0], [0, 0]], E, E]),
                          _grid([plus, [[2, 5], [5, 0]], [[5, 5], [5, 0]], [[5, 5], [5, 0]]])),),
                (_grid([[[0, 3], [3, 3]], E, [[0, 0], [0, 3]], E]),))
    ops = {op.name: op for op in parts.ops(make_context(task))}
    want = _grid([[[0, 3], [3, 3]], [[0, 5], [5, 5]], [[0, 5], [5, 3]], [[0, 5], [5, 5]]])
    assert (ops["stamp_parts(separator)"].fn(task.test_inputs[0]) == want).all()
    template = parts.stamp_parts(task.test_inputs[0], 0, "template")
    assert (template == _grid([[[0, 3], [3, 3]]] * 4)).all()
    assert parts.stamp_parts(_grid([E, E, E, E]), 0, "template") is None    # every part empty


def test_stamp_parts_solves_a_real_training_task():
    assert_op_solves(parts, "1e32b0e9", ["stamp_parts(separator)"])


def test_copy_to_marked_puts_the_pattern_on_every_marked_part():
    g = np.full((7, 11), 7, np.uint8)
    g[3, :] = 0
    g[:, 3] = 0
    g[:, 7] = 0                                  # six 3x3 parts of 7s, separated by 0-lines
    g[4:7, 8:11] = [[9, 9, 7], [7, 9, 7], [7, 9, 9]]   # the pattern (bottom right)
    g[1, 1] = 0                                  # a marked part (top left)
    want = g.copy()
    want[0:3, 0:3] = g[4:7, 8:11]
    assert np.array_equal(parts.copy_to_marked(g, 7), want)
    g[1, 1] = 7                                  # no marked part left: nothing to copy
    assert parts.copy_to_marked(g, 7) is None


def test_copy_to_marked_solves_a_real_training_task():
    assert_op_solves(parts, "e734a0e8", ["copy_to_marked"], "arc-agi-2")


def test_part_as_map_fills_each_part_with_its_cell_of_the_emptiest_part():
    g = np.zeros((5, 5), np.uint8)
    g[2, :] = 5
    g[:, 2] = 5                                  # four 2x2 parts, separated by 5-lines
    g[0:2, 0:2] = [[1, 0], [0, 3]]               # the emptiest part (two cells): the map
    g[0:2, 3:5] = [[4, 4], [4, 0]]
    g[3:5, 0:2] = [[6, 6], [0, 6]]
    g[3:5, 3:5] = [[7, 7], [7, 7]]
    want = g.copy()
    want[0:2, 0:2], want[0:2, 3:5], want[3:5, 0:2], want[3:5, 3:5] = 1, 0, 0, 3
    assert np.array_equal(parts.part_as_map(g, 0, "emptiest"), want)
    want[0:2, 0:2], want[0:2, 3:5], want[3:5, 0:2], want[3:5, 3:5] = 7, 7, 7, 7   # the fullest: all 7
    assert np.array_equal(parts.part_as_map(g, 0, "fullest"), want)
    g[0:2, 3:5] = [[4, 0], [0, 4]]               # two parts tie for the emptiest
    assert parts.part_as_map(g, 0, "emptiest") is None


def test_part_as_map_solves_a_real_training_task():
    assert_op_solves(parts, "09629e4f", ["part_as_map(emptiest,bg0)"])


def test_solid_parts_reads_the_plain_panels_among_patterned_ones():
    rng = np.random.default_rng(5)
    g = rng.integers(1, 4, size=(11, 14)).astype(np.uint8)
    g[::2, ::2] = 0                                  # a pattern without any one-colour 3 x 3 window
    blocks = {(2, 3): 6, (2, 7): 7, (6, 3): 8, (6, 7): 9}
    for (r, c), colour in blocks.items():
        g[r:r + 3, c:c + 3] = colour
    assert parts.solid_parts(g).tolist() == [[6, 7], [8, 9]]
    g[6:9, 7:10] = g[0:3, 0:3]                       # one block gone: the rest no longer fill a layout
    assert parts.solid_parts(g) is None


def test_solid_parts_solves_a_training_task():
    assert_op_solves(parts, "458e3a53", ["solid_parts"], dataset="arc-agi-2")


def test_part_to_marker_slot_moves_the_marked_part_to_the_slot_its_marker_names():
    g = np.zeros((5, 5), np.uint8)
    g[2, :] = g[:, 2] = 5                          # 2 x 2 parts of 2 x 2 cells
    g[0, 0], g[3, 4] = 3, 6                        # noise in two other parts
    g[3, 0], g[4, 1] = 7, 4                        # the marked part (bottom left); its 4 names slot (1, 1)
    want = np.zeros((5, 5), np.uint8)
    want[2, :] = want[:, 2] = 5
    want[3:5, 3:5] = g[3:5, 0:2]
    assert np.array_equal(parts.part_to_marker_slot(g, 0, 4), want)
    g[0, 1] = 4                                    # two parts hold the marker: no single source
    assert parts.part_to_marker_slot(g, 0, 4) is None
    g[0, 1] = 0
    g[3, 1] = 4                                    # two marker cells in the part: no single slot
    assert parts.part_to_marker_slot(g, 0, 4) is None


def test_part_to_marker_slot_solves_a_training_task():
    assert_op_solves(parts, "6d0160f0", ["part_to_marker_slot(4)"])


def test_pile_parts_piles_every_parts_rows_into_one_part():
    g = np.zeros((3, 11), np.uint8)
    g[:, 3] = g[:, 7] = 5                            # three 3 x 3 parts side by side
    g[0, 0:2] = 1                                    # part 0: one row
    g[2, 5] = 2                                      # part 1: one row
    g[1, 8], g[2, 9] = 3, 4                          # part 2: two rows
    assert parts.pile_parts(g, 0, "start", "end") is None          # four rows do not fit three
    g[1, 8] = 0                                      # part 2 keeps one row
    first_lowest = np.array([[0, 4, 0], [0, 2, 0], [1, 1, 0]], np.uint8)
    assert np.array_equal(parts.pile_parts(g, 0, "start", "end"), first_lowest)
    assert np.array_equal(parts.pile_parts(g, 0, "start", "start"), first_lowest[::-1])   # first on top
    # stacked parts pile their columns: the transposed task gives the transposed answer
    assert np.array_equal(parts.pile_parts(np.ascontiguousarray(g.T), 0, "start", "end"), first_lowest.T)
    g[0, 4] = 6                                      # part 1 now has two rows, kept in their order
    assert parts.pile_parts(g, 0, "start", "end") is None
    g[0, 0:2] = 0                                    # part 0 blank: three rows fit again
    assert np.array_equal(parts.pile_parts(g, 0, "end", "start"),
                          np.array([[0, 4, 0], [6, 0, 0], [0, 2, 0]], np.uint8))          # last part on top


def test_pile_parts_solves_a_training_task():
    assert_op_solves(parts, "25c199f5", ["pile_parts(start,end)"], dataset="arc-agi-2")


def test_fill_parts_keeps_parts_whose_place_no_demonstration_showed():
    def grid(n: int) -> np.ndarray:                  # n x n parts of 2 x 2 cells, cut by 5-lines
        g = np.zeros((3 * n - 1, 3 * n - 1), np.uint8)
        g[2::3, :] = g[:, 2::3] = 5
        return g
    g = grid(3)
    want = g.copy()
    want[0:2, 0:2], want[3:5, 3:5], want[6:8, 6:8] = 1, 2, 3        # first, middle, last along the diagonal
    layouts = [parts._layout(g, 0)]
    table = parts._fit([g], [want], layouts, "place", summary=False)
    assert table is not None and table[parts.UNSEEN] == parts.KEEP
    big = grid(5)                                    # inner parts: a place the demonstration lacks
    out = parts.fill_parts(big, 0, "place", table)
    assert (out[0:2, 0:2] == 1).all() and (out[6:8, 6:8] == 2).all() and (out[12:14, 12:14] == 3).all()
    assert np.array_equal(out[3:5, 3:5], big[3:5, 3:5]) and (out == 5).sum() == (big == 5).sum()
    del table[parts.UNSEEN]                          # without the default: no answer for the inner parts
    assert parts.fill_parts(big, 0, "place", table) is None


def test_fill_parts_with_separators_the_commonest_colour_solves_a_training_task():
    assert_op_solves(parts, "941d9a10", ["fill_parts(place;16 entries) [bg0]"])
