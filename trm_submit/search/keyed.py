"""Recolouring placeholder cells by a key found along a line: each cell (or each object) of a placeholder
colour takes the colour of the first cell that is neither background nor placeholder, looking from it in
one direction (the key at the start of its row or column); an object is an 8-neighbour or a 4-neighbour component
(two boxes touching at a corner are two objects). The placeholder is the one input colour the
demonstrations overwrite; a direction is offered only where it agrees with the train outputs.
`fill_template` replaces each placeholder object by the one other object whose bounding box has its shape.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .dsl import Op, TaskContext
from .fitting import agrees, same_shape_pairs
from .objects import components, grid_background

LOOK = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
MAX_KEYED_OPS = 2


def _key(grid: np.ndarray, r: int, c: int, step: tuple[int, int], skip: tuple[int, int]) -> int | None:
    """The first colour not in `skip` from (r, c) in direction `step` (excluding the cell), else None."""
    h, w = grid.shape
    r, c = r + step[0], c + step[1]
    while 0 <= r < h and 0 <= c < w:
        if grid[r, c] not in skip:
            return int(grid[r, c])
        r, c = r + step[0], c + step[1]
    return None


def recolour_by_key(grid: np.ndarray, ctx_bg: int, placeholder: int, look: str, per_object: bool,
                    mode: str = "c8") -> np.ndarray:
    """Placeholder cells recoloured by the key colour `look`-wards of each cell, or of each object (segmentation
    `mode`: its cells' most frequent key, smallest colour on ties); cells without a key keep their colour."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    step, skip = LOOK[look], (bg, placeholder)
    if not per_object:
        for r, c in zip(*np.nonzero(grid == placeholder)):
            k = _key(grid, int(r), int(c), step, skip)
            if k is not None:
                out[r, c] = k
        return out
    only = np.where(grid == placeholder, grid, np.uint8(bg)).astype(np.uint8)
    for obj in components(only, bg, mode):
        keys = [_key(grid, obj.top + y, obj.left + x, step, skip) for y, x in zip(*np.nonzero(obj.mask))]
        found = [k for k in keys if k is not None]
        if found:
            counts = np.bincount(found, minlength=10)
            region = out[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width]
            region[obj.mask] = int(np.argmax(counts))
    return out


def fill_template(grid: np.ndarray, ctx_bg: int, placeholder: int) -> np.ndarray | None:
    """Each placeholder object (8-neighbour) whose bounding box has the shape of exactly one other object
    (multicolour, no placeholder cells) is overwritten by that object's cropped cells; None without any."""
    bg = grid_background(grid, ctx_bg)
    holders = components(np.where(grid == placeholder, grid, np.uint8(bg)).astype(np.uint8), bg, "c8")
    others = components(np.where(grid == placeholder, np.uint8(bg), grid).astype(np.uint8), bg, "m8")
    out, done = grid.copy(), False
    for obj in holders:
        same = [o for o in others if o.grid.shape == obj.grid.shape]
        if len(same) == 1 and obj.mask.all():
            out[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width] = same[0].grid
            done = True
    return out if done else None


def _placeholder(ctx: TaskContext) -> int | None:
    """The one non-background input colour whose cells the outputs change, if there is exactly one."""
    changed: set[int] = set()
    for i, o in same_shape_pairs(ctx):
        changed.update(int(v) for v in np.unique(i[i != o]))
    changed.discard(ctx.bg)
    return next(iter(changed)) if len(changed) == 1 else None


def ops(ctx: TaskContext) -> list[Op]:
    """Key recolourings (4 directions, per cell or per object) that agree with every train pair."""
    p = _placeholder(ctx) if ctx.same_shape else None
    if p is None:
        return []
    bg = ctx.bg
    found = []
    for look in LOOK:
        for per_object, mode, label in ((False, "c8", "cell"), (True, "c8", "object"), (True, "c4", "object4")):
            op = Op(f"recolour_by_key({p},{look},{label})",
                    partial(recolour_by_key, ctx_bg=bg, placeholder=p, look=look, per_object=per_object, mode=mode),
                    keeps_shape=True)
            if agrees(op.fn, ctx, exact=False):
                found.append(op)
    template = Op(f"fill_template({p})", lambda g: fill_template(g, bg, p), keeps_shape=True)
    if agrees(template.fn, ctx, exact=False):
        found.append(template)
    return found[:MAX_KEYED_OPS + 1]
