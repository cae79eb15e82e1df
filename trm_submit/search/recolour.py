"""Recolouring objects by a rule fitted from the demonstrations: each object of the input gets the colour
that a table keyed by one of its properties (size rank, largest/smallest, unique shape, holes, ...) gives; the
table is read off the train pairs, and an object whose key the table lacks makes the op return None.

A table entry is a colour, or KEEP (the object's cells stay as they are). Cells outside objects must be
unchanged in every train output for a rule to fit. Recolouring to the background removes objects.
The same fitting serves as a finisher: fit on a program's outputs against the true outputs.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

import numpy as np

from .dsl import Op, TaskContext
from .objects import MODES, Obj, components, grid_background, place
from .select import holes

KEEP = -1
MAX_RECOLOUR_OPS = 3


def _rank(values: list[int], descending: bool) -> list[int]:
    distinct = sorted(set(values), reverse=descending)
    return [distinct.index(v) for v in values]


def _is_extreme(values: list[int], pick: Callable) -> list[bool]:
    best = pick(values) if values else None
    return [v == best for v in values]


def _touches_border(o: Obj, shape: tuple[int, int]) -> bool:
    return o.top == 0 or o.left == 0 or o.top + o.height == shape[0] or o.left + o.width == shape[1]


# Key functions: (objects of one grid, the grid's shape) -> one hashable key per object. Keys with many
# values (absolute size, exact shape) were tried and dropped: on the ARC-AGI-1 training set their tables fit
# the demonstrations of 9 tasks and gave the right test output for none. Order matters where several keys fit
# (the first ranks first): shape_unique leads because where it fitted on the training set with others
# (b230c067), it was the right one.
KEYS: dict[str, Callable[[Sequence[Obj], tuple[int, int]], list]] = {
    "shape_unique": lambda objs, _: [Counter(p.shape_key() for p in objs)[o.shape_key()] == 1 for o in objs],
    "is_largest": lambda objs, _: _is_extreme([o.size for o in objs], max),
    "is_smallest": lambda objs, _: _is_extreme([o.size for o in objs], min),
    "size_rank": lambda objs, _: _rank([o.size for o in objs], True),
    "size_rank_asc": lambda objs, _: _rank([o.size for o in objs], False),
    "has_hole": lambda objs, _: [holes(o.grid, o.mask) > 0 for o in objs],
    "touches_border": lambda objs, shape: [_touches_border(o, shape) for o in objs],
    "is_rectangle": lambda objs, _: [bool(o.mask.all()) for o in objs],
}


def _key_values(key: str, objs: Sequence[Obj], shape: tuple[int, int]) -> list:
    """The key's value per object: a KEYS entry, or "size_is_K" (the object has exactly K cells: one absolute
    size singled out, a yes/no key, unlike the many-valued absolute size that was dropped)."""
    if key.startswith("size_is_"):
        k = int(key[len("size_is_"):])
        return [o.size == k for o in objs]
    return KEYS[key](objs, shape)


def _target(obj: Obj, out: np.ndarray) -> int | None:
    """The colour `obj`'s cells all take in `out`, KEEP when they are unchanged, None when neither."""
    region = out[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width][obj.mask]
    if (region == obj.grid[obj.mask]).all():
        return KEEP
    first = region[0]   # an object has at least one cell
    return int(first) if (region == first).all() else None


Prepared = list   # per train pair: (its input's objects, each object's _target, the input's shape)


def prepare(ins: Sequence[np.ndarray], outs: Sequence[np.ndarray], ctx_bg: int, mode: str) -> Prepared | None:
    """What every key's table is read from under `mode`: per pair, the objects and the colour each takes;
    None when a pair changes shape or a cell outside the objects."""
    prepared = []
    for i, o in zip(ins, outs):
        if i.shape != o.shape:
            return None
        bg = grid_background(i, ctx_bg)
        if ((i == bg) & (o != i)).any():
            return None
        objs = components(i, bg, mode)
        prepared.append((objs, [_target(obj, o) for obj in objs], i.shape))
    return prepared


