"""Rewriting objects by their look: each object of the input (a component under one segmentation mode) is replaced by
the patch the demonstrations show over its bounding box grown by a margin (0 or 1 cell). The patches are read off the
train pairs, one per object key (the object's exact cells, colours included); where two objects with one key disagree
the rule does not fit. A key by shape alone (the patch written in the object's own colour) was tried: on the ARC-AGI-1
training set it fitted two more tasks and got both tests wrong. A test object whose key no demonstration shows makes the
op return None (an unseen object has no known rewrite).

Offered only where the rewrite reproduces every train output exactly (so the cells outside every patch are
unchanged) and changes something: "every hollow square becomes a plus, every other shape stays".
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from .dsl import Op, TaskContext
from .fitting import same_shape_pairs
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


def fit_rewrites(pairs: list[tuple[np.ndarray, np.ndarray]], ctx_bg: int, mode: str, margin: int) -> Table | None:
    """{object key: output patch} agreeing over every object of every pair, or None on a disagreement or a
    pair without objects."""
    table: Table = {}
    for i, o in pairs:
        objs = components(i, grid_background(i, ctx_bg), mode)
        if not objs:
            return None
        for obj in objs:
            patch = _patch(o, _box(obj, margin))
            k = obj.content_key()
            known = table.get(k)
            if known is None:
                table[k] = patch
                continue
            both = (known != OUTSIDE) & (patch != OUTSIDE)
            if (known[both] != patch[both]).any():
                return None
            table[k] = np.where(known == OUTSIDE, patch, known)
    return table


def apply_rewrites(grid: np.ndarray, ctx_bg: int, mode: str, margin: int, table: Table) -> np.ndarray | None:
    """`grid` with every object's grown box painted with its key's patch (in object order), or None when an
    object's key is unknown or its patch has no colour for a cell inside the grid."""
    objs = components(grid, grid_background(grid, ctx_bg), mode)
    if not objs:
        return None
    out = grid.copy()
    h, w = grid.shape
    for obj in objs:
        patch = table.get(obj.content_key())
        if patch is None:
            return None
        r0, c0, r1, c1 = _box(obj, margin)
        seen = patch[max(-r0, 0):patch.shape[0] - max(r1 - h, 0), max(-c0, 0):patch.shape[1] - max(c1 - w, 0)]
        if (seen == OUTSIDE).any():
            return None
        out[max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)] = seen
    return out


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
        table = fit_rewrites(pairs, ctx.bg, mode, margin)
        if table is None:
            continue
        fn = partial(apply_rewrites, ctx_bg=ctx.bg, mode=mode, margin=margin, table=table)
        if not all((r := fn(i)) is not None and (r == o).all() for i, o in pairs):
            continue
        results = [fn(g) for g in ctx.test_in]
        sig = tuple(r.tobytes() for r in results if r is not None)
        if len(sig) < len(results):
            continue
        found.setdefault(sig, Op(f"rewrite({mode},margin {margin};{len(table)} looks)", fn, keeps_shape=True))
    return list(found.values())[:MAX_REWRITE_OPS]
