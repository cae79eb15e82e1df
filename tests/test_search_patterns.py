"""Pattern primitives of the search (gravity, enclosed fill, rays, denoising and their numba kernels) against
plain loop/BFS references (tests/search_reference.py), hand-made cases and real ARC-AGI-1 training tasks."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from search_reference import assert_op_solves, random_sparse, ref_border_reach, ref_components

from trm_submit.search import patterns
from trm_submit.search.grid_loops import border_reach, draw_rays, gravity_down
from trm_submit.search.patterns import (
    RAY_DIRS,
    fill_enclosed,
    gravity_cells,
    gravity_objects,
    majority_filter,
    rays,
    remove_small,
)


def _ref_gravity_cells(g: np.ndarray, bg: int, direction: str) -> np.ndarray:
    out = np.full_like(g, bg)
    h, w = g.shape
    lines = [[(r, c) for r in range(h)] for c in range(w)] if direction in ("up", "down") else \
        [[(r, c) for c in range(w)] for r in range(h)]
    for line in lines:
        if direction in ("down", "right"):
            line = line[::-1]
        colours = [g[y, x] for y, x in line if g[y, x] != bg]
        for (y, x), colour in zip(line, colours):
            out[y, x] = colour
    return out


def test_gravity_down_kernel_equals_reference():
    rng = np.random.default_rng(10)
    for _ in range(50):
        g = random_sparse(rng, int(rng.integers(1, 12)), int(rng.integers(1, 12)))
        assert (gravity_down(g, 0) == _ref_gravity_cells(g, 0, "down")).all()


@pytest.mark.parametrize("direction", ["up", "down", "left", "right"])
def test_gravity_cells_equals_reference(direction):
    rng = np.random.default_rng(11)
    for _ in range(30):
        g = random_sparse(rng, int(rng.integers(1, 10)), int(rng.integers(1, 10)))
        bg = 0 if (g == 0).any() else int(np.bincount(g.ravel()).argmax())
        assert (gravity_cells(g, 0, direction) == _ref_gravity_cells(g, bg, direction)).all()


def _ref_gravity_objects_down(g: np.ndarray) -> np.ndarray:
    """Step simulation: any object (8-connected, any colours) whose cells can all move one row down onto
    background or its own cells moves; repeat until nothing moves."""
    objs = [[(y, x, int(g[y, x])) for y, x in cs] for cs in ref_components(g, 0, True, True)]
    h = g.shape[0]
    moved = True
    while moved:
        moved = False
        occupied = {(y, x): k for k, cs in enumerate(objs) for y, x, _ in cs}
        for k, cs in enumerate(objs):
            if all(y + 1 < h and occupied.get((y + 1, x), k) == k for y, x, _ in cs):
                objs[k] = [(y + 1, x, c) for y, x, c in cs]
                occupied = {(y, x): j for j, cc in enumerate(objs) for y, x, _ in cc}
                moved = True
    out = np.zeros_like(g)
    for cs in objs:
        for y, x, c in cs:
            out[y, x] = c
    return out


def test_gravity_objects_equals_step_simulation():
    rng = np.random.default_rng(12)
    for _ in range(40):
        g = random_sparse(rng, 9, 8, fill=0.15)
        if not g.any():
            continue
        assert (gravity_objects(g, 0, "down") == _ref_gravity_objects_down(g)).all()
        # the other directions are the same physics in a rotated frame
        assert (gravity_objects(g, 0, "up") == np.flipud(_ref_gravity_objects_down(np.flipud(g)))).all()
        assert (gravity_objects(g, 0, "right") == _ref_gravity_objects_down(g.T.copy()).T).all()


def test_sized_gravity_drops_the_large_objects_and_leaves_the_small_ones():
    g = np.zeros((6, 5), np.uint8)
    g[0:2, 0:2] = 3                          # a 2 x 2 block: falls
    g[1, 3] = 3                              # a lone cell: stays
    g[3, 0] = 4                              # a lone cell below the block: stays, and the block lands on it
    want = np.zeros_like(g)
    want[1, 3] = 3
    want[3, 0] = 4
    want[1:3, 0:2] = 3
    assert (gravity_objects(g, 0, "down", "c4", min_size=2) == want).all()
    assert (gravity_objects(g, 0, "down", "c4", min_size=0) == _ref_gravity_objects_down(g)).all()


def test_sized_gravity_solves_a_training_task():
    assert_op_solves(patterns, "6ca952ad", ["gravity_objects(down,c4,4+)"], dataset="arc-agi-2")


def test_border_reach_kernel_equals_bfs():
    rng = np.random.default_rng(13)
    for _ in range(60):
        g = rng.integers(0, 3, size=(int(rng.integers(1, 14)), int(rng.integers(1, 14)))).astype(np.uint8)
        assert (border_reach(g, 0) == ref_border_reach(g, 0)).all()


def test_fill_enclosed_equals_reference():
    rng = np.random.default_rng(14)
    for _ in range(40):
        g = random_sparse(rng, 10, 10, colours=1, fill=0.5)
        want = g.copy()
        want[(g == 0) & ~ref_border_reach(g, 0)] = 4
        got = fill_enclosed(g, 0, 4)
        assert (got == want).all()
    ring = np.array([[0, 2, 2, 2], [0, 2, 0, 2], [0, 2, 2, 2]], dtype=np.uint8)
    assert fill_enclosed(ring, 0, 5).tolist() == [[0, 2, 2, 2], [0, 2, 5, 2], [0, 2, 2, 2]]


def _ref_rays(g: np.ndarray, seeds: np.ndarray, dirs, bg: int, through: bool) -> np.ndarray:
    h, w = g.shape
    out = g.copy()
    for r0 in range(h):
        for c0 in range(w):
            if not seeds[r0, c0]:
                continue
            for dr, dc in dirs:
                r, c = r0 + dr, c0 + dc
                while 0 <= r < h and 0 <= c < w:
                    if g[r, c] == bg:
                        out[r, c] = g[r0, c0]
                    elif not through:
                        break
                    r, c = r + dr, c + dc
    return out


@pytest.mark.parametrize("through", [False, True])
def test_draw_rays_kernel_equals_reference(through):
    rng = np.random.default_rng(15)
    for name, dirs in RAY_DIRS.items():
        for _ in range(10):
            g = random_sparse(rng, int(rng.integers(1, 12)), int(rng.integers(1, 12)), fill=0.15)
            seeds = (g == 1)
            got = draw_rays(g, seeds, np.array(dirs, dtype=np.int64), 0, through)
            assert (got == _ref_rays(g, seeds, dirs, 0, through)).all(), name
    g = np.zeros((3, 5), np.uint8)
    g[1, 1], g[1, 3] = 2, 6
    assert rays(g, 0, (2,), "right", False).tolist()[1] == [0, 2, 2, 6, 0]
    assert rays(g, 0, (2,), "right", True).tolist()[1] == [0, 2, 2, 6, 2]


def test_remove_small_and_isolated_equal_reference():
    rng = np.random.default_rng(16)
    for _ in range(40):
        g = random_sparse(rng, 10, 10, fill=0.3)
        for k in (1, 3):
            want = g.copy()
            for cs in ref_components(g, 0, True, True):
                if len(cs) <= k:
                    for y, x in cs:
                        want[y, x] = 0
            got = remove_small(g, 0, k)
            assert (got == want).all()


def test_majority_filter_equals_reference():
    rng = np.random.default_rng(17)
    for _ in range(30):
        g = rng.integers(0, 3, size=(int(rng.integers(1, 9)), int(rng.integers(1, 9)))).astype(np.uint8)
        h, w = g.shape
        want = g.copy()
        for r in range(h):
            for c in range(w):
                counts = Counter(int(g[y, x]) for y in range(r - 1, r + 2) for x in range(c - 1, c + 2)
                                 if 0 <= y < h and 0 <= x < w)
                best = max(counts.values())
                winners = [colour for colour, n in counts.items() if n == best]
                if len(winners) == 1 and winners[0] != g[r, c]:
                    want[r, c] = winners[0]
        assert (majority_filter(g) == want).all()


def test_primitives_never_modify_their_argument():
    rng = np.random.default_rng(18)
    g = random_sparse(rng, 8, 8, fill=0.4)
    g.flags.writeable = False   # the engine hands read-only grids
    for fn in (lambda x: gravity_cells(x, 0, "left"), lambda x: gravity_objects(x, 0, "up"),
               lambda x: fill_enclosed(x, 0, 3), lambda x: rays(x, 0, (1, 2), "all", False),
               lambda x: remove_small(x, 0, 2), majority_filter):
        fn(g)


def test_flood_from_paints_only_the_background_regions_a_colour_touches_at_a_side():
    g = np.array([[0, 0, 5, 0, 0],
                  [0, 1, 5, 0, 0],
                  [5, 5, 5, 5, 5],
                  [0, 0, 0, 5, 1],
                  [0, 0, 0, 5, 0]], np.uint8)
    want = g.copy()
    want[0:2, 0:2] = 1              # the top-left room holds a 1
    want[4, 4] = 1                  # the bottom-right room touches the 1 above it
    assert (patterns.flood_from(g, 0, 1) == want).all()   # top-right and bottom-left rooms: no 1 beside them


def test_continue_rows_maps_the_template_row_into_each_rows_own_colours():
    g = np.array([[1, 2, 1, 1, 2], [0, 0, 0, 0, 0], [3, 4, 0, 0, 0], [5, 0, 0, 0, 0], [7, 7, 0, 0, 0]], np.uint8)
    want = g.copy()
    want[2] = [3, 4, 3, 3, 4]      # 1 -> 3, 2 -> 4
    # row 3 knows only 1 -> 5 and the template needs 2 too; row 4 maps 1 and 2 both to 7
    want[4] = [7, 7, 7, 7, 7]
    assert (patterns.continue_rows(g, 0) == want).all()


@pytest.mark.parametrize("task_id,names", [
    ("00d62c1b", ["fill_enclosed(4)"]),
    ("a5313dff", ["fill_enclosed(1)"]),
    ("1e0a9b12", ["gravity_cells(down)"]),
    ("3906de3d", ["gravity_cells(up)"]),
    ("42a50994", ["remove_isolated"]),
    ("623ea044", ["rays(diag,stop,all)"]),
    ("d037b0a7", ["rays(down,stop,all)"]),
    ("ea786f4a", ["rays(diag,stop,all)"]),
    ("e26a3af2", ["stripe_majority"]),                     # rows in some examples, columns in others
    ("82819916", ["continue_rows"]),
    ("9edfc990", ["flood_from(1)"]),
])
def test_real_training_tasks(task_id, names):
    assert_op_solves(patterns, task_id, names)


def test_cycle_header_fills_blank_rows_with_the_header_colours_in_turn():
    g = np.zeros((6, 3), np.uint8)
    g[0] = [4, 0, 7]           # header colours 4, 7 (background skipped)
    g[1] = 5                   # a separator row (not blank) is kept
    out = patterns.cycle_header(g, 0)
    assert out[:2].tolist() == g[:2].tolist()
    assert out[2:].tolist() == [[4] * 3, [7] * 3, [4] * 3, [7] * 3]
    one = np.zeros((3, 3), np.uint8)
    one[0, 1] = 2              # a single header colour: no cycle
    assert patterns.cycle_header(one, 0) is None


def test_cycle_header_solves_a_training_task():
    assert_op_solves(patterns, "bd4472b8", ["cycle_header"])


def _ref_largest_block_area(mask: np.ndarray) -> int:
    h, w = mask.shape
    return max([(b - t + 1) * (r - left + 1) for t in range(h) for left in range(w) for b in range(t, h)
                for r in range(left, w) if mask[t:b + 1, left:r + 1].all()], default=0)


def test_largest_block_equals_a_search_of_every_rectangle():
    rng = np.random.default_rng(34)
    for _ in range(200):
        mask = rng.random((int(rng.integers(1, 8)), int(rng.integers(1, 8)))) < 0.7
        area, top, left, height, width = patterns._largest_block(mask)
        assert area == _ref_largest_block_area(mask)
        assert area == 0 or (height * width == area and mask[top:top + height, left:left + width].all())


def test_largest_rectangle_keeps_the_block_out_of_the_noise():
    g = np.zeros((6, 6), np.uint8)
    g[1:4, 2:5] = 2            # the 3x3 block
    g[0, 2] = g[5, 0] = 2      # noise of its colour, one cell touching it
    g[4, 4] = g[2, 0] = 7      # noise of another colour
    want = np.zeros_like(g)
    want[1:4, 2:5] = 2
    assert (patterns.largest_rectangle(g, 0) == want).all()
    g[1:4, 0:2] = 7            # a 3x2 block of 7 beside it: still the 3x3 one
    assert (patterns.largest_rectangle(g, 0) == want).all()
    g[0:3, 0:3] = 5            # a second 3x3 block of another colour (over the first's corner): a tie
    g[1:4, 3:6] = 2
    assert patterns.largest_rectangle(g, 0) is None


def test_largest_rectangle_solves_a_training_task():
    assert_op_solves(patterns, "91714a58", ["largest_rectangle"])


def test_remove_inner_erases_what_lies_in_another_objects_box():
    g = np.zeros((7, 8), np.uint8)
    g[1, 1:6], g[5, 1:6], g[1:6, 1] = 2, 2, 2     # a C-shaped 2-object, open on the right: box rows 1-5, cols 1-5
    g[3, 3:5] = 4                                  # inside that box, not enclosed: erased
    g[0, 7] = 6                                    # outside every box: stays
    g[6, 4:8] = 3                                  # a bar beside the box: stays
    want = g.copy()
    want[3, 3:5] = 0
    assert np.array_equal(patterns.remove_inner(g, 0), want)
    assert patterns.remove_inner(want, 0) is None  # nothing left inside a box


def test_remove_inner_solves_a_real_training_task():
    assert_op_solves(patterns, "9720b24f", ["remove_inner"], dataset="arc-agi-2")


def test_fill_largest_blank_paints_the_biggest_empty_rectangle():
    g = np.ones((5, 8), np.uint8)
    g[0, 0:7] = 0                     # a 1 x 7 run: a gap, not an area
    g[2:4, 1:4] = 0                   # 2 x 3 = 6
    g[2:5, 5:7] = 0                   # 3 x 2 = 6: ties the other
    assert patterns.fill_largest_blank(g, 0, 6) is None
    g[4, 1:4] = 0                     # now 3 x 3 = 9 beats every other
    want = g.copy()
    want[2:5, 1:4] = 6
    assert np.array_equal(patterns.fill_largest_blank(g, 0, 6), want)


def test_fill_largest_blank_solves_a_training_task():
    assert_op_solves(patterns, "3eda0437", ["fill_largest_blank(6)"])


def test_flood_checker_paints_the_path_by_turns_from_its_seeds():
    g = np.full((5, 6), 8, np.uint8)
    g[1, 0:5] = 0
    g[1:4, 4] = 0                     # an L-shaped path of 0 through walls of 8
    g[3, 0:2] = 0                     # a second path that no seed touches
    g[1, 0], g[1, 1] = 2, 3           # the seeds: 2 on an odd cell, 3 next to it on an even one
    want = g.copy()
    want[1, 2], want[1, 3], want[1, 4] = 2, 3, 2
    want[2, 4], want[3, 4] = 3, 2
    assert np.array_equal(patterns.flood_checker(g, 0), want)
    g[4, 5] = 3                       # a 3 on an odd cell too: 3 no longer sits on one checkerboard colour
    assert patterns.flood_checker(g, 0) is None


def test_flood_checker_solves_a_training_task():
    assert_op_solves(patterns, "b782dc8a", ["flood_checker(0)"])


def test_window_counts_equal_a_plain_count_of_every_window():
    from trm_submit.search.grid_loops import window_counts
    rng = np.random.default_rng(7)
    mask = rng.random((7, 9)) < 0.6
    for hh, ww in ((1, 1), (2, 3), (7, 9), (4, 2)):
        want = np.array([[mask[r:r + hh, c:c + ww].sum() for c in range(9 - ww + 1)] for r in range(7 - hh + 1)])
        assert np.array_equal(window_counts(mask, hh, ww), want)


def test_pad1_equals_numpy_pad_with_a_one_cell_border():
    from trm_submit.search.grid_loops import pad1
    rng = np.random.default_rng(8)
    for shape in ((1, 1), (3, 7), (30, 30)):
        mask = rng.random(shape) < 0.5
        grid = rng.integers(0, 10, shape).astype(np.uint8)
        for a, value in ((mask, False), (mask, True), (grid, 0), (grid, 7)):
            got = pad1(a, value)
            assert got.dtype == a.dtype and np.array_equal(got, np.pad(a, 1, constant_values=value))


def test_uncover_rectangles_lifts_scribbles_off_layered_rectangles():
    g = np.zeros((7, 8), dtype=np.uint8)
    g[1:5, 1:5] = 2                   # the lower rectangle
    g[3:6, 3:7] = 3                   # the upper one: its cells lie inside 2's box
    want = g.copy()
    g[3, 3] = g[2, 2] = g[5, 6] = g[0, 0] = 8   # scribbles: under both boxes, under 2 only, under 3 only, under none
    want[0, 0] = 0                    # the background's box is the whole grid
    assert np.array_equal(patterns.uncover_rectangles(g, 8), want)
    assert patterns.uncover_rectangles(want, 8) is None   # no noise


def test_uncover_rectangles_solves_a_training_task():
    assert_op_solves(patterns, "b7955b3c", ["uncover_rectangles(8)"], dataset="arc-agi-2")


def test_reverse_layers_brings_the_lower_rectangle_to_the_front():
    g = np.zeros((6, 6), dtype=np.uint8)
    g[0:4, 0:4] = 2
    g[2:6, 2:6] = 3                   # 3 lies over 2
    want = g.copy()
    want[0:4, 0:4] = 2                # 2 now over 3
    assert np.array_equal(patterns.reverse_layers(g, 0), want)
    g[0, 0] = 0                       # 2 no longer fills its box: not a stack of rectangles
    assert patterns.reverse_layers(g, 0) is None


def test_reverse_layers_lifts_a_diagonal_line_over_a_shape_on_top():
    g = np.zeros((6, 6), dtype=np.uint8)
    for k in range(6):
        g[k, k] = 3                   # a diagonal 3-line
    g[2:5, 1:4] = 8                   # an 8-block over it (hides (2,2), (3,3))
    g[4, 1] = 0                       # a notch: the 8 shape is no rectangle, but nothing lies over it
    want = g.copy()
    want[2, 2] = want[3, 3] = 3       # the line now crosses over the block
    assert np.array_equal(patterns.reverse_layers(g, 0), want)
    g[4, 4] = 0                       # a gap in the line: no layer under the block
    assert patterns.reverse_layers(g, 0) is None


@pytest.mark.parametrize("task_id,dataset", [("ba97ae07", "arc-agi-1"), ("52df9849", "arc-agi-2")])
def test_reverse_layers_solves_training_tasks(task_id, dataset):
    assert_op_solves(patterns, task_id, ["reverse_layers"], dataset=dataset)


def test_repeat_round_edge_repeats_the_one_edge_run_clockwise():
    g = np.full((4, 5), 8, np.uint8)
    g[0, 0:2] = 3                            # a run of two on the edge
    rows, cols = patterns._rim(4, 5)
    assert len(rows) == 14 and (rows[:5] == 0).all() and (cols[5:8] == 4).all()   # clockwise from the top-left
    want = g.copy()
    for k, (r, c) in enumerate(zip(rows, cols)):
        want[r, c] = 3 if k % 4 < 2 else 8
    assert (patterns.repeat_round_edge(g, 8) == want).all()
    two = g.copy()
    two[2, 4] = 3                            # a second run: not one pattern
    assert patterns.repeat_round_edge(two, 8) is None
    assert patterns.repeat_round_edge(np.full((3, 3), 8, np.uint8), 8) is None


def test_repeat_round_edge_solves_a_training_task():
    assert_op_solves(patterns, "30f42897", ["repeat_round_edge"], dataset="arc-agi-2")


def test_fill_boxes_of_shades_the_box_of_each_cluster_one_cell_gaps_included():
    g = np.array([[2, 1, 2, 0, 0, 0, 0],
                  [0, 0, 0, 0, 0, 0, 0],
                  [0, 1, 2, 0, 0, 0, 0],
                  [0, 0, 0, 0, 0, 0, 0],
                  [0, 0, 0, 0, 0, 0, 0],
                  [0, 0, 0, 0, 1, 2, 2]], dtype=np.uint8)
    want = np.array([[2, 4, 2, 0, 0, 0, 0],       # rows 0-2: one cluster (a row between its cells)
                     [4, 4, 4, 0, 0, 0, 0],
                     [4, 4, 2, 0, 0, 0, 0],
                     [0, 0, 0, 0, 0, 0, 0],
                     [0, 0, 0, 0, 0, 0, 0],
                     [0, 0, 0, 0, 1, 2, 2]], dtype=np.uint8)   # two rows off: its own cluster, nothing to shade
    assert patterns.fill_boxes_of(g, 2, 4).tolist() == want.tolist()
    assert patterns.fill_boxes_of(want, 2, 4) is None   # every box already shaded
    assert patterns.fill_boxes_of(g, 3, 4) is None      # no cell of the colour


@pytest.mark.parametrize("task_id", ["36fdfd69", "60b61512"])
def test_fill_boxes_of_solves_training_tasks(task_id):
    name = {"36fdfd69": "fill_boxes_of(2,4)", "60b61512": "fill_boxes_of(4,7)"}[task_id]
    assert_op_solves(patterns, task_id, [name])
