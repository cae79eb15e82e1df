"""Generic pieces and subset stacks: the new kernels against plain references on random inputs, the generic
functions' contract, subset stacks on hand-made pieces (checked on the demonstrations they were not built
for), and real ARC-AGI-1 training tasks that only the generic pieces stacked together solve."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from search_reference import training_task

from trm_submit.budget import Budget
from trm_submit.io.tasks import Task
from trm_submit.search import generic, grid_loops, library, stack
from trm_submit.search.dsl import make_context
from trm_submit.search.solutions import Verifier
from trm_submit.search.stack import Pieces, subset_stacks


def _random_grid(rng: np.random.Generator, side: int, density: float, colours: int) -> np.ndarray:
    """A grid of 1..side-1 rows and columns on background 0, each cell coloured 1..colours-1 with `density`."""
    h, w = rng.integers(1, side, size=2)
    return np.where(rng.random((h, w)) < density, rng.integers(1, colours, (h, w)), 0).astype(np.uint8)


def _ref_smear(grid: np.ndarray, bg: int, dirs) -> np.ndarray:
    out = grid.copy()
    h, w = grid.shape
    for dy, dx in dirs:
        for r in range(h):
            for c in range(w):
                if grid[r, c] != bg:
                    continue
                rr, cc = r - dy, c - dx  # walk back to the nearest non-background cell
                while 0 <= rr < h and 0 <= cc < w and grid[rr, cc] == bg:
                    rr, cc = rr - dy, cc - dx
                if 0 <= rr < h and 0 <= cc < w:
                    out[r, c] = grid[rr, cc]
    return out


def _ref_spread(grid: np.ndarray, bg: int, skip: int) -> np.ndarray:
    out = grid.copy()
    h, w = grid.shape
    done = grid != bg
    queue = deque((r, c) for r in range(h) for c in range(w) if grid[r, c] != bg and grid[r, c] != skip)
    while queue:
        r, c = queue.popleft()
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and not done[rr, cc]:
                done[rr, cc] = True
                out[rr, cc] = out[r, c]
                queue.append((rr, cc))
    return out


@pytest.mark.parametrize("name", sorted(generic.RAYS))
def test_smear_kernel_equals_reference(name):
    rng = np.random.default_rng(7)
    dirs = np.array(generic.RAYS[name], dtype=np.int64)
    for _ in range(30):
        grid = _random_grid(rng, 9, 0.2, 10)
        assert np.array_equal(grid_loops.smear(grid, 0, dirs), _ref_smear(grid, 0, generic.RAYS[name]))


def test_spread_kernel_equals_reference():
    rng = np.random.default_rng(3)
    for _ in range(50):
        h, w = rng.integers(1, 10, size=2)
        grid = np.where(rng.random((h, w)) < 0.15, rng.integers(0, 4, (h, w)), 5).astype(np.uint8)
        for skip in (-1, 1):
            assert np.array_equal(grid_loops.spread_colours(grid, 5, skip), _ref_spread(grid, 5, skip))


def _ref_best_step(masks, disagree, open_cells, care, allowed):
    best = (-1, -1, 0)
    count = np.vectorize(lambda x: bin(int(x)).count("1"))
    for p in range(masks.shape[1]):
        if not allowed[p]:
            continue
        for m in range(masks.shape[0]):
            new = masks[m, p] & open_cells
            if (new & disagree[p]).any():
                continue
            gain = int(count(new & care).sum())
            if gain > best[2]:
                best = (p, m, gain)
    return best


def test_best_stack_step_kernel_equals_reference():
    rng = np.random.default_rng(11)
    for _ in range(40):
        pieces, words = rng.integers(1, 12), rng.integers(1, 4)

        def bits(*shape, p=0.5):
            b = rng.random(shape + (words * 64,)) < p
            return np.packbits(b, axis=-1, bitorder="little").view(np.uint64).reshape(shape + (words,))

        masks, disagree = bits(3, pieces), bits(pieces, p=0.03)
        open_cells, care = bits(p=0.7), bits(p=0.5)
        allowed = rng.random(pieces) < 0.8
        got = grid_loops.best_stack_step(masks, disagree, open_cells, care, allowed)
        assert tuple(int(x) for x in got) == _ref_best_step(masks, disagree, open_cells, care, allowed)


def test_generic_functions_keep_the_shape_and_change_only_what_they_say():
    task, _ = training_task("178fcbfb")
    ctx = make_context(task)
    grid = np.ascontiguousarray(task.train[0][0])
    selective = {"largest", "smallest", "rarest", "centre_row", "centre_col"}   # None where nothing is selected
    selective_kinds = ("touching(", "inside(", "continue_")    # ... or nothing touches, or nothing is left to fill
    for name, fn in generic.functions(ctx):
        out = fn(grid, ctx.bg)
        if out is None and (name in selective or name.startswith(selective_kinds)):
            continue
        assert out is not None and out.shape == grid.shape and out.dtype == np.uint8, name
    keep = dict(generic.functions(ctx))["keep(2)"](grid, ctx.bg)
    assert set(np.unique(keep)) <= {0, 2} and ((keep == 2) == (grid == 2)).all()
    rays = dict(generic.functions(ctx))["rays(right)"](grid, ctx.bg)
    assert np.array_equal(rays, _ref_smear(grid, ctx.bg, [(0, 1)]))


def _pieces(*items, cost=1):
    pieces = Pieces()
    for text, train, test in items:
        pieces.add(text, cost, tuple(np.array(t, np.uint8) for t in train), (np.array(test, np.uint8),))
    return pieces


def test_a_subset_stack_is_counted_on_the_demonstrations_it_was_not_built_for():
    targets = (np.array([[1, 2]], np.uint8), np.array([[3, 4]], np.uint8), np.array([[5, 6]], np.uint8))
    # A paints the left cell right everywhere; B the right cell on demonstrations 0 and 1 only; C the right
    # cell on demonstration 2 only. B disagrees with demonstration 2, C with demonstrations 0 and 1.
    pieces = _pieces(("A", ([[1, 0]], [[3, 0]], [[5, 0]]), [[7, 0]]),
                     ("B", ([[0, 2]], [[0, 4]], [[0, 9]]), [[0, 8]]),
                     ("C", ([[0, 9]], [[0, 9]], [[0, 6]]), [[0, 9]]))
    found = {(text, tuple(tests[0].ravel().tolist()), goods)
             for text, _, tests, goods, _ in subset_stacks(pieces, targets, 0, Budget.seconds(5))}
    # built on {0}, {1} or {0, 1}: A then B, which reproduces demonstrations 0 and 1 and not 2
    assert ("stack(A [fg] ; B [fg])", (7, 8), 2) in found
    # built on {2}: A then C, which reproduces demonstration 2 only
    assert ("stack(A [fg] ; C [fg])", (7, 9), 1) in found
    # no stack reproduces all three (B and C each miss one), and nothing reproducing none is reported
    assert all(0 < goods < 3 for _, _, goods in found)


def test_subset_stacks_need_whole_test_canvases():
    targets = (np.array([[1, 2]], np.uint8),)
    # A [fg] paints the whole demonstration (ties go to "fg" before "all") and nothing of the test input
    holed = _pieces(("A", ([[1, 2]],), [[0, 0]]))
    assert subset_stacks(holed, targets, 0, Budget.seconds(5)) == []
    whole = _pieces(("A", ([[1, 2]],), [[3, 4]]))
    found = [(t, tests[0].tolist(), g) for t, _, tests, g, _ in subset_stacks(whole, targets, 0, Budget.seconds(5))]
    assert found == [("stack(A [fg])", [[3, 4]], 1)]


def test_subset_stacks_paint_tests_only_with_pieces_of_the_first_pieces_test_shape():
    targets = (np.array([[1, 2]], np.uint8),)
    pieces = _pieces(("A", ([[1, 0]],), [[3, 0]]), ("B", ([[0, 2]],), [[4]]), ("C", ([[5, 2]],), [[6, 7]]))
    found = [(t, tests[0].tolist()) for t, _, tests, _, _ in subset_stacks(pieces, targets, 0, Budget.seconds(5))]
    # B paints the right cell but its test value is 1x1: A is followed by C (mode "fg" would paint 5: "bg"
    # paints nothing, so only C's non-background right cell agrees)
    assert found == [("stack(A [fg] ; C [fg])", [[3, 7]])]


@pytest.mark.parametrize("task_id", ["178fcbfb", "2281f1f4", "b6afb2da", "32597951"])
def test_real_training_tasks_solved_by_stacking_generic_pieces(task_id, monkeypatch):
    """178fcbfb: rows of the colours other than 2 drawn over columns of 2; 2281f1f4: red where a marked
    column meets a marked row (the input, then the rays from the marks painting the background of unmarked
    lines, then red); b6afb2da: boxes drawn as corners, edges and a filled core; 32597951: the cells of one colour
    inside the box of another recoloured. All from the generic pieces alone, by subset stacks."""
    task, solutions = training_task(task_id)
    ctx = make_context(task)
    verifier = Verifier(ctx, [])
    pieces = Pieces()
    pieces.add("identity", 0, tuple(i for i, _ in task.train), tuple(task.test_inputs))
    for text, cost, train, tests in generic.pieces(ctx, verifier, Budget.seconds(60))[0]:
        pieces.add(text, cost, train, tests)
    found = subset_stacks(pieces, ctx.train_out, ctx.bg, Budget.seconds(60))
    full = [tests for _, _, tests, goods, used in found if goods == len(task.train) and used <= stack.MAX_STEPS]
    assert any(all(np.array_equal(a, s) for a, s in zip(tests, solutions)) for tests in full)


def test_reshape_starts_bring_the_input_to_the_output_shape():
    grid = np.array([[1, 2], [3, 0]], np.uint8)
    assert generic._embed(grid, 0, (3, 3)).tolist() == [[1, 2, 0], [3, 0, 0], [0, 0, 0]]
    assert generic._tile(grid, 0, (3, 4)).tolist() == [[1, 2, 1, 2], [3, 0, 3, 0], [1, 2, 1, 2]]
    assert generic._scale(grid, 0, (4, 2)).tolist() == [[1, 2], [1, 2], [3, 0], [3, 0]]
    assert generic._scale(grid, 0, (3, 2)) is None
    assert generic._mirror_tile(grid, 0, (4, 4)).tolist() == [[1, 2, 2, 1], [3, 0, 0, 3],
                                                              [3, 0, 0, 3], [1, 2, 2, 1]]
    sparse = np.array([[0, 0, 0], [0, 5, 6], [0, 0, 0]], np.uint8)
    assert generic._content_embed(sparse, 0, (2, 3)).tolist() == [[5, 6, 0], [0, 0, 0]]


def test_a_training_task_whose_output_grows_is_solved_by_a_reshape_start_and_rays():
    """d13f3404: the 3x3 input placed in a 6x6 canvas, each cell's colour continued down-right."""
    task, solutions = training_task("d13f3404")
    ctx = make_context(task)
    verifier = Verifier(ctx, [])
    generic.pieces(ctx, verifier, Budget.seconds(60))
    by_text = {s.text: s.tests for s in verifier.solutions.found}
    assert "embed | rays(dr)" in by_text
    assert all(np.array_equal(a, s) for a, s in zip(by_text["embed | rays(dr)"], solutions))


