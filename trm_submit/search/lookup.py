"""Outputs looked up by a feature of the input: when the demonstrations' outputs repeat, and one feature of
the input (its number of colours, its one colour, its commonest colour, its number of objects or of coloured
cells, its mirror symmetries) takes one value per distinct output, the answer is the output the table gives
for the test input's value ("three colours: the anti-diagonal").

A table is offered only with evidence: fewer distinct outputs than demonstrations (some output seen twice
for one value), at least two values, and every test input's value in the table. Ordered as FEATURES; on the
ARC-AGI-1 and ARC-AGI-2 training sets the least-frequent-colour feature fitted only where it was wrong or where
another feature fitted too, so it is not offered.

Row tables (`line_table`): where every output row is a function of its own input row (same shapes), the table
{input row: output row} read off the demonstrations answers a test input whose rows it all knows ("a marker's
column gives the row's colour"); columns likewise. Offered only where some input row repeats with its output
row (evidence of a rule, not a copy).

Line rules (`line_rule`): each row (or column) filled with one colour, or kept, by a table keyed by one feature of
the line (one colour only; its number of colours): "the rows of one colour become grey, the others black"
(25d8a9c8). Offered where the table has two keys or more and changes some line.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import numpy as np

from .dsl import Op, TaskContext
from .objects import components, grid_background

MAX_LOOKUP_OPS = 2


def _coloured(grid: np.ndarray, bg: int) -> np.ndarray:
    return grid[grid != bg]


def _one_colour(grid: np.ndarray, bg: int) -> int | None:
    colours = np.unique(_coloured(grid, bg))
    return int(colours[0]) if len(colours) == 1 else None


def _commonest(grid: np.ndarray, bg: int) -> int | None:
    """The commonest coloured cell's colour; None on a tie (which colour wins would depend on the colours'
    numbers, not on the grid)."""
    cells = _coloured(grid, bg)
    if not cells.size:
        return None
    counts = np.bincount(cells, minlength=10)
    return int(counts.argmax()) if (counts == counts.max()).sum() == 1 else None


def _symmetries(grid: np.ndarray, bg: int) -> tuple[bool, bool]:
    return bool((grid == grid[:, ::-1]).all()), bool((grid == grid[::-1]).all())


# Feature of one grid given its background -> a hashable value (None: the feature has no value).
FEATURES: dict[str, Callable[[np.ndarray, int], object]] = {
    "n_colours": lambda g, bg: len(np.unique(_coloured(g, bg))),
    "colour": _one_colour,
    "commonest": _commonest,
    "n_objects": lambda g, bg: len(components(g, bg, "c8")),
    "n_cells": lambda g, bg: int(_coloured(g, bg).size),
    "symmetries": _symmetries,
}


def feature(grid: np.ndarray, ctx_bg: int, name: str) -> object:
    return FEATURES[name](grid, grid_background(grid, ctx_bg))


def look_up(grid: np.ndarray, ctx_bg: int, name: str, table: dict) -> np.ndarray | None:
    """The output the table gives for the grid's feature value, None when the table lacks it."""
    out = table.get(feature(grid, ctx_bg, name))
    return None if out is None else out.copy()


def fit_table(ctx: TaskContext, name: str) -> dict | None:
    """{feature value: output} read off the demonstrations, or None: a value with two different outputs, one
    value only, no output repeated, or a test input whose value the table lacks."""
    table: dict = {}
    for grid, out in zip(ctx.train_in, ctx.train_out):
        value = feature(grid, ctx.bg, name)
        seen = table.setdefault(value, out)
        if seen is not out and (seen.shape != out.shape or not (seen == out).all()):
            return None
    if len(table) < 2 or len(table) >= len(ctx.train_out) or None in table:
        return None
    if any(feature(g, ctx.bg, name) not in table for g in ctx.test_in):
        return None
    return table


def line_table(grid: np.ndarray, axis: int, table: dict) -> np.ndarray | None:
    """Each row (axis 0) or column (axis 1) replaced by the table's line for it; None for an unknown line."""
    g = grid if axis == 0 else grid.T
    lines = []
    for row in g:
        line = table.get(row.tobytes())
        if line is None:
            return None
        lines.append(line)
    out = np.stack(lines)
    return out if axis == 0 else np.ascontiguousarray(out.T)


