"""Lines between cells and halos around them: `connect` fills the background between two consecutive cells of one colour
in a row and/or column (in their colour, or a colour fitted from the outputs), `connect_diagonal` the background on the
diagonal between the facing corners of the two objects of one colour (342ae2ed, 1f876c06); `surround` paints the
background cells next to (4- or 8-neighbour) non-background cells in a fitted colour; `fill_box` paints the background
cells inside each object's bounding box; `interior` paints the non-background cells whose 8 neighbours are all
non-background (colour bg: hollow the shapes out); `mark_blank_lines` paints the full background rows and columns (or
those background between the grid's frame), `mark_blank_squares` the k x k windows of one colour (all, or those that
overlap no earlier one); `centre_lines` paints the background cells of each object's middle row and middle column across
the grid; `segment_lines` stretches every straight one-colour segment into the whole row or column it lies on; `elbow`
joins the one cell of a colour to the one cell of another by a path along the first's row, then the second's column;
`bridge` fills the gap between two objects that face each other, as wide as their overlap (less an inset on each side);
`midpoints` marks the cell halfway between the two cells of a colour (a dot, or a plus around it); `leak` fills every
box with one gap in its wall and runs a line from the gap out to the grid's edge (water leaking out); `complete_dashes`
fills the gaps of the broken lines of a colour (rows and columns of its box it mostly covers); `box_in_markers` draws,
in the shape's colour, the rectangle one cell inside the lone marker cells around it (928ad970: "a box that just fits
between the dots"); `trim_objects` erases the first k columns (or rows) of every object from one side (52364a65: "each
shape loses its two leftmost columns"); `corner_ticks` paints the eight cells that carry each side of every hollow
square (or rectangle) one cell past its corners (ARC-AGI-2 14b8e18c); `swap_and_extend` swaps a framed square's
frame and inside colours and extends each of its sides outward by the inside's width in the frame's colour
(3befdf3e); `shelter_lines` drops a line from the underside of the largest shape to the bottom edge down every column
where a dot lies under it, in the dots' colour (6d58a25d: "rain under the umbrella where a drop fell"). Lines drawn
from seed cells across the grid (bounces, detours, walls, crossings) live in `rays`.

A variant is offered only where every cell it changes on the train inputs takes the output's colour.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .dsl import Op, TaskContext
from .fitting import added_colours, agrees, shape_keeping
from .grid_loops import connect_runs, pad1
from .objects import components, grid_background
from .views import turned_ops


def _connect_rows(grid: np.ndarray, out: np.ndarray, bg: int, colour: int | None) -> None:
    for r in range(grid.shape[0]):
        cols = np.nonzero(grid[r] != bg)[0]
        for a, b in zip(cols[:-1], cols[1:]):
            if b > a + 1 and grid[r, a] == grid[r, b]:
                out[r, a + 1:b] = grid[r, a] if colour is None else colour


def connect(grid: np.ndarray, ctx_bg: int, axes: str, colour: int | None) -> np.ndarray | None:
    """Background runs between two consecutive same-coloured cells filled, along rows ("h"), columns
    ("v") or both ("hv": columns painted over rows); the grid itself when nothing is filled."""
    bg = grid_background(grid, ctx_bg)
    out = connect_runs(np.ascontiguousarray(grid, dtype=np.uint8), bg, -1 if colour is None else colour,
                       "h" in axes, "v" in axes)
    return grid if (out == grid).all() else out


def connect_plain(grid: np.ndarray, ctx_bg: int, axes: str, colour: int | None) -> np.ndarray | None:
    """`connect` in plain numpy (the reference the kernel must equal)."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    if "h" in axes:
        _connect_rows(grid, out, bg, colour)
    if "v" in axes:
        out_t = np.ascontiguousarray(out.T)
        _connect_rows(np.ascontiguousarray(grid.T), out_t, bg, colour)
        out = np.ascontiguousarray(out_t.T)
    return grid if (out == grid).all() else out