def _ref_repeat_block(grid, bg, axis):
    """Plain loops: line i of the output is content line a + (i - a) mod p (a, p: the content's first line and
    the number of lines its bounding box spans)."""
    g = grid if axis == 0 else grid.T
    lines = [i for i in range(g.shape[0]) if any(v != bg for v in g[i])]
    if not lines:
        return None
    a, p = lines[0], lines[-1] - lines[0] + 1
    out = np.array([g[a + (i - a) % p] for i in range(g.shape[0])], np.uint8)
    return out if axis == 0 else out.T


def _ref_repeat_lines(grid, bg, axis):
    g = (grid if axis == 1 else grid.T).copy()
    out = g.copy()
    for r in range(g.shape[0]):
        cells = [j for j in range(g.shape[1]) if g[r, j] != bg]
        if len(cells) >= 2:
            a, p = cells[0], cells[-1] - cells[0] + 1
            for j in range(g.shape[1]):
                out[r, j] = g[r, a + (j - a) % p]
    return out if axis == 1 else out.T


def test_repeated_patterns_equal_plain_loops():
    rng = np.random.default_rng(5)
    for _ in range(200):
        grid = _random_grid(rng, 9, 0.25, 10)
        for axis in (0, 1):
            got, want = generic._repeat_block(grid, 0, axis), _ref_repeat_block(grid, 0, axis)
            assert (got is None and want is None) or np.array_equal(got, want)
            assert np.array_equal(generic._repeat_lines(grid, 0, axis), _ref_repeat_lines(grid, 0, axis))