def fit_table(ins: Sequence[np.ndarray], outs: Sequence[np.ndarray], ctx_bg: int, mode: str,
              key: str, prepared: Prepared | None = None) -> dict | None:
    """{key value: colour or KEEP} consistent with every pair, or None. Needs at least one recoloured object,
    and the cells outside objects unchanged. `prepared`: `prepare(ins, outs, ctx_bg, mode)` if known."""
    if prepared is None:
        prepared = prepare(ins, outs, ctx_bg, mode)
        if prepared is None:
            return None
    table: dict = {}
    for objs, targets, shape in prepared:
        for k, t in zip(_key_values(key, objs, shape), targets):
            if t is None or table.setdefault(k, t) != t:
                return None
    return table if any(v != KEEP for v in table.values()) else None


def apply_table(grid: np.ndarray, ctx_bg: int, mode: str, key: str, table: dict) -> np.ndarray | None:
    bg = grid_background(grid, ctx_bg)
    objs = components(grid, bg, mode)
    if not objs:
        return grid
    out = grid.copy()
    for k, obj in zip(_key_values(key, objs, grid.shape), objs):
        if k not in table:
            return None
        if table[k] != KEEP:
            place(out, obj, table[k])
    return out


def _fitted_ops(ins: Sequence[np.ndarray], outs: Sequence[np.ndarray], tests: Sequence[np.ndarray],
                ctx_bg: int, limit: int) -> list[Op]:
    """Recolour ops fitted on (ins, outs), simplest table first, distinct results on ins + tests only."""
    found: dict = {}
    for mode, _, _ in MODES:
        prepared = prepare(ins, outs, ctx_bg, mode)
        if prepared is None:
            continue
        sizes = sorted({o.size for objs, _, _ in prepared for o in objs})
        for key in list(KEYS) + [f"size_is_{k}" for k in sizes]:
            table = fit_table(ins, outs, ctx_bg, mode, key, prepared)
            if table is None:
                continue
            fn = lambda g, m=mode, k=key, t=table: apply_table(g, ctx_bg, m, k, t)  # noqa: E731
            results = [fn(g) for g in list(ins) + list(tests)]
            misses = sum(r is None for r in results)
            sig = tuple(None if r is None else r.tobytes() for r in results)
            text = ",".join(f"{k}:{'keep' if v == KEEP else v}" for k, v in sorted(table.items(), key=str))
            if len(text) > 60:
                text = f"{len(table)} entries"
            found.setdefault(sig, (misses, len(table), Op(f"recolour({key},{mode};{text})", fn, keeps_shape=True)))
    ranked = sorted(found.values(), key=lambda v: (v[0], v[1]))
    return [op for _, _, op in ranked[:limit]]


def ops(ctx: TaskContext) -> list[Op]:
    """Object recolourings whose tables fit every train pair (none when the shapes differ)."""
    if not ctx.same_shape:
        return []
    return _fitted_ops(ctx.train_in, ctx.train_out, ctx.test_in, ctx.bg, MAX_RECOLOUR_OPS)


def _could_fit(got: list, want: list, ctx_bg: int) -> bool:
    """Cheap precheck: same shapes, some cell differs, and no background cell of `got` changes."""
    differs = False
    for g, w in zip(got, want):
        if not isinstance(g, np.ndarray) or g.shape != w.shape:
            return False
        diff = g != w
        if (diff & (g == grid_background(g, ctx_bg))).any():
            return False
        differs |= bool(diff.any())
    return differs


def finishers(ctx: TaskContext) -> list[Callable]:
    """A fitter: recolour the objects of a program's outputs so that they become the true outputs."""
    def fit(got: list, want: list) -> Op | None:
        if not _could_fit(got, want, ctx.bg):
            return None
        found = _fitted_ops(got, want, (), ctx.bg, 1)
        return found[0] if found else None
    return [fit]
