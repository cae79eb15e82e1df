"""Drawing primitives (search.draw): counts drawn as blocks and the 1-cell frame, against hand-computed grids
and the real ARC-AGI-1 training tasks that admitted them."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves

from trm_submit.search import draw
from trm_submit.search.draw import count, count_block, frame


def test_counts_by_hand():
    g = np.array([[0, 3, 3, 0], [0, 0, 0, 0], [5, 0, 3, 0]], np.uint8)
    assert count(g, 0, "cells") == 4 and count(g, 0, "colours") == 2 and count(g, 0, "objects") == 3
    assert count_block(g, 0, "cells", "row").tolist() == [[3, 3, 3, 3]]
    assert count_block(g, 0, "colours", "column").tolist() == [[3], [3]]
    assert count_block(g, 0, "objects", "diagonal").tolist() == [[3, 0, 0], [0, 3, 0], [0, 0, 3]]
    assert count_block(np.zeros((2, 2), np.uint8), 0, "cells", "square") is None


def test_frame_by_hand():
    assert frame(np.zeros((3, 4), np.uint8), 8).tolist() == [[8, 8, 8, 8], [8, 0, 0, 8], [8, 8, 8, 8]]
    assert frame(np.zeros((1, 2), np.uint8), 2).tolist() == [[2, 2]]


@pytest.mark.parametrize("task_id,names", [
    ("d631b094", ["count(cells,row,0)"]),
    ("d0f5fe59", ["count(objects,diagonal,0)"]),
    ("6f8cd79b", ["frame(8)"]),
])
def test_real_training_tasks(task_id, names):
    assert_op_solves(draw, task_id, names)


def test_spiral_by_hand():
    want = ["33333",
            "....3",
            "333.3",
            "3...3",
            "33333"]
    got = draw.spiral(np.zeros((5, 5), np.uint8), 3)
    assert ["".join("3" if v else "." for v in row) for row in got] == want
    # a wide grid: the first turn comes at the right edge, the walk ends in the middle
    got = draw.spiral(np.zeros((3, 6), np.uint8), 2)
    assert ["".join("2" if v else "." for v in row) for row in got] == ["222222", ".....2", "222222"]


def test_spiral_solves_a_training_task():
    assert_op_solves(draw, "28e73c20", ["spiral(3)"])


def test_count_line_draws_the_cell_count_centred_in_the_middle_line():
    g = np.zeros((5, 8), dtype=np.uint8)
    g[0, 0:3] = 4
    g[4, 7] = 4
    g[2, 2] = 1                       # 5 cells (4 the main colour): 5 cannot be centred in 8 columns
    assert draw.count_line(g, 0, 0) is None
    g[3, 3] = 4                       # 6 cells
    want = np.zeros_like(g)
    want[2, 1:7] = 4
    assert np.array_equal(draw.count_line(g, 0, 0), want)
    assert draw.count_line(g, 0, 1) is None   # 6 cells do not fit a 5-cell column


def test_count_line_solves_a_training_task():
    assert_op_solves(draw, "dce56571", ["count_line(0,8)"], dataset="arc-agi-2")


def test_count_canvas_fills_a_fixed_canvas_in_reading_order_by_hand():
    g = np.array([[3, 3, 0, 2], [0, 0, 0, 2], [3, 0, 0, 0]], np.uint8)    # 3: 3 cells in 2 objects; 2: 2 cells
    assert draw.count_canvas(g, 0, "cells", (3, 2), (2, 3), 0).tolist() == [[3, 3, 3], [2, 2, 0]]
    assert draw.count_canvas(g, 0, "objects", (2, 3), (2, 3), 0).tolist() == [[2, 3, 3], [0, 0, 0]]
    assert draw.count_canvas(g, 0, "cells", (3, 2), (1, 4), 0) is None          # 5 cells do not fit in 4


def test_count_canvas_is_offered_with_the_colour_order_the_outputs_show():
    from trm_submit.io.tasks import Task
    from trm_submit.search.dsl import make_context
    g = np.array([[3, 3, 0, 2], [0, 0, 0, 2], [3, 0, 0, 0]], np.uint8)
    h = np.array([[2, 0, 2], [0, 0, 0], [3, 0, 0]], np.uint8)
    train = ((g, np.array([[3, 3, 3], [2, 2, 0]], np.uint8)), (h, np.array([[3, 2, 2], [0, 0, 0]], np.uint8)))
    names = [o.name for o in draw.ops(make_context(Task("canvas", train, (g,))))]
    assert "count_canvas(cells,(3, 2),(2, 3),0,0)" in names
    blank = np.array([[0, 0], [0, 0]], np.uint8)                            # a demonstration counting none
    with_none = train + ((blank, np.zeros((2, 3), np.uint8)),)
    names = [o.name for o in draw.ops(make_context(Task("canvas", with_none, (g,))))]
    assert "count_canvas(cells,(3, 2),(2, 3),0,0)" in names
    swapped = (train[0], (h, np.array([[2, 2, 3], [0, 0, 0]], np.uint8)))    # 3 before 2, then 2 before 3
    assert not any(n.startswith("count_canvas") for n in
                   (o.name for o in draw.ops(make_context(Task("canvas", swapped, (g,))))))


def test_count_canvas_after_a_colour_and_the_lone_cells_solves_a_training_task():
    from trm_submit.search import colour, patterns
    assert_op_solves([colour, patterns, draw], "1fad071e",
                     ["keep_colour(1)", "remove_isolated", "count_canvas(objects,(1,),(1, 5),0,0)"])


def test_sort_cells_lays_the_colours_most_first_in_each_order():
    g = np.array([[3, 1, 1], [1, 2, 1]], np.uint8)   # 1: four cells, then 3 and 2 tie
    assert draw.sort_cells(g, 0) is None               # two colours of one count: no order
    g[1, 1] = 3                                        # 1: four, 3: two
    assert draw.sort_cells(g, 0).tolist() == [[1, 1, 1], [1, 3, 3]]
    # every order holds the same cells; order 3 fills columns from the bottom-left corner upward
    assert draw.sort_cells(g, 3).tolist() == [[1, 1, 3], [1, 1, 3]]
    for k in range(8):
        out = draw.sort_cells(g, k)
        assert out.shape == g.shape and sorted(out.ravel()) == sorted(g.ravel())


def test_sort_cells_solves_a_training_task():
    assert_op_solves(draw, "bd283c4a", ["sort_cells(3)"], dataset="arc-agi-2")


def test_seed_rings_follow_the_fitted_succession():
    after = [255] * 10
    after[4], after[6] = 6, 4         # 4 and 6 take turns
    g = np.zeros((5, 5), np.uint8)
    g[1, 1] = 4
    out = draw.seed_rings(g, 0, "chebyshev", tuple(after))
    want = np.array([[6, 6, 6, 4, 6], [6, 4, 6, 4, 6], [6, 6, 6, 4, 6], [4, 4, 4, 4, 6], [6, 6, 6, 6, 6]])
    assert out.tolist() == want.tolist()
    assert draw.seed_rings(g, 0, "manhattan", tuple(after))[0].tolist() == [4, 6, 4, 6, 4]
    g[1, 1] = 3                       # a seed colour the succession does not know
    assert draw.seed_rings(g, 0, "chebyshev", tuple(after)) is None
    g[1, 1], g[4, 4] = 4, 4           # two coloured cells: no one seed
    assert draw.seed_rings(g, 0, "chebyshev", tuple(after)) is None


def test_seed_rings_solve_a_training_task():
    assert_op_solves(draw, "aaef0977", ["seed_rings(manhattan)"], dataset="arc-agi-2")


def test_gather_cells_lays_the_cells_along_the_canvas_path():
    g = np.zeros((5, 5), np.uint8)
    g[4, 0], g[0, 1], g[2, 2], g[1, 4] = 3, 1, 8, 6          # by column: 3, 1, 8, 6
    assert draw.gather_cells(g, 0, "cols", "rows", (2, 3)).tolist() == [[3, 1, 8], [6, 0, 0]]
    assert draw.gather_cells(g, 0, "cols", "snake", (2, 3)).tolist() == [[3, 1, 8], [0, 0, 6]]
    assert draw.gather_cells(g, 0, "cols", "cols", (2, 3)).tolist() == [[3, 8, 0], [1, 6, 0]]
    assert draw.gather_cells(g, 0, "cols", "snake_cols", (2, 3)).tolist() == [[3, 6, 0], [1, 8, 0]]
    assert draw.gather_cells(g, 0, "rows", "rows", (2, 3)).tolist() == [[1, 6, 8], [3, 0, 0]]   # by row
    assert draw.gather_cells(g, 0, "cols", "rows", (1, 3)) is None   # four cells, three places


def test_gather_cells_solves_a_training_task():
    assert_op_solves(draw, "cdecee7f", ["gather_cells(cols,snake)"])


def test_spaced_rings_draw_a_target_from_three_spaced_dots():
    g = np.zeros((9, 9), np.uint8)
    g[2, 6] = g[4, 4] = g[6, 2] = 3          # three dots two apart on an anti-diagonal: centre (4, 4), spacing 2
    want = np.zeros_like(g)
    for r in range(9):
        for c in range(9):
            if max(abs(r - 4), abs(c - 4)) % 2 == 0:
                want[r, c] = 3
    assert (draw.spaced_rings(g, 0) == want).all()
    uneven = g.copy()
    uneven[6, 2], uneven[7, 1] = 0, 3        # unequal spacing
    assert draw.spaced_rings(uneven, 0) is None
    two = g.copy()
    two[6, 2] = 0                            # two dots: no middle one
    assert draw.spaced_rings(two, 0) is None
    bent = g.copy()
    bent[6, 2], bent[4, 6] = 0, 3            # not on one line
    assert draw.spaced_rings(bent, 0) is None


def test_spaced_rings_solve_a_training_task():
    assert_op_solves(draw, "5c2c9af4", ["spaced_rings(0)"])


def test_stripe_square_lists_the_stripes_under_a_block():
    g = np.zeros((9, 8), dtype=np.uint8)
    g[1, :], g[4, :], g[5, :], g[7, :] = 2, 3, 3, 6   # stripes; the 3 one two rows thick
    g[3:8, 2:5] = 5                                    # a block laid over some of them
    want = np.array([[2, 2, 2], [3, 3, 3], [6, 6, 6]], dtype=np.uint8)
    got = draw.stripe_square(g, 0)
    assert got is not None and (got == want).all()
    assert (draw.stripe_square(g.T.copy(), 0) == want.T).all()   # columns give the columns
    g[1, 0] = 4                                        # a row holding two colours: no stripe list
    assert draw.stripe_square(g, 0) is None


def test_stripe_square_solves_a_training_task():
    assert_op_solves(draw, "8e1813be", ["stripe_square(0)"])


def test_colour_count_bars_hang_one_row_per_colour_under_each_block():
    g = np.zeros((8, 7), dtype=np.uint8)
    g[0:2, 0:2] = [[1, 2], [2, 1]]               # two colours: a bar two rows long
    g[1:3, 4:7] = [[4, 5, 6], [6, 6, 6]]         # three colours: three rows, as wide as the block
    want = g.copy()
    want[2:4, 0:2] = 3
    want[3:6, 4:7] = 3
    got = draw.colour_count_bars(g, 0, 3)
    assert got is not None and (got == want).all()
    one = np.zeros((5, 5), dtype=np.uint8)
    one[1:3, 1:3] = 7                            # one colour only: no bar
    assert draw.colour_count_bars(one, 0, 3) is None


def test_colour_count_bars_solve_a_training_task():
    assert_op_solves(draw, "fcc82909", ["colour_count_bars(3)"])
