"""Generic pieces for the stacker: a fixed set of image functions that nothing gates or fits (keep or erase a colour,
invert, rays in 15 direction sets, halos (8-neighbour, side, corner), connections between same-coloured cells (along
rows, columns and diagonals), lines from cells to the first cell of a colour they are aligned with, enclosed fills,
colour floods, patterns repeated with their own period or continued past their end, lines continued from their ends,
gravity, one-cell shifts, edges, corners, shapes' boxes, flips; filters: every other cell of a run, every 2nd or 3rd row
or column, the middle row or column, the largest or smallest shapes, the lone cells, the rarest colour, the box of a
colour's cells, the cells touching a colour; rotations and transposes where every input is square), composed up to DEPTH
over the inputs, each result also recoloured to every colour of every train output (all non-background cells to one
colour). Where the outputs' shapes differ from the inputs', the start values are the input brought to the output's shape
(the true one on the demonstrations, the one `sizes.predict` gives from the inputs' shapes on the test inputs): embedded
at a corner or the centre, tiled, scaled up, mirror-tiled (edge lines repeated or shared), cropped to its content and
embedded, or with its edge lines continued outward; they count as one function. A composition whose train values are the
train outputs is a solution; any other whose train values have the outputs' shapes is a piece for the stacker
(stack.py), which decides which one paints which cells (an answer like "the input, then rays of colour 5, then the halo
in colour 2" is three pieces). The same functions run on every demonstration and test input, so a piece is one program.

Cost: one per function, one for the recolouring. The pieces are added after the engine's own (ties in the
stacker's cheapest-pieces cut keep the engine's).
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Optional

import numpy as np

from ..budget import Budget
from . import postpass, sizes
from .dsl import TaskContext, value_key
from .geometry import crop_non_bg
from .grid_loops import (
    alternate_along,
    beside,
    border_reach,
    connect_along,
    connect_runs,
    enclosed,
    gravity_down,
    label_components,
    pad1,
    reach_colour,
    smear,
    spread_colours,
)
from .objects import colour_counts
from .solutions import Verifier

DEPTH = 2            # functions composed per piece
MARK = 1             # the colour invert and halo paint before recolouring (the recolouring gives the others)

Fn = Callable[[np.ndarray, int], Optional[np.ndarray]]

_R, _L, _D, _U = (0, 1), (0, -1), (1, 0), (-1, 0)
_X, _Y, _Z, _W = (1, 1), (-1, -1), (-1, 1), (1, -1)
RAYS = {"right": [_R], "left": [_L], "down": [_D], "up": [_U], "h": [_R, _L], "v": [_D, _U],
        "hv": [_R, _L, _D, _U], "dr": [_X], "ul": [_Y], "ur": [_Z], "dl": [_W], "diag": [_X, _Y],
        "anti": [_Z, _W], "diags": [_X, _Y, _Z, _W], "all": [_R, _L, _D, _U, _X, _Y, _Z, _W]}


def _keep(grid: np.ndarray, bg: int, colour: int) -> np.ndarray:
    return np.where(grid == colour, grid, np.uint8(bg))


def _erase(grid: np.ndarray, bg: int, colour: int) -> np.ndarray:
    return np.where(grid == colour, np.uint8(bg), grid)


def _invert(grid: np.ndarray, bg: int) -> np.ndarray:
    return np.where(grid == bg, np.uint8(MARK if bg != MARK else 0), np.uint8(bg))


def _rays(grid: np.ndarray, bg: int, dirs: np.ndarray) -> np.ndarray:
    return smear(grid, bg, dirs)


def _halo(grid: np.ndarray, bg: int, near_by: str = "") -> np.ndarray:
    """The background cells with a non-background neighbour (8-neighbour; "4": side; "diag": corner), in MARK
    (or 0); every other cell background."""
    near = beside(grid != bg, near_by)
    out = np.full(grid.shape, bg, dtype=np.uint8)
    out[near & (grid == bg)] = MARK if bg != MARK else 0
    return out


def _connect(grid: np.ndarray, bg: int, rows: bool, cols: bool) -> np.ndarray:
    """Only the background runs between two consecutive same-coloured cells, in their colour."""
    out = connect_runs(grid, bg, -1, rows, cols)
    out[grid != bg] = bg
    return out


def _majority(grid: np.ndarray, bg: int) -> Optional[int]:
    counts = colour_counts(grid, bg)
    return int(np.argmax(counts)) if counts.any() else None


def _fill(grid: np.ndarray, bg: int) -> Optional[np.ndarray]:
    """The shapes and the background they enclose (not reached from the border), in the majority colour."""
    colour = _majority(grid, bg)
    if colour is None:
        return None
    out = np.full(grid.shape, colour, dtype=np.uint8)
    out[border_reach(grid, bg)] = bg
    return out


def _interior(grid: np.ndarray, bg: int) -> Optional[np.ndarray]:
    """Only the enclosed background cells, in the majority colour."""
    colour = _majority(grid, bg)
    if colour is None:
        return None
    out = np.full(grid.shape, bg, dtype=np.uint8)
    out[enclosed(grid, bg)] = colour
    return out


def _spread(grid: np.ndarray, bg: int, skip_majority: bool) -> Optional[np.ndarray]:
    skip = _majority(grid, bg) if skip_majority else -1
    return spread_colours(grid, bg, -1 if skip is None else skip)


def _repeat_block(grid: np.ndarray, bg: int, axis: int) -> Optional[np.ndarray]:
    """The content's rows (axis 0) or columns (axis 1) repeated over the whole grid with the period of its
    bounding box, aligned with it (a pattern continued)."""
    lines = np.flatnonzero((grid != bg).any(axis=1 - axis))
    if not len(lines):
        return None
    a, period = int(lines[0]), int(lines[-1] - lines[0] + 1)
    index = a + (np.arange(grid.shape[axis]) - a) % period
    return np.ascontiguousarray(grid[index] if axis == 0 else grid[:, index])


def _continue(grid: np.ndarray, bg: int, axis: int, backward: bool = False) -> Optional[np.ndarray]:
    """The lines after the last coloured row (axis 0) or column (axis 1) filled by continuing the lines before
    it with their smallest period (the known lines equal to themselves shifted by it): a pattern drawn on part of
    the grid continued to the end (`backward`: to the start); None when the content reaches that end already."""
    if backward:
        flipped = _continue(np.ascontiguousarray(np.flip(grid, axis)), bg, axis)
        return None if flipped is None else np.ascontiguousarray(np.flip(flipped, axis))
    view = grid if axis == 0 else grid.T
    lines = np.flatnonzero((view != bg).any(axis=1))
    if not len(lines) or lines[-1] == view.shape[0] - 1:
        return None
    known = int(lines[-1]) + 1
    period = next(p for p in range(1, known + 1) if np.array_equal(view[p:known], view[:known - p]))
    out = view[np.arange(view.shape[0]) % period]
    return np.ascontiguousarray(out if axis == 0 else out.T)


def _repeat_lines(grid: np.ndarray, bg: int, axis: int) -> np.ndarray:
    """Every row (axis 1) or column (axis 0) with two or more coloured cells repeated along itself with the
    period of its span, aligned with it."""
    view = grid if axis == 1 else grid.T
    out = view.copy()
    positions = np.arange(view.shape[1])
    for r in range(view.shape[0]):
        cells = np.flatnonzero(view[r] != bg)
        if len(cells) >= 2:
            a = int(cells[0])
            out[r] = view[r, a + (positions - a) % int(cells[-1] - a + 1)]
    return np.ascontiguousarray(out if axis == 1 else out.T)


def _gravity(grid: np.ndarray, bg: int, turns: int) -> np.ndarray:
    """Every coloured cell fallen to one side of its line (turns: quarter turns that bring that side down)."""
    return np.ascontiguousarray(np.rot90(gravity_down(np.ascontiguousarray(np.rot90(grid, turns)), bg), -turns))


def _shift(grid: np.ndarray, bg: int, dy: int, dx: int) -> np.ndarray:
    """The grid moved one cell (cells pushed out are lost, the ones uncovered are background)."""
    out = np.full(grid.shape, bg, dtype=np.uint8)
    h, w = grid.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = grid[max(-dy, 0):h - max(dy, 0),
                                                                      max(-dx, 0):w - max(dx, 0)]
    return out


def _outline(grid: np.ndarray, bg: int) -> np.ndarray:
    """Only the coloured cells with a background (or outside) 4-neighbour: the shapes' edges."""
    inside = pad1(grid != bg)
    core = inside[1:-1, 1:-1] & inside[:-2, 1:-1] & inside[2:, 1:-1] & inside[1:-1, :-2] & inside[1:-1, 2:]
    return np.where(core, np.uint8(bg), grid)


