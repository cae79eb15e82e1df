"""New grids drawn from what a grid holds: a count (non-background cells, colours or objects) drawn as a row,
a column, a square or a diagonal of the grid's main colour, or as a line centred in the grid's middle row or column
(dce56571), or as runs of cells of each output colour filling a fixed canvas in reading order (`count_canvas`:
"as many blue cells as blue squares", 1fad071e); a 1-cell frame around the grid's border; a square spiral over
the whole grid; and the grid's own cells sorted by colour count (`sort_cells`: the commonest colour's cells first,
laid in one of the eight corner-and-direction orders, bd283c4a: "the colours poured in, most first"); rings around
a grid's one coloured cell, each ring (cells at one Manhattan or Chebyshev distance) the colour that follows the
previous ring's in a succession read off the demonstrations (`seed_rings`: ARC-AGI-2 aaef0977, "the colours run
out from the dot in a fixed cycle"; two colours taking turns give alternating rings); every coloured cell of the grid
gathered, in the order of its column (or row), into a fixed small canvas laid row by row, snaking, or column by
column (`gather_cells`: cdecee7f, "the scattered dots collected left to right into a 3x3, snaking"); square rings
around the middle one of three or more equally spaced dots in a line, one ring at every multiple of their spacing
(`spaced_rings`: 5c2c9af4, "the dots mark the first rings of a target"); the colours of the stripes (rows, or columns,
holding one colour besides a block laid over them) in order, as the rows (or columns) of a square (`stripe_square`:
8e1813be, "list the stripes"); under every object of several colours, a bar as wide as it and as long as its number
of colours (`colour_count_bars`: fcc82909, "each block drips one row per colour").

Each is admitted by a training task (ARC-AGI-1): counting cells into a row, d631b094; counting objects into a
diagonal, d0f5fe59; the frame, 6f8cd79b; the spiral, 28e73c20.
"""

from __future__ import annotations

from functools import partial
from typing import Optional

import numpy as np

from ..grids.augment import DIHEDRAL_INVERSE, dihedral
from .dsl import VALUE_MAX_SIDE, Op, TaskContext, op
from .fitting import agrees, reproduces
from .objects import colour_counts, components, grid_background
from .views import turned_ops

QUANTITIES = ("cells", "colours", "objects")
MAX_CANVAS = 30   # cells of a fixed output a count fills
LAYOUTS = ("row", "column", "square", "diagonal")


def count(grid: np.ndarray, ctx_bg: int, quantity: str) -> int:
    """How many non-background cells, distinct non-background colours or 8-connected objects `grid` holds."""
    bg = grid_background(grid, ctx_bg)
    if quantity == "objects":
        return len(components(grid, bg, "c8"))
    counts = colour_counts(grid, bg)
    return int(counts.sum()) if quantity == "cells" else int((counts > 0).sum())


def count_block(grid: np.ndarray, ctx_bg: int, quantity: str, layout: str) -> Optional[np.ndarray]:
    """The count n drawn in the grid's most frequent non-background colour: a 1 x n row, an n x 1 column, an
    n x n square, or the diagonal of an n x n background square. None for n = 0 or n > VALUE_MAX_SIDE."""
    bg = grid_background(grid, ctx_bg)
    counts = colour_counts(grid, bg)
    if counts.max() == 0:
        return None
    n = count(grid, ctx_bg, quantity)
    if n == 0 or n > VALUE_MAX_SIDE:
        return None
    colour = np.uint8(np.argmax(counts))
    if layout == "row":
        return np.full((1, n), colour, np.uint8)
    if layout == "column":
        return np.full((n, 1), colour, np.uint8)
    if layout == "square":
        return np.full((n, n), colour, np.uint8)
    out = np.full((n, n), bg, np.uint8)
    np.fill_diagonal(out, colour)
    return out


