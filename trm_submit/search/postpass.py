"""The post-pass every enumerated state gets after the enumeration, free of depth: at most once each and in
this order, overlay a positioned list at its positions (`lists.overlay_at`) -> recolour every non-background
cell to one colour present in every train output -> embed into the output size (the true size on the
demonstrations, the predicted one on the test inputs: crop or pad at the top-left corner, padding with the
background). Each step is optional, so a grid state gives itself, its recolourings, and the embeddings of
both; a list state gives the same from its overlay.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from .dsl import LIST, Items, TaskContext
from .lists import overlay_at

Shape = tuple[int, int]
Values = tuple   # one value per train input then per test input (None: none there)


def embed(grid: np.ndarray, shape: Shape, bg: int) -> np.ndarray:
    """`grid` cut or padded (with `bg`) to `shape`, its top-left corner kept."""
    out = np.full(shape, bg, np.uint8)
    h, w = min(shape[0], grid.shape[0]), min(shape[1], grid.shape[1])
    out[:h, :w] = grid[:h, :w]
    return out


def recolour_all(grid: np.ndarray, colour: int, bg: int) -> Optional[np.ndarray]:
    """Every non-background cell in `colour` (None when the grid has no such cell or nothing changes)."""
    mask = grid != bg
    if not mask.any() or (grid[mask] == colour).all():
        return None
    out = grid.copy()
    out[mask] = colour
    return out


def shared_colours(ctx: TaskContext) -> tuple[int, ...]:
    """The non-background colours present in every train output."""
    common = set(range(10))
    for o in ctx.train_out:
        common &= {int(c) for c in np.unique(o)}
    common.discard(ctx.bg)
    return tuple(sorted(common))


def _each(values: Values, fn: Callable[[Any], Any], n_train: int) -> Optional[Values]:
    """`fn` on every value; None when a train value gives None (a test value may)."""
    out = []
    for i, v in enumerate(values):
        r = None if v is None else fn(v)
        if r is None and i < n_train:
            return None
        out.append(r)
    return tuple(out)


def variants(values: Values, kind: str, ctx: TaskContext, test_shapes: Sequence[Optional[Shape]],
             colours: tuple[int, ...]) -> Iterator[tuple[Values, tuple[str, ...]]]:
    """(values, steps) of every post-pass result of one state, not the state itself: the steps applied."""
    n_train, bg = len(ctx.train_out), ctx.bg
    base: tuple[str, ...] = ()
    if kind == LIST:
        if not all(isinstance(v, Items) for v in values[:n_train]):
            return
        over = _each(values, lambda v: overlay_at(v, bg), n_train)
        if over is None:
            return
        values, base = over, ("overlay_at",)
        yield values, base
    shapes = tuple(o.shape for o in ctx.train_out) + tuple(test_shapes)
    chain = [(values, base)]
    for c in colours:
        got = _each(values, partial(recolour_all, colour=c, bg=bg), n_train)
        if got is not None:
            chain.append((got, base + (f"recolour_all({c})",)))
            yield chain[-1]
    for vals, steps in chain:
        if all(v.shape == s for v, s in zip(vals[:n_train], shapes)):
            continue
        placed = tuple(None if v is None or s is None else embed(v, s, bg) for v, s in zip(vals, shapes))
        yield placed, steps + ("embed",)


# The last level's post-pass: answers only (no pieces), fixed on the first demonstration and checked exactly on
# the others, so that most ops are given up after one value.
Plan = Optional[int]   # the recolouring's colour, or None for no recolouring


def plan_for(grid: np.ndarray, target: np.ndarray, bg: int, colours: tuple[int, ...]) -> tuple[bool, Plan]:
    """(found, colour): whether embedding `grid` into the target's shape, after recolouring its
    non-background cells to `colour` (or not, None), gives `target`."""
    g = grid if grid.shape == target.shape else embed(grid, target.shape, bg)
    if (g == target).all():
        return True, None
    mask = g != bg
    if not mask.any() or not (mask == (target != bg)).all():
        return False, None
    values = np.unique(target[mask])
    if len(values) == 1 and int(values[0]) in colours:
        return True, int(values[0])
    return False, None


def apply_plan(grid: np.ndarray, shape: Optional[Shape], bg: int, colour: Plan) -> Optional[np.ndarray]:
    """`grid` recoloured (if `colour` is not None) and embedded into `shape` (None: no answer)."""
    if shape is None:
        return None
    g = grid if colour is None else np.where(grid != bg, np.uint8(colour), grid).astype(np.uint8)
    return g if g.shape == shape else embed(g, shape, bg)