@pytest.mark.parametrize("task_id,program", [("8eb1be9a", "repeat_rows"),
                                             ("e21d9049", "repeat_along_rows | repeat_along_cols"),
                                             ("d23f8c26", "centre_col"), ("d8c310e9", "continue_right"),
                                             ("eb281b96", "reflect_tile")])
def test_training_tasks_solved_by_the_generic_pass_alone(task_id, program):
    """8eb1be9a: a band of rows repeated up and down the grid; e21d9049: a row and a column of colours each
    continued along itself; d23f8c26: only the middle column kept; d8c310e9: a pattern drawn on the left part
    continued to the right edge with its own period (shorter than its drawn span); eb281b96: the input mirrored
    downward over and over, its last row shared by the copies."""
    task, solutions = training_task(task_id)
    ctx = make_context(task)
    verifier = Verifier(ctx, [])
    generic.pieces(ctx, verifier, Budget.seconds(60))
    by_text = {s.text: s.tests for s in verifier.solutions.found}
    assert program in by_text
    assert all(np.array_equal(a, s) for a, s in zip(by_text[program], solutions))


def test_a_generic_function_after_an_enumerated_state():
    """5117e062: the object with the most colours cropped (an enumerated state), then its enclosed cells
    filled in its majority colour (a generic function): found by compose_over, not by either alone."""
    task, solutions = training_task("5117e062")
    ctx = make_context(task)
    crop = next(op for op in library.collect(ctx)[0] if op.name == "crop(most_colours,m8)")
    values = tuple(crop.fn(g) for g in ctx.train_in + ctx.test_in)
    n = len(task.train)
    verifier = Verifier(ctx, [])
    generic.compose_over(ctx, verifier, [("crop(most_colours,m8)", 1, values[:n], values[n:])], Budget.seconds(60))
    by_text = {s.text: s.tests for s in verifier.solutions.found}
    assert "crop(most_colours,m8) | fill" in by_text
    assert all(np.array_equal(a, s) for a, s in zip(by_text["crop(most_colours,m8) | fill"], solutions))
    alone = Verifier(ctx, [])
    generic.pieces(ctx, alone, Budget.seconds(60))
    assert not any(all(np.array_equal(a, s) for a, s in zip(x.tests, solutions)) for x in alone.solutions.found)


