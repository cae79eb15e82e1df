"""List values with positions: the joins that put the items back where they were (`overlay_at`) or side by
side in their rows x columns layout (`assemble`), picks of one item by a criterion and filters that keep or
drop the items scoring best (list -> list, positions kept), and `map_items`, which applies a grid op to each
item (the engine's implicit map).

Criteria (item, position -> a number): cells (non-background cells), area (box), colours, components,
holes, symmetries (dihedral maps that leave the item unchanged), top/bottom/left/right extent in the frame
(positioned lists only). A pick whose best score is tied gives no answer (None); a filter that keeps every
item or none gives None (it changed nothing or left nothing).
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from .dsl import GRID, LIST, VALUE_MAX_SIDE, Items, Op, TaskContext, placed
from .grid_loops import overlay_items
from .objects import components
from .select import holes

Score = Callable[[np.ndarray, tuple[int, int], int], float]

CRITERIA: dict[str, Score] = {
    "cells": lambda it, p, bg: int((it != bg).sum()),
    "area": lambda it, p, bg: it.shape[0] * it.shape[1],
    "colours": lambda it, p, bg: len(np.unique(it[it != bg])),
    "components": lambda it, p, bg: len(components(it, bg, "c8")),
    "holes": lambda it, p, bg: holes(it, it != bg),
    "symmetries": lambda it, p, bg: symmetries(it),
}
EXTENTS: dict[str, Score] = {   # larger = further in that direction
    "top": lambda it, p, bg: -p[0],
    "bottom": lambda it, p, bg: p[0] + it.shape[0],
    "left": lambda it, p, bg: -p[1],
    "right": lambda it, p, bg: p[1] + it.shape[1],
}


def symmetries(item: np.ndarray) -> int:
    """How many of the 7 non-identity dihedral maps leave `item` unchanged (the odd one out of a list of
    symmetric parts has the fewest: 662c240a)."""
    maps = [item[::-1, :], item[:, ::-1], item[::-1, ::-1]]
    if item.shape[0] == item.shape[1]:
        maps += [item.T, item[::-1, ::-1].T, item.T[::-1, :], item.T[:, ::-1]]
    return sum(int(np.array_equal(m, item)) for m in maps)


# Picks `select.item_rules` already offers (largest, smallest, most_colours, most_holes).
SELECT_PICKS = {("cells", 1), ("cells", -1), ("colours", 1), ("holes", 1)}


def overlay_at(items: tuple, bg: int) -> Optional[np.ndarray]:
    """The positioned items painted into a blank frame at their positions, the item with the most cells
    first (so the one with the fewest cells is on top); only non-background cells paint; cells outside the
    frame are cut off. None for a list without positions."""
    if not isinstance(items, Items):
        return None
    boxes = np.empty((len(items), 5), np.int64)
    start = 0
    for k, (it, (r, c)) in enumerate(zip(items, items.pos)):
        h, w = it.shape
        boxes[k] = (r, c, h, w, start)
        start += h * w
    cells = np.concatenate([it.reshape(-1) for it in items]).astype(np.uint8, copy=False)
    return overlay_items(cells, boxes, items.frame[0], items.frame[1], bg)


def overlay_at_plain(items: tuple, bg: int) -> Optional[np.ndarray]:
    """`overlay_at` in plain numpy (the reference the kernel must equal)."""
    if not isinstance(items, Items):
        return None
    canvas = np.full(items.frame, bg, np.uint8)
    order = sorted(range(len(items)), key=lambda i: -int((items[i] != bg).sum()))
    for i in order:
        _paint_at(canvas, items[i], items.pos[i], bg)
    return canvas


def _paint_at(canvas: np.ndarray, item: np.ndarray, pos: tuple[int, int], bg: int) -> None:
    r, c = pos
    h, w = canvas.shape
    r0, c0, r1, c1 = max(r, 0), max(c, 0), min(r + item.shape[0], h), min(c + item.shape[1], w)
    if r0 >= r1 or c0 >= c1:
        return
    part = item[r0 - r: r1 - r, c0 - c: c1 - c]
    region = canvas[r0:r1, c0:c1]
    keep = part != bg
    region[keep] = part[keep]


def layout(items: tuple) -> Optional[tuple[list[int], list[int]]]:
    """(row starts, column starts) when the positioned items tile a rows x columns layout: one item at each
    (row start, column start), equal heights along a row and equal widths along a column; else None."""
    if not isinstance(items, Items) or len(items) < 2:
        return None
    rows, cols = sorted({r for r, _ in items.pos}), sorted({c for _, c in items.pos})
    if len(rows) * len(cols) != len(items) or len(set(items.pos)) != len(items):
        return None
    height = {r: it.shape[0] for it, (r, _) in zip(items, items.pos)}
    width = {c: it.shape[1] for it, (_, c) in zip(items, items.pos)}
    if any(it.shape != (height[r], width[c]) for it, (r, c) in zip(items, items.pos)):
        return None
    return rows, cols


def assemble(items: tuple) -> Optional[np.ndarray]:
    """The positioned items of a rows x columns layout put side by side with no gaps between them (the
    parts of a grid cut at separator lines, joined without the lines; mapped to 1x1 cells, a summary with
    one cell per part: 1190e5a7)."""
    found = layout(items)
    if found is None or not isinstance(items, Items):
        return None
    rows, cols = found
    at = {p: it for it, p in zip(items, items.pos)}
    out = np.vstack([np.hstack([at[(r, c)] for c in cols]) for r in rows])
    return out if max(out.shape) <= VALUE_MAX_SIDE else None


def interlock(items: tuple, bg: int) -> Optional[np.ndarray]:
    """Two items fitted together, neither turned, into a rectangle that their cells fill exactly (681b3aeb:
    "the two pieces of the puzzle"); None unless there are two items and one placement only does it."""
    if len(items) != 2:
        return None
    a, b = items
    ma, mb = a != bg, b != bg
    na, nb = int(ma.sum()), int(mb.sum())
    found = None
    for dr in range(-b.shape[0], a.shape[0] + 1):
        for dc in range(-b.shape[1], a.shape[1] + 1):
            top, left = min(0, dr), min(0, dc)
            h = max(a.shape[0], dr + b.shape[0]) - top
            w = max(a.shape[1], dc + b.shape[1]) - left
            if h * w != na + nb:
                continue
            out = np.full((h, w), bg, dtype=np.uint8)
            filled = np.zeros((h, w), dtype=bool)
            out[-top:-top + a.shape[0], -left:-left + a.shape[1]][ma] = a[ma]
            filled[-top:-top + a.shape[0], -left:-left + a.shape[1]] |= ma
            window = filled[dr - top:dr - top + b.shape[0], dc - left:dc - left + b.shape[1]]
            if (window & mb).any():
                continue
            out[dr - top:dr - top + b.shape[0], dc - left:dc - left + b.shape[1]][mb] = b[mb]
            window |= mb
            if filled.all():
                if found is not None:
                    return None
                found = out
    return found


def _positions(items: tuple) -> tuple[tuple[int, int], ...]:
    return items.pos if isinstance(items, Items) else tuple((0, 0) for _ in items)


def _scores(items: tuple, score: Score, bg: int) -> list[float]:
    return [score(it, p, bg) for it, p in zip(items, _positions(items))]


def pick_best(items: tuple, score: Score, bg: int, sign: int) -> Optional[np.ndarray]:
    """The one item with the highest (sign 1) or lowest (sign -1) score; None on a tie."""
    if len(items) < 2:
        return None
    s = [sign * v for v in _scores(items, score, bg)]
    best = max(s)
    hits = [i for i, v in enumerate(s) if v == best]
    return items[hits[0]] if len(hits) == 1 else None


def keep_best(items: tuple, score: Score, bg: int, keep: bool) -> Optional[tuple]:
    """The items with the highest score (keep) or all the others (drop), positions kept."""
    s = _scores(items, score, bg)
    best = max(s)
    chosen = [i for i, v in enumerate(s) if (v == best) == keep]
    if not chosen or len(chosen) == len(items):
        return None
    return _subset(items, chosen)


def _subset(items: tuple, chosen: list[int]) -> tuple:
    picked = tuple(items[i] for i in chosen)
    if isinstance(items, Items):
        return Items(picked, tuple(items.pos[i] for i in chosen), items.frame)
    return picked


def map_items(items: tuple, fn: Callable, centred: bool = False) -> Optional[tuple]:
    """`fn` applied to every item (None if it does not apply to one); a positioned list keeps its positions
    (each result sits where its item's top-left corner was). With `centred` (the quarter turns and diagonal
    flips, `CENTRED_MAPS`), a result whose shape differs from its item by an even number of rows and of
    columns sits on the item's centre instead: a line turned about its middle cell (f0f8a26d)."""
    out = []
    for it in items:
        r = fn(it)
        if r is None:
            return None
        out.append(r)
    if not isinstance(items, Items):
        return tuple(out)
    if not centred:
        return items.placed_like(out)
    pos = []
    for it, r, (y, x) in zip(items, out, items.pos):
        dh, dw = it.shape[0] - r.shape[0], it.shape[1] - r.shape[1]
        pos.append((y + dh // 2, x + dw // 2) if dh % 2 == 0 and dw % 2 == 0 else (y, x))
    return placed(out, tuple(pos), items.frame)


CENTRED_MAPS = frozenset({"rot90", "rot270", "transpose", "anti_transpose"})  # each(...) keeps the centre


def ops(ctx: TaskContext) -> list[Op]:
    """overlay_at, assemble, interlock (outputs of another shape); picks (max/min of each criterion, the
    extreme item in each direction); keep/drop filters."""
    bg = ctx.bg
    result = [Op("overlay_at", lambda items: overlay_at(items, bg), LIST, GRID), Op("assemble", assemble, LIST, GRID)]
    for name, score in CRITERIA.items():
        for sign, word in ((1, "max"), (-1, "min")):
            if (name, sign) in SELECT_PICKS:
                continue
            result.append(Op(f"pick_{word}({name})", _bind_pick(score, bg, sign), LIST, GRID))
    for name, score in EXTENTS.items():
        result.append(Op(f"pick_{name}", _bind_pick(score, bg, 1), LIST, GRID))
    if not ctx.same_shape:
        result.append(Op("interlock", lambda items: interlock(items, bg), LIST, GRID))
    for name, score in CRITERIA.items():
        for keep in (True, False):
            result.append(Op(f"{'keep' if keep else 'drop'}_max({name})", _bind_keep(score, bg, keep), LIST, LIST))
    return result


def _bind_pick(score: Score, bg: int, sign: int) -> Callable:
    return lambda items: pick_best(items, score, bg, sign)


def _bind_keep(score: Score, bg: int, keep: bool) -> Callable:
    return lambda items: keep_best(items, score, bg, keep)
