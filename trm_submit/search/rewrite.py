"""Rewriting objects by their look: each object of the input (a component under one segmentation mode) is replaced by
the patch the demonstrations show over its bounding box grown by a margin (0 or 1 cell). The patches are read off the
train pairs, one per object key (the object's exact cells, colours included); where two objects with one key disagree
the rule does not fit. A key by shape alone (the patch written in the object's own colour) was tried: on the ARC-AGI-1
training set it fitted two more tasks and got both tests wrong. A test object whose key no demonstration shows makes the
op return None (an unseen object has no known rewrite). A turned rewrite keys an object up to rotations and reflections
(its cells, colours included) and turns its patch with it: "every L gets its corner filled, whichever way it faces";
scanned on both training sets (ARC-AGI-1 evaluation ids left out): it fitted 11 tasks, all 11 right.

Offered only where the rewrite reproduces every train output exactly (so the cells outside every patch are
unchanged) and changes something: "every hollow square becomes a plus, every other shape stays".

`rewrite_touching`: in whatever orientation, every cell of colour a beside (4-neighbour) a cell of colour b becomes
a', and those b cells become b' (d90796e8: "where a 3 touches a 2, the 3 turns 8 and the 2 goes"). The colours are
read off the demonstrations; offered only where it reproduces every train output.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from ..grids.augment import DIHEDRAL_INVERSE, dihedral
from .dsl import Op, TaskContext
from .fitting import same_shape_pairs
from .grid_loops import beside
from .objects import MODES, Obj, components, grid_background

OUTSIDE = 255          # a patch cell beyond the grid's edge where it was seen (unknown)
MARGINS = (0, 1)
MAX_REWRITE_OPS = 2

Table = dict[tuple, np.ndarray]   # object key -> patch (the object's box grown by the margin)


def _box(obj: Obj, margin: int) -> tuple[int, int, int, int]:
    return obj.top - margin, obj.left - margin, obj.top + obj.height + margin, obj.left + obj.width + margin


def _patch(grid: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """`grid` over `box`, OUTSIDE where the box leaves the grid."""
    r0, c0, r1, c1 = box
    h, w = grid.shape
    out = np.full((r1 - r0, c1 - c0), OUTSIDE, dtype=np.uint8)
    out[max(-r0, 0):out.shape[0] - max(r1 - h, 0), max(-c0, 0):out.shape[1] - max(c1 - w, 0)] = (
        grid[max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)])
    return out


def _keys(obj: Obj, turned: bool) -> tuple[tuple, list[int]]:
    """(the object's key, the dihedral maps that take its cells to the key's frame): its cells as they are, or
    (turned) the least of their eight images (several maps where the object is symmetric)."""
    if not turned:
        return obj.content_key(), [0]
    images = [dihedral(obj.grid, k) for k in range(8)]
    keys = [(im.shape, im.tobytes()) for im in images]
    least = min(keys)
    return least, [k for k in range(8) if keys[k] == least]


def fit_rewrites(pairs: list[tuple[np.ndarray, np.ndarray]], ctx_bg: int, mode: str, margin: int,
                 turned: bool = False) -> Table | None:
    """{object key: output patch (in the key's frame)} agreeing over every object of every pair, or None on a
    disagreement or a pair without objects."""
    table: Table = {}
    for i, o in pairs:
        objs = components(i, grid_background(i, ctx_bg), mode)
        if not objs:
            return None
        for obj in objs:
            seen = _patch(o, _box(obj, margin))
            key, maps = _keys(obj, turned)
            for k in maps:
                patch = dihedral(seen, k) if turned else seen
                known = table.get(key)
                if known is None:
                    table[key] = patch
                    continue
                both = (known != OUTSIDE) & (patch != OUTSIDE)
                if (known[both] != patch[both]).any():
                    return None
                table[key] = np.where(known == OUTSIDE, patch, known)
    return table


def apply_rewrites(grid: np.ndarray, ctx_bg: int, mode: str, margin: int, table: Table,
                   turned: bool = False) -> np.ndarray | None:
    """`grid` with every object's grown box painted with its key's patch (in object order), or None when an
    object's key is unknown or its patch has no colour for a cell inside the grid."""
    objs = components(grid, grid_background(grid, ctx_bg), mode)
    if not objs:
        return None
    out = grid.copy()
    h, w = grid.shape
    for obj in objs:
        key, maps = _keys(obj, turned)
        patch = table.get(key)
        if patch is None:
            return None
        if turned:
            patch = dihedral(patch, DIHEDRAL_INVERSE[maps[0]])
        r0, c0, r1, c1 = _box(obj, margin)
        seen = patch[max(-r0, 0):patch.shape[0] - max(r1 - h, 0), max(-c0, 0):patch.shape[1] - max(c1 - w, 0)]
        if (seen == OUTSIDE).any():
            return None
        out[max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)] = seen
    return out


def _touching(grid: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """(the a cells beside a b cell, the b cells beside an a cell)."""
    cells_a, cells_b = grid == a, grid == b
    return cells_a & beside(cells_b, "4"), cells_b & beside(cells_a, "4")


def rewrite_touching(grid: np.ndarray, a: int, b: int, new_a: int, new_b: int) -> np.ndarray | None:
    """`grid` with the touching a and b cells recoloured (module docstring); None where none touch."""
    at, bt = _touching(grid, a, b)
    if not at.any():
        return None
    out = grid.copy()
    out[at], out[bt] = new_a, new_b
    return out


def _touching_ops(ctx: TaskContext, pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[Op]:
    """rewrite_touching for each pair of input colours whose touching cells take one colour each in the outputs
    and whose rewrite gives every train output."""
    found = []
    colours = [c for c in ctx.in_colours if c != ctx.bg]
    for a in colours:
        for b in colours:
            if a == b:
                continue
            targets: list[set[int]] = [set(), set()]
            for i, o in pairs:
                at, bt = _touching(i, a, b)
                targets[0].update(np.unique(o[at]).tolist())
                targets[1].update(np.unique(o[bt]).tolist())
            if len(targets[0]) != 1 or len(targets[1]) != 1:
                continue
            new_a, new_b = targets[0].pop(), targets[1].pop()
            if (new_a, new_b) == (a, b):
                continue
            fn = partial(rewrite_touching, a=a, b=b, new_a=new_a, new_b=new_b)
            if all((r := fn(i)) is not None and (r == o).all() for i, o in pairs):
                found.append(Op(f"rewrite_touching({a}>{new_a},{b}>{new_b})", fn, keeps_shape=True))
    return found[:1]   # (a, b) and (b, a) are one rule


def ops(ctx: TaskContext) -> list[Op]:
    """Object rewrites (per margin and mode; distinct results on the test inputs) that reproduce every
    train output; none when the shapes differ."""
    if not ctx.same_shape:
        return []
    pairs = same_shape_pairs(ctx)
    if not pairs or all((i == o).all() for i, o in pairs):
        return []
    found: dict[tuple, Op] = {}
    for margin, (mode, _, _) in itertools.product(MARGINS, MODES):
        # the turned key is coarser: it fits only where the exact key fits the demonstrations, and answers the same
        # where the exact key knows every test object, so it is tried only where some test object is unseen
        for turned in (False, True):
            table = fit_rewrites(pairs, ctx.bg, mode, margin, turned)
            if table is None:
                break
            fn = partial(apply_rewrites, ctx_bg=ctx.bg, mode=mode, margin=margin, table=table, turned=turned)
            if not all((r := fn(i)) is not None and (r == o).all() for i, o in pairs):
                break
            results = [fn(g) for g in ctx.test_in]
            sig = tuple(r.tobytes() for r in results if r is not None)
            if len(sig) == len(results):
                name = f"rewrite({mode},margin {margin}{',turned' if turned else ''};{len(table)} looks)"
                found.setdefault(sig, Op(name, fn, keeps_shape=True))
                break
    return list(found.values())[:MAX_REWRITE_OPS] + _touching_ops(ctx, pairs)
