"""Selecting one object by a rule: crop a grid to the selected component (grid -> grid, rule and segmentation
mode chosen from the demonstrations), pick one item of a list value (list -> grid) and list filters
(list -> list).

A rule scores every object and selects the single best; a tie for the best means "no selection" (None).
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Callable, Sequence

import numpy as np

from .dsl import GRID, LIST, Op, TaskContext
from .grid_loops import border_reach, enclosed_cells
from .objects import MODES, Obj, colour_counts, components, grid_background

MAX_CROP_OPS = 6


def holes(grid: np.ndarray, mask: np.ndarray) -> int:
    """Number of cells outside `mask` that are enclosed by it (not 4-connected to the bbox border)."""
    return int(enclosed_cells(np.ascontiguousarray(mask, dtype=np.bool_)))


def holes_plain(grid: np.ndarray, mask: np.ndarray) -> int:
    """`holes` in plain numpy (the reference the kernel must equal)."""
    padded = np.pad(~mask, 1, constant_values=True).astype(np.uint8)
    return int(padded.sum() - border_reach(padded, 1).sum())


def _unique_by(objs: Sequence, key: Callable) -> int | None:
    """Index of the only object whose key no other object shares, else None."""
    keys = [key(o) for o in objs]
    counts = Counter(keys)
    lone = [i for i, k in enumerate(keys) if counts[k] == 1]
    return lone[0] if len(lone) == 1 else None


def _commonest(objs: Sequence, key: Callable) -> int | None:
    """Index of the first object with the single most frequent key, else None (ties, or all distinct)."""
    keys = [key(o) for o in objs]
    ranked = Counter(keys).most_common()
    if ranked[0][1] < 2 or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return keys.index(ranked[0][0])


def _minor_cells(o: Obj) -> int:
    """Cells of the object not in its main colour."""
    return o.size - int((o.grid[o.mask] == o.colour).sum())


def _mirror_symmetric(o: Obj) -> bool:
    """The object's cells equal their left-right or up-down mirror image."""
    return bool((o.grid == o.grid[:, ::-1]).all() or (o.grid == o.grid[::-1]).all())


def _only(objs: Sequence[Obj], test: Callable[[Obj], bool]) -> int | None:
    """Index of the only object that passes `test`, else None."""
    hits = [i for i, o in enumerate(objs) if test(o)]
    return hits[0] if len(hits) == 1 else None


def _argmax(scores: Sequence[float]) -> int | None:
    best = max(scores)
    hits = [i for i, s in enumerate(scores) if s == best]
    return hits[0] if len(hits) == 1 else None


# Rules on positioned objects (Obj): name -> index chooser.
OBJ_RULES: dict[str, Callable[[Sequence[Obj]], int | None]] = {
    "largest": lambda objs: _argmax([o.size for o in objs]),
    "smallest": lambda objs: _argmax([-o.size for o in objs]),
    "biggest_box": lambda objs: _argmax([o.height * o.width for o in objs]),
    "top": lambda objs: _argmax([-o.top for o in objs]),
    "bottom": lambda objs: _argmax([o.top + o.height for o in objs]),
    "left": lambda objs: _argmax([-o.left for o in objs]),
    "right": lambda objs: _argmax([o.left + o.width for o in objs]),
    "most_colours": lambda objs: _argmax([o.n_colours for o in objs]),
    "most_holes": lambda objs: _argmax([holes(o.grid, o.mask) for o in objs]),
    "most_minor": lambda objs: _argmax([_minor_cells(o) for o in objs]),
    "least_minor": lambda objs: _argmax([-_minor_cells(o) for o in objs]),
    "symmetric": lambda objs: _only(objs, _mirror_symmetric),
    "unique_colour": lambda objs: _unique_by(objs, lambda o: o.colour),
    "unique_shape": lambda objs: _unique_by(objs, Obj.shape_key),
    "common_shape": lambda objs: _commonest(objs, Obj.shape_key),
}
# "most(c)": the object with the most cells of colour c (e50d258f: the piece with the most red cells).
OBJ_RULES.update({f"most({c})": partial(lambda objs, c: _argmax([int(((o.grid == c) & o.mask).sum()) for o in objs]),
                                        c=c) for c in range(10)})


def select(grid: np.ndarray, ctx_bg: int, mode: str, rule: str) -> Obj | None:
    """The object of `grid` that `rule` selects under segmentation `mode`, or None."""
    objs = components(grid, grid_background(grid, ctx_bg), mode)
    if len(objs) < 1:
        return None
    i = OBJ_RULES[rule](objs) if len(objs) > 1 else 0
    return None if i is None else objs[i]


def crop_selected(grid: np.ndarray, ctx_bg: int, mode: str, rule: str, keep_box: bool) -> np.ndarray | None:
    """The selected object's bbox: its own cells only (others bg), or the whole box of the grid."""
    obj = select(grid, ctx_bg, mode, rule)
    if obj is None:
        return None
    if keep_box:
        return np.ascontiguousarray(grid[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width])
    return obj.grid


def crop_colour_rank(grid: np.ndarray, ctx_bg: int, rarest: bool) -> np.ndarray | None:
    """The bounding box of all cells of the least (or most) frequent non-background colour; None on a tie
    or without such a colour."""
    bg = grid_background(grid, ctx_bg)
    counts = colour_counts(grid, bg)
    present = [c for c in range(10) if counts[c] > 0]
    if not present:
        return None
    target = min(counts[c] for c in present) if rarest else max(counts[c] for c in present)
    hits = [c for c in present if counts[c] == target]
    if len(hits) != 1:
        return None
    rows, cols = np.nonzero(grid == hits[0])
    return np.ascontiguousarray(grid[rows.min():rows.max() + 1, cols.min():cols.max() + 1])