def test_trim_drops_the_outer_ring():
    grid = np.arange(16, dtype=np.uint8).reshape(4, 4)
    assert generic._trim(grid, 0).tolist() == [[5, 6], [9, 10]]
    assert generic._trim(np.zeros((2, 5), np.uint8), 0) is None


def test_check_deeper_adds_one_function_and_a_recolouring_to_the_last_level():
    """A hand-made task: each output is the input turned half a turn, its cells continued rightwards, all in
    colour 3. Given the depth-2 value "flip_h | flip_v" (the half turn), the check-only level finds the rays
    and the recolouring; the test answer equals the plain-loop rays of the turned test input."""
    from trm_submit.io.tasks import Task

    rng = np.random.default_rng(2)
    grids = [np.where(rng.random((5, 6)) < 0.15, rng.integers(1, 3, (5, 6)), 0).astype(np.uint8) for _ in range(4)]
    for g in grids:
        g[2, 1] = 1   # never blank

    def answer(g):
        return np.where(_ref_smear(g[::-1, ::-1], 0, [(0, 1)]) != 0, 3, 0).astype(np.uint8)

    task = Task("hand", tuple((g, answer(g)) for g in grids[:3]), (grids[3],))
    ctx = make_context(task)
    turned = tuple(np.ascontiguousarray(g[::-1, ::-1]) for g in grids)
    verifier = Verifier(ctx, [])
    generic.check_deeper(ctx, verifier, [("flip_h | flip_v", 2, turned)], Budget.seconds(60))
    by_text = {s.text: (s.cost, s.tests) for s in verifier.solutions.found}
    cost, tests = by_text["flip_h | flip_v | rays(right) | recolour_all(3)"]
    assert cost == 4 and np.array_equal(tests[0], answer(grids[3]))
    # a value right on the first demonstration only is no solution
    wrong = (turned[0],) + tuple(np.zeros_like(g) for g in turned[1:])
    other = Verifier(ctx, [])
    generic.check_deeper(ctx, other, [("x", 2, wrong)], Budget.seconds(60))
    assert other.solutions.found == []