def surround(grid: np.ndarray, ctx_bg: int, colour: int, diag: bool) -> np.ndarray | None:
    """Background cells with a non-background neighbour (4-, or 8- if `diag`) painted `colour`."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    solid = pad1(grid != bg)
    near = np.zeros((h, w), dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if (dy or dx) and (diag or not (dy and dx)):
                near |= solid[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    near &= grid == bg
    if not near.any():
        return grid
    out = grid.copy()
    out[near] = colour
    return out


def fill_box(grid: np.ndarray, ctx_bg: int, colour: int, mode: str) -> np.ndarray:
    """Background cells inside the bounding box of each object (segmentation `mode`) painted `colour`."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    for obj in components(grid, bg, mode):
        box = out[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width]
        box[grid[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width] == bg] = colour
    return out


def interior(grid: np.ndarray, ctx_bg: int, colour: int) -> np.ndarray:
    """Non-background cells with all 8 neighbours inside the grid and non-background, painted `colour`."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    solid = grid != bg
    inner = np.zeros((h, w), dtype=bool)
    if h > 2 and w > 2:
        core = np.ones((h - 2, w - 2), dtype=bool)
        for dy in range(3):
            for dx in range(3):
                core &= solid[dy:dy + h - 2, dx:dx + w - 2]
        inner[1:-1, 1:-1] = core
    out = grid.copy()
    out[inner] = colour
    return out


def mark_blank_lines(grid: np.ndarray, ctx_bg: int, colour: int, inner: bool = False) -> np.ndarray | None:
    """Every full row and full column of background painted `colour` (c1d99e64); with `inner`, every row and
    column that is background but for its two end cells (the grid's frame: a passage straight across), on its
    background cells. None when there is none."""
    bg = grid_background(grid, ctx_bg)
    blank = grid == bg
    if inner and min(grid.shape) < 3:
        return None
    rows = blank[:, 1:-1].all(axis=1) if inner else blank.all(axis=1)
    cols = blank[1:-1, :].all(axis=0) if inner else blank.all(axis=0)
    if not rows.any() and not cols.any():
        return None
    out = grid.copy()
    out[rows, :] = colour
    out[:, cols] = colour
    if inner:
        out[~blank] = grid[~blank]
    return out


def mark_blank_squares(grid: np.ndarray, blank: int, colour: int, side: int, disjoint: bool) -> np.ndarray | None:
    """The `side` x `side` windows made only of colour `blank` painted `colour`: all of them (their union), or
    (`disjoint`) those that overlap no window taken before them in row-major order. None when there is none."""
    h, w = grid.shape
    if h < side or w < side:
        return None
    sums = np.lib.stride_tricks.sliding_window_view((grid == blank).astype(np.int32), (side, side)).sum(axis=(2, 3))
    corners = np.argwhere(sums == side * side)
    if corners.size == 0:
        return None
    mark = np.zeros(grid.shape, dtype=bool)
    for r, c in corners:
        if disjoint and mark[r:r + side, c:c + side].any():
            continue
        mark[r:r + side, c:c + side] = True
    out = grid.copy()
    out[mark] = colour
    return out


def elbow(grid: np.ndarray, ctx_bg: int, start: int, end: int, colour: int) -> np.ndarray | None:
    """The background cells on the path from the one cell of colour `start` along its row to the column of the
    one cell of colour `end`, then along that column to it, painted `colour`; None unless each colour has
    exactly one cell."""
    a, b = np.argwhere(grid == start), np.argwhere(grid == end)
    if len(a) != 1 or len(b) != 1:
        return None
    (r0, c0), (r1, c1) = a[0], b[0]
    path = np.zeros(grid.shape, dtype=bool)
    path[r0, min(c0, c1):max(c0, c1) + 1] = True
    path[min(r0, r1):max(r0, r1) + 1, c1] = True
    path[r0, c0] = path[r1, c1] = False
    out = grid.copy()
    out[path & (grid == grid_background(grid, ctx_bg))] = colour
    return out


def bridge(grid: np.ndarray, ctx_bg: int, colour: int, inset: int) -> np.ndarray | None:
    """The background gap between the grid's two objects (8-neighbour, one colour each), where they overlap in
    columns (one above the other) or in rows (side by side), painted `colour` across their overlap narrowed by
    `inset` cells on each side; None unless there are exactly two objects that overlap on one axis only."""
    bg = grid_background(grid, ctx_bg)
    objs = components(grid, bg, "c8")
    if len(objs) != 2:
        return None
    (t0, l0, b0, r0), (t1, l1, b1, r1) = [(o.top, o.left, o.top + o.height - 1, o.left + o.width - 1) for o in objs]
    rows = (max(t0, t1), min(b0, b1))   # shared rows (empty when first > second)
    cols = (max(l0, l1), min(r0, r1))
    if cols[0] <= cols[1] and rows[0] > rows[1]:      # one above the other
        gap_rows = (min(b0, b1) + 1, max(t0, t1) - 1)
        gap_cols = (cols[0] + inset, cols[1] - inset)
    elif rows[0] <= rows[1] and cols[0] > cols[1]:    # side by side
        gap_rows = (rows[0] + inset, rows[1] - inset)
        gap_cols = (min(r0, r1) + 1, max(l0, l1) - 1)
    else:
        return None
    if gap_rows[0] > gap_rows[1] or gap_cols[0] > gap_cols[1]:
        return None
    out = grid.copy()
    region = out[gap_rows[0]:gap_rows[1] + 1, gap_cols[0]:gap_cols[1] + 1]
    region[region == bg] = colour
    return out


def midpoints(grid: np.ndarray, ctx_bg: int, colour: int, plus: bool) -> np.ndarray | None:
    """For every colour with exactly two cells, the cell halfway between them (when there is one: an even
    distance on both axes) painted `colour` if it is background, with its four side neighbours too (`plus`);
    None when no colour has a midpoint."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    out, found = grid.copy(), False
    for c in np.unique(grid):
        cells = np.argwhere(grid == c)
        if c == bg or len(cells) != 2 or ((cells[0] + cells[1]) % 2).any():
            continue
        r0, c0 = (cells[0] + cells[1]) // 2
        found = True
        for dr, dc in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)) if plus else ((0, 0),):
            r, cc = r0 + dr, c0 + dc
            if 0 <= r < h and 0 <= cc < w and out[r, cc] == bg:
                out[r, cc] = colour
    return out if found else None