def fit_line_table(ctx: TaskContext, axis: int) -> dict | None:
    """{input line bytes: output line} over the demonstrations, or None: shapes differ, a line maps to two
    outputs, no line repeats, identity lines only, or a test input has a line the table lacks."""
    if not ctx.same_shape:
        return None
    table: dict = {}
    repeats = 0
    for grid, out in zip(ctx.train_in, ctx.train_out):
        g, o = (grid, out) if axis == 0 else (grid.T, out.T)
        for row, new in zip(g, o):
            seen = table.setdefault(row.tobytes(), new)
            if seen is not new:
                if not np.array_equal(seen, new):
                    return None
                repeats += 1
    if not repeats or all(k == v.tobytes() for k, v in table.items()):
        return None
    if any(line.tobytes() not in table for g in ctx.test_in for line in (g if axis == 0 else g.T)):
        return None
    return table


KEEP = -1

# Feature of one line (a row or a column) -> a hashable value, for line rules.
LINE_FEATURES: dict[str, Callable[[np.ndarray], object]] = {
    "uniform": lambda line: bool((line == line[0]).all()),
    "n_colours": lambda line: len(np.unique(line)),
}


def line_rule(grid: np.ndarray, axis: int, feature: str, table: dict) -> np.ndarray | None:
    """Each row (axis 0) or column (axis 1) filled with the colour the table gives for its feature, or kept
    (KEEP); None for a value the table lacks."""
    g = grid if axis == 0 else grid.T
    out = g.copy()
    for i, line in enumerate(g):
        action = table.get(LINE_FEATURES[feature](line))
        if action is None:
            return None
        if action != KEEP:
            out[i] = action
    return out if axis == 0 else np.ascontiguousarray(out.T)


def fit_line_rule(ctx: TaskContext, axis: int, feature: str) -> dict | None:
    """{feature value: colour or KEEP} over every line of the demonstrations, or None: shapes differ, an output
    line is neither its input line nor one colour, a value maps to two actions, one value only, or nothing
    changes."""
    if not ctx.same_shape:
        return None
    table: dict = {}
    for grid, out in zip(ctx.train_in, ctx.train_out):
        g, o = (grid, out) if axis == 0 else (grid.T, out.T)
        for line, new in zip(g, o):
            if (line == new).all():
                action = KEEP
            elif (new == new[0]).all():
                action = int(new[0])
            else:
                return None
            if table.setdefault(LINE_FEATURES[feature](line), action) != action:
                return None
    if len(table) < 2 or set(table.values()) == {KEEP}:
        return None
    return table


def ops(ctx: TaskContext) -> list[Op]:
    """Lookup ops whose tables the demonstrations support (none when every output is different); line tables
    and line rules."""
    lines = []
    for axis, word in ((0, "rows"), (1, "columns")):
        table = fit_line_table(ctx, axis)
        if table is not None:
            lines.append(Op(f"line_table({word};{len(table)} lines)", partial(line_table, axis=axis, table=table)))
        for feature in LINE_FEATURES:
            rule = fit_line_rule(ctx, axis, feature)
            if rule is not None:
                text = ",".join(f"{k}:{'keep' if v == KEEP else v}" for k, v in rule.items())
                lines.append(Op(f"line_rule({word},{feature};{text})",
                                partial(line_rule, axis=axis, feature=feature, table=rule), keeps_shape=True))
                break   # the first feature that fits: n_colours refines uniform
    return lines + _table_ops(ctx)


def _table_ops(ctx: TaskContext) -> list[Op]:
    distinct = {(o.shape, o.tobytes()) for o in ctx.train_out}
    if len(distinct) < 2 or len(distinct) >= len(ctx.train_out):
        return []
    found = []
    for name in FEATURES:
        table = fit_table(ctx, name)
        if table is not None:
            fn = lambda g, n=name, t=table: look_up(g, ctx.bg, n, t)  # noqa: E731
            found.append(Op(f"look_up({name};{len(table)} values)", fn))
    return found[:MAX_LOOKUP_OPS]
