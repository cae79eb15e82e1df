"""Splitting grids into parts and combining parts (and/or/xor/nor) against slices and loops written by
hand, and real ARC-AGI-1 training tasks solved by a split followed by a combination or join."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from search_reference import assert_op_solves, training_task

from trm_submit.io.tasks import Task
from trm_submit.search import objects, select, split
from trm_submit.search.colour import majority_colour
from trm_submit.search.dsl import make_context
from trm_submit.search.lists import assemble, map_items
from trm_submit.search.split import combine, separator_lines, split_equal, split_lines


def test_split_lines_grid_of_cells():
    rng = np.random.default_rng(30)
    g = rng.integers(0, 3, size=(7, 8)).astype(np.uint8)
    g[2, :] = 5
    g[:, 3] = 5
    g[:, 6] = 5
    assert separator_lines(g, 0) == (5, [2], [3, 6])
    parts = split_lines(g, 0)
    want = [g[r0:r1, c0:c1] for r0, r1 in ((0, 2), (3, 7)) for c0, c1 in ((0, 3), (4, 6), (7, 8))]
    assert len(parts) == 6 and all((p == q).all() for p, q in zip(parts, want))
    assert split_lines(np.zeros((3, 3), np.uint8), 0) is None


def test_split_equal_with_and_without_gap_lines():
    g = np.arange(30, dtype=np.uint8).reshape(5, 6) % 10
    parts = split_equal(g, 3, 1)
    assert [p.tolist() for p in parts] == [g[:, 0:2].tolist(), g[:, 2:4].tolist(), g[:, 4:6].tolist()]
    gap = np.ones((7, 3), np.uint8)
    gap[3, :] = 4                               # 3 + 1 + 3 rows: the uniform middle row is dropped
    top, bottom = split_equal(gap, 2, 0)
    assert top.shape == bottom.shape == (3, 3)
    gap[3, 0] = 2                               # no longer a uniform line, and 7 rows do not halve
    assert split_equal(gap, 2, 0) is None


def _ref_combine(items, logic, colour, out_bg):
    h, w = items[0].shape
    out = np.full((h, w), out_bg, np.uint8)
    for r in range(h):
        for c in range(w):
            on = [int(it[r, c] != 0) for it in items]
            hit = {"and": all(on), "or": any(on), "xor": sum(on) == 1, "nor": not any(on)}[logic]
            if hit:
                out[r, c] = colour
    return out


@pytest.mark.parametrize("logic", split.LOGIC)
def test_combine_equals_reference(logic):
    rng = np.random.default_rng(31)
    for n in (2, 3):
        items = tuple((rng.random((4, 5)) < 0.5).astype(np.uint8) * np.uint8(n) for _ in range(n))
        assert (combine(items, logic, 0, 7, 0) == _ref_combine(items, logic, 7, 0)).all()
    assert combine((np.zeros((2, 2), np.uint8), np.zeros((3, 2), np.uint8)), logic, 0, 1, 0) is None


@pytest.mark.parametrize("modules,task_id,names", [
    (split, "0520fde7", ["split_cols(2)", "combine(and,2)"]),
    (split, "1b2d62fb", ["split_lines", "combine(and,8)"]),
    (split, "6430c8c4", ["split_lines", "combine(nor,3)"]),
    (split, "99b1bc43", ["split_rows(2)", "combine(xor,3)"]),
    (split, "ce4f8723", ["split_rows(2)", "combine(or,3)"]),
    ([split, objects], "e98196ab", ["split_lines", "overlay"]),
    ([split, objects], "cf98881b", ["split_lines", "overlay_first_on_top"]),   # left part on top
    ([split, select], "2dee498d", ["split_cols(3)", "pick(common)"]),
])
def test_real_training_tasks(modules, task_id, names):
    assert_op_solves(modules, task_id, names)



def test_separator_lines_prefer_the_colour_that_cuts_equal_parts():
    g = np.array([[0, 1, 2, 0, 0, 2, 3, 3],
                  [0, 1, 2, 0, 4, 2, 3, 0]], np.uint8)   # colour 1 also fills a column, inside the first part
    assert separator_lines(g, 0) == (2, [], [2, 5])
    g[:, 6] = 1                                          # colour 1 cuts 1/4/1, colour 2 still 2/2/2
    assert separator_lines(g, 0) == (2, [], [2, 5])
    g[:, 5] = 0                                          # colour 2 alone at column 2: parts 2 and 5 wide
    assert separator_lines(g, 0) == (1, [], [1, 6])      # neither cuts equal parts: the smallest colour


def test_key_paint_kron_and_scale_by_hand():
    key = np.array([[2, 0], [0, 3]], np.uint8)
    mask = np.array([[5, 5], [0, 5]], np.uint8)
    g = np.hstack([key, mask])                       # 2x4: halves across the longer side
    want = np.zeros((4, 4), np.uint8)
    want[0:2, 0:2] = np.array([[2, 2], [0, 2]])
    want[2:4, 2:4] = np.array([[3, 3], [0, 3]])
    assert np.array_equal(split.key_paint(g, 0, "kron", "halves"), want)
    assert np.array_equal(split.key_paint(g.T.copy(), 0, "kron", "halves"),
                          split.key_paint(np.hstack([key.T, mask.T]), 0, "kron", "halves"))
    big = np.zeros((4, 4), np.uint8)                  # a 4x4 mask coloured by a key stretched over it
    big[0, :], big[3, 1] = 7, 7
    lined = np.zeros((4, 7), np.uint8)
    lined[:, :2], lined[:, 2], lined[:, 3:] = np.array([[1, 2], [1, 2], [3, 4], [3, 4]]), 8, big  # 4x2 key
    assert split.key_paint(lined, 0, "scale", "lines").tolist() == [[1, 1, 2, 2], [0] * 4, [0] * 4, [0, 3, 0, 0]]
    assert split.key_paint(np.hstack([key, key]), 0, "kron", "halves") is None   # no one-colour mask


def test_key_paint_takes_the_four_corner_parts_as_the_key():
    g = np.zeros((6, 6), np.uint8)
    g[1, :], g[4, :], g[:, 1], g[:, 4] = 1, 1, 1, 1    # a frame of lines: a 3 x 3 layout of parts
    g[0, 0], g[0, 5], g[5, 0], g[5, 5] = 2, 3, 4, 6    # the corner parts
    g[2, 2], g[2, 3], g[3, 3] = 8, 8, 8                # the middle part: the mask
    assert split.key_paint(g, 0, "scale", "lines").tolist() == [[2, 3], [0, 6]]
    g[0, 5] = 0                                         # a blank corner: no key
    assert split.key_paint(g, 0, "scale", "lines") is None


@pytest.mark.parametrize("task_id,name", [("b190f7f5", "key_paint(kron,halves)"),
                                          ("7c008303", "key_paint(scale,lines)"),
                                          ("77fdfe62", "key_paint(scale,lines,bg0)")])
def test_key_paint_solves_training_tasks(task_id, name):
    assert_op_solves(split, task_id, [name])


def test_split_blank_cuts_at_all_background_rows_and_columns():
    g = np.zeros((5, 6), np.uint8)
    g[0:2, 0:2], g[0:2, 4:6], g[3:5, 0:2], g[4, 5] = 1, 2, 3, 4   # blank row 2, blank columns 2-3
    parts = split.split_blank(g, 0)
    assert parts.pos == ((0, 0), (0, 4), (3, 0), (3, 4)) and parts.frame == (5, 6)
    assert [int(p.max()) for p in parts] == [1, 2, 3, 4]
    assert split.split_blank(np.ones((3, 3), np.uint8), 0) is None   # no blank line


def test_split_blank_map_assemble_solves_a_real_training_task():
    """780d0b14: each block between blank lines to its majority colour, the blocks side by side."""
    task, solutions = training_task("780d0b14")
    for grid, want in list(task.train) + list(zip(task.test_inputs, solutions)):
        got = assemble(map_items(split.split_blank(grid, 0), partial(majority_colour, bg=0)))
        assert np.array_equal(got, want)


def test_layout_backgrounds_are_the_commonest_colour_then_the_next():
    g = np.full((5, 5), 5, dtype=np.uint8)
    g[1:4, 1:4] = 3                       # 9 cells of 3, 16 of 5
    g[2, 2] = 1
    ctx = make_context(Task("t", ((g, g),), (g,)))
    assert split.layout_backgrounds(ctx) == (5, 3)
    one = np.full((3, 3), 4, dtype=np.uint8)
    assert split.layout_backgrounds(make_context(Task("t", ((one, one),), (one,)))) == (4,)


def test_key_paint_finds_the_parts_background_whatever_its_colour():
    recoloured = np.array([2, 0, 1, 3, 4, 5, 6, 7, 8, 9], dtype=np.uint8)   # black -> 2, blue -> black, red -> blue
    assert_op_solves(split, "77fdfe62", ["key_paint(scale,lines,bg2)"], remap=lambda g: recoloured[g])
