"""Positioned list values (search.lists, dsl.Items): cutting a grid into objects or parts and putting them back
gives the grid again; a map over the objects then overlay at positions equals the true output of real
ARC-AGI-1 training tasks; picks and filters against hand-computed choices."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from search_reference import assert_op_solves, training_task

from trm_submit.search import lists, objects
from trm_submit.search.colour import fill_bg
from trm_submit.search.dsl import Items, as_value, value_key
from trm_submit.search.geometry import drop_repeated_lines
from trm_submit.search.lists import (
    CRITERIA,
    EXTENTS,
    assemble,
    keep_best,
    layout,
    map_items,
    overlay_at,
    pick_best,
    symmetries,
)
from trm_submit.search.objects import object_list
from trm_submit.search.split import split_equal, split_lines


@pytest.mark.parametrize("task_id", ["60b61512", "05f2a901", "1caeab9d", "3618c87e"])
@pytest.mark.parametrize("mode", ["c4", "c8", "m8"])
def test_objects_put_back_at_their_positions_give_the_grid(task_id, mode):
    task, _ = training_task(task_id)
    for grid in [i for i, _ in task.train] + list(task.test_inputs):
        items = object_list(grid, 0, mode)
        if items is None:
            continue
        assert isinstance(items, Items) and items.frame == grid.shape
        assert np.array_equal(overlay_at(items, 0), grid)


def test_split_parts_keep_their_positions():
    g = np.array([[1, 2, 5, 3, 0], [0, 4, 5, 0, 6]], np.uint8)
    parts = split_lines(g, 0)                       # column 2 (colour 5) separates two 2x2 parts
    assert parts.pos == ((0, 0), (0, 3)) and parts.frame == (2, 5)
    back = overlay_at(parts, 0)
    assert back[:, [0, 1, 3, 4]].tolist() == g[:, [0, 1, 3, 4]].tolist() and (back[:, 2] == 0).all()
    halves = split_equal(np.arange(12, dtype=np.uint8).reshape(2, 6) % 10, 2, 1)
    assert halves.pos == ((0, 0), (0, 3))


def test_map_then_overlay_at_positions_solves_a_real_training_task():
    """60b61512: every object's box gets its background cells in colour 7, in place."""
    task, solutions = training_task("60b61512")
    pairs = list(task.train) + list(zip(task.test_inputs, solutions))
    for grid, want in pairs:
        items = object_list(grid, 0, "c8")
        got = overlay_at(map_items(items, partial(fill_bg, colour=7, bg=0)), 0)
        assert np.array_equal(got, want)


def test_centred_map_turns_an_item_about_its_middle():
    """A 1x3 bar turned a quarter sits on its middle cell (centred); the plain map keeps its top-left corner;
    a 1x2 bar (odd difference) keeps its corner either way."""
    grid = np.zeros((5, 5), np.uint8)
    grid[2, 1:4] = 3
    grid[0, 0:2] = 4
    items = object_list(grid, 0, "c4")
    turn = np.rot90
    centred = overlay_at(map_items(items, turn, centred=True), 0)
    want = np.zeros((5, 5), np.uint8)
    want[1:4, 2] = 3
    want[0:2, 0] = 4
    assert np.array_equal(centred, want)
    plain = overlay_at(map_items(items, turn), 0)
    assert (plain[2:5, 1] == 3).all() and (plain[0:2, 0] == 4).all()


def test_centred_quarter_turn_solves_a_real_training_task():
    """ARC-AGI-2 f0f8a26d: every line turned a quarter about its middle cell."""
    task, solutions = training_task("f0f8a26d", "arc-agi-2")
    for grid, want in list(task.train) + list(zip(task.test_inputs, solutions)):
        got = overlay_at(map_items(object_list(grid, 7, "c4"), np.rot90, centred=True), 7)
        assert np.array_equal(got, want)
        assert not np.array_equal(overlay_at(map_items(object_list(grid, 7, "c4"), np.rot90), 7), want)


def test_positions_are_part_of_a_lists_identity():
    a = np.ones((1, 1), np.uint8)
    here, there = Items((a,), ((0, 0),), (3, 3)), Items((a,), ((2, 2),), (3, 3))
    assert value_key(here) != value_key(there) and value_key(here) == value_key(Items((a,), ((0, 0),), (3, 3)))
    kept = as_value(there, "list")
    assert isinstance(kept, Items) and kept.pos == ((2, 2),)
    assert overlay_at(there, 0).tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 1]]


def test_overlay_at_puts_the_item_with_fewest_cells_on_top():
    big = np.full((2, 2), 3, np.uint8)
    small = np.array([[5]], np.uint8)
    for order in ((small, big), (big, small)):
        pos = ((1, 1), (0, 0)) if order[0] is small else ((0, 0), (1, 1))
        assert overlay_at(Items(order, pos, (3, 3)), 0)[1, 1] == 5


