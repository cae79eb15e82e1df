"""Object primitives of the search (grid_loops.label_components, objects, select, recolour) against plain
references (tests/search_reference.py) on random grids, hand-made cases and real ARC-AGI-1 training tasks."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves, random_sparse, ref_components, ref_crop, ref_labels

from trm_submit.io.tasks import Task
from trm_submit.search import objects, recolour, select
from trm_submit.search.dsl import make_context
from trm_submit.search.grid_loops import label_components
from trm_submit.search.objects import colour_counts, components, grid_background, object_list, overlay, stack
from trm_submit.search.recolour import KEEP, apply_table, fit_table
from trm_submit.search.select import crop_colour_rank, crop_selected, holes

MODES = [(False, False), (True, False), (True, True)]


@pytest.mark.parametrize("diag,multi", MODES)
def test_label_components_equals_bfs_reference(diag, multi):
    rng = np.random.default_rng(1)
    for _ in range(60):
        g = random_sparse(rng, int(rng.integers(1, 16)), int(rng.integers(1, 16)), fill=rng.uniform(0.1, 0.9))
        bg = int(rng.integers(0, 3))
        labels, n = label_components(g, bg, diag, multi)
        want = ref_labels(g, bg, diag, multi)
        assert n == want.max() and (labels == want).all()


def test_components_hand_example():
    g = np.array([[1, 1, 0, 2],
                  [0, 1, 0, 2],
                  [3, 0, 1, 0]], dtype=np.uint8)
    c4 = components(g, 0, "c4")
    assert [(o.top, o.left, o.size) for o in c4] == [(0, 0, 3), (0, 3, 2), (2, 0, 1), (2, 2, 1)]
    c8 = components(g, 0, "c8")   # the lone 1 at (2,2) touches (1,1) diagonally
    assert [(o.top, o.left, o.size) for o in c8] == [(0, 0, 4), (0, 3, 2), (2, 0, 1)]
    assert c8[0].grid.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    m8 = components(g, 0, "m8")   # (2,0) touches (1,1) and (2,2) touches (1,3) diagonally: one object
    assert [o.size for o in m8] == [7]


def test_object_list_is_cropped_components_in_order():
    rng = np.random.default_rng(2)
    for _ in range(40):
        g = random_sparse(rng, 10, 12, fill=0.25)
        items = object_list(g, 0, "c4")
        cells = sorted(ref_components(g, 0, False, False),
                       key=lambda cs: (min(y for y, _ in cs), min(x for _, x in cs)))
        if not cells or len(cells) > 30:
            assert items is None
            continue
        want = [ref_crop(g, cs, 0) for cs in cells]
        assert len(items) == len(want) and all((a == b).all() for a, b in zip(items, want))


def test_colour_counts_zero_the_background():
    rng = np.random.default_rng(5)
    for _ in range(20):
        g = random_sparse(rng, int(rng.integers(1, 12)), int(rng.integers(1, 12)), fill=0.4)
        bg = int(rng.integers(0, 10))
        assert colour_counts(g, bg).tolist() == [0 if c == bg else int((g == c).sum()) for c in range(10)]


def test_grid_background_rule():
    assert grid_background(np.array([[5, 5, 0]], dtype=np.uint8), 0) == 0      # task bg present: kept
    assert grid_background(np.array([[5, 5, 3]], dtype=np.uint8), 0) == 5      # absent: most frequent
    assert grid_background(np.array([[7, 3]], dtype=np.uint8), 0) == 3         # tie: smallest colour


def test_joins_overlay_and_stack():
    a = np.array([[1, 0], [0, 0]], dtype=np.uint8)
    b = np.array([[0, 2], [0, 3]], dtype=np.uint8)
    assert overlay((a, b), 0).tolist() == [[1, 2], [0, 3]]
    ops = {o.name: o for o in objects.ops(make_context(Task("t", ((a, a),), (a,))))}
    top, under = np.array([[1, 1], [0, 0]], np.uint8), np.array([[2, 0], [2, 0]], np.uint8)
    assert ops["overlay_first_on_top"].fn((top, under)).tolist() == [[1, 1], [2, 0]]
    assert ops["overlay"].fn((top, under)).tolist() == [[2, 1], [2, 0]]
    assert overlay((a, np.zeros((3, 2), np.uint8)), 0) is None
    assert stack((a, b), 1).tolist() == [[1, 0, 0, 2], [0, 0, 0, 3]]
    assert stack((a, b), 0).shape == (4, 2)
    assert stack((a, np.zeros((3, 1), np.uint8)), 1) is None


def _ref_holes(mask: np.ndarray) -> int:
    h, w = mask.shape
    outside = np.zeros((h + 2, w + 2), dtype=bool)
    free = np.pad(~mask, 1, constant_values=True)
    stack_, outside[0, 0] = [(0, 0)], True
    while stack_:
        y, x = stack_.pop()
        for yy, xx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= yy < h + 2 and 0 <= xx < w + 2 and free[yy, xx] and not outside[yy, xx]:
                outside[yy, xx] = True
                stack_.append((yy, xx))
    return int(free.sum() - outside.sum())


def test_holes_equals_reference():
    rng = np.random.default_rng(3)
    for _ in range(100):
        mask = rng.random((int(rng.integers(1, 9)), int(rng.integers(1, 9)))) < 0.6
        assert holes(mask.astype(np.uint8), mask) == _ref_holes(mask)


RULE_SCORES = {
    "largest": lambda cs: len(cs),
    "smallest": lambda cs: -len(cs),
    "top": lambda cs: -min(y for y, _ in cs),
    "bottom": lambda cs: max(y for y, _ in cs),
    "left": lambda cs: -min(x for _, x in cs),
    "right": lambda cs: max(x for _, x in cs),
}


@pytest.mark.parametrize("rule", sorted(RULE_SCORES))
def test_crop_selected_equals_reference(rule):
    rng = np.random.default_rng(4)
    for _ in range(50):
        g = random_sparse(rng, 12, 12, fill=0.2)
        comps = ref_components(g, 0, True, False)
        got = crop_selected(g, 0, "c8", rule, keep_box=False)
        if len(comps) > objects.MAX_OBJECTS or not comps:
            assert got is None
            continue
        scores = [RULE_SCORES[rule](cs) for cs in comps]
        best = [cs for cs, s in zip(comps, scores) if s == max(scores)]
        if len(best) > 1:
            assert got is None
        else:
            assert (got == ref_crop(g, best[0], 0)).all()


def test_select_unique_colour_and_shape_rules():
    g = np.array([[1, 0, 1, 0, 2],
                  [0, 0, 0, 0, 0],
                  [1, 1, 0, 0, 0]], dtype=np.uint8)
    assert crop_selected(g, 0, "c4", "unique_colour", False).tolist() == [[2]]
    assert crop_selected(g, 0, "c4", "unique_shape", False).tolist() == [[1, 1]]  # the only pair
    # three single cells of colour 1: the common shape is the single cell, the first one is returned
    assert crop_selected(g, 0, "c4", "common_shape", False).tolist() == [[1]]
    assert crop_selected(g, 0, "c4", "largest", keep_box=True).tolist() == [[1, 1]]
    g[2, 4] = 3   # a second single-cell object of a new colour
    assert crop_selected(g, 0, "c4", "unique_colour", False) is None   # colours 2 and 3 are both unique
    h = np.array([[4, 0, 0], [4, 0, 5], [0, 0, 5]], dtype=np.uint8)
    assert crop_selected(h, 0, "c4", "largest", keep_box=False) is None   # a tie selects nothing


def test_select_minor_cells_and_symmetry_rules():
    g = np.array([[1, 1, 0, 2, 2, 2],
                  [1, 3, 0, 2, 3, 2],
                  [0, 0, 0, 3, 2, 3],
                  [4, 0, 0, 0, 0, 0],
                  [4, 4, 0, 0, 0, 0]], dtype=np.uint8)
    # m8 objects: the 1/3 block (one minor cell), the 2/3 block (three), the L of 4s (none, not symmetric)
    assert crop_selected(g, 0, "m8", "most_minor", False).tolist() == [[2, 2, 2], [2, 3, 2], [3, 2, 3]]
    assert crop_selected(g, 0, "m8", "least_minor", False).tolist() == [[4, 0], [4, 4]]
    # left-right symmetric: only the 2/3 block (the 1/3 block and the L are not mirror images of themselves)
    assert crop_selected(g, 0, "m8", "symmetric", False).tolist() == [[2, 2, 2], [2, 3, 2], [3, 2, 3]]


def test_crop_colour_rank_equals_reference():
    rng = np.random.default_rng(7)
    for _ in range(50):
        g = random_sparse(rng, 9, 9, colours=4, fill=0.3)
        counts = {c: int((g == c).sum()) for c in range(1, 10) if (g == c).any()}
        for rarest in (True, False):
            got = crop_colour_rank(g, 0, rarest)
            if not counts:
                assert got is None
                continue
            best = (min if rarest else max)(counts.values())
            hits = [c for c, n in counts.items() if n == best]
            if len(hits) > 1:
                assert got is None
                continue
            ys, xs = np.nonzero(g == hits[0])
            assert (got == g[ys.min():ys.max() + 1, xs.min():xs.max() + 1]).all()


def _recolour_largest(g: np.ndarray, colour: int) -> np.ndarray:
    comps = ref_components(g, 0, False, False)
    biggest = max(len(cs) for cs in comps)
    out = g.copy()
    for cs in comps:
        if len(cs) == biggest:
            for y, x in cs:
                out[y, x] = colour
    return out


def test_recolour_fits_rule_and_generalises():
    rng = np.random.default_rng(5)
    ins = [random_sparse(rng, 8, 9, colours=2, fill=0.3) for _ in range(3)]
    outs = [_recolour_largest(g, 7) for g in ins]
    table = fit_table(ins, outs, 0, "c4", "is_largest")
    assert table == {True: 7, False: KEEP}
    for _ in range(20):
        g = random_sparse(rng, 10, 10, colours=2, fill=0.3)
        assert (apply_table(g, 0, "c4", "is_largest", table) == _recolour_largest(g, 7)).all()
    # an output that recolours one object's cells in two colours fits no table
    bad = [o.copy() for o in outs]
    ys, xs = np.nonzero(ins[0])
    bad[0][ys[0], xs[0]] = 8
    bad[0][ys[-1], xs[-1]] = 9
    assert all(fit_table(ins, bad, 0, m, k) is None for m, _, _ in objects.MODES for k in recolour.KEYS)


def test_recolour_by_one_size_generalises_to_sizes_no_demonstration_shows():
    def grid(*sizes):   # one horizontal bar per size, on its own row
        g = np.zeros((2 * len(sizes), 8), np.uint8)
        for r, n in enumerate(sizes):
            g[2 * r, :n] = 5
        return g

    def want(g):
        out = g.copy()
        for r in range(0, g.shape[0], 2):
            n = int((g[r] != 0).sum())
            out[r, :n] = 2 if n == 3 else 1
        return out

    ins = [grid(3, 1, 4), grid(2, 3), grid(5, 3, 6)]
    table = fit_table(ins, [want(g) for g in ins], 0, "c4", "size_is_3")
    assert table == {True: 2, False: 1}
    test = grid(7, 3, 8)                      # sizes 7 and 8: in no demonstration
    assert (apply_table(test, 0, "c4", "size_is_3", table) == want(test)).all()
    assert fit_table(ins, [want(g) for g in ins], 0, "c4", "size_is_4") is None


def test_recolour_inside_fills_each_box_by_its_rank_and_keeps_edges():
    def grid(*boxes):   # (top, left, side) squares of colour 4
        g = np.zeros((12, 12), np.uint8)
        for t, left, n in boxes:
            g[t:t + n, left:left + n] = 4
        return g

    def want(g):   # the larger box's inside 2, the smaller's 1 (hand-computed from the boxes)
        out = g.copy()
        objs = components(g, 0, "c4")
        big = max(o.size for o in objs)
        for o in objs:
            out[o.top + 1:o.top + o.height - 1, o.left + 1:o.left + o.width - 1] = 2 if o.size == big else 1
        return out

    ins = [grid((0, 0, 4), (6, 5, 5)), grid((1, 6, 6), (8, 0, 3))]
    outs = [want(g) for g in ins]
    assert fit_table(ins, outs, 0, "c4", "is_largest") is None   # whole-object rule: the edges stay 4
    prepared = recolour.prepare(ins, outs, 0, "c4", "inside")
    table = fit_table(ins, outs, 0, "c4", "is_largest", prepared)
    assert table == {True: 2, False: 1}
    test = grid((0, 7, 5), (5, 0, 7))
    got = apply_table(test, 0, "c4", "is_largest", table, "inside")
    assert (got == want(test)).all() and (got[test == 0] == 0).all()


def test_recolour_halo_rings_only_the_keyed_objects_where_rings_touch():
    g = np.zeros((8, 9), np.uint8)
    g[1, 1] = g[1, 2] = 2            # a pair: ringed in 3
    g[1, 4] = 2                      # a single beside the pair's ring: its own halo is partly painted, kept
    g[5, 6] = g[6, 6] = 2            # another pair
    g[6, 1] = 2                      # a single alone
    want = g.copy()
    for r, c in ((1, 1), (1, 2), (5, 6), (6, 6)):   # hand-computed rings (8-neighbour background cells)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if 0 <= rr < 8 and 0 <= cc < 9 and g[rr, cc] == 0:
                    want[rr, cc] = 3
    assert want[1, 3] == 3 and want[1, 4] == 2 and want[0, 4] == 0
    prepared = recolour.prepare([g], [want], 0, "c4", "halo")
    table = fit_table([g], [want], 0, "c4", "size_is_2", prepared)
    assert table == {True: 3, False: KEEP}
    assert (apply_table(g, 0, "c4", "size_is_2", table, "halo") == want).all()
    assert recolour.prepare([g], [want], 0, "c4", "all") is None   # background cells change


def test_recolour_holes_fills_only_enclosed_square_regions():
    def frame(g, top, left, h, w):   # a one-cell frame of colour 5 around an h x w hole
        g[top:top + h + 2, left:left + w + 2] = 5
        g[top + 1:top + h + 1, left + 1:left + w + 1] = 0

    def case(boxes):
        g = np.zeros((14, 14), np.uint8)
        for b in boxes:
            frame(g, *b)
        want = g.copy()
        for top, left, h, w in boxes:   # hand rule: a square hole turns 2, another stays
            if h == w:
                want[top + 1:top + h + 1, left + 1:left + w + 1] = 2
        return g, want

    pairs = [case([(0, 0, 2, 2), (5, 5, 1, 3)]), case([(1, 8, 3, 3), (8, 1, 2, 4)])]
    ins, outs = [p[0] for p in pairs], [p[1] for p in pairs]
    prepared = recolour.prepare(ins, outs, 0, "holes")
    table = fit_table(ins, outs, 0, "holes", "is_square", prepared)
    assert table == {True: 2, False: KEEP}
    test, want = case([(0, 9, 1, 1), (4, 0, 4, 4), (10, 6, 2, 5)])
    assert (apply_table(test, 0, "holes", "is_square", table) == want).all()
    spilled = [o.copy() for o in outs]
    spilled[0][13, 13] = 2                    # an open background cell changes: no hole rule fits
    assert recolour.prepare(ins, spilled, 0, "holes") is None


def _shapes_grid(placements: list[tuple[np.ndarray, int, int]], colour_of=None) -> np.ndarray:
    """A 12x12 grid with each mask painted at (row, col): colour 5, or `colour_of(mask)`."""
    g = np.zeros((12, 12), np.uint8)
    for mask, r, c in placements:
        g[r:r + mask.shape[0], c:c + mask.shape[1]][mask] = 5 if colour_of is None else colour_of(mask)
    return g


def test_recolour_by_exact_shape_and_by_shape_up_to_dihedral_maps():
    ell = np.array([[1, 0], [1, 0], [1, 1]], bool)
    bar = np.array([[1, 1, 1]], bool)
    as_seen = {ell.tobytes(): 2, bar.tobytes(): 3}
    dye = lambda m: as_seen[m.tobytes()]   # noqa: E731  (the rule of the demonstrations)
    layouts = [[(ell, 0, 0), (bar, 6, 4)], [(bar, 1, 7), (ell, 5, 1), (ell, 8, 8)]]
    ins = [_shapes_grid(p) for p in layouts]
    outs = [_shapes_grid(p, dye) for p in layouts]
    table = fit_table(ins, outs, 0, "c4", "shape")
    assert table is not None and sorted(table.values()) == [2, 3]
    test = [(bar, 0, 0), (ell, 4, 4), (bar, 10, 2)]
    assert (apply_table(_shapes_grid(test), 0, "c4", "shape", table) == _shapes_grid(test, dye)).all()
    turned = np.rot90(ell)   # a shape no demonstration shows: the exact key has no entry, the dihedral one has
    assert apply_table(_shapes_grid([(turned, 2, 2)]), 0, "c4", "shape", table) is None
    d4 = fit_table(ins, outs, 0, "c4", "shape_d4")
    got = apply_table(_shapes_grid([(turned, 2, 2), (bar.T, 6, 8)]), 0, "c4", "shape_d4", d4)
    assert (got == _shapes_grid([(turned, 2, 2), (bar.T, 6, 8)], lambda m: 2 if m.size == 6 else 3)).all()
    # a shape recoloured two ways in the demonstrations fits no table
    clash = [outs[0], _shapes_grid(layouts[1], lambda m: 3)]   # the L is 2 in one, 3 in the other
    assert fit_table(ins, clash, 0, "c4", "shape") is None


def test_recolour_by_exact_shape_answers_a_real_arc_agi_2_training_task():
    assert_op_solves(recolour, "ad38a9d0", ["recolour(shape,c4;6 entries)"], dataset="arc-agi-2")


def test_recolour_by_topology_keys_lines_by_ends_and_corners_at_any_size_and_turn():
    ell = np.array([[1, 0], [1, 0], [1, 1]], bool)                      # 2 ends, 1 corner
    you = np.array([[1, 0, 1], [1, 0, 1], [1, 1, 1]], bool)             # 2 ends, 2 corners
    tee = np.array([[1, 1, 1], [0, 1, 0], [0, 1, 0]], bool)             # 3 ends, 1 corner (the junction)
    rule = {(2, 1): 1, (2, 2): 6, (3, 1): 2}
    ends_corners = {ell.tobytes(): (2, 1), you.tobytes(): (2, 2), tee.tobytes(): (3, 1)}
    dye = lambda m: rule[ends_corners[m.tobytes()]]   # noqa: E731  (the rule of the demonstrations)
    layouts = [[(ell, 0, 0), (you, 5, 5)], [(tee, 1, 6), (ell, 6, 1)]]
    table = fit_table([_shapes_grid(p) for p in layouts], [_shapes_grid(p, dye) for p in layouts], 0, "c4",
                      "topology")
    assert table == rule
    big_ell = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 1]], bool)   # larger and turned: same form
    wide_you = np.rot90(np.array([[1, 0, 0, 1], [1, 1, 1, 1]], bool))
    test = [(np.rot90(big_ell, 1), 0, 0), (wide_you, 5, 6), (np.rot90(tee, 2), 8, 0)]
    got = apply_table(_shapes_grid(test), 0, "c4", "topology", table)
    assert got is not None and (got != 0).sum() == (_shapes_grid(test) != 0).sum()
    assert set(np.unique(got[0:3, 0:4])) == {0, 1}            # the L, turned and longer: blue
    assert set(np.unique(got[5:9, 6:8])) == {0, 6}            # the U, turned and deeper: magenta
    assert set(np.unique(got[8:11, 0:3])) == {0, 2}           # the T, upside down: red
    assert apply_table(_shapes_grid([(np.ones((2, 2), bool), 0, 0)]), 0, "c4", "topology", table) is None


def test_recolour_by_topology_needs_a_form_seen_twice():
    ell = np.array([[1, 0], [1, 1]], bool)
    you = np.array([[1, 0, 1], [1, 1, 1]], bool)
    train = ((_shapes_grid([(ell, 1, 1)]), _shapes_grid([(ell, 1, 1)], lambda m: 2)),
             (_shapes_grid([(you, 4, 4)]), _shapes_grid([(you, 4, 4)], lambda m: 3)))
    longer_ell = np.array([[1, 0], [1, 0], [1, 0], [1, 1]], bool)   # a form the table knows, not its shape or size
    ins, outs = zip(*train)
    found = recolour._fitted_ops(ins, outs, (_shapes_grid([(longer_ell, 0, 0)]),), 0, 50,
                                 extra_keys=tuple(recolour.SHAPE_KEYS))
    names = [o.name for o in found]
    assert "recolour(shape,c4;2 entries)" in names
    assert not any("topology" in n for n in names)


def test_recolour_by_topology_answers_a_real_training_task():
    assert_op_solves(recolour, "e509e548", ["recolour(topology,c4;(2, 1):1,(2, 2):6,(3, 2):2)"])


def test_recolour_finisher_maps_program_outputs():
    from trm_submit.search.dsl import TaskContext
    rng = np.random.default_rng(6)
    ins = tuple(random_sparse(rng, 7, 7, colours=1, fill=0.3) for _ in range(3))
    outs = tuple(_recolour_largest(g, 4) for g in ins)
    ctx = TaskContext(train_in=ins, train_out=outs, test_in=(), colours=(0, 1, 4), bg=0)
    (fit,) = recolour.finishers(ctx)
    op = fit(list(ins), list(outs))
    assert op is not None and all((op.fn(i) == o).all() for i, o in zip(ins, outs))
    assert fit(list(ins), [np.zeros((2, 2), np.uint8)] * 3) is None


# Real ARC-AGI-1 training tasks solved by one op (or a split/pick pipeline) of these modules alone.
@pytest.mark.parametrize("module,task_id,names", [
    (select, "1cf80156", ["crop(largest,c4)"]),
    (select, "23b5c85d", ["crop(smallest,c4)"]),
    (select, "88a62173", ["crop(unique_shape,c8)"]),
    (select, "be94b721", ["crop(largest,c4)"]),
    (select, "72ca375d", ["crop(symmetric,c8)"]),
    (select, "8efcae92", ["crop(most_minor,m8)"]),
    (select, "0b148d64", ["crop(rarest_colour)"]),
    ([objects, select], "39a8645d", ["objects(c8)", "pick(common)"]),
    ([objects, select], "a87f7484", ["objects(c8)", "pick(largest)"]),
    (recolour, "08ed6ac7", ["recolour(size_rank,c4;0:1,1:2,2:3,3:4)"]),
    (recolour, "810b9b61", ["recolour(has_hole,c4;False:keep,True:3)"]),
    (recolour, "b230c067", ["recolour(shape_unique,c4;False:1,True:2)"]),
    (recolour, "aedd82e4", ["recolour(is_smallest,c4;False:keep,True:1)"]),
    (recolour, "e8593010", ["recolour(size_rank,c4;0:1,1:2,2:3)"]),
    (recolour, "d2abd087", ["recolour(size_is_6,c4;False:1,True:2)"]),
    (recolour, "694f12f3", ["recolour(is_largest,c4,inside;False:1,True:2)"]),
    (recolour, "b27ca6d3", ["recolour(is_largest,c4,halo;False:keep,True:3)"]),
    (recolour, "44d8ac46", ["recolour(is_square,holes;False:keep,True:2)"]),
    (recolour, "868de0fa", ["recolour(odd_size,holes;False:2,True:7)"]),
])
def test_real_training_tasks(module, task_id, names):
    assert_op_solves(module, task_id, names)


def test_crop_selected_most_of_a_colour():
    g = np.zeros((5, 9), np.uint8)
    g[0:3, 0:3] = 8
    g[1, 1] = 2              # one red cell
    g[0:3, 5:8] = 8
    g[0, 5], g[2, 7] = 2, 2  # two red cells: selected
    g[4, 0:4] = 1            # no red cell
    assert crop_selected(g, 0, "m8", "most(2)", False).tolist() == [[2, 8, 8], [8, 8, 8], [8, 8, 2]]
    g[1, 1] = 2
    g[2, 1] = 2              # now two red cells in each: a tie selects nothing
    assert crop_selected(g, 0, "m8", "most(2)", False) is None


def test_crop_most_of_a_colour_solves_a_training_task():
    assert_op_solves(select, "e50d258f", ["crop(most(2),m8)"])


def test_overlay_common_gathers_the_marks_of_boxes_of_one_colour():
    from trm_submit.search.objects import overlay_common
    a = np.full((3, 3), 3, np.uint8)
    b = a.copy()
    a[0, 0], b[2, 1] = 6, 1
    assert overlay_common((a, b)).tolist() == [[6, 3, 3], [3, 3, 3], [3, 1, 3]]
    b[0, 0] = 5              # both mark one cell: the later item's mark wins
    assert overlay_common((a, b))[0, 0] == 5
    assert overlay_common((a,)) is None                          # nothing to gather
    assert overlay_common((a, np.full((2, 3), 3, np.uint8))) is None   # shapes differ


def test_own_objects_segments_on_each_grids_own_background():
    from trm_submit.search.objects import own_objects
    g = np.full((6, 8), 4, np.uint8)
    g[1:4, 0:3] = 3
    g[2, 1] = 2              # the task's background colour elsewhere, here a mark inside a box
    g[0:3, 4:7] = 3
    items = own_objects(g)
    assert [it.shape for it in items] == [(3, 3), (3, 3)] and items.pos == ((0, 4), (1, 0))
    ctx_items = object_list(g, 2, "m8")   # on the task's background (2, which this grid holds) the boxes merge
    assert len(ctx_items) != 2


def test_overlay_of_own_objects_solves_a_training_task():
    assert_op_solves(objects, "25e02866", ["objects(m8,own_bg)", "overlay_common"], dataset="arc-agi-2")