def _ref_gravity(grid, bg, side):
    """Plain loops: each line's coloured cells, in order, packed against `side`."""
    out = np.full(grid.shape, bg, np.uint8)
    h, w = grid.shape
    if side in ("down", "up"):
        for c in range(w):
            cells = [grid[r, c] for r in range(h) if grid[r, c] != bg]
            rows = range(h - len(cells), h) if side == "down" else range(len(cells))
            for r, v in zip(rows, cells):
                out[r, c] = v
    else:
        for r in range(h):
            cells = [grid[r, c] for c in range(w) if grid[r, c] != bg]
            cols = range(w - len(cells), w) if side == "right" else range(len(cells))
            for c, v in zip(cols, cells):
                out[r, c] = v
    return out


def _ref_outline(grid, bg):
    h, w = grid.shape
    out = grid.copy()
    for r in range(h):
        for c in range(w):
            near = [(r + dy, c + dx) for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1))]
            if grid[r, c] != bg and all(0 <= y < h and 0 <= x < w and grid[y, x] != bg for y, x in near):
                out[r, c] = bg
    return out


def test_gravity_shift_outline_equal_plain_loops():
    rng = np.random.default_rng(9)
    for _ in range(150):
        grid = _random_grid(rng, 9, 0.4, 10)
        fns = dict(generic.functions(make_context(_one_pair(grid))))
        for side in ("down", "up", "left", "right"):
            assert np.array_equal(fns[f"gravity({side})"](grid, 0), _ref_gravity(grid, 0, side)), side
        assert np.array_equal(fns["outline"](grid, 0), _ref_outline(grid, 0))
        down = fns["shift(down)"](grid, 0)
        assert (down[0] == 0).all() and np.array_equal(down[1:], grid[:-1])
        left = fns["shift(left)"](grid, 0)
        assert (left[:, -1] == 0).all() and np.array_equal(left[:, :-1], grid[:, 1:])


def _one_pair(grid):
    from trm_submit.io.tasks import Task
    blank = np.zeros((3, 3), np.uint8)
    blank[0, 0] = 1
    return Task("hand", ((blank, blank), (blank, blank)), (blank,))


def test_boxes_mark_the_background_inside_each_shape_box():
    grid = np.array([[1, 0, 0, 0, 0],
                     [0, 1, 0, 0, 0],
                     [1, 0, 0, 2, 2],
                     [0, 0, 0, 2, 0]], np.uint8)
    # the diagonal 1s are one 8-neighbour shape (box rows 0-2, columns 0-1); the 2s another (rows 2-3, 3-4)
    assert generic._boxes(grid, 0).tolist() == [[0, 1, 0, 0, 0],
                                                [1, 0, 0, 0, 0],
                                                [0, 1, 0, 0, 0],
                                                [0, 0, 0, 0, 1]]


def test_halos_by_side_and_by_corner():
    grid = np.zeros((3, 3), np.uint8)
    grid[1, 1] = 4
    fns = dict(generic.functions(make_context(_one_pair(grid))))
    m = generic.MARK
    assert fns["halo4"](grid, 0).tolist() == [[0, m, 0], [m, 0, m], [0, m, 0]]
    assert fns["halo_diag"](grid, 0).tolist() == [[m, 0, m], [0, 0, 0], [m, 0, m]]
    assert fns["halo"](grid, 0).tolist() == [[m, m, m], [m, 0, m], [m, m, m]]
    assert fns["shift(dr)"](grid, 0)[2, 2] == 4 and fns["shift(dr)"](grid, 0).sum() == 4


def test_colour_boxes_fill_each_colours_box_smaller_on_top():
    grid = np.array([[1, 0, 0, 0],
                     [0, 0, 2, 0],
                     [0, 2, 0, 1]], np.uint8)
    # colour 1's box is the whole grid, colour 2's rows 1-2 x columns 1-2 (smaller: painted first, on top)
    assert generic._colour_boxes(grid, 0).tolist() == [[1, 1, 1, 1],
                                                       [1, 2, 2, 1],
                                                       [1, 2, 2, 1]]