def count_canvas(grid: np.ndarray, ctx_bg: int, quantity: str, colours: tuple[int, ...], shape: tuple[int, int],
                 fill: int) -> Optional[np.ndarray]:
    """A canvas of `shape` in `fill` with, in reading order from its first cell, as many cells of each of `colours`
    (in that order) as `grid` holds cells or 8-connected objects of it. None where they do not fit."""
    bg = grid_background(grid, ctx_bg)
    if quantity == "objects":
        found = np.zeros(10, np.int64)
        for o in components(grid, bg, "c8"):
            found[o.grid[o.mask][0]] += 1
    else:
        found = colour_counts(grid, bg)
    cells = np.repeat(np.array(colours, np.uint8), found[list(colours)])
    if cells.size > shape[0] * shape[1]:
        return None
    out = np.full(shape, fill, np.uint8)
    out.flat[:cells.size] = cells
    return out


def _runs(grid: np.ndarray) -> list[int]:
    """The colours of the grid's runs of equal cells, read row by row."""
    flat = grid.ravel()
    return [int(c) for c in flat[np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])]]


def _canvas_order(ctx: TaskContext) -> Optional[tuple[tuple[int, ...], tuple[int, int], int]]:
    """(colours in order, shape, fill) where every train output has one shape of at most MAX_CANVAS cells and
    reads, row by row, as one run per colour and then `fill` (the colours' order the same in every output; an output
    all in `fill` is a count of none)."""
    shapes = set(ctx.out_shapes)
    if len(shapes) != 1 or ctx.same_shape:
        return None
    shape = shapes.pop()
    if shape[0] * shape[1] > MAX_CANVAS:
        return None
    runs = [_runs(out) for out in ctx.train_out]
    fills = {r[-1] for r in runs}
    if len(fills) != 1 or any(len(set(r)) != len(r) for r in runs):
        return None
    order = list(dict.fromkeys(c for r in runs for c in r[:-1]))
    if any(r[:-1] != [c for c in order if c in r[:-1]] for r in runs):
        return None
    fill = fills.pop()
    return (tuple(order), shape, fill) if fill not in order else None


