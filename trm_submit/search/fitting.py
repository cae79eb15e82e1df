"""Fitting helpers shared by the pattern modules: the same-shape train pairs, the colours the outputs paint
over input background, and whether a candidate op agrees with the demonstrations.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from .dsl import Op, TaskContext
from .grid_loops import enclosed
from .objects import grid_background


def shape_keeping(ops: list[Op]) -> list[Op]:
    """`ops` marked keeps_shape (their results always have their argument's shape)."""
    return [replace(op, keeps_shape=True) for op in ops]


def same_shape_pairs(ctx: TaskContext) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(i, o) for i, o in zip(ctx.train_in, ctx.train_out) if i.shape == o.shape]


def added_colours(ctx: TaskContext, enclosed_only: bool) -> set[int]:
    """Colours the outputs paint over input background cells (enclosed ones only if asked)."""
    found: set[int] = set()
    for i, o in same_shape_pairs(ctx):
        bg = grid_background(i, ctx.bg)
        changed = (i == bg) & (o != i)
        if enclosed_only:
            changed &= enclosed(i, bg)
        found.update(int(c) for c in np.unique(o[changed]))
    return found


def marker_colours(ctx: TaskContext) -> list[int]:
    """Colours (not the background) that every train input holds and no train output does: markers that say
    something and are gone once it is done."""
    return [m for m in ctx.in_colours if m != ctx.bg and all((i == m).any() for i in ctx.train_in)
            and not any((o == m).any() for o in ctx.train_out)]


def agrees(fn: Callable, ctx: TaskContext, exact: bool) -> bool:
    """`fn` applies to every same-shape train input, changes something, and every cell it changes takes
    the output's colour (or, `exact`, it reproduces the output)."""
    pairs = same_shape_pairs(ctx)
    if not pairs:
        return False
    changed_any = False
    for i, o in pairs:
        r = fn(i)
        if r is None or r.shape != o.shape:
            return False
        diff = r != i
        changed_any |= bool(diff.any())
        if (exact and not (r == o).all()) or (r[diff] != o[diff]).any():
            return False
    return changed_any


def reproduces(fn: Callable, ctx: TaskContext) -> bool:
    """`fn` gives every train output exactly (any shapes)."""
    for i, o in zip(ctx.train_in, ctx.train_out):
        r = fn(i)
        if r is None or r.shape != o.shape or not (r == o).all():
            return False
    return True
