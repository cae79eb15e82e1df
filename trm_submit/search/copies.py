"""Copies of a template: the one object with the most colours (multicolour segmentation, 8-neighbour, or 4-neighbour
"m4" where a marker touches the template at a corner) is painted over every marker, a one-colour object elsewhere in the
grid: over a one-cell marker with the template's centre on it, over a marker of the template's shape in its bounding
box; a marker of another shape is left as it is. The template itself is kept or erased. ("Stamp the pattern at every
grey cell", "colour each grey copy like the pattern".)
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .dsl import Op, TaskContext
from .objects import components, grid_background


def copy_template(grid: np.ndarray, ctx_bg: int, keep: bool, mode: str = "m8") -> np.ndarray | None:
    """`grid` with the template painted over its markers (None without one template, a marker it fits, or a
    centre for a one-cell marker)."""
    bg = grid_background(grid, ctx_bg)
    objs = components(grid, bg, mode)
    if len(objs) < 2:
        return None
    most = max(o.n_colours for o in objs)
    templates = [o for o in objs if o.n_colours == most]
    if most < 2 or len(templates) != 1:
        return None
    t = templates[0]
    out = grid.copy()
    if not keep:
        out[t.top:t.top + t.height, t.left:t.left + t.width][t.mask] = bg
    h, w = grid.shape
    painted = False
    for o in objs:
        if o is t:
            continue
        if o.size == 1:
            if t.height % 2 == 0 or t.width % 2 == 0:
                return None
            top, left = o.top - t.height // 2, o.left - t.width // 2
        elif o.mask.shape == t.mask.shape and (o.mask == t.mask).all():
            top, left = o.top, o.left
        else:
            continue
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + t.height, h), min(left + t.width, w)
        if r0 >= r1 or c0 >= c1:
            continue
        region = out[r0:r1, c0:c1]
        cut = t.mask[r0 - top:r1 - top, c0 - left:c1 - left]
        region[cut] = t.grid[r0 - top:r1 - top, c0 - left:c1 - left][cut]
        painted = True
    return out if painted else None


def ops(ctx: TaskContext) -> list[Op]:
    """Template copies, the template kept or erased (same-shape tasks)."""
    if not ctx.same_shape:
        return []
    return [Op(f"copy_template({'keep' if keep else 'erase'}{',m4' if mode == 'm4' else ''})",
               partial(copy_template, ctx_bg=ctx.bg, keep=keep, mode=mode), keeps_shape=True)
            for mode in ("m8", "m4") for keep in (True, False)]