def count_line(grid: np.ndarray, ctx_bg: int, axis: int) -> Optional[np.ndarray]:
    """A blank grid of `grid`'s shape with its non-background cell count drawn, in the most frequent
    non-background colour, as a line centred on the middle row (`axis` 0) or the middle column (1). None where the
    count does not fit or cannot be centred."""
    bg = grid_background(grid, ctx_bg)
    counts = colour_counts(grid, bg)
    n, side, across = int(counts.sum()), grid.shape[1 - axis], grid.shape[axis]
    if n == 0 or n > side or (side - n) % 2 or across % 2 == 0:
        return None
    out = np.full(grid.shape, bg, dtype=np.uint8)
    line = np.s_[across // 2, (side - n) // 2:(side + n) // 2]
    (out if axis == 0 else out.T)[line] = np.argmax(counts)
    return out


def frame(grid: np.ndarray, colour: int) -> np.ndarray:
    """`grid` with its outermost ring of cells in `colour`."""
    out = grid.copy()
    out[0, :] = out[-1, :] = colour
    out[:, 0] = out[:, -1] = colour
    return out


def spiral(grid: np.ndarray, colour: int) -> np.ndarray:
    """`grid` with a square spiral in `colour` painted over it: from the top-left corner rightward, turning
    clockwise one cell before it would meet itself (or at the grid's edge), so one cell of gap runs between
    its turns; it ends where it can go no further."""
    h, w = grid.shape
    out = grid.copy()
    on = np.zeros((h, w), dtype=bool)

    def free(r: int, c: int) -> bool:
        return 0 <= r < h and 0 <= c < w and not on[r, c]

    def open_ahead(r: int, c: int, dr: int, dc: int) -> bool:
        """The next cell is free, and the one after it is not painted (the edge is fine)."""
        nr, nc = r + dr, c + dc
        far_r, far_c = nr + dr, nc + dc
        return free(nr, nc) and not (0 <= far_r < h and 0 <= far_c < w and on[far_r, far_c])

    r, c, dr, dc = 0, 0, 0, 1
    on[r, c] = True
    turned = False
    while True:
        if open_ahead(r, c, dr, dc):
            r, c = r + dr, c + dc
            on[r, c] = True
            turned = False
        elif turned:
            break
        else:
            dr, dc = dc, -dr        # a clockwise turn
            turned = True
    out[on] = colour
    return out


def sort_cells(grid: np.ndarray, order: int) -> Optional[np.ndarray]:
    """The grid's cells rearranged: its colours by count, the commonest first, each colour's cells in one run laid row
    by row in the frame of dihedral map `order` (0: from the top-left corner rightward; the other seven: from each
    corner, along rows or columns). None with one colour or two colours of one count."""
    counts = np.bincount(grid.ravel(), minlength=10)
    colours = sorted(np.flatnonzero(counts).tolist(), key=lambda c: -counts[c])
    if len(colours) < 2 or len(set(counts[colours].tolist())) < len(colours):
        return None
    cells = np.repeat(np.array(colours, np.uint8), counts[colours])
    return dihedral(cells.reshape(dihedral(grid, order).shape), DIHEDRAL_INVERSE[order])


def _layouts(ctx: TaskContext) -> list[str]:
    """The layouts the train outputs' shapes allow: rows for 1-row outputs, columns for 1-column ones,
    squares and diagonals for square ones."""
    shapes = ctx.out_shapes
    found = []
    if all(h == 1 for h, _ in shapes):
        found.append("row")
    if all(w == 1 for _, w in shapes):
        found.append("column")
    if all(h == w for h, w in shapes):
        found += ["square", "diagonal"]
    return found


def _canvas_path(shape: tuple[int, int], layout: str) -> np.ndarray:
    """The (row, column) cells of a canvas in the order `layout` fills them: "rows" (reading order), "snake" (rows,
    every other one right to left), "cols" (column by column), "snake_cols"."""
    h, w = shape
    if layout.endswith("cols"):
        return _canvas_path((w, h), "rows" if layout == "cols" else "snake")[:, ::-1]   # the turned canvas
    path = np.array([(r, c) for r in range(h) for c in range(w)])
    if layout == "snake":
        path = np.array([(r, c if r % 2 == 0 else w - 1 - c) for r, c in path])
    return path


def gather_cells(grid: np.ndarray, ctx_bg: int, key: str, layout: str, shape: tuple[int, int]) -> Optional[np.ndarray]:
    """A canvas of `shape` in the background colour holding every non-background cell of `grid`, taken in the order
    of their column then row (`key` "cols") or row then column ("rows") and laid along `_canvas_path(layout)`. None
    without a cell or with more cells than the canvas holds."""
    bg = grid_background(grid, ctx_bg)
    cells = np.argwhere(grid != bg)
    if not len(cells) or len(cells) > shape[0] * shape[1]:
        return None
    order = np.lexsort((cells[:, 0], cells[:, 1]) if key == "cols" else (cells[:, 1], cells[:, 0]))
    path = _canvas_path(shape, layout)[:len(cells)]
    out = np.full(shape, bg, dtype=np.uint8)
    out[path[:, 0], path[:, 1]] = grid[cells[order, 0], cells[order, 1]]
    return out


def _distances(shape: tuple[int, int], seed: tuple[int, int], metric: str) -> np.ndarray:
    rows, cols = np.indices(shape)
    dy, dx = np.abs(rows - seed[0]), np.abs(cols - seed[1])
    return dy + dx if metric == "manhattan" else np.maximum(dy, dx)


def _seed(grid: np.ndarray, bg: int) -> tuple[int, int] | None:
    cells = np.argwhere(grid != bg)
    return (int(cells[0][0]), int(cells[0][1])) if len(cells) == 1 else None


def seed_rings(grid: np.ndarray, ctx_bg: int, metric: str, after: tuple[int, ...]) -> Optional[np.ndarray]:
    """Every cell coloured by its distance (`metric`) from the grid's one non-background cell: that cell's colour at
    distance 0, then each ring the colour `after` gives for the ring inside it (255: unknown). None without a
    single coloured cell or where the succession meets a colour it does not know."""
    seed = _seed(grid, grid_background(grid, ctx_bg))
    if seed is None:
        return None
    dist = _distances(grid.shape, seed, metric)
    ring = [int(grid[seed])]
    for _ in range(int(dist.max())):
        ring.append(after[ring[-1]])
        if ring[-1] == 255:
            return None
    return np.array(ring, dtype=np.uint8)[dist]


def spaced_rings(grid: np.ndarray, ctx_bg: int) -> Optional[np.ndarray]:
    """The grid's coloured cells (one colour, an odd number of at least three, equally spaced along one row, column
    or diagonal) as the centre and first rings of a target: every cell whose Chebyshev distance from the middle
    one is a multiple of their spacing takes their colour, the others the background. None otherwise."""
    bg = grid_background(grid, ctx_bg)
    cells = np.argwhere(grid != bg)
    if len(cells) < 3 or len(cells) % 2 == 0 or len(np.unique(grid[grid != bg])) != 1:
        return None
    steps = np.diff(cells, axis=0)
    dr, dc = (int(v) for v in steps[0])
    if not (steps == steps[0]).all() or not (dr == 0 or dc == 0 or abs(dr) == abs(dc)):
        return None
    spacing = max(abs(dr), abs(dc))
    centre = (int(cells[len(cells) // 2][0]), int(cells[len(cells) // 2][1]))
    dist = _distances(grid.shape, centre, "chebyshev")
    return np.where(dist % spacing == 0, grid[centre], bg).astype(grid.dtype)


def _fit_succession(ctx: TaskContext, metric: str) -> tuple[int, ...] | None:
    """colour -> the next ring's colour, read off demonstrations whose input has one coloured cell (every ring
    of the output one colour, the first the seed's); None where a demonstration disagrees or none qualifies."""
    after = [255] * 10
    for i, o in zip(ctx.train_in, ctx.train_out):
        seed = _seed(i, grid_background(i, ctx.bg)) if i.shape == o.shape else None
        if seed is None:
            return None
        dist = _distances(i.shape, seed, metric)
        ring = []
        for d in range(int(dist.max()) + 1):
            colours = np.unique(o[dist == d])
            if len(colours) != 1:
                return None
            ring.append(int(colours[0]))
        if ring[0] != int(i[seed]):
            return None
        for a, b in zip(ring, ring[1:]):
            if after[a] not in (255, b):
                return None
            after[a] = b
    return tuple(after)


def _stripe_colours(grid: np.ndarray, bg: int, block: int, axis: int) -> list[int]:
    """The one colour (not bg, not `block`) of each row (axis 0) or column (axis 1) that holds only that colour
    besides bg and `block`, in order, a stripe several lines thick counted once; [] where a line holds two."""
    found: list[int] = []
    previous = None
    for line in (grid if axis == 0 else grid.T):
        colours = set(np.unique(line).tolist()) - {bg, block}
        if len(colours) > 1:
            return []
        colour = colours.pop() if colours else None
        if colour is not None and colour != previous:
            found.append(colour)
        previous = colour
    return found


def stripe_square(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """A k x k grid whose rows (for horizontal stripes; columns for vertical ones) are the colours of the grid's k
    stripes in order, the colour of the grid's largest solid block (at least 2 x 2) ignored where it covers them.
    None unless exactly one direction has two or more stripes."""
    bg = grid_background(grid, ctx_bg)
    blocks = [o for o in components(grid, bg, "c4") if o.mask.all() and o.height >= 2 and o.width >= 2]
    block = int(max(blocks, key=lambda o: o.size).grid[0, 0]) if blocks else -1
    rows, cols = _stripe_colours(grid, bg, block, 0), _stripe_colours(grid, bg, block, 1)
    if (len(rows) >= 2) == (len(cols) >= 2):
        return None
    colours = np.array(rows if len(rows) >= 2 else cols, dtype=grid.dtype)
    k = len(colours)
    return np.repeat(colours[:, None], k, axis=1) if len(rows) >= 2 else np.repeat(colours[None, :], k, axis=0)


def colour_count_bars(grid: np.ndarray, ctx_bg: int, colour: int) -> np.ndarray | None:
    """Below every object (8-neighbour, several colours), a bar of `colour` across its columns, as many rows long
    as the object has colours, over the background only, clipped at the edge. None without such an object."""
    bg = grid_background(grid, ctx_bg)
    out, found = grid.copy(), False
    for o in components(grid, bg, "m8"):
        n = len(np.unique(o.grid[o.mask]))
        if n < 2:
            continue
        found = True
        top = o.top + o.height
        cells = out[top:top + n, o.left:o.left + o.width]
        cells[grid[top:top + n, o.left:o.left + o.width] == bg] = colour
    return out if found else None


def ops(ctx: TaskContext) -> list[Op]:
    """Count blocks in the layouts the output shapes allow (tasks whose outputs change shape), and a frame and a
    spiral in each output colour, and the count as a centred line or the cells sorted by count where they reproduce
    every demonstration, at most three (same-shape tasks)."""
    if ctx.same_shape:
        colours = [c for c in ctx.out_colours if c != ctx.bg]
        spirals = [op(spiral, colour=c, keeps_shape=True) for c in colours]
        lines = [op(count_line, axis=axis, ctx_bg=ctx.bg, keeps_shape=True) for axis in (0, 1)]
        sorts = [op(sort_cells, order=k, keeps_shape=True) for k in range(8)]
        fitted = [(metric, _fit_succession(ctx, metric)) for metric in ("manhattan", "chebyshev")]
        rings = [Op(f"seed_rings({metric})", partial(seed_rings, ctx_bg=ctx.bg, metric=metric, after=after),
                    keeps_shape=True) for metric, after in fitted if after is not None]
        targets = [o for o in [op(spaced_rings, ctx_bg=ctx.bg, keeps_shape=True)] if agrees(o.fn, ctx, exact=True)]
        bars = [Op(f"colour_count_bars({c})", partial(colour_count_bars, ctx_bg=ctx.bg, colour=c), keeps_shape=True)
                for c in colours if c not in ctx.in_colours]
        targets += [b for b in bars if agrees(b.fn, ctx, exact=False)]
        return (rings + targets + [op(frame, colour=c, keeps_shape=True) for c in colours]
                + [o for o in spirals if agrees(o.fn, ctx, exact=False)]   # a spiral is rarely right: only then
                + turned_ops(spirals, lambda fn: agrees(fn, ctx, exact=False))   # from another corner, either way
                + [o for o in lines + sorts if agrees(o.fn, ctx, exact=True)][:3])
    found = [op(count_block, label="count", quantity=q, layout=layout, ctx_bg=ctx.bg)
             for q in QUANTITIES for layout in _layouts(ctx)]
    stripes = op(stripe_square, ctx_bg=ctx.bg)
    found += [stripes] if all(o.shape[0] == o.shape[1] for o in ctx.train_out) and reproduces(stripes.fn, ctx) else []
    if len(set(ctx.out_shapes)) == 1 and ctx.out_shapes[0][0] * ctx.out_shapes[0][1] <= MAX_CANVAS:
        gathers = [Op(f"gather_cells({key},{layout})", partial(gather_cells, ctx_bg=ctx.bg, key=key, layout=layout,
                                                                shape=ctx.out_shapes[0]))
                   for key in ("cols", "rows") for layout in ("rows", "snake", "cols", "snake_cols")]
        fits = lambda fn: reproduces(fn, ctx)   # noqa: E731
        found += ([g for g in gathers if fits(g.fn)] or turned_ops(gathers, fits))[:1]   # or from another corner
    canvas = _canvas_order(ctx)
    if canvas is not None:
        order, shape, fill = canvas
        found += [op(count_canvas, label="count_canvas", quantity=q, colours=order, shape=shape, fill=fill,
                     ctx_bg=ctx.bg) for q in ("cells", "objects")]
    return found