def _corners(grid: np.ndarray, bg: int) -> np.ndarray:
    """Only the coloured cells with a background (or outside) neighbour above or below and one left or right:
    the shapes' corners."""
    out_ = ~pad1(grid != bg)
    corner = (out_[:-2, 1:-1] | out_[2:, 1:-1]) & (out_[1:-1, :-2] | out_[1:-1, 2:])
    return np.where(corner, grid, np.uint8(bg))


def _inside(grid: np.ndarray, bg: int, colour: int) -> Optional[np.ndarray]:
    """Only the cells inside the bounding box of the cells of `colour` (the region it marks)."""
    rows, cols = np.nonzero(grid == colour)
    if not len(rows):
        return None
    out = np.full(grid.shape, bg, dtype=np.uint8)
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    out[box] = grid[box]
    return out


def _touching(grid: np.ndarray, bg: int, colour: int) -> Optional[np.ndarray]:
    """Only the cells of other colours (not background) with a side neighbour of `colour`: what touches it."""
    keep = beside(grid == colour, "4") & (grid != colour) & (grid != bg)
    return np.where(keep, grid, np.uint8(bg)) if keep.any() else None


def _boxes(grid: np.ndarray, bg: int) -> np.ndarray:
    """The background cells inside a shape's bounding box (8-neighbour shapes of any colours), in MARK (or
    0); every other cell background."""
    labels, n = label_components(grid, bg, True, True)
    out = np.full(grid.shape, bg, dtype=np.uint8)
    for k in range(1, n + 1):
        rows, cols = np.nonzero(labels == k)
        box = out[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        box[grid[rows.min():rows.max() + 1, cols.min():cols.max() + 1] == bg] = MARK if bg != MARK else 0
    return out


def _coloured_neighbours(fg: np.ndarray) -> np.ndarray:
    """For every cell, how many of its 8 neighbours are in `fg`."""
    h, w = fg.shape
    padded = pad1(fg)
    count = np.zeros((h, w), dtype=np.int8)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                count += padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    return count


def _extend(grid: np.ndarray, bg: int) -> np.ndarray:
    """Lines continued: from each coloured cell with exactly one coloured 8-neighbour, its colour painted onward
    (away from that neighbour) over background cells until a coloured cell or the border."""
    fg = grid != bg
    h, w = grid.shape
    out = grid.copy()
    for r, c in zip(*np.nonzero(fg & (_coloured_neighbours(fg) == 1))):
        dy, dx = next((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                      if (dy or dx) and 0 <= r - dy < h and 0 <= c - dx < w and fg[r - dy, c - dx])
        y, x = r + dy, c + dx
        while 0 <= y < h and 0 <= x < w and grid[y, x] == bg:
            out[y, x] = grid[r, c]
            y, x = y + dy, x + dx
    return out


def _colour_boxes(grid: np.ndarray, bg: int) -> np.ndarray:
    """Each colour's bounding box (of all its cells) filled with it where the grid is background, the smaller
    boxes on top."""
    boxes = []
    for c in np.unique(grid):
        if c != bg:
            rows, cols = np.nonzero(grid == c)
            r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
            boxes.append(((r1 - r0) * (c1 - c0), int(c), r0, r1, c0, c1))
    out = grid.copy()
    for _, c, r0, r1, c0, c1 in sorted(boxes):
        box = out[r0:r1, c0:c1]
        box[box == bg] = c
    return out


def _by_size(grid: np.ndarray, bg: int, largest: bool) -> Optional[np.ndarray]:
    """Only the largest (or smallest) shapes by cell count (8-neighbour, any colours; every one tied with it);
    None when all shapes are one size."""
    labels, n = label_components(grid, bg, True, True)
    if n < 2:
        return None
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    best = sizes.max() if largest else sizes.min()
    if (sizes == best).all():
        return None
    keep = np.zeros(n + 1, dtype=bool)
    keep[1:] = sizes == best
    return np.where(keep[labels], grid, np.uint8(bg))


def _singles(grid: np.ndarray, bg: int, keep: bool) -> np.ndarray:
    """Only (keep) or all but (not keep) the coloured cells with no coloured 8-neighbour: the lone cells."""
    fg = grid != bg
    lone = fg & (_coloured_neighbours(fg) == 0)
    return np.where(lone if keep else ~lone, grid, np.uint8(bg))


def _rarest(grid: np.ndarray, bg: int) -> Optional[np.ndarray]:
    """Only the cells of the colour with the fewest cells (None on a tie: no odd one out)."""
    counts = colour_counts(grid, bg)
    present = np.flatnonzero(counts)
    if len(present) < 2:
        return None
    low = counts[present].min()
    if (counts[present] == low).sum() > 1:
        return None
    return _keep(grid, bg, int(present[np.argmin(counts[present])]))


def _lattice(grid: np.ndarray, bg: int, axis: int, period: int, phase: int, from_end: bool) -> np.ndarray:
    """Only the cells in every `period`-th row (axis 0) or column (axis 1), starting at `phase` from the top or
    left edge (from the bottom or right edge with `from_end`)."""
    n = grid.shape[axis]
    index = np.arange(n)
    on = ((n - 1 - index) if from_end else index) % period == phase
    mask = on[:, None] if axis == 0 else on[None, :]
    return np.where(mask, grid, np.uint8(bg))


def _centre_line(grid: np.ndarray, bg: int, axis: int) -> Optional[np.ndarray]:
    """Only the middle row (axis 0) or column (axis 1); None where there are two middles."""
    n = grid.shape[axis]
    if n % 2 == 0:
        return None
    out = np.full(grid.shape, bg, dtype=np.uint8)
    if axis == 0:
        out[n // 2] = grid[n // 2]
    else:
        out[:, n // 2] = grid[:, n // 2]
    return out


_TURNS: list[tuple[str, Fn]] = [   # the dihedral maps that swap the sides of a non-square grid
    ("transpose", lambda g, bg: np.ascontiguousarray(g.T)),
    ("anti_transpose", lambda g, bg: np.ascontiguousarray(g[::-1, ::-1].T)),
    ("rot90", lambda g, bg: np.ascontiguousarray(np.rot90(g, -1))),
    ("rot270", lambda g, bg: np.ascontiguousarray(np.rot90(g, 1)))]


def functions(ctx: TaskContext) -> list[tuple[str, Fn]]:
    """The generic functions of this task (the colour filters take the colours of its inputs)."""
    out: list[tuple[str, Fn]] = []
    for c in ctx.in_colours:
        if c != ctx.bg:
            out.append((f"keep({c})", partial(_keep, colour=c)))
            out.append((f"erase({c})", partial(_erase, colour=c)))
            out.append((f"reach({c})", partial(reach_colour, target=c)))
            out.append((f"inside({c})", partial(_inside, colour=c)))
            out.append((f"touching({c})", partial(_touching, colour=c)))
    out.append(("invert", _invert))
    for name, dirs in RAYS.items():
        out.append((f"rays({name})", partial(_rays, dirs=np.array(dirs, dtype=np.int64))))
    out += [("halo", _halo), ("halo4", partial(_halo, near_by="4")), ("halo_diag", partial(_halo, near_by="diag"))]
    for name, rows, cols in (("h", True, False), ("v", False, True), ("hv", True, True)):
        out.append((f"runs({name})", partial(_connect, rows=rows, cols=cols)))
    for name, (dy, dx) in (("diag", _X), ("anti", _Z)):
        out.append((f"runs({name})", partial(connect_along, dy=dy, dx=dx)))
    for name, (dy, dx) in (("h", _R), ("v", _D), ("diag", _X), ("anti", _Z), ("h,end", _L), ("v,end", _U),
                           ("diag,end", _Y), ("anti,end", _W)):   # each run counted from either end
        out.append((f"alternate({name})", partial(alternate_along, dy=dy, dx=dx)))
    out += [("largest", partial(_by_size, largest=True)), ("smallest", partial(_by_size, largest=False)),
            ("singles", partial(_singles, keep=True)), ("no_singles", partial(_singles, keep=False)),
            ("rarest", _rarest), ("centre_row", partial(_centre_line, axis=0)),
            ("centre_col", partial(_centre_line, axis=1))]
    for axis, line in ((0, "rows"), (1, "cols")):
        for period, phase, from_end in ((2, 0, False), (2, 1, False), (2, 0, True), (2, 1, True), (3, 0, False),
                                        (3, 0, True)):
            end = ",end" if from_end else ""
            out.append((f"{line}({period},{phase}{end})",
                        partial(_lattice, axis=axis, period=period, phase=phase, from_end=from_end)))
    out += [("fill", _fill), ("interior", _interior), ("spread", partial(_spread, skip_majority=False)),
            ("spread_minor", partial(_spread, skip_majority=True)),
            ("repeat_rows", partial(_repeat_block, axis=0)), ("repeat_cols", partial(_repeat_block, axis=1)),
            ("continue_down", partial(_continue, axis=0)), ("continue_right", partial(_continue, axis=1)),
            ("continue_up", partial(_continue, axis=0, backward=True)),
            ("continue_left", partial(_continue, axis=1, backward=True)),
            ("repeat_along_rows", partial(_repeat_lines, axis=1)),
            ("repeat_along_cols", partial(_repeat_lines, axis=0)),
            ("outline", _outline), ("corners", _corners), ("boxes", _boxes), ("colour_boxes", _colour_boxes),
            ("extend", _extend)]
    for name, turns in (("down", 0), ("left", 1), ("up", 2), ("right", 3)):
        out.append((f"gravity({name})", partial(_gravity, turns=turns)))
    for name, (dy, dx) in (("down", _D), ("up", _U), ("right", _R), ("left", _L), ("dr", _X), ("ul", _Y),
                           ("ur", _Z), ("dl", _W)):
        out.append((f"shift({name})", partial(_shift, dy=dy, dx=dx)))
    out += [("flip_h", lambda g, bg: np.ascontiguousarray(g[:, ::-1])),
            ("flip_v", lambda g, bg: np.ascontiguousarray(g[::-1])),
            ("rot180", lambda g, bg: np.ascontiguousarray(g[::-1, ::-1]))]
    if all(g.shape[0] == g.shape[1] for g in ctx.train_in + ctx.test_in):  # the other four keep square shapes
        out += _TURNS
    return out


def _trim(grid: np.ndarray, bg: int) -> Optional[np.ndarray]:
    """The grid without its outermost ring of cells (the inside of a frame)."""
    return np.ascontiguousarray(grid[1:-1, 1:-1]) if min(grid.shape) > 2 else None


def _reshaping(ctx: TaskContext) -> list[tuple[str, Fn]]:
    """The functions that may change a value's shape, for the compositions after the enumeration's pieces (whose
    own shapes are the outputs' on the demonstrations, so any of these keeps the shape only where it fits)."""
    out: list[tuple[str, Fn]] = [("trim", _trim)]
    if not all(g.shape[0] == g.shape[1] for g in ctx.train_in + ctx.test_in):
        out += _TURNS
    return out


def _recolour(grid: np.ndarray, bg: int, colour: int) -> np.ndarray:
    return np.where(grid != bg, np.uint8(colour), np.uint8(bg))


def _embed(grid: np.ndarray, bg: int, shape: tuple) -> np.ndarray:
    return postpass.embed(grid, shape, bg)


def _embed_flipped(grid: np.ndarray, bg: int, shape: tuple, rows: int, cols: int) -> np.ndarray:
    """`grid` cut or padded to `shape` with another corner kept: flipped (rows/cols -1: up-down/left-right),
    embedded at the origin, flipped back."""
    return np.ascontiguousarray(postpass.embed(grid[::rows, ::cols], shape, bg)[::rows, ::cols])


def _embed_centre(grid: np.ndarray, bg: int, shape: tuple) -> np.ndarray:
    """`grid` cut or padded to `shape` about its centre (an odd difference puts the extra line after)."""
    out = np.full(shape, bg, np.uint8)
    (h, w), (oh, ow) = grid.shape, shape
    r, c = (oh - h) // 2, (ow - w) // 2   # where the grid's corner goes (negative: it is cut)
    out[max(r, 0):max(r, 0) + min(h, oh), max(c, 0):max(c, 0) + min(w, ow)] = \
        grid[max(-r, 0):max(-r, 0) + min(h, oh), max(-c, 0):max(-c, 0) + min(w, ow)]
    return out


def _tile(grid: np.ndarray, bg: int, shape: tuple) -> np.ndarray:
    reps = (-(-shape[0] // grid.shape[0]), -(-shape[1] // grid.shape[1]))
    return np.ascontiguousarray(np.tile(grid, reps)[:shape[0], :shape[1]])


def _scale(grid: np.ndarray, bg: int, shape: tuple) -> Optional[np.ndarray]:
    if shape[0] % grid.shape[0] or shape[1] % grid.shape[1]:
        return None
    return np.ascontiguousarray(np.repeat(np.repeat(grid, shape[0] // grid.shape[0], axis=0),
                                          shape[1] // grid.shape[1], axis=1))


def _mirror_tile(grid: np.ndarray, bg: int, shape: tuple) -> np.ndarray:
    block = np.block([[grid, grid[:, ::-1]], [grid[::-1], grid[::-1, ::-1]]])
    return _tile(block, bg, shape)


def _bounce(n: int, period_of: int) -> np.ndarray:
    """Indices 0..n-1 folded back and forth over 0..period_of-1 without repeating the turning lines
    (0, 1, 2, 1, 0, 1, ... for 3)."""
    if period_of == 1:
        return np.zeros(n, dtype=np.int64)
    j = np.arange(n) % (2 * (period_of - 1))
    return np.where(j < period_of, j, 2 * (period_of - 1) - j)


def _reflect_tile(grid: np.ndarray, bg: int, shape: tuple) -> np.ndarray:
    """`grid` mirrored over its last row and column again and again up to `shape` (the edge lines shared by
    the copies, not repeated)."""
    return np.ascontiguousarray(grid[np.ix_(_bounce(shape[0], grid.shape[0]), _bounce(shape[1], grid.shape[1]))])


def _content_embed(grid: np.ndarray, bg: int, shape: tuple) -> Optional[np.ndarray]:
    content = crop_non_bg(grid, bg)
    return None if content is None else postpass.embed(content, shape, bg)


def _edge_pad(grid: np.ndarray, bg: int, shape: tuple) -> Optional[np.ndarray]:
    """`grid` in the middle of `shape` with its edge lines continued outward (the corners, which continue no
    single edge, background); None unless `shape` adds the same number of lines on either side."""
    dh, dw = shape[0] - grid.shape[0], shape[1] - grid.shape[1]
    if dh < 0 or dw < 0 or dh % 2 or dw % 2 or not dh + dw:
        return None
    p, q = dh // 2, dw // 2
    out = np.pad(grid, ((p, p), (q, q)), mode="edge")
    if p and q:
        for rows in (slice(0, p), slice(shape[0] - p, shape[0])):
            out[rows, :q] = bg
            out[rows, shape[1] - q:] = bg
    return np.ascontiguousarray(out)


RESHAPES: dict[str, Callable[[np.ndarray, int, tuple], Optional[np.ndarray]]] = {
    "embed": _embed, "embed_tr": partial(_embed_flipped, rows=1, cols=-1),
    "embed_bl": partial(_embed_flipped, rows=-1, cols=1), "embed_br": partial(_embed_flipped, rows=-1, cols=-1),
    "embed_centre": _embed_centre, "tile": _tile, "scale": _scale, "mirror_tile": _mirror_tile,
    "reflect_tile": _reflect_tile,
    "content_embed": _content_embed, "edge_pad": _edge_pad}


def _starts(ctx: TaskContext, inputs: tuple) -> list[tuple[str, tuple]]:
    """(program text, values) of the start values: the inputs themselves when the outputs keep their shapes,
    else the inputs brought to the output shapes (module docstring); none when a test shape is unknown."""
    if ctx.same_shape:
        return [("", inputs)]
    predicted = sizes.predict([[g.shape for g in inputs]], ctx.out_shapes)
    if len(predicted) != len(ctx.test_in) or any(p is None for p in predicted):
        return []
    shapes = list(ctx.out_shapes) + [p for p in predicted if p is not None]
    out = []
    for name, fn in RESHAPES.items():
        values = tuple(fn(g, ctx.bg, s) for g, s in zip(inputs, shapes))
        if all(v is not None for v in values):
            out.append((name, values))
    return out


Offer = Callable[[str, int, tuple], None]


def _level(frontier: list[tuple[str, int, tuple]], fns: list[tuple[str, Fn]], bg: int, recolours: list[int],
           seen: set, offer: Offer, budget: Budget) -> Optional[list[tuple[str, int, tuple]]]:
    """Every function over every (program text, cost, values) of `frontier`: each new result (and its
    recolourings) offered; the new results, or None once `budget` is over."""
    level: list[tuple[str, int, tuple]] = []
    for text, cost, values in frontier:
        for name, fn in fns:
            if budget.over():
                return None
            out = []
            for v in values:
                r = fn(v, bg)
                if r is None:
                    break
                out.append(r)
            if len(out) < len(values):
                continue
            key = hash(tuple(value_key(v) for v in out))
            if key in seen:
                continue
            seen.add(key)
            program = f"{text} | {name}" if text else name
            result = tuple(out)
            level.append((program, cost + 1, result))
            offer(program, cost + 1, result)
            for c in recolours:
                offer(f"{program} | recolour_all({c})", cost + 2, tuple(_recolour(v, bg, c) for v in result))
    return level


def _offer(ctx: TaskContext, verifier: Verifier, found: list) -> Offer:
    """Where a result goes: a solution when its train values are the outputs, else a piece (into `found`) when
    they have the outputs' shapes."""
    n = len(ctx.train_in)

    def offer(text: str, cost: int, values: tuple) -> None:
        train, tests = values[:n], values[n:]
        if all(v.shape == t.shape and (v == t).all() for v, t in zip(train, ctx.train_out)):
            verifier.solutions.add(text, cost, tests)
        elif all(v.shape == t.shape for v, t in zip(train, ctx.train_out)):
            found.append((text, cost, train, tests))
    return offer


def _recolours(ctx: TaskContext) -> list[int]:
    return [c for c in range(10) if c != ctx.bg and all((o == c).any() for o in ctx.train_out)]


Frontier = list[tuple[str, int, tuple]]   # (program text, cost, values on every demonstration and test input)
Drawn = list[tuple[str, int, tuple, tuple]]  # pieces: (program text, cost, train values, test values)


def pieces(ctx: TaskContext, verifier: Verifier, budget: Budget) -> tuple[Drawn, Frontier]:
    """Compose the generic functions over the task's inputs (breadth first, DEPTH deep, within `budget`):
    every result whose train values are the train outputs goes to `verifier.solutions`; the others whose
    train values have the outputs' shapes are returned as pieces (program text, cost, train values, test
    values), for the caller to add after the engine's own, with the last level (empty if the time ran out
    before it was whole) for `check_deeper`."""
    inputs = tuple(np.ascontiguousarray(g, dtype=np.uint8) for g in ctx.train_in + ctx.test_in)
    fns = functions(ctx)
    seen = {hash(tuple(value_key(v) for v in inputs))}
    found: list[tuple[str, int, tuple, tuple]] = []
    offer = _offer(ctx, verifier, found)
    frontier: Optional[list[tuple[str, int, tuple]]]
    if ctx.same_shape:
        frontier, first = [("", 0, inputs)], 1
    else:
        frontier, first = [(text, 1, values) for text, values in _starts(ctx, inputs)], 2
        for text, cost, values in frontier:
            seen.add(hash(tuple(value_key(v) for v in values)))
            offer(text, cost, values)
    recolours = _recolours(ctx)
    for _ in range(first, DEPTH + 1):
        frontier = _level(frontier, fns, ctx.bg, recolours, seen, offer, budget)
        if frontier is None:
            return found, []
    return found, frontier


def check_deeper(ctx: TaskContext, verifier: Verifier, frontier: Frontier, budget: Budget) -> None:
    """One generic function more after each value of `frontier` (and a recolouring), checked only: a result
    that is every train output is a solution (nothing is kept as a piece). The first demonstration is computed
    first and the rest only where it matches, so a level costs about one function call per value."""
    fns, bg, n = functions(ctx), ctx.bg, len(ctx.train_in)
    first = ctx.train_out[0]
    recolours = [c for c in _recolours(ctx)
                 if all(np.isin(o, (bg, c)).all() for o in ctx.train_out)]   # outputs of one colour on bg
    for text, cost, values in frontier:
        for name, fn in fns:
            if budget.over():
                return
            r0 = fn(values[0], bg)
            if r0 is None or r0.shape != first.shape:
                continue
            if (r0 == first).all():
                steps, colour = 1, None
            elif recolours and ((r0 != bg) == (first != bg)).all():
                steps, colour = 2, next((c for c in recolours if (first[first != bg] == c).all()), None)
                if colour is None:
                    continue
            else:
                continue
            out = [r0]
            for v in values[1:]:
                r = fn(v, bg)
                if r is None:
                    break
                out.append(r if colour is None else _recolour(r, bg, colour))
            if len(out) < len(values):
                continue
            if colour is not None:
                out[0] = _recolour(r0, bg, colour)
            if all(v.shape == t.shape and (v == t).all() for v, t in zip(out[:n], ctx.train_out)):
                program = f"{text} | {name}" + ("" if colour is None else f" | recolour_all({colour})")
                verifier.solutions.add(program, cost + steps, tuple(out[n:]))


def compose_over(ctx: TaskContext, verifier: Verifier, starts: list[tuple[str, int, tuple, tuple]],
                 budget: Budget) -> list[tuple[str, int, tuple, tuple]]:
    """One generic function (and a recolouring) after each of `starts` (program text, cost, train values, test
    values: the engine's cheapest pieces): solutions go to `verifier.solutions`, the new pieces are returned."""
    found: list[tuple[str, int, tuple, tuple]] = []
    frontier = [(text, cost, tuple(train) + tuple(tests)) for text, cost, train, tests in starts]
    seen = {hash(tuple(value_key(v) for v in values)) for _, _, values in frontier}
    _level(frontier, functions(ctx) + _reshaping(ctx), ctx.bg, _recolours(ctx), seen, _offer(ctx, verifier, found),
           budget)
    return found