def crop_line_box(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The box from the first to the last full line in each direction, lines included (a full line: a row or column
    with no background cell; four lines fence a panel, 5daaa586). None with fewer than two full lines either way, or
    when the box is the whole grid."""
    bg = grid_background(grid, ctx_bg)
    full = grid != bg
    rows, cols = np.flatnonzero(full.all(axis=1)), np.flatnonzero(full.all(axis=0))
    if len(rows) < 2 or len(cols) < 2:
        return None
    box = grid[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return None if box.shape == grid.shape else np.ascontiguousarray(box)


def _shape_fits(a: tuple[int, int], out: tuple[int, int]) -> bool:
    """`out` is `a` up to transpose, its inside (one line less on every side: a frame's content), or a whole
    multiple / divisor of it per side."""
    if a == out or a == out[::-1] or a == (out[0] + 2, out[1] + 2):
        return True
    return all(x % y == 0 or y % x == 0 for x, y in zip(a, out))


def _crop_candidates(ctx: TaskContext) -> list[tuple[int, str, str, str, bool]]:
    """(rank, mode, rule, name, keep_box) for every crop whose result shapes fit the train outputs."""
    found: dict[tuple, tuple] = {}
    for mode, _, _ in MODES:
        for rule in OBJ_RULES:
            for keep_box in (False, True):
                crops = [crop_selected(g, ctx.bg, mode, rule, keep_box) for g in ctx.train_in]
                outs = [o for o in crops if o is not None]
                if len(outs) < len(crops):
                    continue
                if not all(_shape_fits(o.shape, t.shape) for o, t in zip(outs, ctx.train_out)):
                    continue
                test_crops = [crop_selected(g, ctx.bg, mode, rule, keep_box) for g in ctx.test_in]
                tests = [t for t in test_crops if t is not None]
                if len(tests) < len(test_crops):
                    continue
                key = tuple((o.shape, o.tobytes()) for o in outs + tests)
                exact = sum(o.shape == t.shape and bool((o == t).all()) for o, t in zip(outs, ctx.train_out))
                name = f"crop({rule},{mode}{',box' if keep_box else ''})"
                if key not in found:
                    found[key] = (-exact, mode, rule, name, keep_box)
    return sorted(found.values(), key=lambda v: (v[0], v[2].startswith("most(")))  # the colour counts last


def crop_ops(ctx: TaskContext) -> list[Op]:
    """Crops to a selected object, for rules and modes whose crops fit the train output shapes."""
    if ctx.same_shape:
        return []
    bg = ctx.bg
    return [Op(name, partial(crop_selected, ctx_bg=bg, mode=mode, rule=rule, keep_box=keep))
            for _, mode, rule, name, keep in _crop_candidates(ctx)[:MAX_CROP_OPS]] + [
        Op("crop(line_box)", partial(crop_line_box, ctx_bg=bg)),
        Op("crop(rarest_colour)", lambda g: crop_colour_rank(g, bg, True)),
        Op("crop(commonest_colour)", lambda g: crop_colour_rank(g, bg, False))]


# Rules on list items (cropped grids without positions): name -> index chooser.
def _item_size(item: np.ndarray, bg: int) -> int:
    return int((item != bg).sum())


def item_rules(bg: int) -> dict[str, Callable[[tuple], int | None]]:
    key = lambda it: (it.shape, it.tobytes())  # noqa: E731
    return {
        "largest": lambda items: _argmax([_item_size(it, bg) for it in items]),
        "smallest": lambda items: _argmax([-_item_size(it, bg) for it in items]),
        "most_colours": lambda items: _argmax([len(np.unique(it)) for it in items]),
        "most_holes": lambda items: _argmax([holes(it, it != bg) for it in items]),
        "unique": lambda items: _unique_by(items, key),
        "common": lambda items: _commonest(items, key),
    }


def pick(items: tuple, rule: Callable[[tuple], int | None]) -> np.ndarray | None:
    if not items:
        return None
    i = rule(items) if len(items) > 1 else 0
    return None if i is None else items[i]


def sort_by_size(items: tuple, bg: int, descending: bool) -> tuple | None:
    if len(items) < 2:
        return None
    order = sorted(range(len(items)), key=lambda i: (-1 if descending else 1) * _item_size(items[i], bg))
    return tuple(items[i] for i in order)


def distinct(items: tuple) -> tuple | None:
    seen: dict = {}
    for it in items:
        seen.setdefault((it.shape, it.tobytes()), it)
    return tuple(seen.values()) if len(seen) < len(items) else None


def ops(ctx: TaskContext) -> list[Op]:
    """Crops to selected objects (fitted), item picks by rule, and list filters."""
    bg = ctx.bg
    result = crop_ops(ctx)
    result += [Op(f"pick({name})", partial(pick, rule=rule), LIST, GRID)
               for name, rule in item_rules(bg).items()]
    result += [
        Op("sort_size_desc", lambda items: sort_by_size(items, bg, True), LIST, LIST),
        Op("sort_size_asc", lambda items: sort_by_size(items, bg, False), LIST, LIST),
        Op("distinct", distinct, LIST, LIST),
    ]
    return result
