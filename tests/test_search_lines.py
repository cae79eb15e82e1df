"""Line and stamp primitives of the search (connect, surround, stamp, motif rays) against loops written by hand and real
ARC-AGI-1 training tasks."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves, random_sparse, ref_components

from trm_submit.search import lines, stamp
from trm_submit.search.lines import connect, fill_box, interior, mark_blank_lines, surround
from trm_submit.search.stamp import apply_stamps, fit_stamps


def _ref_connect_rows(g: np.ndarray, colour) -> np.ndarray:
    out = g.copy()
    for r in range(g.shape[0]):
        last = None
        for c in range(g.shape[1]):
            if g[r, c] == 0:
                continue
            if last is not None and g[r, last] == g[r, c]:
                for x in range(last + 1, c):
                    out[r, x] = g[r, c] if colour is None else colour
            last = c
    return out


@pytest.mark.parametrize("colour", [None, 7])
def test_connect_equals_reference(colour):
    rng = np.random.default_rng(40)
    for _ in range(40):
        g = random_sparse(rng, 9, 11, colours=2, fill=0.15)
        for axes, want in (("h", _ref_connect_rows(g, colour)), ("v", _ref_connect_rows(g.T.copy(), colour).T)):
            got = connect(g, 0, axes, colour)
            assert (got == want).all()
        both = _ref_connect_rows(g, colour)
        vert = _ref_connect_rows(g.T.copy(), colour).T
        both[vert != g] = vert[vert != g]   # columns painted over rows
        got = connect(g, 0, "hv", colour)
        assert (got == both).all()


@pytest.mark.parametrize("diag", [False, True])
def test_surround_equals_reference(diag):
    rng = np.random.default_rng(41)
    for _ in range(30):
        g = random_sparse(rng, 8, 8, fill=0.1)
        h, w = g.shape
        want = g.copy()
        for r in range(h):
            for c in range(w):
                if g[r, c] != 0:
                    continue
                near = [(r + dy, c + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                        if (dy or dx) and (diag or not (dy and dx))]
                if any(0 <= y < h and 0 <= x < w and g[y, x] != 0 for y, x in near):
                    want[r, c] = 9
        got = surround(g, 0, 9, diag)
        assert (got == want).all()


def test_fill_box_equals_reference():
    rng = np.random.default_rng(43)
    for _ in range(30):
        g = random_sparse(rng, 10, 10, colours=2, fill=0.12)
        want = g.copy()
        for cells in ref_components(g, 0, True, False):
            ys, xs = [y for y, _ in cells], [x for _, x in cells]
            for y in range(min(ys), max(ys) + 1):
                for x in range(min(xs), max(xs) + 1):
                    if g[y, x] == 0:
                        want[y, x] = 5
        assert (fill_box(g, 0, 5, "c8") == want).all()


def test_interior_equals_reference():
    rng = np.random.default_rng(44)
    for _ in range(30):
        g = random_sparse(rng, int(rng.integers(1, 10)), int(rng.integers(1, 10)), colours=2, fill=0.8)
        g[0, 0] = 0   # the background (0) is present
        h, w = g.shape
        want = g.copy()
        for r in range(1, h - 1):
            for c in range(1, w - 1):
                if all(g[r + dy, c + dx] != 0 for dy in (-1, 0, 1) for dx in (-1, 0, 1)):
                    want[r, c] = 6
        assert (interior(g, 0, 6) == want).all()


def _ref_stamp(g: np.ndarray, stamps: dict) -> np.ndarray:
    h, w = g.shape
    out = g.copy()
    for colour, entries in sorted(stamps.items()):   # later colours, then later entries, paint over
        for dy, dx, value in entries:
            for r in range(h):
                for c in range(w):
                    if g[r, c] != colour:
                        continue
                    y, x = r + dy, c + dx
                    if 0 <= y < h and 0 <= x < w and g[y, x] == 0:
                        out[y, x] = value
    return out


def test_stamp_apply_equals_reference_and_fit_recovers_it():
    rng = np.random.default_rng(42)
    stamps = {1: ((-1, -1, 4), (1, 1, 4), (0, 2, 7)), 2: ((-1, 0, 6), (1, 0, 6), (0, -1, 6), (0, 1, 6))}
    ins = [random_sparse(rng, 12, 12, colours=2, fill=0.05) for _ in range(30)]
    for g in ins:
        assert (apply_stamps(g, 0, stamps) == _ref_stamp(g, stamps)).all()
    # isolated seeds (no neighbour within 2 cells) show each stamp whole: the fit reads it back
    sparse = []
    for n in range(4):
        g = np.zeros((15, 15), np.uint8)
        for k, (y, x) in enumerate(((3, 3), (3, 10), (10, 3), (10, 10))):
            g[y, x] = 1 + (k + n) % 2
        sparse.append(g)
    pairs = [(g, _ref_stamp(g, stamps)) for g in sparse]
    assert {c: set(v) for c, v in fit_stamps(pairs, 0, 2).items()} == {c: set(v) for c, v in stamps.items()}


@pytest.mark.parametrize("task_id,names", [
    ("0ca9ddb6", ["stamp(r1;1:4;2:4)"]),
    ("3aa6fb7a", ["fill_box(1,c8)"]),
    ("4347f46a", ["interior(0)"]),
    ("bb43febb", ["interior(2)"]),
    ("6d75e8bb", ["fill_box(2,c8)"]),
    ("913fb3ed", ["stamp(r1;2:8;3:8;8:8)"]),
    ("40853293", ["connect(hv,same)"]),
    ("dbc1a6ce", ["connect(hv,8)"]),
    ("a699fb00", ["connect(h,2)"]),
    ("4258a5f9", ["surround(1,8)"]),
    ("c1d99e64", ["mark_blank_lines(2)"]),
])
def test_real_training_tasks(task_id, names):
    assert_op_solves([lines, stamp], task_id, names)


def test_mark_blank_lines_by_hand():
    g = np.array([[1, 0, 1], [0, 0, 0], [1, 0, 0]], np.uint8)
    assert mark_blank_lines(g, 0, 4).tolist() == [[1, 4, 1], [4, 4, 4], [1, 4, 0]]
    assert mark_blank_lines(np.array([[1, 0], [0, 1]], np.uint8), 0, 4) is None


def test_mark_blank_lines_inside_a_frame():
    g = np.array([[8, 8, 8, 8, 8],
                  [8, 0, 0, 0, 2],     # background between its two end cells: a passage across
                  [8, 0, 1, 0, 2],
                  [8, 0, 0, 0, 8],
                  [8, 8, 8, 8, 8]], np.uint8)
    want = g.copy()
    want[1, 1:4] = want[3, 1:4] = 3   # rows 1 and 3
    want[1:4, 1] = want[1:4, 3] = 3   # columns 1 and 3; the frame and the 1 stay
    assert (mark_blank_lines(g, 0, 3, inner=True) == want).all()
    assert mark_blank_lines(g, 0, 3) is None   # no row or column is background from end to end
    assert_op_solves(lines, "2bee17df", ["mark_blank_lines(3,inner)"])


def test_centre_lines_cross_each_object_over_background_only():
    g = np.zeros((7, 9), np.uint8)
    g[1:4, 1:4] = 1
    g[2, 2] = 0          # a hollow 3x3 square: its middle row and column pass through the hole
    g[5, 6] = 4          # a single cell
    out = lines.centre_lines(g, 0, 6)
    want = g.copy()
    for r in (2, 5):
        want[r][g[r] == 0] = 6
    for c in (2, 6):
        want[:, c][g[:, c] == 0] = 6
    assert (out == want).all()
    even = np.zeros((4, 4), np.uint8)
    even[1:3, 1:3] = 2   # an even side has no middle line
    assert lines.centre_lines(even, 0, 6) is None


def test_centre_lines_solves_a_training_task():
    assert_op_solves(lines, "41e4d17e", ["centre_lines(6)"])


def test_segment_lines_stretch_each_segment_with_rows_painted_last_or_first():
    g = np.zeros((5, 6), np.uint8)
    g[1:3, 1] = 3        # a vertical segment: column 1
    g[3, 3:5] = 4        # a horizontal segment: row 3
    g[0, 5] = 2          # a single cell is no segment
    g[1:3, 4] = 5        # a vertical segment: column 4, crossed by row 3
    want = g.copy()
    want[:, 1], want[:, 4] = 3, 5
    rows_last = want.copy()
    rows_last[3, :] = 4
    assert (lines.segment_lines(g, 0, True) == rows_last).all()
    cols_last = want.copy()
    cols_last[3, :] = 4
    cols_last[:, 1], cols_last[:, 4] = 3, 5
    assert (lines.segment_lines(g, 0, False) == cols_last).all()
    square = np.zeros((4, 4), np.uint8)
    square[1:3, 1:3] = 2   # two cells thick: not a segment
    assert lines.segment_lines(square, 0, True) is None


def test_segment_lines_solves_an_arc_agi_2_training_task():
    assert_op_solves(lines, "9344f635", ["segment_lines(rows last)"], dataset="arc-agi-2")


def test_mark_blank_squares_union_or_disjoint_windows():
    g = np.full((4, 5), 5, np.uint8)
    g[0:2, 0:3] = 0      # a 2x3 blank block: two overlapping 2x2 windows
    g[3, 4] = 0          # a lone blank cell: no window
    union = g.copy()
    union[0:2, 0:3] = 2
    assert (lines.mark_blank_squares(g, 0, 2, 2, False) == union).all()
    disjoint = g.copy()
    disjoint[0:2, 0:2] = 2   # the second window overlaps the first: skipped
    assert (lines.mark_blank_squares(g, 0, 2, 2, True) == disjoint).all()
    assert lines.mark_blank_squares(g, 0, 2, 3, False) is None


def test_mark_blank_squares_solves_a_training_task():
    assert_op_solves(lines, "6cf79266", ["mark_blank_squares(3,disjoint)"])


def test_elbow_runs_along_the_first_cells_row_then_the_second_cells_column():
    g = np.zeros((5, 6), np.uint8)
    g[1, 0], g[4, 4] = 2, 3
    g[1, 2] = 7          # not background: the path passes it by
    want = g.copy()
    want[1, 1], want[1, 3], want[1, 4] = 8, 8, 8
    want[2, 4], want[3, 4] = 8, 8
    assert (lines.elbow(g, 0, 2, 3, 8) == want).all()
    g[0, 0] = 2          # two cells of the start colour: no path
    assert lines.elbow(g, 0, 2, 3, 8) is None


@pytest.mark.parametrize("task_id,name", [("a2fd1cf0", "elbow(2,3,8)"), ("d4a91cb9", "elbow(2,8,4)")])
def test_elbow_solves_training_tasks(task_id, name):
    assert_op_solves(lines, task_id, [name])


def test_bridge_fills_the_gap_between_two_facing_objects_narrowed_by_the_inset():
    g = np.zeros((7, 6), np.uint8)
    g[0:2, 0:5] = 3      # above: columns 0-4
    g[5:7, 1:6] = 9      # below: columns 1-5; overlap 1-4, narrowed to 2-3
    want = g.copy()
    want[2:5, 2:4] = 8
    assert (lines.bridge(g, 0, 8, 1) == want).all()
    side = g.T.copy()    # side by side: the same gap, transposed
    assert (lines.bridge(side, 0, 8, 1) == want.T).all()
    g[3, 3] = 4          # a third object: no bridge
    assert lines.bridge(g, 0, 8, 1) is None


def test_bridge_solves_a_training_task():
    assert_op_solves(lines, "d6ad076f", ["bridge(8,1)"])


def test_midpoints_mark_the_cell_halfway_between_the_two_cells_of_a_colour():
    g = np.zeros((7, 7), np.uint8)
    g[1, 1], g[5, 5] = 4, 4                  # halfway: (3, 3)
    g[0, 6], g[6, 6] = 9, 9                  # halfway: (3, 6), at the edge
    g[0, 0], g[0, 3] = 2, 2                  # an odd distance: no middle cell
    dot = g.copy()
    dot[3, 3] = dot[3, 6] = 8
    assert (lines.midpoints(g, 0, 8, False) == dot).all()
    plus = dot.copy()
    plus[2, 3] = plus[4, 3] = plus[3, 2] = plus[3, 4] = 8
    plus[2, 6] = plus[4, 6] = plus[3, 5] = 8   # the arm beyond the edge is dropped
    assert (lines.midpoints(g, 0, 8, True) == plus).all()
    assert lines.midpoints(np.where(g == 2, g, 0).astype(np.uint8), 0, 8, False) is None


def test_midpoints_solve_a_training_task():
    assert_op_solves(lines, "e9614598", ["midpoints(3,plus)"])


def test_leak_fills_a_box_with_one_gap_and_runs_out_of_the_gap():
    g = np.zeros((7, 6), np.uint8)
    g[1:5, 1:5] = 5
    g[2:4, 2:4] = 0                          # a 4 x 4 box with a 2 x 2 inside
    g[4, 2] = 0                              # its one gap, in the bottom wall
    want = g.copy()
    want[2:4, 2:4] = 8
    want[4:7, 2] = 8                         # the gap and the cells below it to the edge
    assert (lines.leak(g, 0, 8) == want).all()
    g[1, 1] = 0                              # a second gap, at a corner: no box with one gap
    assert lines.leak(g, 0, 8) is None


def test_leak_solves_a_training_task():
    assert_op_solves(lines, "d4f3cd78", ["leak(8)"])


def test_complete_dashes_fills_the_lines_a_colour_mostly_covers():
    g = np.zeros((6, 7), np.uint8)
    g[1, [1, 2, 4, 5]] = 1                   # a dashed top row: 4 of the box's 5 columns
    g[[2, 4], 1] = 1                         # the left column: 3 of the box's 4 rows
    g[4, 5] = 1                              # a lone cell in the bottom row (2 of 5): stays broken
    want = g.copy()
    want[1, 3] = 2
    want[3, 1] = 2
    assert (lines.complete_dashes(g, 0, 1, 2) == want).all()
    assert lines.complete_dashes(want, 0, 1, 2) is None     # nothing left to fill


def test_complete_dashes_solves_a_training_task():
    assert_op_solves(lines, "4612dd53", ["complete_dashes(1,2)"])


def test_box_in_markers_draws_the_rectangle_just_inside_the_dots():
    g = np.zeros((9, 10), np.uint8)
    g[0, 3] = g[4, 0] = g[8, 5] = g[3, 9] = 5    # four lone markers: rows 0..8, columns 0..9
    g[3:5, 3:5] = 2                                # the shape (colour 2), inside the box
    want = g.copy()
    want[1, 1:9] = want[7, 1:9] = 2
    want[1:8, 1] = want[1:8, 8] = 2
    assert np.array_equal(lines.box_in_markers(g, 0), want)
    g[0, 4] = 5                                    # two markers side by side: 5 is no lone-cell colour
    assert lines.box_in_markers(g, 0) is None


def test_box_in_markers_solves_a_training_task():
    assert_op_solves(lines, "928ad970", ["box_in_markers"])


def test_trim_objects_erases_the_first_lines_of_each_object_from_a_side():
    g = np.zeros((6, 7), dtype=np.uint8)
    g[0, 0:4] = 3                     # a bar
    g[3:5, 2:5] = 5                   # a block
    g[5, 6] = 2                       # a single cell: its only column goes
    want = np.zeros_like(g)
    want[0, 2:4] = 3
    want[3:5, 4] = 5
    assert np.array_equal(lines.trim_objects(g, 0, "left", 2), want)
    want = g.copy()
    want[0, :] = 0
    want[3, 2:5] = 0
    want[5, 6] = 0
    assert np.array_equal(lines.trim_objects(g, 0, "top", 1), want)


def test_trim_objects_solves_a_training_task():
    assert_op_solves(lines, "52364a65", ["trim_objects(left,2)"], dataset="arc-agi-2")


def test_motif_rays_repeat_the_first_period_to_the_edge():
    g = np.zeros((6, 7), np.uint8)
    g[0, 1], g[0, 5] = 2, 8
    motif = ((1, -1, stamp.SEED_COLOUR), (1, 1, stamp.SEED_COLOUR), (2, 0, stamp.SEED_COLOUR))
    out = stamp.draw_motifs(g, 0, motif, (2, 0), False)
    zigzag = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0], [1, 0, 1], [0, 1, 0], [1, 0, 1]], bool)
    want = g.copy()
    want[:, 0:3][zigzag & (want[:, 0:3] == 0)] = 2
    want[:, 4:7][zigzag & (want[:, 4:7] == 0)] = 8
    assert np.array_equal(out, want)
    both = stamp.draw_motifs(np.pad(g, ((5, 0), (0, 0))), 0, motif, (2, 0), True)
    assert both[4, 0] == 2 and both[3, 1] == 2      # the motif turned the other way: up from the seed
    assert stamp.draw_motifs(np.zeros((4, 4), np.uint8), 0, motif, (2, 0), False) is None   # no seed


@pytest.mark.parametrize("task_id,name", [("3ac3eb23", "motif_rays(2,0,one)"), ("d06dbe63", "motif_rays(-2,2,both)")])
def test_motif_rays_solve_training_tasks(task_id, name):
    assert_op_solves(stamp, task_id, [name])


def test_corner_ticks_carry_each_side_of_a_hollow_square_past_its_corners():
    g = np.zeros((8, 9), np.uint8)
    g[1:4, 1:4] = 6
    g[2, 2] = 0                              # a hollow 3 x 3 square
    g[5:7, 5:9] = 6                          # a solid 2 x 4 block: no outline of a square
    want = g.copy()
    for r, c in ((0, 1), (1, 0), (0, 3), (1, 4), (4, 1), (3, 0), (4, 3), (3, 4)):
        want[r, c] = 2
    assert (lines.corner_ticks(g, 0, 2, squares=True) == want).all()
    boxes = lines.corner_ticks(g, 0, 2, squares=False)   # the block's outline is itself (two rows): ticks too
    assert (boxes[want != g] == 2).all() and boxes[4, 5] == 2 and boxes[5, 4] == 2
    assert lines.corner_ticks(g[5:, :], 0, 2, squares=True) is None


def test_corner_ticks_solve_a_training_task():
    assert_op_solves(lines, "14b8e18c", ["corner_ticks(2,squares)"], dataset="arc-agi-2")


def test_swap_and_extend_turns_a_framed_square_inside_out_and_grows_it():
    g = np.zeros((8, 8), dtype=np.uint8)
    g[2:6, 2:5] = 4
    g[3:5, 3] = 6                            # a 4 x 3 frame of 4 around a 2 x 1 inside of 6
    want = np.zeros((8, 8), dtype=np.uint8)
    want[2:6, 2:5] = 6
    want[3:5, 3] = 4                         # swapped
    want[0:2, 2:5] = 4                       # up and down by the inside's height (2)
    want[6:8, 2:5] = 4
    want[2:6, 1] = 4                         # left and right by its width (1)
    want[2:6, 5] = 4
    got = lines.swap_and_extend(g, 0)
    assert got is not None and (got == want).all()
    solid = np.zeros((6, 6), dtype=np.uint8)
    solid[1:4, 1:4] = 4                      # one colour: no inside
    assert lines.swap_and_extend(solid, 0) is None


def test_swap_and_extend_solves_a_training_task():
    assert_op_solves(lines, "3befdf3e", ["swap_and_extend"])


def test_shelter_lines_rain_down_the_columns_with_a_dot_under_the_shelter():
    g = np.zeros((9, 9), dtype=np.uint8)
    g[1, 3:6] = 7
    g[2, 2], g[2, 6] = 7, 7                  # the shelter: a bar with two legs, columns 2-6
    g[6, 4], g[5, 6], g[4, 8], g[0, 3] = 2, 2, 2, 2   # under column 4 and 6; outside; above
    before = g.copy()
    want = g.copy()
    want[2:, 4] = 2                          # from under the bar to the bottom
    want[3:, 6] = 2                          # from under the leg
    got = lines.shelter_lines(g, 0)
    assert got is not None and (got == want).all()
    assert (g == before).all()               # the input is left as it was
    g[6, 4] = 3                              # dots of two colours: no single rain colour
    assert lines.shelter_lines(g, 0) is None


def test_shelter_lines_solve_a_training_task():
    assert_op_solves(lines, "6d58a25d", ["shelter_lines"])


def test_corner_stamps_fit_each_corner_and_paint_it_in_the_cell_colour():
    def pair(y: int, x: int, colour: int, cells: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        i = np.zeros((6, 6), dtype=np.uint8)
        i[y, x] = colour
        o = np.zeros((6, 6), dtype=np.uint8)
        for r, c in cells:
            o[r, c] = colour
        return i, o
    pairs = [pair(0, 0, 3, [(1, 1), (1, 2)]),          # top-left: erased, a bar one row in
             pair(5, 5, 4, [(5, 5), (3, 3)])]          # bottom-right: kept, a dot two steps in
    stamps = stamp.fit_corner_stamps(pairs, 0)
    assert stamps == {0: (False, ((1, 1), (1, 2))), 3: (True, ((2, 2),))}
    test = np.zeros((6, 6), dtype=np.uint8)
    test[0, 0], test[5, 5] = 7, 8
    want = np.zeros((6, 6), dtype=np.uint8)
    want[1, 1], want[1, 2] = 7, 7
    want[5, 5], want[3, 3] = 8, 8
    got = stamp.corner_stamps(test, 0, stamps)
    assert got is not None and (got == want).all()
    test[0, 5] = 2                                     # a corner no demonstration showed
    assert stamp.corner_stamps(test, 0, stamps) is None
    assert stamp.fit_corner_stamps(pairs + [pair(0, 0, 3, [(2, 2)])], 0) is None   # two top-left stamps


def test_corner_stamps_solve_a_training_task():
    assert_op_solves(stamp, "fd02da9e", ["corner_stamps(4)"], dataset="arc-agi-2")