def test_picks_and_filters_by_hand():
    a = np.array([[1, 1], [1, 0]], np.uint8)          # 3 cells, area 4
    b = np.array([[2]], np.uint8)                      # 1 cell, area 1
    c = np.array([[3, 3, 3]], np.uint8)                # 3 cells, area 3
    items = Items((a, b, c), ((0, 5), (4, 0), (2, 2)), (6, 8))
    assert pick_best(items, CRITERIA["area"], 0, 1) is a
    assert pick_best(items, CRITERIA["area"], 0, -1) is b
    assert pick_best(items, EXTENTS["bottom"], 0, 1) is b   # rows 4..4: the lowest
    assert pick_best(items, EXTENTS["right"], 0, 1) is a    # columns 5..6
    assert pick_best(items, CRITERIA["cells"], 0, 1) is None  # a and c tie: no answer
    kept = keep_best(items, CRITERIA["cells"], 0, True)
    assert list(kept) == [a, c] and kept.pos == ((0, 5), (2, 2))
    dropped = keep_best(items, CRITERIA["cells"], 0, False)
    assert list(dropped) == [b] and dropped.pos == ((4, 0),)
    assert keep_best(Items((a, a), ((0, 0), (1, 1)), (4, 4)), CRITERIA["cells"], 0, True) is None


def test_assemble_joins_a_layout_without_gaps():
    a, b = np.full((2, 2), 1, np.uint8), np.full((2, 3), 2, np.uint8)
    c, d = np.full((1, 2), 3, np.uint8), np.full((1, 3), 4, np.uint8)
    items = Items((a, b, c, d), ((0, 0), (0, 3), (3, 0), (3, 3)), (4, 6))
    assert assemble(items).tolist() == [[1, 1, 2, 2, 2], [1, 1, 2, 2, 2], [3, 3, 4, 4, 4]]
    assert layout(items) == ([0, 3], [0, 3])
    assert assemble(Items((a, b, c), ((0, 0), (0, 3), (3, 0)), (4, 6))) is None      # a layout cell is empty
    assert assemble(Items((a, c), ((0, 0), (0, 3)), (4, 6))) is None                  # unequal heights in a row
    assert assemble((a, b)) is None                                                    # no positions


def test_cut_map_assemble_solves_a_real_training_task():
    """1190e5a7: cut at the separator lines, each (blank) part to one cell, the cells in the parts' layout."""
    task, solutions = training_task("1190e5a7")
    for grid, want in list(task.train) + list(zip(task.test_inputs, solutions)):
        got = assemble(map_items(split_lines(grid, 0), drop_repeated_lines))
        assert got is not None and np.array_equal(got, want)


def test_symmetries_counts_the_dihedral_maps_that_keep_an_item():
    assert symmetries(np.zeros((3, 3), np.uint8)) == 7
    assert symmetries(np.array([[1, 2], [2, 1]], np.uint8)) == 3     # rot180, transpose, anti-transpose
    assert symmetries(np.array([[1, 2, 3]], np.uint8)) == 1           # only the top-bottom flip
    assert symmetries(np.array([[1, 2], [3, 4]], np.uint8)) == 0


def test_pick_least_symmetric_part_solves_a_real_training_task():
    """662c240a: three 3x3 parts stacked; the answer is the one part that is not symmetric."""
    task, solutions = training_task("662c240a")
    for grid, want in list(task.train) + list(zip(task.test_inputs, solutions)):
        got = pick_best(split_equal(grid, 3, 0), CRITERIA["symmetries"], 0, -1)
        assert got is not None and np.array_equal(got, want)


def test_interlock_fits_two_pieces_into_the_one_rectangle_they_fill():
    a = np.array([[3, 3, 3], [3, 0, 0], [3, 0, 0]], np.uint8)   # an L...
    b = np.array([[7, 7], [7, 7]], np.uint8)                    # ...and the block that completes it
    want = np.array([[3, 3, 3], [3, 7, 7], [3, 7, 7]], np.uint8)
    assert (lists.interlock((a, b), 0) == want).all()
    assert (lists.interlock((b, a), 0) == want).all()
    assert lists.interlock((a, np.array([[7, 7, 7]], np.uint8)), 0) is None   # no rectangle
    assert lists.interlock((np.array([[5]], np.uint8), np.array([[6]], np.uint8)), 0) is None  # two ways: ambiguous
    assert lists.interlock((a,), 0) is None


def test_interlock_solves_a_training_task():
    assert_op_solves([objects, lists], "681b3aeb", ["objects(c8)", "interlock"])