def test_reshapes_keep_another_corner_or_the_centre():
    grid = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], np.uint8)
    r = generic.RESHAPES
    assert r["embed_tr"](grid, 0, (2, 2)).tolist() == [[2, 3], [5, 6]]
    assert r["embed_bl"](grid, 0, (2, 2)).tolist() == [[4, 5], [7, 8]]
    assert r["embed_br"](grid, 0, (2, 4)).tolist() == [[0, 4, 5, 6], [0, 7, 8, 9]]
    assert r["embed_centre"](grid, 0, (1, 1)).tolist() == [[5]]
    assert r["embed_centre"](grid, 0, (5, 4)).tolist() == [[0, 0, 0, 0], [1, 2, 3, 0], [4, 5, 6, 0],
                                                           [7, 8, 9, 0], [0, 0, 0, 0]]
    # mirrored over the last row and column again and again, the edge lines shared (rows 0 1 2 1 0 1 2)
    assert r["reflect_tile"](grid, 0, (7, 4)).tolist() == [[1, 2, 3, 2], [4, 5, 6, 5], [7, 8, 9, 8], [4, 5, 6, 5],
                                                           [1, 2, 3, 2], [4, 5, 6, 5], [7, 8, 9, 8]]
    assert r["reflect_tile"](grid[:1], 0, (3, 2)).tolist() == [[1, 2]] * 3   # one row: repeated


def test_extend_continues_lines_from_their_ends_until_blocked():
    grid = np.array([[0, 0, 0, 0, 0, 0],
                     [0, 3, 3, 0, 0, 0],
                     [0, 3, 3, 0, 0, 0],
                     [0, 0, 0, 4, 0, 0],
                     [0, 0, 0, 0, 0, 0],
                     [0, 0, 0, 0, 0, 1]], np.uint8)
    # the 4 touches the block's corner only: it is an end, continued down-right until the 1 stops it; the
    # block's cells have three coloured neighbours, the lone 1 none: neither is an end
    out = generic._extend(grid, 0)
    want = grid.copy()
    want[4, 4] = 4
    assert out.tolist() == want.tolist()


def _ref_lines(h: int, w: int, dy: int, dx: int) -> list[list[tuple[int, int]]]:
    """Every line of cells along (dy, dx), from its first cell, in plain loops."""
    lines = []
    for r in range(h):
        for c in range(w):
            if 0 <= r - dy < h and 0 <= c - dx < w:
                continue
            line, y, x = [], r, c
            while 0 <= y < h and 0 <= x < w:
                line.append((y, x))
                y, x = y + dy, x + dx
            lines.append(line)
    return lines


def _ref_connect_along(grid: np.ndarray, bg: int, dy: int, dx: int) -> np.ndarray:
    out = np.full(grid.shape, bg, np.uint8)
    for line in _ref_lines(*grid.shape, dy, dx):
        coloured = [k for k, (y, x) in enumerate(line) if grid[y, x] != bg]
        for a, b in zip(coloured, coloured[1:]):
            if grid[line[a]] == grid[line[b]]:
                for k in range(a + 1, b):
                    out[line[k]] = grid[line[a]]
    return out


def _ref_alternate_along(grid: np.ndarray, bg: int, dy: int, dx: int) -> np.ndarray:
    out = np.full(grid.shape, bg, np.uint8)
    for line in _ref_lines(*grid.shape, dy, dx):
        run = 0
        for cell in line:
            run = run + 1 if grid[cell] != bg else 0
            if run and run % 2 == 0:
                out[cell] = grid[cell]
    return out


@pytest.mark.parametrize("dy,dx", [(1, 1), (-1, 1), (0, 1), (1, 0), (0, -1), (-1, 0), (-1, -1), (1, -1)])
def test_diagonal_runs_and_alternate_cells_equal_plain_loops(dy, dx):
    rng = np.random.default_rng(11)
    for _ in range(40):
        grid = _random_grid(rng, 9, 0.4, 4)
        assert np.array_equal(grid_loops.connect_along(grid, 0, dy, dx), _ref_connect_along(grid, 0, dy, dx))
        assert np.array_equal(grid_loops.alternate_along(grid, 0, dy, dx), _ref_alternate_along(grid, 0, dy, dx))