def leak(grid: np.ndarray, ctx_bg: int, colour: int) -> np.ndarray | None:
    """Every object (8-neighbour, one colour, a box of at least 3 x 3) whose box outline is its own colour but
    for one background cell off the corners: the background inside the box, the gap, and the cells straight out
    of the gap to the grid's edge painted `colour` (background cells only); None without such a box."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    out, found = grid.copy(), False
    for o in components(grid, bg, "c8"):
        bh, bw = o.mask.shape
        if bh < 3 or bw < 3:
            continue
        ring = np.ones((bh, bw), dtype=bool)
        ring[1:-1, 1:-1] = False
        gaps = np.argwhere(ring & ~o.mask)
        if len(gaps) != 1:
            continue
        gr, gc = gaps[0]
        if (gr in (0, bh - 1)) == (gc in (0, bw - 1)):   # a corner (or, impossibly, no side)
            continue
        dr, dc = (-1 if gr == 0 else 1 if gr == bh - 1 else 0), (-1 if gc == 0 else 1 if gc == bw - 1 else 0)
        box = out[o.top:o.top + bh, o.left:o.left + bw]
        inside = box[1:-1, 1:-1]
        inside[inside == bg] = colour
        r, c = o.top + gr, o.left + gc
        while 0 <= r < h and 0 <= c < w and out[r, c] == bg:
            out[r, c] = colour
            r, c = r + dr, c + dc
        found = True
    return out if found else None


def complete_dashes(grid: np.ndarray, ctx_bg: int, line: int, colour: int) -> np.ndarray | None:
    """Within the bounding box of the cells of colour `line`, every row and every column that `line` covers
    more than half of has its background cells (inside the box) painted `colour`; None when none is."""
    bg = grid_background(grid, ctx_bg)
    cells = np.argwhere(grid == line)
    if line == bg or not len(cells):
        return None
    (top, left), (bottom, right) = cells.min(axis=0), cells.max(axis=0) + 1
    box = grid[top:bottom, left:right]
    on = box == line
    mask = np.zeros(box.shape, dtype=bool)
    mask[2 * on.sum(axis=1) > box.shape[1], :] = True
    mask[:, 2 * on.sum(axis=0) > box.shape[0]] = True
    mask &= box == bg
    if not mask.any():
        return None
    out = grid.copy()
    out[top:bottom, left:right][mask] = colour
    return out


def box_in_markers(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The outline of the rectangle one cell inside the outermost marker cells, on the background, in the other
    colour (module docstring). The grid holds two colours besides the background: the markers' (lone cells only,
    at least two) and the shape's. None otherwise, or when the rectangle is thinner than 3 cells."""
    bg = grid_background(grid, ctx_bg)
    colours = [int(c) for c in np.unique(grid) if c != bg]
    if len(colours) != 2:
        return None
    lone = [c for c in colours if all(o.size == 1 for o in components(np.where(grid == c, c, bg).astype(np.uint8),
                                                                         bg, "c8"))]
    if len(lone) != 1:
        return None
    marker = lone[0]
    shape = colours[1 - colours.index(marker)]
    rows, cols = np.nonzero(grid == marker)
    if len(rows) < 2:
        return None
    r0, r1, c0, c1 = rows.min() + 1, rows.max() - 1, cols.min() + 1, cols.max() - 1
    if r1 - r0 < 2 or c1 - c0 < 2:
        return None
    ring = np.zeros(grid.shape, dtype=bool)
    ring[r0:r1 + 1, [c0, c1]] = True
    ring[[r0, r1], c0:c1 + 1] = True
    out = grid.copy()
    out[ring & (grid == bg)] = shape
    return out


