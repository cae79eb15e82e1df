"""Turned ops (`views.turned_ops`): an op that reads the grid one way round, offered under the other dihedral maps;
checked on hand-made grids and on real training tasks turned or reflected as a whole (the task the op solves as it
is, seen another way round, is solved by the turned op)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from search_reference import assert_op_solves

from trm_submit.search import colour, draw, keyed, lines, patterns, rays, views
from trm_submit.search.dsl import Op
from trm_submit.search.patterns import cycle_header


def _header_grid() -> tuple[np.ndarray, np.ndarray]:
    g = np.zeros((5, 4), dtype=np.uint8)
    g[0, :2] = (3, 4)                          # the header: 3 then 4
    g[2, 1] = 7                                # a row that is not blank stays
    want = g.copy()
    want[1], want[3], want[4] = 3, 4, 3        # the blank rows in turn
    return g, want


def test_turned_op_reads_the_header_from_another_edge():
    g, want = _header_grid()
    header = Op("cycle_header", partial(cycle_header, ctx_bg=0))
    assert (header.fn(g) == want).all()
    turned_in, turned_want = np.rot90(g).copy(), np.rot90(want).copy()   # the header is now the first column
    assert header.fn(turned_in) is None or not (header.fn(turned_in) == turned_want).all()
    fits = lambda fn: (lambda r: r is not None and (r == turned_want).all())(fn(turned_in))   # noqa: E731
    found = views.turned_ops([header], fits)
    assert found and all(op.name.startswith("cycle_header@") for op in found)
    assert all((op.fn(turned_in) == turned_want).all() for op in found)


def test_an_op_that_fits_as_it_is_gives_no_turned_op():
    g, want = _header_grid()
    header = Op("cycle_header", partial(cycle_header, ctx_bg=0))
    assert views.turned_ops([header], lambda fn: (fn(g) == want).all()) == []
    assert views.turned_ops([header], lambda fn: False) == []   # nothing fits any way round: nothing offered


def _turn(k: int):
    return lambda g: np.ascontiguousarray(np.rot90(g, k))


def _flip(g: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(g[:, ::-1])


@pytest.mark.parametrize("module, task_id, name", [
    (rays, "0a938d79", "stripes@flip_h"),
    (draw, "28e73c20", "spiral(3)@flip_h"),
    (patterns, "bd4472b8", "cycle_header@flip_h"),
    (colour, "9af7a82c", "colour_histogram(all)@flip_h"),
])
def test_turned_ops_solve_training_tasks_seen_in_a_mirror(module, task_id, name):
    assert_op_solves(module, task_id, [name], remap=_flip)


def test_turned_ops_solve_training_tasks_turned_a_quarter():
    assert_op_solves(lines, "6d58a25d", ["shelter_lines@rot270"], remap=_turn(1))
    assert_op_solves(draw, "cdecee7f", ["gather_cells(cols,snake)@rot90"], remap=_turn(-1))
    assert_op_solves(keyed, "e4888269", ["recolour_by_table@rot270"], "arc-agi-2", remap=_turn(1))


def test_colour_histogram_on_a_fill_colour():
    g = np.array([[1, 1, 2], [1, 5, 5], [1, 5, 5]], dtype=np.uint8)
    got = colour.colour_histogram(g, 0, "all", fill=6)
    assert got.tolist() == [[1, 5, 2], [1, 5, 6], [1, 5, 6], [1, 5, 6]]   # 1 and 5 tie at four: the smaller first
    recoloured = np.array([6, 1, 2, 3, 4, 5, 0, 7, 8, 9], dtype=np.uint8)   # black and 6 swap: the bars stand on 6
    assert_op_solves(colour, "9af7a82c", ["colour_histogram(all,6)"], remap=lambda g: recoloured[g])
