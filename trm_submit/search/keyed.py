"""Recolouring placeholder cells by a key found along a line: each cell (or each object) of a placeholder
colour takes the colour of the first cell that is neither background nor placeholder, looking from it in
one direction (the key at the start of its row or column); an object is an 8-neighbour or a 4-neighbour component
(two boxes touching at a corner are two objects). The placeholder is the one input colour the
demonstrations overwrite; a direction is offered only where it agrees with the train outputs.
`fill_template` replaces each placeholder object by the one other object whose bounding box has its shape.

A legend is a set of two-colour pieces, each two one-colour halves side by side ("31" at the grid's edge: 3 goes
with 1). `frame_by_legend` rings every other object whose colour the legend names with the legend's other colour:
the background around it within one cell of its box, holes it encloses left alone (5adee1b2).
`recolour_by_table`: a table is one block two cells wide (or two tall) of pairs "a b", one per row read top down
(per column read left to right); every cell outside it takes, of each colour, what the table's pairs make of it
applied in their order (a chain "1 4" then "4 6" turns 1 into 6; ARC-AGI-2 e4888269).
`dye_by_marker`: every other colour is a marker; each object of the body colour (4-neighbour) that a marker touches
takes the marker's colour, and every marker goes (b7256dcd: "the dot dyes the shape it touches").
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .dsl import Op, TaskContext
from .fitting import agrees, same_shape_pairs
from .grid_loops import border_reach
from .objects import components, grid_background
from .views import turned_ops

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


def legend_pairs(grid: np.ndarray, bg: int) -> tuple[dict[int, int], np.ndarray] | None:
    """({first colour: second colour}, mask of the legend's cells) from the grid's two-colour pieces (multicolour
    8-neighbour components) that are two one-colour halves side by side, left to right or top to bottom. None
    where two pieces disagree."""
    table: dict[int, int] = {}
    mask = np.zeros(grid.shape, dtype=bool)
    for obj in components(grid, bg, "m8"):
        cells = np.where(obj.mask, obj.grid, np.uint8(255))
        h, w = cells.shape
        if w % 2 == 0 and (cells[:, :w // 2] == cells[0, 0]).all() and (cells[:, w // 2:] == cells[0, -1]).all():
            pair = int(cells[0, 0]), int(cells[0, -1])
        elif h % 2 == 0 and (cells[:h // 2] == cells[0, 0]).all() and (cells[h // 2:] == cells[-1, 0]).all():
            pair = int(cells[0, 0]), int(cells[-1, 0])
        else:
            continue
        if pair[0] == pair[1] or 255 in pair:
            continue
        if table.setdefault(pair[0], pair[1]) != pair[1]:
            return None
        mask[obj.top:obj.top + h, obj.left:obj.left + w] |= obj.mask
    return table, mask


def frame_by_legend(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Every one-colour object (8-neighbour, not in the legend) whose colour the legend names gets the background
    cells within one cell of its box that are open to the outside (not holes it encloses) painted the legend's
    other colour. None without a legend or an object it names."""
    bg = grid_background(grid, ctx_bg)
    legend = legend_pairs(grid, bg)
    if legend is None or not legend[0]:
        return None
    table, in_legend = legend
    h, w = grid.shape
    out, done = grid.copy(), False
    for obj in components(grid, bg, "c8"):
        colour = int(obj.grid[obj.mask][0])
        box = np.s_[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width]
        if colour not in table or in_legend[box][obj.mask].any():
            continue
        y0, y1, x0, x1 = max(obj.top - 1, 0), min(obj.top + obj.height + 1, h), max(obj.left - 1, 0), \
            min(obj.left + obj.width + 1, w)
        body = np.zeros((y1 - y0 + 2, x1 - x0 + 2), dtype=np.uint8)
        body[1 + obj.top - y0:1 + obj.top - y0 + obj.height, 1 + obj.left - x0:1 + obj.left - x0 + obj.width] = obj.mask
        open_cells = border_reach(body, 0)[1:-1, 1:-1]
        out[y0:y1, x0:x1][(grid[y0:y1, x0:x1] == bg) & open_cells] = table[colour]
        done = True
    return out if done else None


def _table(grid: np.ndarray, bg: int) -> tuple[list[tuple[int, int]], np.ndarray] | None:
    """([(a, b) pairs in reading order], mask of the table's cells) of the grid's one pair table: a multicolour
    object (8-neighbour) filling a box two cells wide and taller than wide (or the turned box), each pair two
    colours. None where no object or two objects qualify."""
    found = None
    for obj in components(grid, bg, "m8"):
        if not obj.mask.all() or 2 not in obj.mask.shape or obj.size < 4:
            continue
        pairs = obj.grid if obj.width == 2 else obj.grid.T
        if (pairs[:, 0] == pairs[:, 1]).any():
            continue
        if found is not None:
            return None
        mask = np.zeros(grid.shape, dtype=bool)
        mask[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width] = True
        found = [(int(a), int(b)) for a, b in pairs], mask
    return found


def recolour_by_table(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Every colour outside the grid's pair table (`_table`) put through the table's pairs in order. None without
    a table or a cell it changes."""
    bg = grid_background(grid, ctx_bg)
    table = _table(grid, bg)
    if table is None:
        return None
    pairs, in_table = table
    lookup = np.arange(10, dtype=np.uint8)
    for a, b in pairs:
        lookup[lookup == a] = b
    out = np.where(in_table, grid, lookup[grid]).astype(np.uint8)
    return None if np.array_equal(out, grid) else out


def dye_by_marker(grid: np.ndarray, ctx_bg: int, body: int) -> np.ndarray | None:
    """Cells neither background nor `body` are markers and turn background; each `body` object (4-neighbour) that
    markers of one colour touch (4-neighbour) takes that colour. None without a dyed object, or where markers of
    two colours touch one object."""
    bg = grid_background(grid, ctx_bg)
    markers = (grid != bg) & (grid != body)
    if not markers.any():
        return None
    padded = np.pad(np.where(markers, grid, np.uint8(255)), 1, constant_values=255)
    touching = [padded[1 + dy:padded.shape[0] - 1 + dy, 1 + dx:padded.shape[1] - 1 + dx]
                for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0))]
    out = np.where(markers, np.uint8(bg), grid).astype(np.uint8)
    dyed = False
    for obj in components(np.where(grid == body, grid, np.uint8(bg)).astype(np.uint8), bg, "c4"):
        box = np.s_[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width]
        near = np.unique(np.concatenate([t[box][obj.mask] for t in touching]))
        near = near[near != 255]
        if len(near) > 1:
            return None
        if len(near) == 1:
            out[box][obj.mask] = near[0]
            dyed = True
    return out if dyed else None


def _placeholder(ctx: TaskContext) -> int | None:
    """The one non-background input colour whose cells the outputs change, if there is exactly one."""
    changed: set[int] = set()
    for i, o in same_shape_pairs(ctx):
        changed.update(int(v) for v in np.unique(i[i != o]))
    changed.discard(ctx.bg)
    return next(iter(changed)) if len(changed) == 1 else None


def ops(ctx: TaskContext) -> list[Op]:
    """Key recolourings (4 directions, per cell or per object), legend frames, table recolourings and marker dyes
    that agree with every train pair."""
    bg = ctx.bg
    framed = Op("frame_by_legend", partial(frame_by_legend, ctx_bg=bg), keeps_shape=True)
    tabled = Op("recolour_by_table", partial(recolour_by_table, ctx_bg=bg), keeps_shape=True)
    fits = lambda fn: agrees(fn, ctx, exact=False)   # noqa: E731
    found = [op for op in (framed, tabled) if ctx.same_shape and fits(op.fn)]
    found += turned_ops([tabled], fits) if ctx.same_shape else []   # a table read the other way round
    if ctx.same_shape:
        for body in ctx.in_colours:
            dye = Op(f"dye_by_marker({body})", partial(dye_by_marker, ctx_bg=bg, body=body), keeps_shape=True)
            if body != bg and agrees(dye.fn, ctx, exact=True):
                found.append(dye)
    p = _placeholder(ctx) if ctx.same_shape else None
    if p is None:
        return found
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