def test_diagonal_runs_join_same_coloured_cells_only():
    grid = np.array([[2, 0, 0, 3],
                     [0, 0, 0, 0],
                     [0, 0, 2, 0],
                     [5, 0, 0, 0]], np.uint8)
    # 2 .. 2 on the main diagonal are joined; 3 .. 5 on the anti-diagonal differ in colour: nothing
    assert grid_loops.connect_along(grid, 0, 1, 1).tolist() == [[0, 0, 0, 0], [0, 2, 0, 0],
                                                                 [0, 0, 0, 0], [0, 0, 0, 0]]
    assert not grid_loops.connect_along(grid, 0, -1, 1).any()


def test_shape_size_lone_cell_and_rarest_colour_filters():
    grid = np.array([[1, 1, 0, 0, 4],
                     [1, 0, 0, 0, 0],
                     [0, 0, 3, 3, 0],
                     [0, 0, 0, 0, 0],
                     [6, 0, 0, 0, 4]], np.uint8)
    # shapes (8-neighbour): the 1s (3 cells), the 3s (2), three lone cells (6 and the two 4s)
    assert generic._by_size(grid, 0, True).tolist() == np.where(grid == 1, 1, 0).tolist()
    assert generic._by_size(grid, 0, False).tolist() == np.where(np.isin(grid, (4, 6)), grid, 0).tolist()
    assert generic._singles(grid, 0, True).tolist() == np.where(np.isin(grid, (4, 6)), grid, 0).tolist()
    assert generic._singles(grid, 0, False).tolist() == np.where(np.isin(grid, (1, 3)), grid, 0).tolist()
    assert generic._rarest(grid, 0).tolist() == np.where(grid == 6, 6, 0).tolist()
    grid[0, 0] = 6   # now 6 and 3 both have two cells: no odd one out
    assert generic._rarest(grid, 0) is None
    assert generic._by_size(np.array([[1, 0, 2]], np.uint8), 0, True) is None   # one size: no selection


def test_lattice_and_centre_lines():
    grid = np.arange(1, 21, dtype=np.uint8).reshape(4, 5)
    cols = generic._lattice(grid, 0, 1, 2, 0, True)   # every other column counted from the right edge
    assert (cols[:, [0, 2, 4]] == grid[:, [0, 2, 4]]).all() and not cols[:, [1, 3]].any()
    rows = generic._lattice(grid, 0, 0, 3, 0, False)  # rows 0 and 3
    assert (rows[[0, 3]] == grid[[0, 3]]).all() and not rows[[1, 2]].any()
    third_from_end = generic._lattice(grid, 0, 1, 3, 0, True)  # 5 columns: from the right, columns 4 and 1
    assert (third_from_end[:, [1, 4]] == grid[:, [1, 4]]).all() and not third_from_end[:, [0, 2, 3]].any()
    odd_from_end = generic._lattice(grid, 0, 0, 2, 1, True)  # 4 rows: from the bottom, rows 2 and 0
    assert (odd_from_end[[0, 2]] == grid[[0, 2]]).all() and not odd_from_end[[1, 3]].any()
    assert generic._centre_line(grid, 0, 0) is None    # four rows: two middles
    centre = generic._centre_line(grid, 0, 1)
    assert (centre[:, 2] == grid[:, 2]).all() and not np.delete(centre, 2, axis=1).any()


def test_edge_pad_continues_the_edges_outward():
    grid = np.array([[1, 2], [3, 8]], np.uint8)
    assert generic.RESHAPES["edge_pad"](grid, 0, (4, 4)).tolist() == [[0, 1, 2, 0],
                                                                      [1, 1, 2, 2],
                                                                      [3, 3, 8, 8],
                                                                      [0, 3, 8, 0]]
    assert generic.RESHAPES["edge_pad"](grid, 0, (2, 4)).tolist() == [[1, 1, 2, 2], [3, 3, 8, 8]]
    assert generic.RESHAPES["edge_pad"](grid, 0, (3, 4)) is None   # one extra row: no middle



def _ref_reach(grid: np.ndarray, bg: int, target: int) -> np.ndarray:
    out = np.full(grid.shape, bg, np.uint8)
    h, w = grid.shape
    for r in range(h):
        for c in range(w):
            if grid[r, c] in (bg, target):
                continue
            for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
                path, y, x = [], r + dy, c + dx
                while 0 <= y < h and 0 <= x < w and grid[y, x] == bg:
                    path.append((y, x))
                    y, x = y + dy, x + dx
                if path and 0 <= y < h and 0 <= x < w and grid[y, x] == target:
                    for cell in path:
                        out[cell] = grid[r, c]
    return out


