"""Lines drawn from seed cells across the grid, where the demonstrations agree: `bounce` draws a diagonal line from
each lone cell that reflects off the two walls it meets side-on and ends at the wall it runs into (a ball bouncing
up a corridor); `corner_rays` draws a diagonal line out of the open corner of every three-cell corner shape (an L in
a 2 x 2 box points there); `detour_rays` draws a line from every cell of a colour that steps one cell aside where a
cell blocks its way; `wall_rays` draws a line from every cell of a colour toward the one full line across the grid
(a wall), or away from it to the grid's edge; `crosses` draws the full row and column of every lone cell, their
crossings in a fitted colour; `meet` grows the two cells at the ends of a row or column toward each other, a fitted
colour where they meet; `to_corner` fills the box from every lone cell to the grid corner nearest to it; `stripes`
draws lines across the grid through the grid's two cells and repeats them, colours alternating, at their distance to
the far edge; `band_lines` runs every cell of a colour across the band of rows it lies in; `mark_hits` gives the
first cell of the largest object a marker's row or column meets the marker's colour (projected onto it; 1f642eb9);
`edge_lines` runs a line across the grid from every marker on its edge, through everything in its way, a cell of
its own colour turned to background where it crosses one (ARC-AGI-2 981add89); `pointer_rays` runs a line from
the one odd-coloured cell of a shape through the shape, the way it points, to the edge; `facing_lines` joins two
markers of one colour facing each other across the grid from opposite edges; `colour_rays` draws each colour's rays
along its own fitted directions; `own_wall_rays` runs a line from every cell toward the grid edge lined in its own
colour (5daaa586, after the crop to the fenced panel); `segment_bounce` carries every diagonal segment of a colour on
from each end that is off the grid's edge, reflecting off the cells of a wall colour (the step across the wall
turned back), to the grid's edge (508bd3b6, ARC-AGI-2 7e2bad24: "the ball bounces off the wall"); `bend_rays` draws
a diagonal line out of every bend of a one-cell-wide line of one colour (a cell with one neighbour of its colour
across and one down or up, the cell between them not of it), away from both, in the grid's other colour or its own
(ec883f72: "light leaves the cup's corners"); `region_rays` runs the four diagonals from every marker (a lone cell
most of whose 8 neighbours are of one other colour, its region's) across the grid, each crossed cell of a region colour
taking the colour of that region's markers (d07ae81c: "the beams change colour as they cross into the other area");
`beams` runs the four straight lines from every cell of a colour in a paint colour over the colours the demonstrations
paint over, up to the first cell of any other colour (ARC-AGI-2 6ffe8f07: "the block's beams pass through the red
shapes and stop at the blue ones"); `pour` lets the grid's one lone colour cell fall as water in a fitted direction,
filling the cup it lands in to the top of its walls, or falling on through a gap, to flood the last row (ARC-AGI-2
db7260a4: "the drop fills the cup, or runs through it to the floor").
(Lines between cells and around them live in `lines`; the generic rays in `generic`.)

A variant is offered only where every cell it changes on the train inputs takes the output's colour.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .dsl import Op, TaskContext
from .fitting import added_colours, agrees, shape_keeping
from .grid_loops import draw_rays
from .move import edge_walls, first_seen
from .objects import colour_components, colour_counts, components, grid_background, most_common_colour
from .views import turned_ops

DIAGONALS = {"ur": (-1, 1), "ul": (-1, -1), "dr": (1, 1), "dl": (1, -1)}


def _lone_cells(grid: np.ndarray, bg: int) -> list[tuple[int, int]]:
    """(row, column) of every non-background cell with no non-background 8-neighbour."""
    return [(o.top, o.left) for o in components(grid, bg, "m8") if o.size == 1]


def bounce(grid: np.ndarray, ctx_bg: int, step: tuple[int, int], reflect_cols: bool) -> np.ndarray | None:
    """From every lone cell (no non-background 8-neighbour), a diagonal line in its colour along `step`, over
    background cells: it reflects off the left and right walls and ends at the top or bottom one
    (`reflect_cols`), or reflects off the top and bottom walls and ends at a side one. None without a lone
    cell or where the line could only run straight along a wall (the grid is one cell across)."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    if (w if reflect_cols else h) < 2:
        return None
    seeds = _lone_cells(grid, bg)
    if not seeds:
        return None
    out = grid.copy()
    for r, c in seeds:
        dr, dc = step
        colour = int(grid[r, c])
        while True:
            if reflect_cols and not 0 <= c + dc < w:
                dc = -dc
            if not reflect_cols and not 0 <= r + dr < h:
                dr = -dr
            r, c = r + dr, c + dc
            if not (0 <= r < h and 0 <= c < w):
                break
            if out[r, c] == bg:
                out[r, c] = colour
    return out


