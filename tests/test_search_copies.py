"""Template copies (search/copies.py) against grids written by hand and a real ARC-AGI-1 training task."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves

from trm_submit.search import copies
from trm_submit.search.copies import copy_template

TEMPLATE = np.array([[0, 2, 0], [2, 1, 3], [0, 4, 0]], dtype=np.uint8)


def _grid(side: int = 8) -> np.ndarray:
    return np.zeros((side, side), dtype=np.uint8)


def test_a_one_cell_marker_gets_the_template_centred_on_it_and_cut_at_the_edge():
    g = _grid()
    g[0:3, 0:3] = TEMPLATE
    g[5, 5] = 6
    g[7, 1] = 6            # at the bottom edge: the row below is cut
    want = g.copy()
    want[4:7, 4:7][TEMPLATE != 0] = TEMPLATE[TEMPLATE != 0]
    want[6:8, 0:3][TEMPLATE[:2] != 0] = TEMPLATE[:2][TEMPLATE[:2] != 0]
    assert (copy_template(g, 0, keep=True) == want).all()
    erased = want.copy()
    erased[0:3, 0:3] = 0
    assert (copy_template(g, 0, keep=False) == erased).all()


def test_a_marker_of_the_template_shape_takes_its_colours_and_other_shapes_stay():
    g = _grid()
    g[0:3, 0:3] = TEMPLATE
    g[4:7, 4:7][TEMPLATE != 0] = 8       # same shape, one colour: a copy to colour
    g[5:7, 0:2] = 8                      # a 2x2 block: not the template's shape
    want = g.copy()
    want[4:7, 4:7][TEMPLATE != 0] = TEMPLATE[TEMPLATE != 0]
    assert (copy_template(g, 0, keep=True) == want).all()


def test_no_template_or_no_marker_gives_none():
    g = _grid()
    g[0:3, 0:3] = TEMPLATE
    assert copy_template(g, 0, keep=True) is None            # nothing to copy onto
    g[6:8, 6:8] = np.array([[1, 2], [3, 4]])                  # two objects with 4 colours: no single template
    g[4, 0] = 5
    assert copy_template(g, 0, keep=True) is None
    h = _grid()
    h[0:2, 0:2] = np.array([[1, 2], [3, 4]])                  # even sides: no centre for a one-cell marker
    h[6, 6] = 5
    assert copy_template(h, 0, keep=True) is None


@pytest.mark.parametrize("task_id,name", [("88a10436", "copy_template(keep)"),
                                          ("321b1fc6", "copy_template(erase,m4)")])   # a marker touches a corner
def test_training_tasks_solved_by_a_template_copy(task_id, name):
    assert_op_solves(copies, task_id, [name])


def test_scale_into_frame_hand_example():
    g = np.zeros((9, 12), np.uint8)
    g[0:6, 0:6] = 2
    g[1:5, 1:5] = 0      # an empty 6x6 frame: a 4x4 inside
    g[7, 9], g[8, 8], g[8, 9] = 3, 1, 1   # a 2x2 shape (one corner background) outside it
    out = copies.scale_into_frame(g, 0)
    want = np.full((6, 6), 2, np.uint8)
    want[1:5, 1:5] = np.kron(np.array([[0, 3], [1, 1]], np.uint8), np.ones((2, 2), np.uint8))
    assert (out == want).all()
    g[7, 10] = 5         # now 2x3: no whole factor fills a 4x4 inside
    assert copies.scale_into_frame(g, 0) is None


def test_scale_into_frame_solves_a_training_task():
    assert_op_solves(copies, "6b9890af", ["scale_into_frame"])


def test_stretch_to_marker_pulls_the_box_out_to_the_cell():
    g = np.zeros((5, 8), np.uint8)
    g[1:4, 0:3] = [[3, 3, 3], [3, 2, 3], [3, 3, 3]]
    g[2, 6] = 8                                 # the marker, right of the box in its middle row
    want = np.zeros_like(g)
    want[1:4, 0:7] = [[3] * 7, [3, 2, 2, 2, 2, 2, 3], [3] * 7]   # the middle column copied out to column 6
    assert (copies.stretch_to_marker(g, 0) == want).all()
    flipped = copies.stretch_to_marker(np.ascontiguousarray(g[::-1, ::-1].T), 0)   # the same, marker above
    assert (flipped == np.ascontiguousarray(want[::-1, ::-1].T)).all()
    g[0, 7] = 8                                 # a second marker: no answer
    assert copies.stretch_to_marker(g, 0) is None


def test_stretch_to_marker_solves_a_training_task():
    assert_op_solves(copies, "b548a754", ["stretch_to_marker"])


def test_gather_around_overlays_the_windows_of_every_marker():
    g = np.zeros((7, 7), np.uint8)
    g[1, 1], g[0, 0], g[0, 1] = 5, 6, 6      # a marker with two cells above-left of it
    g[5, 5], g[6, 6] = 5, 7                  # another, with one cell below-right
    g[3, 0] = 5                              # a third at the edge: beyond the grid is background
    want = np.array([[6, 6, 0], [0, 5, 0], [0, 0, 7]], np.uint8)
    assert (copies.gather_around(g, 0, 5) == want).all()
    g[4, 6] = 4                              # above-right of the second marker, where the first shows nothing
    assert copies.gather_around(g, 0, 5)[0, 2] == 4
    g[0, 2] = 3                              # above-right of the first: two colours in one cell
    assert copies.gather_around(g, 0, 5) is None


def test_gather_around_solves_a_training_task():
    assert_op_solves(copies, "137eaa0f", ["gather_around(5)"])


def test_frame_again_draws_the_frame_around_the_one_matching_hole():
    g = np.ones((8, 9), np.uint8)
    g[0:4, 0:4] = 2
    g[1:3, 1:3] = 0                 # a 2-frame around a 2x2 hole
    g[5:7, 6:8] = 0                 # the one other 2x2 background rectangle
    want = g.copy()
    want[4:8, 5:9] = 2
    want[5:7, 6:8] = 0
    assert np.array_equal(copies.frame_again(g, 0), want)
    g[5, 2:4] = 0
    g[6, 2:4] = 0                   # a second 2x2 hole: no single place
    assert copies.frame_again(g, 0) is None


def test_frame_again_solves_a_real_training_task():
    assert_op_solves(copies, "890034e9", ["frame_again"])


def test_colour_like_framed_recolours_the_shapes_of_the_framed_samples():
    g = np.zeros((9, 9), np.uint8)
    g[0:5, 0:5] = 5
    g[1:4, 1:4] = 0
    g[2, 2] = 3                     # a one-cell sample of colour 3, shut in by the 5-frame
    g[7, 1] = 1                     # one cell outside: becomes 3
    g[7, 4:6] = 1                   # a bar: no sample of its shape, stays
    g[0:2, 7] = 4
    g[2, 6:9] = 4                   # an open corner of 4s against the border; the cell inside it is no sample
    g[0, 8] = 6                     # ... so it takes the sample's colour like any other one-cell object
    want = g.copy()
    want[7, 1], want[0, 8] = 3, 3
    assert np.array_equal(copies.colour_like_framed(g, 0), want)
    g[3, 3] = 2                     # a second one-cell sample in another colour: no answer
    assert copies.colour_like_framed(g, 0) is None


def test_colour_like_framed_solves_a_real_training_task():
    assert_op_solves(copies, "776ffc46", ["colour_like_framed"])


def test_complete_copies_finishes_each_broken_copy_from_its_template():
    g = np.full((10, 10), 1, np.uint8)          # background 1, the grid's most common colour
    g[0:2, 0:2] = [[2, 3], [3, 3]]              # template A: 2 over 3s
    g[0:3, 6:8] = [[4, 4], [5, 1], [5, 5]]      # template B: 4s over 5s
    g[5, 1] = 2                                  # A's one 2: A shifted there
    g[7, 7], g[8, 7] = 5, 5                      # B's left column of 5s: B shifted there
    want = g.copy()
    want[5:7, 1:3] = [[2, 3], [3, 3]]
    want[6, 7:9] = 4
    want[8, 8] = 5
    assert np.array_equal(copies.complete_copies(g), want)
    g[9, 9] = 7                                  # a loose cell no template has: no answer
    assert copies.complete_copies(g) is None
    g[9, 9] = 1
    g[5, 1] = 3                                  # one 3 fits A in three places equally: no one copy
    assert copies.complete_copies(g) is None


def test_complete_copies_turned_finishes_copies_that_point_another_way():
    g = np.zeros((10, 10), np.uint8)
    g[1, 1:5] = [2, 4, 4, 3]                     # the whole template: 2, two 4s, 3 in a row
    g[4:7, 7] = [4, 4, 3]                        # a copy standing upright, its 2 missing
    want = g.copy()
    want[3, 7] = 2
    assert np.array_equal(copies.complete_copies(g, turned=True), want)
    assert copies.complete_copies(g) is None     # not turned: the copy counts as a template, nothing is loose


def test_complete_copies_turned_solves_a_training_task():
    assert_op_solves(copies, "36d67576", ["complete_copies(turned)"])


def test_grow_copies_draws_the_template_around_each_seed_at_its_scale_and_in_its_colour():
    g = np.zeros((12, 12), np.uint8)
    g[1, 1:4] = [5, 5, 2]                        # the template: two 5s, then its key cell 2
    g[6:8, 4:6] = 7                              # a seed at scale 2: a 7 block ...
    g[6:8, 6:8] = 2                              # ... left of a 2 block
    want = g.copy()
    want[6:8, 2:4] = 7                           # the template's other body cell, drawn 2 x 2 in 7
    assert np.array_equal(copies.grow_copies(g), want)
    turned = g.copy()
    turned[6:8, 4:8] = 0
    turned[9:11, 1] = [7, 2]                     # a seed standing upright, body above the key
    want = turned.copy()
    want[8, 1] = 7                               # the template turned to stand upright over its key
    assert np.array_equal(copies.grow_copies(turned), want)
    g[10, 0:2] = [7, 2]                          # a seed at the left edge: the template would leave the grid
    assert copies.grow_copies(g) is None
    g[10, 0:2] = [7, 3]                          # a seed with another key colour: no copy of this template
    assert copies.grow_copies(g) is None


def test_grow_copies_solves_a_training_task():
    assert_op_solves(copies, "57aa92db", ["grow_copies"])


def test_complete_copies_solves_a_real_training_task_but_its_odd_demonstration():
    from search_reference import training_task

    from trm_submit.search.dsl import make_context
    task, solutions = training_task("d6542281", "arc-agi-2")
    assert "complete_copies" in {op.name for op in copies.ops(make_context(task))}
    pairs = list(task.train) + list(zip(task.test_inputs, solutions))
    got = [copies.complete_copies(grid) for grid, _ in pairs]
    # the third demonstration also turns one template cell to background, which no copy explains
    assert [int((g != want).sum()) for g, (_, want) in zip(got, pairs)] == [0, 0, 1] + [0] * len(solutions)


def test_assemble_corners_puts_each_piece_in_its_own_corner():
    g = np.zeros((9, 9), np.uint8)
    g[0:2, 6:8] = [[8, 8], [0, 8]]      # top-right piece
    g[3:5, 1:3] = [[1, 1], [1, 0]]      # top-left piece
    g[6:8, 2:4] = [[4, 0], [4, 4]]      # bottom-left piece
    g[7:9, 6:8] = [[0, 2], [2, 2]]      # bottom-right piece
    want = np.array([[1, 1, 8, 8], [1, 0, 0, 8], [4, 0, 0, 2], [4, 4, 2, 2]], np.uint8)
    assert np.array_equal(copies.assemble_corners(g, 0), want)
    g[7:9, 6:8] = [[4, 0], [4, 4]]      # two bottom-left pieces: no square
    assert copies.assemble_corners(g, 0) is None


def test_assemble_corners_solves_a_training_task():
    assert_op_solves(copies, "a61ba2ce", ["assemble_corners"])


def test_stretch_into_frame_keeps_full_lines_thin():
    from trm_submit.search.copies import stretch_into_frame
    g = np.zeros((9, 9), dtype=np.uint8)
    g[0:6, 0:6] = 0
    g[0, 0:6] = g[5, 0:6] = g[0:6, 0] = g[0:6, 5] = 6   # an empty frame, 4 x 4 inside
    g[7, 7] = 8                       # the shape "8. / 88" below it
    g[8, 7:9] = 8
    want = g.copy()
    want[7:9, 7:9] = 0
    want[1:4, 1] = 8                  # its part column stretched over three rows, its full row kept one row
    want[4, 1:5] = 8
    assert np.array_equal(stretch_into_frame(g, 0), want)
    g[7, 7:9], g[8, 7:9] = 8, (0, 8)  # now "88 / .8": its full row and its full column stay thin
    want[1:5, 1:5] = 0
    want[1, 1:5] = 8
    want[1:5, 4] = 8
    assert np.array_equal(stretch_into_frame(g, 0), want)
    g[2, 2] = 3                       # the frame is no longer empty
    assert stretch_into_frame(g, 0) is None


def test_stretch_into_frame_solves_a_training_task():
    assert_op_solves(copies, "465b7d93", ["stretch_into_frame"], dataset="arc-agi-2")


def test_shoot_copies_slide_the_block_off_toward_each_marked_corner():
    g = np.zeros((6, 6), np.uint8)
    g[2:4, 2:4] = 6
    g[2, 3] = 2                              # one marked corner: top right
    want = np.zeros_like(g)
    for k in range(6):                       # the block at (2 - k, 2 + k), clipped to the grid
        for r in (2 - k, 3 - k):
            for c in (2 + k, 3 + k):
                if 0 <= r < 6 and 0 <= c < 6:
                    want[r, c] = 6
    assert (copies.shoot_copies(g, 0, 2) == want).all()
    edge = np.zeros((6, 6), np.uint8)
    edge[2:4, 2:5] = 6
    edge[3, 3] = 2                           # a marker off the box's corners (the block is 2 x 3)
    assert copies.shoot_copies(edge, 0, 2) is None
    assert copies.shoot_copies(np.where(g == 2, 6, g).astype(np.uint8), 0, 2) is None   # no marker


def test_shoot_copies_solve_a_training_task():
    assert_op_solves(copies, "1f0c79e5", ["shoot_copies(2)"])


def test_colour_like_penned_turns_the_twins_of_a_cornered_sample_the_wall_colour():
    g = np.zeros((8, 8), np.uint8)
    g[0:3, 3] = g[3, 0:4] = 5                # a pen in the top-left corner, walls of 5
    g[1, 0] = g[1, 1] = g[2, 1] = 3          # the sample inside it
    g[5, 5] = g[5, 6] = g[6, 6] = 7          # its twin outside: turns 5
    g[5, 1] = g[6, 1] = g[6, 2] = 4          # another shape: stays
    want = g.copy()
    want[g == 7] = 5
    assert np.array_equal(copies.colour_like_penned(g, 0), want)
    no_twin = g.copy()
    no_twin[g == 7] = 0
    assert copies.colour_like_penned(no_twin, 0) is None   # nothing to recolour


def test_colour_like_penned_solves_a_training_task():
    assert_op_solves(copies, "63613498", ["colour_like_penned"])


def test_anchored_copies_grow_each_dot_into_its_pattern_turned_as_fitted():
    g = np.zeros((7, 8), dtype=np.uint8)
    g[1, 1], g[1, 2], g[2, 1] = 3, 5, 5         # template of anchor 3: an L of 5s
    g[1, 5], g[2, 5], g[2, 6] = 5, 5, 2         # template of anchor 2
    g[5, 2], g[5, 6] = 3, 2                     # lone dots
    want = g.copy()
    want[5, 3], want[6, 2] = 5, 5               # 3's pattern as it is
    want[5, 6], want[4, 7], want[5, 7] = 2, 5, 5   # 2's pattern mirrored left-right: its 5s go right of the dot
    got = copies.anchored_copies(g, 0, {3: "identity", 2: "flip_h"})
    assert got is not None and (got == want).all()
    pairs = [(g, want)]
    assert copies.fit_anchor_turns(pairs, 0) == {3: "identity", 2: "flip_h"}
    no_dots = g.copy()
    no_dots[5, 2] = no_dots[5, 6] = 0
    assert copies.anchored_copies(no_dots, 0, {3: "identity", 2: "flip_h"}) is None
    shared = g.copy()
    shared[2, 6] = 3                            # two templates hold 3 once: no anchor is sure
    assert copies.anchored_copies(shared, 0, {3: "identity"}) is None


def test_anchored_copies_solve_a_training_task():
    assert_op_solves(copies, "3e980e27", ["anchored_copies(2:flip_h,3:identity)"])


def test_repeat_toward_marker_repeats_the_shape_in_the_marker_colour_to_the_edge():
    g = np.full((7, 7), 1, dtype=np.uint8)   # background: the most common colour
    g[1:3, 1:3] = 0                          # a 2 x 2 block of colour 0
    g[3, 3] = 5                              # the marker at its bottom-right corner
    want = g.copy()
    want[3:5, 3:5] = 5                       # a step of (1, 1) would touch the block: the step is (2, 2)
    want[5:7, 5:7] = 5
    got = copies.repeat_toward_marker(g)
    assert got is not None and (got == want).all()
    up = np.full((7, 7), 1, dtype=np.uint8)
    up[4, 2:5] = 0                           # a bar of three, the marker above its middle: straight up
    up[3, 3] = 5
    want = up.copy()
    want[3, 2:5] = 5
    want[2, 2:5] = 5
    want[1, 2:5] = 5
    want[0, 2:5] = 5
    got = copies.repeat_toward_marker(up)
    assert got is not None and (got == want).all()
    lone = np.full((5, 5), 1, dtype=np.uint8)
    lone[2, 2] = 0
    assert copies.repeat_toward_marker(lone) is None   # no marker beside the shape


def test_repeat_toward_marker_solves_a_training_task():
    assert_op_solves(copies, "e8dc4411", ["repeat_toward_marker"])


def test_repeat_to_wall_runs_the_tile_to_the_wall_of_its_key_colour():
    g = np.full((5, 12), 8, dtype=np.uint8)       # background: the most common colour
    g[1:4, 1:4] = 1
    g[2, 2] = 4                                   # a 3 x 3 tile of 1 with a key cell of 4
    g[:, 10:12] = 4                               # the wall of 4, to the right
    assert copies.repeat_to_wall(g) is None       # copies at columns 4 and 7 miss it; the next leaves the grid
    g2 = np.full((5, 13), 8, dtype=np.uint8)
    g2[1:4, 1:4] = 1
    g2[2, 2] = 4
    g2[:, 10:13] = 4
    want = g2.copy()
    for left in (4, 7, 10):                       # the third copy's key (column 11) lands on the wall
        want[1:4, left:left + 3] = g2[1:4, 1:4]
    got = copies.repeat_to_wall(g2)
    assert got is not None and (got == want).all()
    g2[:, 10:13] = 5                              # a wall of another colour: nothing to run to
    assert copies.repeat_to_wall(g2) is None


def test_repeat_to_wall_solves_a_training_task():
    assert_op_solves(copies, "985ae207", ["repeat_to_wall"], "arc-agi-2")