def _single_cell_colours(ctx: TaskContext) -> list[int]:
    """Colours with exactly one cell in every train input."""
    return [c for c in range(10) if all(int((i == c).sum()) == 1 for i in ctx.train_in)]


def _recolouring(ctx: TaskContext) -> tuple[int, int] | None:
    """(input colour, output colour) when every cell the demonstrations change has one and the same of each."""
    before: set[int] = set()
    after: set[int] = set()
    for i, o in zip(ctx.train_in, ctx.train_out):
        changed = i != o
        before.update(int(v) for v in np.unique(i[changed]))
        after.update(int(v) for v in np.unique(o[changed]))
    return (before.pop(), after.pop()) if len(before) == 1 and len(after) == 1 else None


def _interior_colours(ctx: TaskContext) -> list[int]:
    """The one colour the outputs give to changed non-background input cells, if there is one."""
    found: set[int] = set()
    for i, o in zip(ctx.train_in, ctx.train_out):
        changed = (i != grid_background(i, ctx.bg)) & (o != i)
        found.update(int(v) for v in np.unique(o[changed]))
    return sorted(found) if len(found) == 1 else []


def centre_lines(grid: np.ndarray, ctx_bg: int, colour: int) -> np.ndarray | None:
    """The background cells of every object's (8-neighbour) middle row and middle column, across the whole grid,
    painted `colour`; None without objects or when one has an even side (no middle line)."""
    bg = grid_background(grid, ctx_bg)
    objs = components(grid, bg, "c8")
    if not objs or any(o.height % 2 == 0 or o.width % 2 == 0 for o in objs):
        return None
    lines = np.zeros(grid.shape, dtype=bool)
    for o in objs:
        lines[o.top + o.height // 2, :] = True
        lines[:, o.left + o.width // 2] = True
    out = grid.copy()
    out[lines & (grid == bg)] = colour
    return out


def segment_lines(grid: np.ndarray, ctx_bg: int, rows_last: bool) -> np.ndarray | None:
    """Every straight one-colour segment of two or more cells (a 4-neighbour component one cell thick)
    painted across its whole row (horizontal) or column (vertical); the rows are painted after the columns
    (`rows_last`) or before them. None without segments."""
    bg = grid_background(grid, ctx_bg)
    rows: list[tuple[int, int]] = []
    cols: list[tuple[int, int]] = []
    for o in components(grid, bg, "c4"):
        if o.size < 2 or o.size != max(o.height, o.width):
            continue
        colour = int(o.grid[o.mask][0])
        (rows if o.height == 1 else cols).append((o.top if o.height == 1 else o.left, colour))
    if not rows and not cols:
        return None
    out = grid.copy()
    for horizontal in ((False, True) if rows_last else (True, False)):
        for k, colour in (rows if horizontal else cols):
            if horizontal:
                out[k, :] = colour
            else:
                out[:, k] = colour
    return out


def connect_diagonal(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """For every colour with exactly two objects (8-neighbour) that share no row and no column, the background
    cells on the 45-degree diagonal between their facing box corners (both cells of that colour) take the colour.
    None where nothing is drawn."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    by_colour: dict[int, list] = {}
    for obj in components(grid, bg, "c8"):
        by_colour.setdefault(int(obj.grid[obj.mask][0]), []).append(obj)
    done = False
    for colour, objs in by_colour.items():
        if len(objs) != 2:
            continue
        a, b = objs
        ys = _facing(a.top, a.top + a.height - 1, b.top, b.top + b.height - 1)
        xs = _facing(a.left, a.left + a.width - 1, b.left, b.left + b.width - 1)
        if ys is None or xs is None or abs(ys[1] - ys[0]) != abs(xs[1] - xs[0]):
            continue
        if grid[ys[0], xs[0]] != colour or grid[ys[1], xs[1]] != colour:
            continue
        steps = abs(ys[1] - ys[0])
        rows = np.linspace(ys[0], ys[1], steps + 1).astype(int)[1:-1]
        cols = np.linspace(xs[0], xs[1], steps + 1).astype(int)[1:-1]
        free = out[rows, cols] == bg
        out[rows[free], cols[free]] = colour
        done |= bool(free.any())
    return out if done else None


def _facing(a0: int, a1: int, b0: int, b1: int) -> tuple[int, int] | None:
    """The facing ends (a's, b's) of two disjoint spans [a0, a1] and [b0, b1], None where they overlap."""
    if a1 < b0:
        return a1, b0
    if b1 < a0:
        return a0, b1
    return None


def trim_objects(grid: np.ndarray, ctx_bg: int, side: str, k: int) -> np.ndarray | None:
    """Every object (one colour, 8-neighbour) loses its cells in the first `k` lines of its bounding box from
    `side` ("left", "right", "top", "bottom"); None where nothing is erased."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    done = False
    for obj in components(grid, bg, "c8"):
        rows, cols = np.indices(obj.mask.shape)
        edge = {"left": cols < k, "right": cols >= obj.width - k,
                "top": rows < k, "bottom": rows >= obj.height - k}[side]
        cut = obj.mask & edge
        out[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width][cut] = bg
        done |= bool(cut.any())
    return out if done else None


def corner_ticks(grid: np.ndarray, ctx_bg: int, colour: int, squares: bool) -> np.ndarray | None:
    """Every one-colour object (8-neighbour) whose cells are exactly its box's outline (a 2 x 2 block included), a
    square only where `squares`, gets the background cells one step past each corner along both of its sides
    painted `colour`. None without such an object."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    out, found = grid.copy(), False
    for o in components(grid, bg, "c8"):
        if o.height < 2 or o.width < 2 or (squares and o.height != o.width):
            continue
        ring = np.ones(o.mask.shape, dtype=bool)
        ring[1:-1, 1:-1] = False
        if not (o.mask == ring).all():
            continue
        found = True
        top, left, bottom, right = o.top, o.left, o.top + o.height - 1, o.left + o.width - 1
        for r, c in ((top - 1, left), (top, left - 1), (top - 1, right), (top, right + 1),
                     (bottom + 1, left), (bottom, left - 1), (bottom + 1, right), (bottom, right + 1)):
            if 0 <= r < h and 0 <= c < w and grid[r, c] == bg:
                out[r, c] = colour
    return out if found else None


def swap_and_extend(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Every solid rectangle (multicolour object, 4-neighbour, filling its box) of a one-cell frame of one colour
    around an inside of another gets the two colours swapped and each side extended outward, as long as the side,
    by as many cells as the inside is wide across that side, in the frame's colour (3befdf3e: "the square turns
    inside out and grows by its middle"). Only background cells painted. None without such a rectangle."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    out, found = grid.copy(), False
    for o in components(grid, bg, "m4"):
        if o.height < 3 or o.width < 3 or not o.mask.all():
            continue
        ring = np.ones(o.mask.shape, dtype=bool)
        ring[1:-1, 1:-1] = False
        frame, inside = np.unique(o.grid[ring]), np.unique(o.grid[~ring])
        if len(frame) != 1 or len(inside) != 1 or frame[0] == inside[0]:
            continue
        found = True
        f, i = int(frame[0]), int(inside[0])
        top, left, bottom, right = o.top, o.left, o.top + o.height, o.left + o.width
        out[top:bottom, left:right] = np.where(ring, i, f)
        kh, kw = o.height - 2, o.width - 2
        for r0, r1, c0, c1 in ((top - kh, top, left, right), (bottom, bottom + kh, left, right),
                               (top, bottom, left - kw, left), (top, bottom, right, right + kw)):
            r0, r1, c0, c1 = max(r0, 0), min(r1, h), max(c0, 0), min(c1, w)
            if r0 < r1 and c0 < c1:
                patch = out[r0:r1, c0:c1]
                patch[grid[r0:r1, c0:c1] == bg] = f
    return out if found else None


def shelter_lines(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The largest object (one colour, 8-neighbour) is a shelter; every other object is a dot (at most half its
    size), all of one colour. Down each column of the shelter that has a dot cell below its lowest shelter cell, the
    background from there to the bottom edge is painted in the dots' colour. None where the dots have several
    colours or no column has a dot under the shelter."""
    bg = grid_background(grid, ctx_bg)
    objs = components(grid, bg, "c8")
    if len(objs) < 2:
        return None
    shelter = max(objs, key=lambda o: o.size)
    dots = [o for o in objs if o is not shelter]
    colours = {int(o.grid[0, 0]) for o in dots}
    if len(colours) != 1 or shelter.size < 3 or any(o.size * 2 > shelter.size for o in dots):
        return None
    colour = colours.pop()
    out, found = grid.copy(), False
    for x in range(shelter.width):
        rows = np.nonzero(shelter.mask[:, x])[0]
        if not len(rows):
            continue
        r, c = shelter.top + int(rows.max()), shelter.left + x
        column = grid[r + 1:, c]
        if (column == colour).any():
            out[r + 1:, c] = np.where(column == bg, colour, column)
            found = True
    return out if found else None


def ops(ctx: TaskContext) -> list[Op]:
    """connect and surround variants that agree with the train outputs (same-shape tasks only)."""
    if not ctx.same_shape:
        return []
    bg = ctx.bg
    added = sorted(added_colours(ctx, enclosed_only=False))
    candidates = []
    for axes in ("h", "v", "hv"):
        for colour in [None] + added[:1]:
            label = "same" if colour is None else str(colour)
            candidates.append(Op(f"connect({axes},{label})", partial(connect, ctx_bg=bg, axes=axes, colour=colour)))
    if len(added) == 1:
        for diag in (False, True):
            candidates.append(Op(f"surround({added[0]},{'8' if diag else '4'})",
                                 partial(surround, ctx_bg=bg, colour=added[0], diag=diag)))
        for mode in ("c8", "m8"):
            candidates.append(Op(f"fill_box({added[0]},{mode})",
                                 partial(fill_box, ctx_bg=bg, colour=added[0], mode=mode)))
        candidates.append(Op(f"mark_blank_lines({added[0]})",
                             partial(mark_blank_lines, ctx_bg=bg, colour=added[0])))
        candidates.append(Op(f"mark_blank_lines({added[0]},inner)",
                             partial(mark_blank_lines, ctx_bg=bg, colour=added[0], inner=True)))
        candidates.append(Op(f"centre_lines({added[0]})", partial(centre_lines, ctx_bg=bg, colour=added[0])))
        candidates.append(Op(f"leak({added[0]})", partial(leak, ctx_bg=bg, colour=added[0])))
        candidates += [Op(f"corner_ticks({added[0]},{'squares' if squares else 'boxes'})",
                          partial(corner_ticks, ctx_bg=bg, colour=added[0], squares=squares))
                       for squares in (True, False)]

        candidates += [Op(f"complete_dashes({line},{added[0]})",
                          partial(complete_dashes, ctx_bg=bg, line=line, colour=added[0]))
                       for line in ctx.in_colours if line != bg]
        for plus in (False, True):
            candidates.append(Op(f"midpoints({added[0]},{'plus' if plus else 'dot'})",
                                 partial(midpoints, ctx_bg=bg, colour=added[0], plus=plus)))
    if len(added) == 1:
        candidates.append(Op(f"bridge({added[0]},1)", partial(bridge, ctx_bg=bg, colour=added[0], inset=1)))
    singles = _single_cell_colours(ctx)
    if len(added) == 1 and len(singles) >= 2:
        candidates += [Op(f"elbow({a},{b},{added[0]})",
                          partial(elbow, ctx_bg=bg, start=a, end=b, colour=added[0]))
                       for a in singles for b in singles if a != b]
    recolouring = _recolouring(ctx)
    if recolouring is not None:
        for side in (2, 3):
            for disjoint in (False, True):
                candidates.append(Op(
                    f"mark_blank_squares({side},{'disjoint' if disjoint else 'all'})",
                    partial(mark_blank_squares, blank=recolouring[0], colour=recolouring[1], side=side,
                            disjoint=disjoint)))
    candidates.append(Op("box_in_markers", partial(box_in_markers, ctx_bg=bg)))
    candidates.append(Op("connect_diagonal", partial(connect_diagonal, ctx_bg=bg)))
    candidates.append(Op("swap_and_extend", partial(swap_and_extend, ctx_bg=bg)))
    shelter = Op("shelter_lines", partial(shelter_lines, ctx_bg=bg))
    candidates.append(shelter)
    for rows_last in (True, False):
        candidates.append(Op(f"segment_lines({'rows' if rows_last else 'cols'} last)",
                             partial(segment_lines, ctx_bg=bg, rows_last=rows_last)))
    for colour in _interior_colours(ctx):
        candidates.append(Op(f"interior({colour})", partial(interior, ctx_bg=bg, colour=colour)))
    trims = [Op(f"trim_objects({side},{k})", partial(trim_objects, ctx_bg=bg, side=side, k=k))
             for side in ("left", "right", "top", "bottom") for k in (1, 2, 3)] if ctx.same_shape else []
    return shape_keeping([op for op in candidates if agrees(op.fn, ctx, exact=False)]
                         + [op for op in trims if agrees(op.fn, ctx, exact=True)]
                         + turned_ops([shelter], lambda fn: agrees(fn, ctx, exact=False)))   # shelters drop down