def corner_rays(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """From every object (8-neighbour, one colour) of three cells in a 2 x 2 box, a diagonal line in its colour
    over background cells, from beyond its empty corner away from the opposite corner to the grid's edge; None
    without such an object."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    out, found = grid.copy(), False
    for o in components(grid, bg, "c8"):
        if o.size != 3 or o.mask.shape != (2, 2):
            continue
        (mr, mc), = np.argwhere(~o.mask)
        dr, dc = 2 * mr - 1, 2 * mc - 1   # from the opposite corner through the empty one
        r, c = o.top + mr + dr, o.left + mc + dc
        colour = int(o.grid[1 - mr, 1 - mc])
        while 0 <= r < h and 0 <= c < w:
            if out[r, c] == bg:
                out[r, c] = colour
            r, c = r + dr, c + dc
        found = True
    return out if found else None


STEPS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
MAX_DETOURS = 2   # detour_rays variants offered (where a ray is never blocked, all eight agree alike)


def detour_rays(grid: np.ndarray, ctx_bg: int, colour: int, step: tuple[int, int], aside: tuple[int, int]
                ) -> np.ndarray | None:
    """From every cell of `colour`, a line in that colour along `step` over background cells to the grid's
    edge; where the next cell is not background the line first steps one cell `aside` (and stops if that cell
    is not background either). None without a cell of `colour`."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    seeds = np.argwhere(grid == colour)
    if colour == bg or not len(seeds):
        return None
    out = grid.copy()
    for r, c in seeds.tolist():
        while True:
            nr, nc = r + step[0], c + step[1]
            if not (0 <= nr < h and 0 <= nc < w):
                break
            if grid[nr, nc] != bg:
                nr, nc = r + aside[0], c + aside[1]
                if not (0 <= nr < h and 0 <= nc < w) or grid[nr, nc] != bg:
                    break
            out[nr, nc] = colour
            r, c = nr, nc
    return out


def _wall(grid: np.ndarray, bg: int) -> tuple[int, int] | None:
    """(axis, index) of the one row (axis 0) or column (axis 1) filled with one colour other than `bg`, if the
    grid has exactly one such line."""
    rows = [r for r in range(grid.shape[0]) if (grid[r] == grid[r, 0]).all()]
    cols = [c for c in range(grid.shape[1]) if (grid[:, c] == grid[0, c]).all()]
    rows = [r for r in rows if grid[r, 0] != bg]
    cols = [c for c in cols if grid[0, c] != bg]
    if len(rows) + len(cols) != 1:
        return None
    return (0, rows[0]) if rows else (1, cols[0])


def wall_rays(grid: np.ndarray, ctx_bg: int, colour: int, toward: bool) -> np.ndarray | None:
    """From every cell of `colour`, a line in that colour over background cells perpendicular to the wall
    (`_wall`): toward it, stopping at it (`toward`), or away from it to the grid's edge; a line stops at the
    first cell that is not background. None without a wall or a cell of `colour`."""
    bg = grid_background(grid, ctx_bg)
    wall = _wall(grid, bg)
    if wall is None or colour == bg:
        return None
    axis, index = wall
    g = grid if axis == 0 else grid.T
    out = g.copy()
    seeds = np.argwhere(g == colour)
    if not len(seeds):
        return None
    for r, c in seeds.tolist():
        if r == index:
            continue
        step = (1 if r < index else -1) * (1 if toward else -1)
        r += step
        while 0 <= r < g.shape[0] and r != index and g[r, c] == bg:
            out[r, c] = colour
            r += step
    return out if axis == 0 else np.ascontiguousarray(out.T)


def crosses(grid: np.ndarray, ctx_bg: int, colour: int) -> np.ndarray | None:
    """The whole row and column of every lone cell (no non-background 8-neighbour) painted its colour, over
    background cells; where the lines of two cells cross, `colour`. None without lone cells."""
    bg = grid_background(grid, ctx_bg)
    seeds = [(r, c, int(grid[r, c])) for r, c in _lone_cells(grid, bg)]
    if not seeds:
        return None
    count = np.zeros(grid.shape, dtype=np.int64)
    paint = np.full(grid.shape, bg, dtype=np.uint8)
    for r, c, v in seeds:
        line = np.zeros(grid.shape, dtype=bool)
        line[r, :] = line[:, c] = True
        count += line
        paint[line] = v
    out = grid.copy()
    free = grid == bg
    out[free & (count == 1)] = paint[free & (count == 1)]
    out[free & (count > 1)] = colour
    for r, c, v in seeds:            # a seed on another seed's line: a crossing of its own line and that one
        if count[r, c] > 2:
            out[r, c] = colour
    return out


def meet(grid: np.ndarray, ctx_bg: int, colour: int) -> np.ndarray | None:
    """Every row and column whose only two non-background cells are its two end cells: the first half of the
    cells between them painted the first's colour, the second half the second's, the middle cell (an odd gap)
    `colour`. None when no line is like that."""
    bg = grid_background(grid, ctx_bg)
    out, found = grid.copy(), False
    for g, o in ((grid, out), (grid.T, out.T)):
        for r in range(g.shape[0]):
            row = g[r]
            if g.shape[1] < 3 or row[0] == bg or row[-1] == bg or (row[1:-1] != bg).any():
                continue
            n = g.shape[1]
            half = (n - 2) // 2
            o[r, 1:1 + half] = row[0]
            o[r, n - 1 - half:n - 1] = row[-1]
            if (n - 2) % 2:
                o[r, 1 + half] = colour
            found = True
    return out if found else None


def to_corner(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The box from every lone cell (no non-background 8-neighbour) to the grid corner nearest to it (nearer
    on each axis) painted its colour over background cells; None without a lone cell, or where a lone cell lies
    halfway on an axis (no nearer corner)."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    seeds = _lone_cells(grid, bg)
    if not seeds:
        return None
    out = grid.copy()
    for r, c in seeds:
        if 2 * r == h - 1 or 2 * c == w - 1:
            return None
        rows = slice(0, r + 1) if r < h - 1 - r else slice(r, h)
        cols = slice(0, c + 1) if c < w - 1 - c else slice(c, w)
        box = out[rows, cols]
        box[box == bg] = grid[r, c]
    return out


def stripes(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """With exactly two non-background cells: lines across the grid's short side through each of them (the lines
    run down the columns of a wide grid), then again every `distance` lines past the second, the two colours in
    turn, to the grid's far edge; a square grid has no short side (None)."""
    bg = grid_background(grid, ctx_bg)
    cells = np.argwhere(grid != bg)
    h, w = grid.shape
    if len(cells) != 2 or h == w:
        return None
    g = grid if w > h else grid.T           # stripes are columns of g
    cells = np.argwhere(g != bg)
    (ra, a), (rb, b) = sorted(cells.tolist(), key=lambda rc: rc[1])
    if a == b:
        return None
    colours = (int(g[ra, a]), int(g[rb, b]))
    out = g.copy()
    for k, col in enumerate(range(a, g.shape[1], b - a)):
        out[:, col] = colours[k % 2]
    return out if w > h else np.ascontiguousarray(out.T)


def _band_starts(grid: np.ndarray, colour: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(first row, end row) of each horizontal band: a run of rows with one majority colour (over half of each
    row), never `colour`; None with a single band or a row without such a colour."""
    counts = np.array([np.bincount(row, minlength=10) for row in grid])
    majority = counts.argmax(axis=1)
    if (majority == colour).any() or (2 * counts.max(axis=1) <= grid.shape[1]).any():
        return None
    starts = np.flatnonzero(np.r_[True, majority[1:] != majority[:-1]])
    return (starts, np.r_[starts[1:], len(majority)]) if len(starts) > 1 else None


def band_lines(grid: np.ndarray, ctx_bg: int, colour: int) -> np.ndarray | None:
    """The grid read as bands (runs of rows, or else of columns, with one majority colour): every cell of
    `colour` painted straight across the whole of its band (a hole cut through its stripe). None without a cell
    of `colour`, or unless exactly one direction shows bands."""
    rows, cols = _band_starts(grid, colour), _band_starts(grid.T, colour)
    bands = rows if cols is None else cols if rows is None else None
    if bands is None:
        return None
    g = grid if rows is not None else grid.T
    starts, ends = bands
    cells = np.argwhere(g == colour)
    if not len(cells):
        return None
    band = np.repeat(np.arange(len(starts)), ends - starts)
    out = g.copy()
    for r, c in cells.tolist():
        out[starts[band[r]]:ends[band[r]], c] = colour
    return out if rows is not None else np.ascontiguousarray(out.T)


EIGHT = {**STEPS, **DIAGONALS}


def _starts(grid: np.ndarray, bg: int, colour: int, step: tuple[int, int]) -> np.ndarray:
    """The cells of `colour` a ray along `step` leaves from (a mask): every one for a row or column step; for a
    diagonal, the corner of each same-colour object's box that the step points to, where the object has it."""
    if 0 in step:
        return grid == colour
    seeds = np.zeros(grid.shape, dtype=bool)
    for o in colour_components(grid, bg, colour):
        r = o.height - 1 if step[0] > 0 else 0
        c = o.width - 1 if step[1] > 0 else 0
        seeds[o.top + r, o.left + c] = o.mask[r, c]
    return seeds


def _ray(grid: np.ndarray, bg: int, seeds: np.ndarray, step: tuple[int, int], through: bool) -> np.ndarray:
    """The cells (a mask) that rays along `step` from `seeds` paint (`grid_loops.draw_rays`: over background
    cells, up to the first other cell unless `through`, to the edge)."""
    g = np.ascontiguousarray(grid, dtype=np.uint8)
    return draw_rays(g, seeds, np.array([step], dtype=np.int64), bg, through) != g


def colour_rays(grid: np.ndarray, ctx_bg: int, rays: tuple[tuple[int, tuple[int, int]], ...], known: frozenset[int]
                ) -> np.ndarray | None:
    """From every cell of each (colour, step) of `rays`, a line in that colour along the step over the input's
    background up to its first non-background cell or the edge (each colour its own fitted directions; a
    diagonal leaves from an object's corner, see `_starts`). None on a grid with a colour outside `known` (the
    demonstrations' colours): what such a colour does was never shown."""
    if not set(np.unique(grid).tolist()) <= known:
        return None
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    for colour, step in rays:
        out[_ray(grid, bg, _starts(grid, bg, colour, step), step, through=False)] = colour
    return out


def _fit_colour_rays(ctx: TaskContext) -> tuple[tuple[int, tuple[int, int]], ...]:
    """Every (colour, step) whose rays land on the output's cells of that colour in every demonstration, and
    are not empty in all of them (each colour may point its own way: 5c0a986e)."""
    fitted = []
    for colour in ctx.in_colours:
        if colour == ctx.bg:
            continue
        for step in EIGHT.values():
            drawn = False
            for i, o in zip(ctx.train_in, ctx.train_out):
                bg = grid_background(i, ctx.bg)
                cells = _ray(i, bg, _starts(i, bg, colour, step), step, through=False)
                if (o[cells] != colour).any():
                    break
                drawn |= bool(cells.any())
            else:
                if drawn:
                    fitted.append((int(colour), step))
    return tuple(fitted)


def _ray_colours(ctx: TaskContext) -> list[int]:
    """The one colour the outputs add on background cells, when the inputs have it too."""
    added: set[int] = set()
    for i, o in zip(ctx.train_in, ctx.train_out):
        b = grid_background(i, ctx.bg)
        added.update(int(v) for v in np.unique(o[(i == b) & (o != i)]))
    return [c for c in added if all((i == c).any() for i in ctx.train_in)] if len(added) == 1 else []


def mark_hits(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Every cell outside the largest object (8-neighbour, multicolour) looks along its row and column: the
    nearest cell of the largest object it sees over background takes its colour (the cell stays). None without a
    single largest object, without a cell that sees it, or when a cell sees it at two equally near places."""
    bg = grid_background(grid, ctx_bg)
    objs = components(grid, bg, "m8")
    sizes = sorted((o.size for o in objs), reverse=True)
    if len(sizes) < 2 or sizes[0] == sizes[1]:
        return None
    big = next(o for o in objs if o.size == sizes[0])
    solid = np.zeros(grid.shape, bool)
    solid[big.top:big.top + big.height, big.left:big.left + big.width] = big.mask
    out = grid.copy()
    marked = False
    for r, c in zip(*np.nonzero((grid != bg) & ~solid)):
        hits = [(d, y, x) for d, y, x, _, _ in first_seen(grid, bg, int(r), int(c)) if solid[y, x]]
        if not hits:
            continue
        if len(hits) > 1 and hits[0][0] == hits[1][0]:
            return None
        out[hits[0][1], hits[0][2]] = grid[r, c]
        marked = True
    return out if marked else None


def edge_lines(grid: np.ndarray) -> np.ndarray | None:
    """From every marker on the grid's edge (a coloured edge cell with background beside it along the edge) a
    line of its colour straight across the grid; where the line crosses a cell of its own colour that cell turns
    background. None without a marker. The grid's own most common colour is its background (981add89's differ)."""
    bg = most_common_colour(grid)
    h, w = grid.shape
    if h < 3 or w < 3:
        return None
    out = grid.copy()
    found = False
    for r, c in zip(*np.nonzero(grid != bg)):
        r, c = int(r), int(c)
        steps = [(dy, dx) for dy, dx, edge in ((1, 0, r == 0), (-1, 0, r == h - 1), (0, 1, c == 0), (0, -1, c == w - 1))
                 if edge]
        if len(steps) != 1:
            continue   # a corner cell
        along = (grid[r, max(c - 1, 0):c + 2] if steps[0][1] == 0 else grid[max(r - 1, 0):r + 2, c])
        if (along != bg).sum() != 1:
            continue   # part of a block along the edge
        found = True
        colour = grid[r, c]
        line = np.s_[1:, c] if steps[0] == (1, 0) else np.s_[:-1, c] if steps[0] == (-1, 0) else \
            np.s_[r, 1:] if steps[0] == (0, 1) else np.s_[r, :-1]
        cells = grid[line]
        out[line] = np.where(cells == colour, bg, colour)
    return out if found else None


def pointer_rays(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Every shape holding one cell of another colour (a marker) points away from it: a line of the marker's
    colour runs from the marker toward the shape's centre (the nearer of the eight directions) and on to the edge,
    over the background only. None without such a shape, or where the centre lies on the marker."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    found = False
    for o in components(grid, bg, "m8"):
        colours, counts = np.unique(o.grid[o.mask], return_counts=True)
        if len(colours) != 2 or counts.min() != 1 or counts.max() < 2:
            continue
        marker = colours[np.argmin(counts)]
        (mr, mc), = np.argwhere(o.mask & (o.grid == marker))
        rows, cols = np.nonzero(o.mask & (o.grid != marker))
        dr, dc = rows.mean() - mr, cols.mean() - mc
        if max(abs(dr), abs(dc)) < 0.5:
            return None
        step = (int(np.sign(dr)) if abs(dr) >= abs(dc) / 2 else 0, int(np.sign(dc)) if abs(dc) >= abs(dr) / 2 else 0)
        seed = np.zeros(grid.shape, dtype=bool)
        seed[o.top + int(mr), o.left + int(mc)] = True
        out[_ray(grid, bg, seed, step, through=True)] = marker
        found = True
    return out if found else None


def facing_lines(grid: np.ndarray, ctx_bg: int, only: bool) -> np.ndarray | None:
    """A line across every row (column) whose two edge cells share a colour that lies only on the grid's edge
    (markers, not shapes), in that colour, through everything in its way; on the input, or (`only`) on a blank
    grid. None without such a pair."""
    bg = grid_background(grid, ctx_bg)
    if grid.shape[0] < 3 or grid.shape[1] < 3:
        return None
    inner = set(np.unique(grid[1:-1, 1:-1]).tolist())
    markers = np.array([c != bg and c not in inner for c in range(10)])
    rows = np.flatnonzero((grid[:, 0] == grid[:, -1]) & markers[grid[:, 0]])
    cols = np.flatnonzero((grid[0] == grid[-1]) & markers[grid[0]])
    if not (len(rows) or len(cols)):
        return None
    out = np.full_like(grid, bg) if only else grid.copy()
    for r in rows:
        out[r] = grid[r, 0]
    for c in cols:
        out[:, c] = grid[0, c]
    return out


def own_wall_rays(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """From every cell (off the edges) whose colour lines one grid edge (`move.edge_walls`), a line in its colour
    toward that edge over the background, up to the first other cell. None without such a cell."""
    bg = grid_background(grid, ctx_bg)
    walls = edge_walls(grid, bg)
    h, w = grid.shape
    out, drawn = grid.copy(), False
    for colour, (dy, dx, _) in walls.items():
        for r, c in np.argwhere(grid[1:-1, 1:-1] == colour) + 1:
            r, c = r + dy, c + dx
            while 0 < r < h - 1 and 0 < c < w - 1 and grid[r, c] == bg:
                out[r, c], drawn = colour, True
                r, c = r + dy, c + dx
    return out if drawn else None


def _segment_ends(grid: np.ndarray, colour: int, bg: int) -> list[tuple[int, int, int, int]]:
    """(row, column, step) of every end of each diagonal segment (8-neighbour object of `colour`, two or more cells
    on one diagonal line) that lies off the grid's edge, the step leading away from the segment."""
    h, w = grid.shape
    ends = []
    for o in colour_components(grid, bg, colour):
        cells = np.argwhere(o.mask) + (o.top, o.left)
        if len(cells) < 2 or len(cells) != max(o.height, o.width) or o.height != o.width:
            continue
        dr, dc = 1, (1 if o.mask[0, 0] else -1)
        first, last = (o.top, o.left if dc == 1 else o.left + o.width - 1), \
            (o.top + o.height - 1, o.left + o.width - 1 if dc == 1 else o.left)
        for (r, c), (sr, sc) in ((first, (-dr, -dc)), (last, (dr, dc))):
            if 0 < r < h - 1 and 0 < c < w - 1:
                ends.append((r, c, sr, sc))
    return ends


def segment_bounce(grid: np.ndarray, ctx_bg: int, colour: int, wall: int, paint: int, over: bool
                   ) -> np.ndarray | None:
    """From each free end of every diagonal segment of `colour` (`_segment_ends`), a diagonal line in `paint` along
    the segment's way; at a cell of `wall` it turns back the step that crosses the wall (the row step where the
    cell beside it in that direction is wall, the column step likewise, both at a corner) and goes on; other cells
    are painted over (`over`) or end the line; it ends at the grid's edge. None without a free end."""
    bg = grid_background(grid, ctx_bg)
    if wall in (bg, colour):
        return None
    ends = _segment_ends(grid, colour, bg)
    if not ends:
        return None
    h, w = grid.shape
    out = grid.copy()
    inside = lambda r, c: 0 <= r < h and 0 <= c < w   # noqa: E731
    for r, c, dr, dc in ends:
        for _ in range(4 * (h + w)):   # a line may run back and forth between walls: bounded
            nr, nc = r + dr, c + dc
            if not inside(nr, nc):
                break
            if grid[nr, nc] == wall:
                across_cols = inside(r, nc) and grid[r, nc] == wall
                across_rows = inside(nr, c) and grid[nr, c] == wall
                if across_cols == across_rows:
                    dr, dc = -dr, -dc
                elif across_cols:
                    dc = -dc
                else:
                    dr = -dr
                continue
            if grid[nr, nc] != bg and not over:
                break
            out[nr, nc] = paint
            r, c = nr, nc
    return out


def _bends(grid: np.ndarray, colour: int) -> list[tuple[int, int, int, int]]:
    """(row, column, step) of every bend of `colour`'s lines (`bend_rays`), the step leading away from both
    neighbours."""
    h, w = grid.shape
    own = np.pad(grid == colour, 1)
    bends = []
    for r, c in np.argwhere(grid == colour).tolist():
        pr, pc = r + 1, c + 1
        across = [d for d in (-1, 1) if own[pr, pc + d]]
        updown = [d for d in (-1, 1) if own[pr + d, pc]]
        if len(across) == 1 and len(updown) == 1 and not own[pr + updown[0], pc + across[0]]:
            bends.append((r, c, -updown[0], -across[0]))
    return bends


def bend_rays(grid: np.ndarray, ctx_bg: int, other: bool) -> np.ndarray | None:
    """From every bend (`_bends`) of the one colour that has bends, a diagonal line over background cells to the
    grid's edge, in the grid's one other colour (`other`) or the bend's own. None unless the grid has two colours
    besides the background, exactly one of them with bends."""
    bg = grid_background(grid, ctx_bg)
    colours = [int(c) for c in np.unique(grid) if c != bg]
    if len(colours) != 2:
        return None
    found = [(c, b) for c in colours if (b := _bends(grid, c))]
    if len(found) != 1:
        return None
    colour, bends = found[0]
    paint = colours[1] if colours[0] == colour else colours[0]
    paint = paint if other else colour
    h, w = grid.shape
    out = grid.copy()
    for r, c, dr, dc in bends:
        r, c = r + dr, c + dc
        while 0 <= r < h and 0 <= c < w:
            if grid[r, c] == bg:
                out[r, c] = paint
            r, c = r + dr, c + dc
    return out


def _region_markers(grid: np.ndarray) -> tuple[list[tuple[int, int]], dict[int, int]] | None:
    """The markers (cells with no 8-neighbour of their colour, most of whose 8 neighbours inside the grid are of one
    colour, their region's) and the map region colour -> its markers' colour; None without a marker, where one
    region's markers differ in colour or a marker colour is a region colour too."""
    h, w = grid.shape
    p = np.pad(grid.astype(np.int16), 1, constant_values=-1)
    around = np.stack([p[1 + dr:1 + dr + h, 1 + dc:1 + dc + w] for dr in (-1, 0, 1) for dc in (-1, 0, 1)
                       if dr or dc])
    lone = ~(around == grid).any(axis=0)
    colour_of: dict[int, int] = {}
    cells = []
    for r, c in np.argwhere(lone).tolist():
        near = around[:, r, c]
        near = near[near >= 0]
        counts = np.bincount(near, minlength=10)
        region = int(counts.argmax())
        if 2 * counts[region] <= len(near):
            continue
        if colour_of.setdefault(region, int(grid[r, c])) != grid[r, c]:
            return None
        cells.append((r, c))
    if not cells or set(colour_of) & set(colour_of.values()):
        return None
    return cells, colour_of


def region_rays(grid: np.ndarray) -> np.ndarray | None:
    """The four diagonals from every marker (`_region_markers`) to the grid's edge, each crossed cell of a region
    colour painted its markers' colour (other cells kept). None without markers."""
    found = _region_markers(grid)
    if found is None:
        return None
    cells, colour_of = found
    lut = np.arange(10, dtype=grid.dtype)
    for region, marker in colour_of.items():
        lut[region] = marker
    h, w = grid.shape
    out = grid.copy()
    for r0, c0 in cells:
        for dr, dc in DIAGONALS.values():
            r, c = r0 + dr, c0 + dc
            while 0 <= r < h and 0 <= c < w:
                out[r, c] = lut[grid[r, c]]
                r, c = r + dr, c + dc
    return out


def beams(grid: np.ndarray, colour: int, paint: int, over: frozenset) -> np.ndarray | None:
    """From every cell of `colour`, the four straight lines to the grid's edge in `paint` over cells whose colour is
    in `over`, each ending at the first cell of another colour (not `colour`). None without a cell of `colour`."""
    src = grid == colour
    if not src.any():
        return None
    passable = np.isin(grid, list(over))
    out = grid.copy()
    for turns in range(4):   # each direction as "rightward" in a turned frame
        s, p = np.rot90(src, turns), np.rot90(passable, turns)
        lit = np.zeros_like(s)
        for c in range(1, s.shape[1]):
            lit[:, c] = (s[:, c - 1] | lit[:, c - 1]) & p[:, c]
        out[np.rot90(lit, -turns)] = paint
    return out


def _in_every_input(ctx: TaskContext) -> list[int]:
    """The colours (the background too) that every train input holds."""
    return [c for c in ctx.in_colours if all((i == c).any() for i in ctx.train_in)]


def _beam_ops(ctx: TaskContext, added: list[int]) -> list[Op]:
    """`beams` from a colour every train input has, in the one added colour, over the colours the outputs paint
    over: offered where it reproduces every train output."""
    if len(added) != 1:
        return []
    paint = added[0]
    over = frozenset(int(c) for i, o in zip(ctx.train_in, ctx.train_out) for c in np.unique(i[(o == paint) & (i != o)]))
    found = []
    for colour in _in_every_input(ctx):
        if colour in over or colour == paint:
            continue
        op = Op(f"beams({colour},{paint})", partial(beams, colour=colour, paint=paint, over=over))
        if agrees(op.fn, ctx, exact=True):
            found.append(op)
    return found[:1]


def _segment_bounce_ops(ctx: TaskContext, added: list[int]) -> list[Op]:
    """`segment_bounce` variants (segment colour: one every train input has; wall colour: any other; paint: the
    segment's own or an added colour; over) that reproduce every train output; the first only."""
    bg = ctx.bg
    for colour in [c for c in _in_every_input(ctx) if c != bg]:
        for wall in ctx.in_colours:
            if wall in (bg, colour):
                continue
            for paint in [colour] + [c for c in added if c != colour]:
                for over in (False, True):
                    op = Op(f"segment_bounce({colour},{wall},{paint},{'over' if over else 'stop'})",
                            partial(segment_bounce, ctx_bg=bg, colour=colour, wall=wall, paint=paint, over=over))
                    if agrees(op.fn, ctx, exact=True):
                        return [op]
    return []


POUR_TURNS = {"down": 0, "left": 1, "up": 2, "right": 3}   # np.rot90 turns that make the flow run down


def _run(row: np.ndarray, x: int) -> tuple[int, int]:
    """The run of False cells of `row` around column x: (first, last)."""
    a, b = x, x
    while a > 0 and not row[a - 1]:
        a -= 1
    while b < len(row) - 1 and not row[b + 1]:
        b += 1
    return a, b


def _pour_down(solid: np.ndarray, r: int, c: int) -> np.ndarray:
    """The cells water poured at (r, c) comes to rest in, falling down: a stream falls until something is under it;
    on it the water spreads along its row; where the row is walled on both sides and everything under it holds, it
    fills the row and rises row by row while the rows above stay walled; where a cell under it is open the water falls
    from there; a stream that reaches the last row floods that row's run; water that runs off a side is lost."""
    h, _ = solid.shape
    water = np.zeros(solid.shape, bool)
    sources, seen = [(r, c)], set()
    while sources:
        r, c = sources.pop()
        if (r, c) in seen:
            continue
        seen.add((r, c))
        while r + 1 < h and not solid[r + 1, c]:
            r += 1
        if r == h - 1:                                   # the floor: the water spreads along it
            a, b = _run(solid[r] | water[r], c)
            water[r, a:b + 1] = True
            continue
        runs = [_run(solid[r] | water[r], c)]
        level = r
        while level >= 0:
            walled = all(a > 0 and b < solid.shape[1] - 1 for a, b in runs)
            if level < r and not walled:
                break                                    # full to the top of its walls: no more rises
            under = solid[level + 1] | water[level + 1]
            holes = [(level, x) for a, b in runs for x in range(a, b + 1) if not under[x]]
            if holes:
                sources += holes
                break
            if not walled:
                break                                    # it runs off a side
            for a, b in runs:
                water[level, a:b + 1] = True
            level -= 1
            if level < 0:
                break
            above = solid[level] | water[level]
            runs = sorted({_run(above, x) for a, b in runs for x in range(a, b + 1) if not above[x]})
            if not runs:
                break
    return water


def pour(grid: np.ndarray, ctx_bg: int, direction: str) -> np.ndarray | None:
    """The grid's one lone colour cell (the only cell of its colour) poured out in `direction`: the cells the water
    comes to rest in (`_pour_down`, in that frame) take its colour and the cell itself turns to background (ARC-AGI-2
    db7260a4: "the drop falls into the cup and fills it, or through it to the floor"). None without one such cell, or
    where the water comes to rest nowhere."""
    bg = grid_background(grid, ctx_bg)
    lone = np.flatnonzero(colour_counts(grid, bg) == 1)
    if len(lone) != 1:
        return None
    turns = POUR_TURNS[direction]
    turned = np.rot90(grid, turns)
    colour = int(lone[0])
    r, c = (int(v) for v in np.argwhere(turned == colour)[0])
    solid = turned != bg
    solid[r, c] = False
    water = _pour_down(solid, r, c)
    if not water.any():
        return None
    out = turned.copy()
    out[r, c] = bg
    out[water] = colour
    return np.ascontiguousarray(np.rot90(out, -turns))


def ops(ctx: TaskContext) -> list[Op]:
    """Ray variants that agree with the train outputs (same-shape tasks only)."""
    if not ctx.same_shape:
        return []
    bg = ctx.bg
    added = sorted(added_colours(ctx, enclosed_only=False))
    candidates = []
    for name, step in DIAGONALS.items():
        for reflect_cols in (True, False):
            candidates.append(Op(f"bounce({name},{'cols' if reflect_cols else 'rows'})",
                                 partial(bounce, ctx_bg=bg, step=step, reflect_cols=reflect_cols)))
    candidates.append(Op("corner_rays", partial(corner_rays, ctx_bg=bg)))
    candidates += [Op(f"bend_rays({'other' if other else 'own'})", partial(bend_rays, ctx_bg=bg, other=other))
                   for other in (True, False)]
    candidates.append(Op("to_corner", partial(to_corner, ctx_bg=bg)))
    stripes_op = Op("stripes", partial(stripes, ctx_bg=bg))
    candidates.append(stripes_op)
    candidates.append(Op("mark_hits", partial(mark_hits, ctx_bg=bg)))
    candidates.append(Op("edge_lines", edge_lines))
    candidates.append(Op("region_rays", region_rays))
    candidates.append(Op("pointer_rays", partial(pointer_rays, ctx_bg=bg)))
    candidates.append(Op("own_wall_rays", partial(own_wall_rays, ctx_bg=bg)))
    candidates += [Op(f"facing_lines({'only' if only else 'over'})", partial(facing_lines, ctx_bg=bg, only=only))
                   for only in (False, True)]
    candidates += [Op(f"band_lines({c})", partial(band_lines, ctx_bg=bg, colour=c)) for c in ctx.in_colours]
    candidates += [Op(f"pour({name})", partial(pour, ctx_bg=bg, direction=name)) for name in POUR_TURNS]
    new = [c for c in added if not any((i == c).any() for i in ctx.train_in)]
    if len(new) == 1:   # the colour of the crossings or of the meeting point: one the inputs never have
        candidates.append(Op(f"crosses({new[0]})", partial(crosses, ctx_bg=bg, colour=new[0])))
        candidates.append(Op(f"meet({new[0]})", partial(meet, ctx_bg=bg, colour=new[0])))
    candidates += [Op(f"wall_rays({colour},{'toward' if toward else 'away'})",
                      partial(wall_rays, ctx_bg=bg, colour=colour, toward=toward))
                   for colour in ctx.in_colours if colour != bg for toward in (True, False)]
    detours = [Op(f"detour_rays({colour},{name},{side})",
                  partial(detour_rays, ctx_bg=bg, colour=colour, step=step, aside=aside))
               for colour in _ray_colours(ctx) for name, step in STEPS.items() for side, aside in STEPS.items()
               if aside[0] * step[0] + aside[1] * step[1] == 0]   # steps aside: perpendicular only
    rays = _fit_colour_rays(ctx)
    if len({colour for colour, _ in rays}) >= 2:   # one colour alone: the generic rays draw it
        known = frozenset(int(c) for i in ctx.train_in for c in np.unique(i))   # the train inputs' colours
        candidates.append(Op("colour_rays", partial(colour_rays, ctx_bg=bg, rays=rays, known=known)))
    kept = [op for op in candidates if agrees(op.fn, ctx, exact=False)]
    kept += _segment_bounce_ops(ctx, added) + _beam_ops(ctx, added)
    kept += turned_ops([stripes_op], lambda fn: agrees(fn, ctx, exact=False))   # stripes run one way
    kept += [op for op in detours if agrees(op.fn, ctx, exact=False)][:MAX_DETOURS]   # checked once, here
    return shape_keeping(kept)