def test_reach_draws_lines_to_the_target_colour_only():
    rng = np.random.default_rng(5)
    for _ in range(40):
        grid = _random_grid(rng, 10, 0.25, 4)
        assert np.array_equal(grid_loops.reach_colour(grid, 0, 3), _ref_reach(grid, 0, 3))
    grid = np.array([[1, 0, 0, 3, 0, 2],
                     [0, 0, 0, 0, 0, 0],
                     [4, 0, 0, 0, 0, 0],
                     [0, 0, 0, 3, 0, 0]], np.uint8)
    # 1 runs right to the 3; 2 reaches the 3 leftward; 4 sees no 3 in its row or column; the 3s draw nothing
    assert grid_loops.reach_colour(grid, 0, 3).tolist() == [[0, 1, 1, 0, 2, 0], [0] * 6, [0] * 6, [0] * 6]


def test_continue_fills_past_the_content_with_its_smallest_period():
    row = np.array([[1, 2, 3, 1, 2, 0, 0, 0, 0]], np.uint8)   # drawn up to column 4, period 3
    assert generic._continue(row, 0, 1).tolist() == [[1, 2, 3, 1, 2, 3, 1, 2, 3]]
    assert generic._continue(row.T, 0, 0).tolist() == [[v] for v in (1, 2, 3, 1, 2, 3, 1, 2, 3)]
    mirrored = np.ascontiguousarray(row[:, ::-1])  # drawn from the right edge: continued to the left
    assert generic._continue(mirrored, 0, 1, backward=True).tolist() == [[3, 2, 1, 3, 2, 1, 3, 2, 1]]
    # a leading blank column belongs to the pattern; the second row shifts the period to 4
    grid = np.array([[0, 5, 0, 0, 0, 5, 0, 0, 0, 0],
                     [0, 5, 6, 6, 0, 5, 0, 0, 0, 0]], np.uint8)
    assert generic._continue(grid, 0, 1).tolist() == [[0, 5, 0, 0, 0, 5, 0, 0, 0, 5],
                                                      [0, 5, 6, 6, 0, 5, 6, 6, 0, 5]]
    assert generic._continue(np.array([[0, 0, 7]], np.uint8), 0, 1) is None   # already at the edge
    assert generic._continue(np.zeros((2, 3), np.uint8), 0, 1) is None


def test_corners_the_box_of_a_colour_and_what_touches_it():
    grid = np.array([[0, 0, 0, 0, 0, 0],
                     [0, 2, 2, 2, 2, 0],
                     [0, 2, 2, 2, 2, 0],
                     [0, 2, 2, 2, 2, 0],
                     [0, 0, 0, 0, 0, 4]], np.uint8)
    corners = np.zeros_like(grid)
    for r, c in ((1, 1), (1, 4), (3, 1), (3, 4), (4, 5)):   # a lone cell is its own corner
        corners[r, c] = grid[r, c]
    assert generic._corners(grid, 0).tolist() == corners.tolist()
    marked = np.array([[3, 1, 0, 1],
                       [0, 1, 1, 3],
                       [1, 0, 0, 0]], np.uint8)
    assert generic._inside(marked, 0, 3).tolist() == [[3, 1, 0, 1],
                                                      [0, 1, 1, 3],
                                                      [0, 0, 0, 0]]
    assert generic._inside(marked, 0, 5) is None
    # touching(3): the 1s beside a 3 (sides only: the 1 at (2, 0) touches no 3), never the 3s themselves
    assert generic._touching(marked, 0, 3).tolist() == [[0, 1, 0, 1],
                                                        [0, 0, 1, 0],
                                                        [0, 0, 0, 0]]
    assert generic._touching(np.array([[3, 0, 1]], np.uint8), 0, 3) is None   # nothing touches it


def test_alternate_cells_counted_from_either_end():
    row = np.array([[3, 3, 3, 3, 0, 5, 5, 5]], np.uint8)
    ctx = make_context(Task("t", ((row, row),), (row,)))
    pieces = dict(generic.functions(ctx))
    assert pieces["alternate(h)"](row, 0).tolist() == [[0, 3, 0, 3, 0, 0, 5, 0]]       # second, fourth from the left
    assert pieces["alternate(h,end)"](row, 0).tolist() == [[3, 0, 3, 0, 0, 0, 5, 0]]   # from the right: differs on 3333
