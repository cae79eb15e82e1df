"""Stamps: around every cell of a seed colour, paint a fixed pattern over the background cells of its
3x3 neighbourhood. The pattern of each seed colour is read off the train pairs (the output colour at each
offset of the input-background cells around that colour's cells, where every instance agrees), and the op
is offered only if it then reproduces every train output exactly. The functions take any radius; radius 2
is not offered (on the ARC-AGI-1 training set it fitted one task's demonstrations and got its test wrong).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .dsl import Op, TaskContext
from .fitting import same_shape_pairs
from .objects import grid_background

Stamps = dict[int, tuple[tuple[int, int, int], ...]]   # seed colour -> ((dy, dx, colour), ...)


def _offsets(radius: int) -> list[tuple[int, int]]:
    return [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1) if dy or dx]


def _shifted(a: np.ndarray, dy: int, dx: int, fill: bool) -> np.ndarray:
    """b with b[y, x] = a[y - dy, x - dx] (cells shifted by (dy, dx)), `fill` where that is outside."""
    h, w = a.shape
    out = np.full_like(a, fill)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = (
        a[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)])
    return out


def fit_stamps(pairs: list[tuple[np.ndarray, np.ndarray]], ctx_bg: int, radius: int) -> Stamps:
    """Per seed colour with at least 2 cells over the pairs (one instance says nothing about a rule), the
    offsets whose background cells take one colour (not bg) in every instance."""
    seen: dict[tuple[int, int, int], set[int]] = {}
    instances: dict[int, int] = {}
    for i, o in pairs:
        bg = grid_background(i, ctx_bg)
        for colour in np.unique(i):
            if colour == bg:
                continue
            seeds = i == colour
            instances[int(colour)] = instances.get(int(colour), 0) + int(seeds.sum())
            for dy, dx in _offsets(radius):
                reach = _shifted(seeds, dy, dx, False) & (i == bg)
                seen.setdefault((int(colour), dy, dx), set()).update(np.unique(o[reach]).tolist())
    stamps: dict[int, list] = {}
    for (colour, dy, dx), values in seen.items():
        if len(values) == 1 and next(iter(values)) != ctx_bg and instances[colour] >= 2:
            stamps.setdefault(colour, []).append((dy, dx, next(iter(values))))
    return {c: tuple(v) for c, v in sorted(stamps.items())}


def apply_stamps(grid: np.ndarray, ctx_bg: int, stamps: Stamps) -> np.ndarray:
    """`grid` with each seed colour's stamp painted over the background around its cells."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    free = grid == bg
    for colour, entries in sorted(stamps.items()):   # later colours, then later entries, paint over
        seeds = grid == colour
        if not seeds.any():
            continue
        for dy, dx, value in entries:
            out[_shifted(seeds, dy, dx, False) & free] = value
    return out


def ops(ctx: TaskContext) -> list[Op]:
    """The radius-1 stamp op, if it reproduces every train output (same-shape tasks)."""
    pairs = same_shape_pairs(ctx)
    if not ctx.same_shape or not pairs:
        return []
    bg = ctx.bg
    for radius in (1,):
        stamps = fit_stamps(pairs, bg, radius)
        if not stamps:
            continue
        if all((apply_stamps(i, bg, stamps) == o).all() for i, o in pairs):
            text = ";".join(f"{c}:{len(v)}" for c, v in stamps.items())
            return [Op(f"stamp(r{radius};{text})", partial(apply_stamps, ctx_bg=bg, stamps=stamps),
                       keeps_shape=True)]
    return []
