"""Splitting a grid into parts (list values) and combining equal-size parts cell by cell.

Splits: by separator lines (full rows and/or columns of one non-background colour; the parts between them,
row-major), by blank lines (rows and columns all background: the blocks of a layout with gaps, 780d0b14), or
into 2/3 equal parts along one axis (a one-cell uniform line between
parts is dropped).
Combination (list -> grid): and / or / xor / nor of the parts' non-background masks (xor: exactly one part),
painted in a colour fitted from the train outputs on the background colour of the outputs.
Keyed products (grid -> grid, `key_paint`): of the two non-blank parts, the one-colour one is a mask and the
other a key of colours; "kron" puts a copy of the mask in each key cell's colour at that cell's block
(b190f7f5), "scale" colours the mask by the key stretched over it (7c008303); in a 3 x 3 layout whose only
non-blank parts are the corners and the middle, the corners put together are the key (77fdfe62). Tried on the
task's background, then on the next commonest colour (`layout_backgrounds`).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .dsl import GRID, LIST, MAX_LIST, Items, Op, TaskContext
from .fitting import reproduces
from .objects import colour_counts, grid_background

LOGIC = ("and", "or", "xor", "nor")


def separator_lines(grid: np.ndarray, ctx_bg: int) -> tuple[int, list[int], list[int]] | None:
    """(colour, separator rows, separator columns): the full lines of one non-bg colour (not every row or
    every column). Where several colours have some, the one whose lines cut the grid into parts of one size
    (a full column of a part's own colour is no separator: cf98881b), then the smallest colour. None when
    there are none."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    row_colour = np.where((grid == grid[:, :1]).all(axis=1), grid[:, 0].astype(np.int16), -1)
    col_colour = np.where((grid == grid[:1, :]).all(axis=0), grid[0, :].astype(np.int16), -1)
    found = []
    for colour in sorted(set(row_colour.tolist()) | set(col_colour.tolist())):
        if colour < 0 or colour == bg:
            continue
        rows = np.nonzero(row_colour == colour)[0].tolist()
        cols = np.nonzero(col_colour == colour)[0].tolist()
        if len(rows) < h and len(cols) < w:
            equal = all(len({b - a for a, b in spans(n, lines)}) <= 1 for n, lines in ((h, rows), (w, cols)))
            found.append((not equal, int(colour), rows, cols))
    if not found:
        return None
    _, colour, rows, cols = min(found)
    return colour, rows, cols


def spans(n: int, lines: list[int]) -> list[tuple[int, int]]:
    """The runs of indices 0..n-1 between separator `lines` (empty runs dropped)."""
    cuts = [-1] + sorted(lines) + [n]
    return [(a + 1, b) for a, b in zip(cuts, cuts[1:]) if b > a + 1]


def split_lines(grid: np.ndarray, ctx_bg: int) -> tuple | None:
    """The parts between separator lines, row-major; None without separators or with one part."""
    found = separator_lines(grid, ctx_bg)
    if found is None:
        return None
    _, rows, cols = found
    return _parts_between(grid, rows, cols)


def _parts_between(grid: np.ndarray, rows: list[int], cols: list[int]) -> tuple | None:
    """The parts between the cut `rows` and `cols`, row-major, at their positions; None with one part or more
    than MAX_LIST."""
    boxes = [(r0, r1, c0, c1) for r0, r1 in spans(grid.shape[0], rows) for c0, c1 in spans(grid.shape[1], cols)]
    if not 1 < len(boxes) <= MAX_LIST:
        return None
    return Items(tuple(np.ascontiguousarray(grid[r0:r1, c0:c1]) for r0, r1, c0, c1 in boxes),
                 tuple((r0, c0) for r0, _, c0, _ in boxes), grid.shape)


def split_blank(grid: np.ndarray, ctx_bg: int) -> tuple | None:
    """The blocks between blank rows and columns (all background), row-major; None without a blank line
    between two non-blank ones, or with one block."""
    bg = grid_background(grid, ctx_bg)
    blank_rows = np.flatnonzero((grid == bg).all(axis=1)).tolist()
    blank_cols = np.flatnonzero((grid == bg).all(axis=0)).tolist()
    return _parts_between(grid, blank_rows, blank_cols)


def split_equal(grid: np.ndarray, n: int, axis: int) -> tuple | None:
    """`n` equal parts along `axis` (0: top to bottom, 1: left to right); a size of n*k + n-1 with uniform
    one-cell lines at the cuts drops those lines."""
    size = grid.shape[axis]
    g = grid if axis == 0 else grid.T
    if size % n == 0:
        k, step = size // n, size // n
    elif (size - (n - 1)) % n == 0 and size > n:
        k = (size - (n - 1)) // n
        step = k + 1
        if any(len(np.unique(g[i * step - 1])) != 1 for i in range(1, n)):
            return None
    else:
        return None
    parts = [g[i * step:i * step + k] for i in range(n)]
    pos = tuple((i * step, 0) if axis == 0 else (0, i * step) for i in range(n))
    return Items(tuple(np.ascontiguousarray(p if axis == 0 else p.T) for p in parts), pos, grid.shape)


def combine(items: tuple, logic: str, part_bg: int, colour: int, out_bg: int) -> np.ndarray | None:
    """Cells where `logic` holds over the parts' non-`part_bg` masks get `colour`, the others `out_bg`."""
    if len(items) < 2 or any(it.shape != items[0].shape for it in items):
        return None
    count = sum((it != part_bg).astype(np.int32) for it in items)
    mask = {"and": count == len(items), "or": count > 0, "xor": count == 1, "nor": count == 0}[logic]
    return np.where(mask, np.uint8(colour), np.uint8(out_bg)).astype(np.uint8)


def key_paint(grid: np.ndarray, ctx_bg: int, how: str, split: str) -> np.ndarray | None:
    """The keyed product `how` ("kron" or "scale") of the grid's parts cut by `split` ("lines": at separator lines,
    "halves": across its longer side); None unless exactly two parts are not blank, one of them of one colour
    (module docstring), or, in a 3 x 3 layout, the four corner parts and the middle one: the corners, put together,
    are the key (77fdfe62: "each quarter of the pattern takes its corner's colour")."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    parts = split_lines(grid, bg) if split == "lines" else None if h == w else split_equal(grid, 2, int(w > h))
    if parts is None:
        return None
    full = [p for p in parts if (p != bg).any()]
    if len(full) == 5 and len(parts) == 9 and all((parts[k] != bg).any() for k in (0, 2, 4, 6, 8)):
        corners = [parts[k] for k in (0, 2, 6, 8)]   # four corner parts around a middle one: the corners a key
        if any(c.shape != corners[0].shape for c in corners):
            return None
        full = [parts[4], np.block([[corners[0], corners[1]], [corners[2], corners[3]]])]
    if len(full) != 2:
        return None
    ones = [p for p in full if len(np.unique(p[p != bg])) == 1]
    if len(ones) != 1:
        return None
    mask = ones[0] != bg
    key = full[1] if ones[0] is full[0] else full[0]
    if how == "kron":
        if key.shape[0] * mask.shape[0] > 30 or key.shape[1] * mask.shape[1] > 30:
            return None
        return np.where(np.kron(key != bg, mask), np.kron(key, np.ones(mask.shape, np.uint8)), np.uint8(bg))
    fy, fx = mask.shape[0] // key.shape[0], mask.shape[1] // key.shape[1]
    if not fy or not fx or (fy * key.shape[0], fx * key.shape[1]) != mask.shape:
        return None
    return np.where(mask, np.repeat(np.repeat(key, fy, axis=0), fx, axis=1), np.uint8(bg)).astype(np.uint8)


def layout_backgrounds(ctx: TaskContext) -> tuple[int, ...]:
    """The backgrounds separator layouts are tried on, in order: the task's, then the next commonest colour of the
    inputs (where the separators or a frame are the commonest colour, the task's background is theirs and the
    parts' own background comes second: 77fdfe62, 09629e4f, 941d9a10, black in all three)."""
    counts = np.sum([colour_counts(g, ctx.bg) for g in ctx.train_in + ctx.test_in], axis=0)
    return (ctx.bg, int(np.argmax(counts))) if counts.any() else (ctx.bg,)


def key_ops(ctx: TaskContext) -> list[Op]:
    """The first keyed product that reproduces every demonstration, on the task's background or else on the next
    commonest colour (a frame can outnumber the background: 77fdfe62)."""
    for bg in layout_backgrounds(ctx):
        for how in ("kron", "scale"):
            for split in ("lines", "halves"):
                name = f"key_paint({how},{split}{'' if bg == ctx.bg else f',bg{bg}'})"
                op = Op(name, partial(key_paint, ctx_bg=bg, how=how, split=split))
                if reproduces(op.fn, ctx):
                    return [op]
    return []


def _out_palette(ctx: TaskContext) -> tuple[int, int] | None:
    """(colour, background) when every train output uses at most these two colours, else None."""
    used: set[int] = set()
    for o in ctx.train_out:
        used.update(int(v) for v in np.unique(o))
    if len(used) != 2:
        return None
    counts = {c: sum(int((o == c).sum()) for o in ctx.train_out) for c in used}
    out_bg = ctx.bg if ctx.bg in used else max(used, key=lambda c: counts[c])
    return next(c for c in used if c != out_bg), out_bg


def _parts_shape(parts: tuple) -> tuple[int, int] | None:
    """(rows, columns) of the layout the positioned parts form."""
    if not isinstance(parts, Items):
        return None
    return len({r for r, _ in parts.pos}), len({c for _, c in parts.pos})


def split_ops(ctx: TaskContext) -> list[Op]:
    """Splits whose first part has the train outputs' shape (up to transpose), or whose parts' layout (rows x
    columns of parts) has it; none when the outputs keep the input shape."""
    if ctx.same_shape:
        return []
    bg = ctx.bg
    found = [Op("split_lines", lambda g: split_lines(g, bg), GRID, LIST),
             Op("split_blank", lambda g: split_blank(g, bg), GRID, LIST)]
    for n in (2, 3):
        found += [Op(f"split_rows({n})", partial(split_equal, n=n, axis=0), GRID, LIST),
                  Op(f"split_cols({n})", partial(split_equal, n=n, axis=1), GRID, LIST)]

    def fits(op: Op) -> bool:
        for i, o in zip(ctx.train_in, ctx.train_out):
            parts = op.fn(i)
            if parts is None or (parts[0].shape not in (o.shape, o.shape[::-1])
                                 and _parts_shape(parts) not in (o.shape, o.shape[::-1])):
                return False
        return True
    return [op for op in found if fits(op)]


def ops(ctx: TaskContext) -> list[Op]:
    """Splits into parts and, when the outputs have two colours, the logic combinations of parts; keyed
    products."""
    keyed = [] if ctx.same_shape else key_ops(ctx)
    result = split_ops(ctx)
    palette = _out_palette(ctx)
    if palette is None or not result:
        return result + keyed
    colour, out_bg = palette
    bg = ctx.bg
    result += [Op(f"combine({lg},{colour})", partial(combine, logic=lg, part_bg=bg, colour=colour, out_bg=out_bg),
                  LIST, GRID)
               for lg in LOGIC]
    return result + keyed
