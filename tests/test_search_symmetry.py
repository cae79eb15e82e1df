"""Symmetry and periodic completion of the search against grids built symmetric (or periodic) by
construction and then masked, and real ARC-AGI-1 training tasks."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves

from trm_submit.search import symmetry
from trm_submit.search.grid_loops import mirror_axis, periodic_fill
from trm_submit.search.symmetry import complete, fit_axis, symmetrise_about, symmetrise_objects, symmetry_patch


def _symmetric(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """An n x n grid (colours 1..4) with the symmetry of `kind`, made by mirroring a random block."""
    g = rng.integers(1, 5, size=(n, n)).astype(np.uint8)
    if kind == "d4":
        g = (np.triu(g) + np.triu(g, 1).T).astype(np.uint8)   # transpose-symmetric, then both mirrors
    if kind in ("lr", "lrud", "d4"):
        g[:, n - n // 2:] = g[:, :n // 2][:, ::-1]
    if kind in ("ud", "lrud", "d4"):
        g[n - n // 2:] = g[:n // 2][::-1]
    return g


@pytest.mark.parametrize("kind", ["lr", "ud", "lrud", "d4"])
def test_complete_recovers_masked_symmetric_grid(kind):
    rng = np.random.default_rng(20)
    recovered = 0
    for _ in range(20):
        full = _symmetric(rng, kind, int(rng.integers(6, 13)))
        if kind == "d4":
            assert (full == full.T).all() and (full == full[::-1]).all()
        h, w = full.shape
        masked = full.copy()
        r0, c0 = int(rng.integers(0, h - 2)), int(rng.integers(0, w // 2 - 1))
        masked[r0:r0 + 2, c0:c0 + 2] = 0   # a hole only on the left half: its mirror is known
        got = complete(masked, 0, kind)
        if got is not None:
            recovered += 1
            assert (got == full).all()
            patch = symmetry_patch(masked, 0, kind)
            assert (patch == full[r0:r0 + 2, c0:c0 + 2]).all()
    assert recovered >= 15


def test_fit_axis_finds_off_centre_axis():
    rng = np.random.default_rng(21)
    half = rng.integers(1, 5, size=(5, 4)).astype(np.uint8)
    sym = np.concatenate([half, half[:, ::-1]], axis=1)          # axis between columns 3 and 4
    grid = np.concatenate([sym, rng.integers(1, 5, size=(5, 1)).astype(np.uint8)], axis=1)  # plus a column
    assert fit_axis(grid, np.zeros(grid.shape, bool), 1) == 7      # mirror of column i is 7 - i


def test_periodic_completion_recovers_tiling():
    rng = np.random.default_rng(22)
    for _ in range(20):
        tile = rng.integers(1, 6, size=(int(rng.integers(2, 4)), int(rng.integers(2, 4)))).astype(np.uint8)
        full = np.tile(tile, (4, 4))[:11, :10]
        masked = full.copy()
        masked[3:6, 4:7] = 0
        assert (complete(masked, 0, "tile") == full).all()


def test_periodic_completion_recovers_diagonal_stripes_and_sheared_tilings():
    # colour by (r + c) mod 3: no plain tiling smaller than 3 x 3, and a 3 x 3 tiling leaves classes unknown
    stripes = (np.add.outer(np.arange(7), np.arange(7)) % 3 + 2).astype(np.uint8)
    masked = stripes.copy()
    masked[np.add.outer(np.arange(7), np.arange(7)) > 2] = 0           # only the top-left corner is known
    assert (complete(masked, 0, "tile") == stripes).all()
    # a 2 x 3 tile repeated with each band of two rows shifted one column right
    tile = np.array([[1, 2, 3], [4, 5, 6]], np.uint8)
    bricks = np.stack([np.roll(np.tile(tile[r % 2], 4), r // 2) for r in range(8)])
    masked = bricks.copy()
    masked[2:5, 1:7] = 0
    assert (complete(masked, 0, "tile") == bricks).all()


def test_symmetrise_about_reflects_shapes_around_the_anchor_centre():
    g = np.zeros((7, 7), np.uint8)
    g[3, 3] = 4                                  # the anchor, alone, symmetric by itself
    g[0, 1] = g[1, 1] = g[1, 2] = 2             # an L up-left of it (not symmetric by itself)
    want = g.copy()
    for r, c in ((0, 1), (1, 1), (1, 2)):
        want[r, 6 - c] = want[6 - r, c] = want[6 - r, 6 - c] = 2
    assert (symmetrise_about(g, 0, 4, "lrud") == want).all()
    assert (symmetrise_about(g, 0, -1, "lrud") == want).all()   # ANCHOR: the L is not symmetric, 4 is
    assert symmetrise_about(g, 0, 7, "lrud") is None           # no cell of colour 7


def test_no_axis_gives_none_and_nothing_masked_keeps_the_grid():
    g = (np.arange(24).reshape(4, 6) % 9 + 1).astype(np.uint8)   # no two cells of a row or column agree
    g[0, 0] = 0
    assert all(complete(g, 0, kind) is None for kind in ("lr", "ud", "lrud", "d4"))
    ones = np.ones((3, 3), np.uint8)
    assert (complete(ones, 0, "lr") == ones).all()
    assert complete(np.zeros((3, 3), np.uint8), 0, "lr") is None      # everything masked
    assert symmetry_patch(ones, 0, "lr") is None                       # no patch to return


@pytest.mark.parametrize("task_id,names", [
    ("3631a71a", ["symmetry(lrud,9)"]),
    ("b8825c91", ["symmetry(lrud,4)"]),
    ("9ecd008a", ["symmetry_patch(lr,0)"]),
    ("f9012d9b", ["symmetry_patch(tile,0)"]),
    ("05269061", ["symmetry(tile,0)"]),
    ("4938f0c2", ["symmetrise_about(3,lrud)"]),
    ("4c5c2cf0", ["symmetrise_about(anchor,lrud)"]),     # the anchor's colour differs between examples
    ("484b58aa", ["symmetry(tile,0)"]),
    ("dc0a314f", ["symmetry_patch(lrud,3)"]),
])
def test_real_training_tasks(task_id, names):
    assert_op_solves(symmetry, task_id, names)


def _ref_mirror_axis(grid: np.ndarray, known: np.ndarray) -> int:
    h, w = grid.shape
    best, best_s = 0, -1
    for s in range(1, 2 * w - 2):
        pairs = [(r, c, s - c) for r in range(h) for c in range(w) if c < s - c < w and known[r, c] and known[r, s - c]]
        if not pairs or any(grid[r, c] != grid[r, p] for r, c, p in pairs):
            continue
        if len(pairs) > best or (len(pairs) == best and abs(s - (w - 1)) < abs(best_s - (w - 1))):
            best, best_s = len(pairs), s
    return best_s


def test_mirror_axis_kernel_equals_reference():
    rng = np.random.default_rng(23)
    for _ in range(200):
        h, w = int(rng.integers(1, 8)), int(rng.integers(1, 9))
        grid = rng.integers(0, 2, size=(h, w)).astype(np.uint8)
        known = rng.random((h, w)) < 0.7
        assert mirror_axis(grid, known) == _ref_mirror_axis(grid, known)


def _ref_periodic(grid: np.ndarray, mask: np.ndarray, periods) -> np.ndarray | None:
    h, w = grid.shape
    for pr, pc, shift in periods:
        def cls(r: int, c: int) -> tuple[int, int]:   # reduce by (pr, shift) down to row r mod pr, then mod pc
            q = r // pr
            return r - q * pr, (c - q * shift) % pc
        classes: dict = {}
        if any(classes.setdefault(cls(r, c), grid[r, c]) != grid[r, c]
               for r in range(h) for c in range(w) if not mask[r, c]):
            continue
        if all(cls(r, c) in classes for r in range(h) for c in range(w) if mask[r, c]):
            out = grid.copy()
            for r in range(h):
                for c in range(w):
                    if mask[r, c]:
                        out[r, c] = classes[cls(r, c)]
            return out
    return None


def test_periodic_fill_kernel_equals_reference():
    rng = np.random.default_rng(24)
    for _ in range(100):
        tile = rng.integers(0, 3, size=(int(rng.integers(1, 4)), int(rng.integers(1, 4)))).astype(np.uint8)
        grid = np.tile(tile, (4, 4))[:int(rng.integers(2, 10)), :int(rng.integers(2, 10))].copy()
        if rng.random() < 0.5:   # shear: each band of tile rows shifted sideways by one more step
            step = int(rng.integers(1, tile.shape[1] + 1))
            grid = np.stack([np.roll(row, (r // tile.shape[0]) * step) for r, row in enumerate(grid)])
        if rng.random() < 0.3:
            grid[rng.integers(0, grid.shape[0]), rng.integers(0, grid.shape[1])] = 7   # may break the period
        mask = rng.random(grid.shape) < 0.2
        periods = [tuple(p) for p in symmetry._periods(*grid.shape)]
        got = periodic_fill(grid, mask, np.array(periods, dtype=np.int64).reshape(-1, 3))
        want = _ref_periodic(grid, mask, periods)
        assert (got.size == 0) if want is None else (got == want).all()


def test_symmetrise_about_a_cross_of_lines_mirrors_across_the_lines_not_the_grid_centre():
    g = np.zeros((6, 7), np.uint8)
    g[2, :] = 5          # the cross: row 2 and column 4, off the grid's centre
    g[:, 4] = 5
    g[0, 3], g[1, 2] = 7, 8   # the top-left arm
    want = g.copy()
    for r, c, v in ((0, 3, 7), (1, 2, 8)):
        for rr, cc in ((r, 8 - c), (4 - r, c), (4 - r, 8 - c)):
            if 0 <= rr < 6 and 0 <= cc < 7:
                want[rr, cc] = v
    assert (symmetrise_about(g, 0, 5, "lrud") == want).all()
    assert (symmetrise_about(g, 0, symmetry.ANCHOR, "lrud") == want).all()   # the cross is the anchor


def test_symmetrise_about_a_cross_solves_an_arc_agi_2_training_task():
    assert_op_solves(symmetry, "60d73be6", ["symmetrise_about(anchor,lrud)"], dataset="arc-agi-2")


def test_symmetrise_objects_restores_a_broken_shape_about_the_cheapest_centre():
    whole = np.zeros((7, 7), np.uint8)
    whole[3, 3] = 2
    whole[2, 3] = whole[4, 3] = whole[3, 2] = whole[3, 4] = 6      # a plus with a red centre
    broken = whole.copy()
    broken[4, 3] = 0                                                # one arm gone
    for kind in ("lrud", "c4", "d4"):
        # about (3, 3) one cell comes back; any other centre would have to copy the red cell elsewhere too
        assert (symmetrise_objects(broken, 0, kind) == whole).all()
    assert symmetrise_objects(whole, 0, "d4") is None               # already whole: nothing changes
    pair = np.zeros((3, 5), np.uint8)
    pair[1, 1], pair[1, 2] = 3, 4
    # mirrored about column 1 or column 2, one new cell either way: no unique centre
    assert symmetrise_objects(pair, 0, "lrud") is None


def test_symmetrise_objects_solves_training_tasks():
    assert_op_solves(symmetry, "e40b9e2f", ["symmetrise_objects(c4)"])   # quarter turns only
    assert_op_solves(symmetry, "11852cab", ["symmetrise_objects(d4)"])


def test_unocclude_fills_what_blocks_of_any_colour_hide_and_the_patch_is_the_largest_block():
    tiling = np.tile(np.array([[1, 2, 3], [3, 1, 2]], np.uint8), (4, 4))          # 8 x 12, period 2 x 3
    covered = tiling.copy()
    covered[1:4, 2:5] = 7                                                          # a 3 x 3 block
    covered[5:7, 7:11] = 9                                                         # a 2 x 4 block
    assert (symmetry.unocclude(covered, "tile") == tiling).all()
    assert (symmetry.unoccluded_patch(covered, "tile") == tiling[1:4, 2:5]).all()  # 9 cells beat 8
    assert symmetry.solid_rectangles(tiling) == []                                 # nothing covers the pattern
    assert symmetry.unocclude(tiling, "tile") is None
    tied = covered.copy()
    tied[5:7, 7:11], tied[5:8, 8:11] = tiling[5:7, 7:11], 9                        # two 3 x 3 blocks
    assert symmetry.unoccluded_patch(tied, "tile") is None


def test_unocclusion_solves_training_tasks():
    assert_op_solves(symmetry, "abbfd121", ["unoccluded_patch(tile)"], dataset="arc-agi-2")  # covers of 3 colours
    assert_op_solves(symmetry, "c444b776", ["unocclude(tile)"])


def _rows(*rows: str) -> np.ndarray:
    return np.array([[int(c) for c in r] for r in rows], np.uint8)


def test_mirror_at_marker_reflects_each_shape_over_its_marked_side():
    g = _rows("00000000",
              "04420000",    # an L marked on its right
              "04020000",
              "00000000",
              "00000200",    # an L marked above it
              "00000600",
              "00000660")
    want = _rows("00000000",
                 "04444000",   # mirrored right over the L's right edge; the marker gone
                 "04004000",
                 "00000660",   # mirrored up over the L's top edge
                 "00000600",
                 "00000600",
                 "00000660")
    assert symmetry.mirror_at_marker(g, 0, 2).tolist() == want.tolist()
    around = _rows("00000", "00200", "03330", "00200", "00000")   # markers on two sides: no side
    assert symmetry.mirror_at_marker(around, 0, 2) is None
    edge = _rows("0000", "2555", "0000")                          # the reflection would leave the grid
    assert symmetry.mirror_at_marker(edge, 0, 2) is None
    assert symmetry.mirror_at_marker(np.eye(3, dtype=np.uint8) * 4, 0, 2) is None   # no marker


def test_mirror_at_marker_then_a_background_map_solves_a_training_task():
    from trm_submit.search import colour
    assert_op_solves([symmetry, colour], "2bcee788", ["mirror_at_marker(2)", "fill_bg(3)"])


def test_mirror_to_corner_cells_reflects_the_shape_toward_each_coloured_corner_cell():
    g = np.zeros((8, 8), dtype=np.uint8)
    g[3, 3], g[4, 3], g[4, 2] = 5, 5, 5      # the shape; its pivot (3, 3)
    g[2, 3], g[3, 4] = 2, 4                  # a cell above the pivot and one to its right
    want = g.copy()
    want[1, 3], want[1, 2] = 2, 2            # mirrored up over the pivot's top side, in 2 (the mark's cell stays)
    want[3, 4], want[4, 4], want[4, 5] = 4, 4, 4   # mirrored right over its right side, in 4
    got = symmetry.mirror_to_corner_cells(g, 0)
    assert got is not None and (got == want).all()
    g[2, 4] = 3                              # a diagonal cell: the shape turned about the pivot's corner
    want[2, 4], want[1, 4], want[1, 5] = 3, 3, 3
    got = symmetry.mirror_to_corner_cells(g, 0)
    assert got is not None and (got == want).all()
    apart = np.zeros((8, 8), dtype=np.uint8)
    apart[3, 3], apart[3, 4], apart[4, 3], apart[4, 4] = 5, 2, 5, 3   # two pivots touch both marks
    assert symmetry.mirror_to_corner_cells(apart, 0) is None


def test_mirror_to_corner_cells_solves_a_training_task():
    assert_op_solves(symmetry, "b775ac94", ["mirror_to_corner_cells"])


def test_throw_corners_sends_each_corner_colour_past_the_opposite_corner():
    g = np.zeros((7, 7), dtype=np.uint8)
    g[2:5, 3:5] = [[1, 2], [7, 7], [3, 4]]   # a 3 x 2 block of several colours
    want = g.copy()
    want[0:2, 1:3] = 4                       # the bottom-right colour as a 3 x 2 block past the top-left corner,
    want[0:2, 5:7] = 3                       # clipped at the top edge
    want[5:7, 1:3] = 2
    want[5:7, 5:7] = 1
    got = symmetry.throw_corners(g, 0, "block")
    assert got is not None and (got == want).all()
    assert symmetry.throw_corners(g, 0, "frame") is None
    f = np.zeros((8, 8), dtype=np.uint8)
    f[1:7, 1:6] = 5
    f[2:6, 2:5] = 0
    f[2, 2], f[5, 4] = 3, 6                  # two inner corners hold a colour
    want = f.copy()
    want[2, 2], want[5, 4] = 0, 0            # taken out of the frame,
    want[7, 6], want[0, 0] = 3, 6            # each one cell diagonally past the opposite corner
    got = symmetry.throw_corners(f, 0, "frame")
    assert got is not None and (got == want).all()
    assert symmetry.throw_corners(f, 0, "block") is None


def test_throw_corners_solves_two_training_tasks():
    assert_op_solves(symmetry, "93b581b8", ["throw_corners(block)"])
    assert_op_solves(symmetry, "952a094c", ["throw_corners(frame)"])
