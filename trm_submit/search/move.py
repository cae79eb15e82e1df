"""Attraction: the cells of an anchor colour stay where they are; every other object (8-neighbour,
multicolour, anchor cells excluded) slides toward the anchor's bounding box one cell at a time, straight
when it overlaps the box's rows or columns and diagonally otherwise (the direction is taken again after
each step), until the next step would hit a non-background cell or the border. The anchor colour is the one
whose cells no demonstration moves; "attract(c,paint)" also recolours the moved objects to the anchor colour c
(whose cells the demonstrations keep, and add to).

Alignment: every other object moves up or down until its top row is the anchor's top row (`align`).

Colour shifts: every cell of one colour moves by that colour's own fixed offset (read off the demonstrations,
where the colour's cells in the output are its input cells translated), the other colours stay; the moved
colours are erased first, then painted at their new places in colour order. A test input with a colour the
demonstrations never show gets no answer.

Moves by measure: every object (the colours no demonstration moves stay) moves in one direction by as many
cells as it has cells, rows or columns ("each bar rises by its length").

Moves to their own colour: every lone cell (an 8-neighbour one-colour object of one cell) goes straight, over
anything in its way, to the nearest cell of its own colour outside the lone cells, along its row or column, and
stops next to it; a lone cell with none in sight is erased or stays (`to_own_colour`).

Moves to their own wall: every one-colour object slides straight toward the grid edge whose line is in its
colour, nearest objects first, until the next step would hit a non-background cell (ARC-AGI-2 f0100645); an
object whose colour has no such edge stays or is erased (`to_own_wall`).

Reflections: every object not of an anchor colour is mirrored across the nearest line of the anchor colour that
spans it (a row whose anchor cells cover all its columns, or such a column), and leaves its old place
(`reflect_out`: shapes flipped out of their bracket, f8a8fe49).

Gathering: every lone cell jumps onto the cell of one colour nearest to it, painting it (`gather_onto`: markers
collected onto a block, each at the block's corner facing it, d89b689b).

Satellites: every cell not of an anchor colour slides along its row or column toward the nearest anchor cell it
sees there and stops next to it (`to_anchor`: satellites pulled to their centres, ae3edfdc).

Pointed steps: every one-colour block whose box has a cell of another colour at one corner steps one cell
diagonally toward that corner, the corner filled in its colour (`step_to_corner`: "each block moves where its
dot points", ARC-AGI-2 470c91de).

Docking: a shape with a body (one colour with at least two cells, more than any other) and key cells of other colours
is moved, turned, reflected or scaled as needed, onto the marker cells elsewhere that repeat its key cells' colours
and layout, and leaves its old place (`dock(move)`: "fit each shape onto its three dots", 0e206a2e), or stays and is
copied onto every group of markers that fits it (`dock(copy)`: "draw the pattern wherever its corners are marked, at
their scale", 6aa20dc0). Every marker must serve exactly one placement, and a group of markers one painting.

Snapping pairs: along each row (or column), of two cells next in line whose colours make a pair the demonstrations
snap together, the later one slides back to touch the earlier one; other pairs stay (`snap_pairs`: "4 and 7 belong
together, 6 and 7 do not", ARC-AGI-2 494ef9d7). The pairs are read off the demonstrations.

Plugging holes: every enclosed background region that exactly one loose piece (a one-colour object) matches in shape
takes that piece, which leaves its old place (`plug_holes`: "each piece goes into the hole it fits", 228f6490).

Tethers: a one-colour object made of a body and a one-cell-wide stalk at one end whose tip touches another object
drops the stalk and moves its body along it until it touches that object (`retract_tethers`: "the block is pulled in
on its string", 98cf29f8).

Corners inward: every object in a corner of the grid whose colour sits in another corner too moves diagonally inward
by its own height and width; corner objects of a colour found in one corner stay (`corners_inward`: ARC-AGI-2
22208ba4, "the matching corner blocks step in").

Turns about an anchor: every cell not of an anchor colour pairs with the nearest anchor cell it sees along its row or
column (each anchor takes one cell) and jumps to its offset from that anchor turned by a fitted dihedral map, in its
own colour or a fitted new one (`turn_about`: ARC-AGI-2 1a244afd, "each marker swings a quarter turn around its dot").
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Callable

import numpy as np

from .dsl import Op, TaskContext
from .fitting import agrees, marker_colours, same_shape_pairs, shape_keeping
from .geometry import DIHEDRAL
from .objects import (
    Obj,
    cells_of,
    colour_counts,
    components,
    enclosed_regions,
    grid_background,
    most_common_colour,
    place,
)

DOCK_MAX_SCALE = 3   # a docked shape may be drawn up to this many times larger (each cell a k x k block)
DOCK_MAX_SHAPES = 8     # more shapes with a body than this (or more marker cells than the next) is no docking task;
DOCK_MAX_MARKERS = 64   # the caps bound the Python loop over placements on crowded grids
TURN_MAX_MOVERS = 64   # more moving cells than this is no pairing task (the pairing loop is Python)


def _direction(top: int, left: int, obj: Obj, box: tuple[int, int, int, int]) -> tuple[int, int]:
    """Unit step from `obj` placed at (top, left) toward the box (top, left, bottom, right; inclusive);
    0 on an axis where they overlap."""
    b_top, b_left, b_bottom, b_right = box
    dy = 1 if top + obj.height - 1 < b_top else -1 if top > b_bottom else 0
    dx = 1 if left + obj.width - 1 < b_left else -1 if left > b_right else 0
    return dy, dx


def _slide(canvas: np.ndarray, obj: Obj, box: tuple[int, int, int, int], bg: int) -> Obj:
    """`obj` (lifted off `canvas`) stepped toward `box` while every cell it would cover is background."""
    h, w = canvas.shape
    top, left = obj.top, obj.left
    while True:
        step = _direction(top, left, obj, box)
        if step == (0, 0):
            break
        t, lft = top + step[0], left + step[1]
        if t < 0 or lft < 0 or t + obj.height > h or lft + obj.width > w:
            break
        if (canvas[t:t + obj.height, lft:lft + obj.width][obj.mask] != bg).any():
            break
        top, left = t, lft
    return Obj(top, left, obj.grid, obj.mask, bg)


def attract(grid: np.ndarray, ctx_bg: int, anchor: int, paint: bool = False) -> np.ndarray | None:
    """Every non-anchor object moved toward the anchor colour's bounding box (and with `paint`, recoloured to the
    anchor colour where it lands); None without an anchor."""
    bg = grid_background(grid, ctx_bg)
    rows, cols = np.nonzero(grid == anchor)
    if anchor == bg or not len(rows):
        return None
    box = (int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max()))
    movers = np.where(grid == anchor, np.uint8(bg), grid).astype(np.uint8)
    objs = components(movers, bg, "m8")
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    canvas = grid.copy()
    for obj in sorted(objs, key=lambda o: abs(o.top - centre[0]) + abs(o.left - centre[1])):
        place(canvas, obj, bg)
        place(canvas, _slide(canvas, obj, box, bg), anchor if paint else None)
    return canvas


def align(grid: np.ndarray, ctx_bg: int, anchor: int) -> np.ndarray | None:
    """Every non-anchor object (8-neighbour, multicolour) moved vertically until its top is on the anchor's top
    row; None without an anchor, or when a moved object would leave the grid or land on another."""
    bg = grid_background(grid, ctx_bg)
    rows = np.flatnonzero((grid == anchor).any(axis=1))
    if anchor == bg or not len(rows):
        return None
    movers = np.where(grid == anchor, np.uint8(bg), grid).astype(np.uint8)
    out = np.where(grid == anchor, grid, np.uint8(bg)).astype(np.uint8)
    top = int(rows[0])
    for o in components(movers, bg, "m8"):
        if top + o.height > grid.shape[0]:
            return None
        region = out[top:top + o.height, o.left:o.left + o.width]
        if (region[o.mask] != bg).any():
            return None
        region[o.mask] = o.grid[o.mask]
    return out


_STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def to_own_colour(grid: np.ndarray, ctx_bg: int, keep_lost: bool) -> np.ndarray | None:
    """Every lone cell moved next to the nearest non-lone cell of its colour in its row or column (see the
    module docstring); a lone cell without one is erased, or stays where it is (`keep_lost`). None without lone
    cells, or when one has two nearest targets."""
    bg = grid_background(grid, ctx_bg)
    lone = [(o.top, o.left, int(o.grid[0, 0])) for o in components(grid, bg, "c8") if o.size == 1]
    if not lone:
        return None
    walls = grid.copy()
    for r, c, _ in lone:
        walls[r, c] = bg
    out = walls.copy()
    h, w = grid.shape
    for r, c, colour in lone:
        stops = []
        for dy, dx in _STEPS:
            y, x = r + dy, c + dx
            while 0 <= y < h and 0 <= x < w and walls[y, x] != colour:
                y, x = y + dy, x + dx
            if 0 <= y < h and 0 <= x < w:
                stops.append((abs(y - r) + abs(x - c), y - dy, x - dx))
        if not stops:
            if keep_lost:
                out[r, c] = colour
            continue
        stops.sort()
        if len(stops) > 1 and stops[0][0] == stops[1][0]:
            return None
        out[stops[0][1], stops[0][2]] = colour
    return out


def edge_walls(grid: np.ndarray, bg: int) -> dict[int, tuple[int, int, np.ndarray]]:
    """colour -> (dy, dx, line mask) of the one grid edge whose cells (its two end cells aside) are all that
    colour; colours on two such edges are left out."""
    h, w = grid.shape
    found: dict[int, list[tuple[int, int, np.ndarray]]] = {}
    if h < 3 or w < 3:
        return {}
    for dy, dx, line, mask in ((-1, 0, grid[0, 1:-1], np.s_[0, :]), (1, 0, grid[-1, 1:-1], np.s_[-1, :]),
                               (0, -1, grid[1:-1, 0], np.s_[:, 0]), (0, 1, grid[1:-1, -1], np.s_[:, -1])):
        colour = int(line[0])
        if colour != bg and (line == colour).all():
            where = np.zeros(grid.shape, bool)
            where[mask] = grid[mask] == colour
            found.setdefault(colour, []).append((dy, dx, where))
    return {c: v[0] for c, v in found.items() if len(v) == 1}


def to_own_wall(grid: np.ndarray, ctx_bg: int, keep_lost: bool) -> np.ndarray | None:
    """Every one-colour object (8-neighbour) slid toward the edge line of its own colour (module docstring);
    None without such an edge or without an object that has one."""
    bg = grid_background(grid, ctx_bg)
    walls = edge_walls(grid, bg)
    if not walls:
        return None
    fixed = np.zeros(grid.shape, bool)
    for _, _, where in walls.values():
        fixed |= where
    objs = components(np.where(fixed, np.uint8(bg), grid).astype(np.uint8), bg, "c8")
    movers = [o for o in objs if int(o.grid[o.mask][0]) in walls]
    if not movers:
        return None
    canvas = grid.copy()
    h, w = grid.shape

    def gap(o: Obj) -> int:
        dy, dx = walls[int(o.grid[o.mask][0])][:2]
        return (o.top if dy < 0 else h - o.top - o.height if dy > 0 else o.left if dx < 0
                else w - o.left - o.width)

    if not keep_lost:
        for o in objs:
            if int(o.grid[o.mask][0]) not in walls:
                place(canvas, o, bg)
    for o in sorted(movers, key=gap):
        dy, dx = walls[int(o.grid[o.mask][0])][:2]
        place(canvas, o, bg)
        top, left = o.top, o.left
        while 0 <= top + dy and top + dy + o.height <= h and 0 <= left + dx and left + dx + o.width <= w:
            if (canvas[top + dy:top + dy + o.height, left + dx:left + dx + o.width][o.mask] != bg).any():
                break
            top, left = top + dy, left + dx
        place(canvas, Obj(top, left, o.grid, o.mask, bg))
    return canvas


def reflect_out(grid: np.ndarray, ctx_bg: int, anchor: int) -> np.ndarray | None:
    """Every non-anchor object (8-neighbour, multicolour) mirrored across the nearest anchor line spanning it
    (module docstring). None without an object that has one, when two are equally near, or when a mirror image
    leaves the grid."""
    bg = grid_background(grid, ctx_bg)
    wall = grid == anchor
    if anchor == bg or not wall.any():
        return None
    objs = components(np.where(wall, np.uint8(bg), grid).astype(np.uint8), bg, "m8")
    out = np.where(wall, grid, np.uint8(bg)).astype(np.uint8)
    h, w = grid.shape
    moved = False
    for o in objs:
        lines = []   # (distance, axis, line index)
        for y in range(h):
            if wall[y, o.left:o.left + o.width].all() and not o.top <= y < o.top + o.height:
                lines.append((o.top - y if y < o.top else y - o.top - o.height + 1, 0, y))
        for x in range(w):
            if wall[o.top:o.top + o.height, x].all() and not o.left <= x < o.left + o.width:
                lines.append((o.left - x if x < o.left else x - o.left - o.width + 1, 1, x))
        lines.sort()
        if not lines:
            place(out, o)
            continue
        if len(lines) > 1 and lines[0][0] == lines[1][0]:
            return None
        _, axis, k = lines[0]
        if axis == 0:
            top, left, grid_o, mask = 2 * k - (o.top + o.height - 1), o.left, o.grid[::-1], o.mask[::-1]
        else:
            top, left, grid_o, mask = o.top, 2 * k - (o.left + o.width - 1), o.grid[:, ::-1], o.mask[:, ::-1]
        if top < 0 or left < 0 or top + o.height > h or left + o.width > w:
            return None
        place(out, Obj(top, left, grid_o, mask, bg))
        moved = True
    return out if moved else None


def gather_onto(grid: np.ndarray, ctx_bg: int, target: int) -> np.ndarray | None:
    """Every lone cell (no non-background 8-neighbour) not of `target` moved onto the nearest `target` cell
    (straight-line distance), painting it. None without a lone cell, when one has two nearest cells, or when
    two land on one cell."""
    bg = grid_background(grid, ctx_bg)
    cells = np.argwhere(grid == target)
    lone = [(o.top, o.left) for o in components(grid, bg, "m8") if o.size == 1 and o.grid[0, 0] != target]
    if target == bg or not len(cells) or not lone:
        return None
    out = grid.copy()
    landed = set()
    for r, c in lone:
        d = ((cells - (r, c)) ** 2).sum(axis=1)
        best = np.flatnonzero(d == d.min())
        spot = (int(cells[best[0], 0]), int(cells[best[0], 1]))
        if len(best) > 1 or spot in landed:
            return None
        landed.add(spot)
        out[r, c] = bg
        out[spot] = grid[r, c]
    return out


def first_seen(grid: np.ndarray, bg: int, r: int, c: int) -> list[tuple[int, int, int, int, int]]:
    """(distance, row, column, dy, dx) of the first non-background cell seen from (r, c) over background cells
    up, down, left and right (where there is one), nearest first."""
    h, w = grid.shape
    seen = []
    for dy, dx in _STEPS:
        y, x = r + dy, c + dx
        while 0 <= y < h and 0 <= x < w and grid[y, x] == bg:
            y, x = y + dy, x + dx
        if 0 <= y < h and 0 <= x < w:
            seen.append((abs(y - r) + abs(x - c), y, x, dy, dx))
    return sorted(seen)


def to_anchor(grid: np.ndarray, ctx_bg: int, anchors: tuple[int, ...]) -> np.ndarray | None:
    """Every non-background cell not of an `anchors` colour moved next to the nearest anchor cell it sees along
    its row or column (the first non-background cell that way); a cell that sees none stays. None when a cell
    sees two equally near, when nothing moves, or when two cells land on one place."""
    bg = grid_background(grid, ctx_bg)
    anchor = np.isin(grid, anchors) & (grid != bg)
    movers = np.argwhere((grid != bg) & ~anchor)
    if not anchor.any() or not len(movers):
        return None
    out = np.where(anchor, grid, np.uint8(bg)).astype(np.uint8)
    moved = False
    for r, c in movers:
        stops = [(d, y - dy, x - dx) for d, y, x, dy, dx in first_seen(grid, bg, r, c) if anchor[y, x]]
        if len(stops) > 1 and stops[0][0] == stops[1][0]:
            return None
        y, x = (stops[0][1], stops[0][2]) if stops else (r, c)
        if out[y, x] != bg:
            return None
        out[y, x] = grid[r, c]
        moved |= (y, x) != (r, c)
    return out if moved else None


# How a mover's offset from its anchor is turned (dy, dx) -> ...: the seven non-identity dihedral maps of a vector.
TURNS: dict[str, Callable[[int, int], tuple[int, int]]] = {
    "ccw": lambda dy, dx: (-dx, dy),
    "cw": lambda dy, dx: (dx, -dy),
    "half": lambda dy, dx: (-dy, -dx),
    "flip_v": lambda dy, dx: (-dy, dx),
    "flip_h": lambda dy, dx: (dy, -dx),
    "transpose": lambda dy, dx: (dx, dy),
    "anti": lambda dy, dx: (-dx, -dy),
}


def _pair_with_anchors(grid: np.ndarray, bg: int, anchor: np.ndarray,
                       movers: np.ndarray) -> list[tuple[int, int, int, int]] | None:
    """(row, col, anchor row, anchor col) for every mover: the nearest anchor cell it sees along its row or column,
    each anchor taken by one mover; movers with one nearest anchor choose first, then the others among the anchors
    left. None when a mover sees none, or two equally near ones are left to it."""
    seen = [[(d, y, x) for d, y, x, _, _ in first_seen(grid, bg, r, c) if anchor[y, x]] for r, c in movers]
    pairs: dict[int, tuple[int, int]] = {}
    taken: set[tuple[int, int]] = set()
    while len(pairs) < len(movers):
        progress = False
        for k, options in enumerate(seen):
            if k in pairs:
                continue
            left = [o for o in options if (o[1], o[2]) not in taken]
            if not left:
                return None
            if len(left) > 1 and left[0][0] == left[1][0]:
                continue
            pairs[k] = (left[0][1], left[0][2])
            taken.add(pairs[k])
            progress = True
        if not progress:
            return None
    return [(int(r), int(c), *pairs[k]) for k, (r, c) in enumerate(movers)]


def turn_about(grid: np.ndarray, ctx_bg: int, anchors: tuple[int, ...], turn: str, paint: int) -> np.ndarray | None:
    """Every cell not of an `anchors` colour leaves its place for the place its offset from its anchor (the nearest
    anchor cell it sees along its row or column, `_pair_with_anchors`) takes under `turn`, painted `paint` (-1: its
    own colour); a place outside the grid is lost. None when a cell has no anchor or two cells land on one place."""
    bg = grid_background(grid, ctx_bg)
    anchor = np.isin(grid, anchors) & (grid != bg)
    movers = np.argwhere((grid != bg) & ~anchor)
    if not anchor.any() or not len(movers) or len(movers) > TURN_MAX_MOVERS:
        return None
    pairs = _pair_with_anchors(grid, bg, anchor, movers)
    if pairs is None:
        return None
    h, w = grid.shape
    out = np.where(anchor, grid, np.uint8(bg)).astype(np.uint8)
    for r, c, y, x in pairs:
        dy, dx = TURNS[turn](r - y, c - x)
        ty, tx = y + dy, x + dx
        if not (0 <= ty < h and 0 <= tx < w):
            continue
        if out[ty, tx] != bg:
            return None
        out[ty, tx] = grid[r, c] if paint < 0 else paint
    return out


def _turn_ops(ctx: TaskContext, anchors: list[int]) -> list[Op]:
    """turn_about for the task's anchor colours, each turn and paint (a mover's own colour, or a colour new in the
    outputs), where it agrees with the train outputs."""
    if not anchors:
        return []
    found = []
    for turn in TURNS:
        for paint in (-1, *ctx.new_colours):
            fn = partial(turn_about, ctx_bg=ctx.bg, anchors=tuple(anchors), turn=turn, paint=paint)
            if agrees(fn, ctx, exact=False):
                painted = '' if paint < 0 else f',{paint}'
                found.append(Op(f"turn_about({''.join(map(str, anchors))},{turn}{painted})", fn))
    return found


def _kept_colours(ctx: TaskContext) -> list[int]:
    """Colours in every train input whose input cells all keep that colour in the output, in pairs that change
    (the output may have more of them)."""
    pairs = same_shape_pairs(ctx)
    if not ctx.same_shape or not pairs:
        return []
    return [c for c in range(10) if c != ctx.bg and all((i == c).any() and (o[i == c] == c).all() for i, o in pairs)]


def _anchor_colours(ctx: TaskContext) -> list[int]:
    """Colours in every train input whose cells are the same in input and output, in pairs that change."""
    pairs = same_shape_pairs(ctx)
    if not ctx.same_shape or not pairs:
        return []
    found = []
    for colour in range(10):
        if all((i == colour).any() and ((i == colour) == (o == colour)).all() for i, o in pairs):
            found.append(colour)
    return found


Offsets = tuple[tuple[int, int, int], ...]  # (colour, dy, dx) for every colour the demonstrations show


def _paint_moved(out: np.ndarray, rows: np.ndarray, cols: np.ndarray, colours: np.ndarray) -> None:
    """Paint `colours` at the cells (rows, cols) of `out` (in place); cells outside the grid are lost."""
    h, w = out.shape
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    out[rows[inside], cols[inside]] = colours[inside]


def shift_colours(grid: np.ndarray, ctx_bg: int, offsets: Offsets) -> np.ndarray | None:
    """Each colour's cells translated by its offset (cells leaving the grid are lost); None when the grid holds
    a colour without an offset."""
    bg = grid_background(grid, ctx_bg)
    known = {c for c, _, _ in offsets}
    if any(int(c) not in known and c != bg for c in np.unique(grid)):
        return None
    out = grid.copy()
    moved = [(c, dy, dx) for c, dy, dx in offsets if (dy or dx) and c != bg]
    for c, _, _ in moved:
        out[grid == c] = bg
    for c, dy, dx in moved:
        rows, cols = np.nonzero(grid == c)
        _paint_moved(out, rows + dy, cols + dx, np.full(len(rows), c, dtype=out.dtype))
    return out


def _colour_offset(pairs: list[tuple[np.ndarray, np.ndarray]], colour: int) -> tuple[int, int] | None:
    """The one translation that takes `colour`'s input cells onto its output cells in every pair that holds it."""
    found: tuple[int, int] | None = None
    for i, o in pairs:
        rows, cols = np.nonzero(i == colour)
        if not len(rows):
            continue
        out_rows, out_cols = np.nonzero(o == colour)
        if len(out_rows) != len(rows):
            return None
        offset = (int(out_rows.min() - rows.min()), int(out_cols.min() - cols.min()))
        if rows.max() + offset[0] >= o.shape[0] or cols.max() + offset[1] >= o.shape[1]:
            return None
        moved = np.zeros(o.shape, dtype=bool)
        moved[rows + offset[0], cols + offset[1]] = True
        if not (moved == (o == colour)).all() or (found is not None and offset != found):
            return None
        found = offset
    return found


def _shift_ops(ctx: TaskContext) -> list[Op]:
    pairs = same_shape_pairs(ctx)
    if not ctx.same_shape or not pairs:
        return []
    offsets = []
    for colour in sorted({int(c) for i, _ in pairs for c in np.unique(i)} - {ctx.bg}):
        offset = _colour_offset(pairs, colour)
        if offset is None:
            return []
        offsets.append((colour, *offset))
    moving = [f"{c}:{dy},{dx}" for c, dy, dx in offsets if dy or dx]
    if not moving:
        return []
    fn = partial(shift_colours, ctx_bg=ctx.bg, offsets=tuple(offsets))
    return [Op(f"shift_colours({' '.join(moving)})", fn)] if agrees(fn, ctx, exact=True) else []


STEPS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
MEASURES: dict[str, Callable[[Obj], int]] = {"cells": lambda o: o.size, "height": lambda o: o.height,
                                             "width": lambda o: o.width}


def move_by_measure(grid: np.ndarray, ctx_bg: int, mode: str, direction: str, measure: str,
                    static: tuple[int, ...]) -> np.ndarray | None:
    """Each object of the non-`static` colours (segmentation `mode`) moved `measure(object)` cells toward
    `direction` (cells leaving the grid are lost); the static colours stay; None without an object."""
    bg = grid_background(grid, ctx_bg)
    fixed = np.isin(grid, static) & (grid != bg)
    objs = components(np.where(fixed, np.uint8(bg), grid).astype(np.uint8), bg, mode)
    if not objs:
        return None
    out = np.where(fixed, grid, np.uint8(bg)).astype(np.uint8)
    dy, dx = STEPS[direction]
    for obj in objs:
        k = MEASURES[measure](obj)
        rows, cols = np.nonzero(obj.mask)
        _paint_moved(out, rows + obj.top + dy * k, cols + obj.left + dx * k, obj.grid[rows, cols])
    return out


DIRECTIONS8 = STEPS | {"ul": (-1, -1), "ur": (-1, 1), "dl": (1, -1), "dr": (1, 1)}


def move_by_count(grid: np.ndarray, ctx_bg: int, marker: int, direction: str, extend: bool) -> np.ndarray | None:
    """The cells of `marker` erased and the rest of the grid moved toward `direction` by as many cells as the marker
    had: "the shape moves one step per counter" (e48d4e1a). What comes in at the edges is background, or with
    `extend` the edge lines continued, so that lines across the grid stay across it. None without a marker cell."""
    bg = grid_background(grid, ctx_bg)
    n = int((grid == marker).sum())
    if not n:
        return None
    body = np.where(grid == marker, np.uint8(bg), grid).astype(np.uint8)
    dy, dx = DIRECTIONS8[direction]
    h, w = grid.shape
    rows, cols = np.arange(h) - dy * n, np.arange(w) - dx * n
    if extend:
        return np.ascontiguousarray(body[np.clip(rows, 0, h - 1)][:, np.clip(cols, 0, w - 1)])
    out = np.full(grid.shape, bg, dtype=np.uint8)
    r_in, c_in = (rows >= 0) & (rows < h), (cols >= 0) & (cols < w)
    out[np.ix_(r_in, c_in)] = body[np.ix_(rows[r_in], cols[c_in])]
    return out


def _count_move_ops(ctx: TaskContext) -> list[Op]:
    """The first `move_by_count` (marker: a colour of every train input and no train output) that reproduces every
    demonstration."""
    if not ctx.same_shape:
        return []
    for m in marker_colours(ctx):
        for direction in DIRECTIONS8:
            for extend in (False, True):
                fn = partial(move_by_count, ctx_bg=ctx.bg, marker=m, direction=direction, extend=extend)
                if agrees(fn, ctx, exact=True):
                    return [Op(f"move_by_count({m},{direction}{',extend' if extend else ''})", fn)]
    return []


def _no_colour_grows(ctx: TaskContext) -> bool:
    """No colour has more cells in a train output than in its input: what every plain move keeps (a moved cell
    can leave the grid or land on another, never add to its colour). A cheap test before fitting 36 moves."""
    for i, o in same_shape_pairs(ctx):
        bg = grid_background(i, ctx.bg)
        if (colour_counts(o, bg) > colour_counts(i, bg)).any():
            return False
    return True


def _measure_ops(ctx: TaskContext) -> list[Op]:
    """The first (mode, direction, measure) whose moves reproduce every demonstration."""
    if not ctx.same_shape or not same_shape_pairs(ctx) or not _no_colour_grows(ctx):
        return []
    static = tuple(_anchor_colours(ctx))
    for mode in ("c8", "m8", "c4"):
        for direction in STEPS:
            for measure in MEASURES:
                fn = partial(move_by_measure, ctx_bg=ctx.bg, mode=mode, direction=direction, measure=measure,
                             static=static)
                if agrees(fn, ctx, exact=True):
                    return [Op(f"move_by_measure({mode},{direction},{measure})", fn)]
    return []


def step_to_corner(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Each pointed block one step toward its marked corner (module docstring), erased first and painted after.
    A pointed block is a one-colour object (4-neighbour) filling its bounding box but for one corner, which holds
    a cell of another colour (the marker, which goes with it). None without one, or when a step would leave the
    grid."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    moves = []
    for o in components(grid, bg, "c4"):
        if o.height < 2 or o.width < 2 or o.size != o.height * o.width - 1:
            continue
        (r, c), = np.argwhere(~o.mask).tolist()
        if r not in (0, o.height - 1) or c not in (0, o.width - 1) or grid[o.top + r, o.left + c] == bg:
            continue
        dy, dx = (1 if r else -1), (1 if c else -1)
        top, left = o.top + dy, o.left + dx
        if top < 0 or left < 0 or top + o.height > h or left + o.width > w:
            return None
        moves.append((o, top, left))
    if not moves:
        return None
    out = grid.copy()
    for o, _, _ in moves:
        out[o.top:o.top + o.height, o.left:o.left + o.width] = bg
    for o, top, left in moves:
        out[top:top + o.height, left:left + o.width] = o.colour
    return out


def _with_body(o: Obj) -> bool:
    counts = np.sort(np.bincount(o.grid[o.mask], minlength=10))[::-1]
    return o.n_colours >= 2 and counts[0] >= 2 and counts[0] > counts[1]


def _dihedral_indices(h: int, w: int) -> list[np.ndarray]:
    """The eight rotations and reflections of an h x w box as arrays of its flat cell indices."""
    index = np.arange(h * w).reshape(h, w)
    return [index] + [fn(index) for fn in DIHEDRAL.values()]


def _dockings(grid: np.ndarray, bg: int, shape: Obj, markers: np.ndarray, owned: np.ndarray) -> dict:
    """Every placement of `shape` (under any of the eight maps, at scale 1 to DOCK_MAX_SCALE) whose key cells all
    land on marker cells of their own colours and whose body lands on background or on shapes' old cells:
    {painting bytes: (painting, key cells)}."""
    h, w = grid.shape
    body = shape.colour
    found: dict = {}
    for k in range(1, DOCK_MAX_SCALE + 1):
        if k * max(shape.height, shape.width) > max(h, w):
            break
        cells = np.kron(np.where(shape.mask, shape.grid, np.uint8(bg)), np.ones((k, k), np.uint8))
        mask = np.kron(shape.mask, np.ones((k, k), bool))
        for index in _dihedral_indices(*cells.shape):
            colours, inside = cells.ravel()[index], mask.ravel()[index]
            keys = np.argwhere(inside & (colours != body))
            r0, c0 = keys[0]
            for mr, mc in np.argwhere(markers & (grid == colours[r0, c0])):
                dr, dc = mr - r0, mc - c0
                if dr < 0 or dc < 0 or dr + index.shape[0] > h or dc + index.shape[1] > w:
                    continue
                at = (keys[:, 0] + dr, keys[:, 1] + dc)
                if not (markers[at].all() and (grid[at] == colours[keys[:, 0], keys[:, 1]]).all()):
                    continue
                box = (slice(dr, dr + index.shape[0]), slice(dc, dc + index.shape[1]))
                lands = inside & (colours == body)
                if ((grid[box][lands] != bg) & ~owned[box][lands]).any():
                    continue
                painting = np.full((h, w), -1, np.int16)
                painting[box][inside] = colours[inside]
                found[painting.tobytes()] = (painting, frozenset(zip(at[0].tolist(), at[1].tolist())))
    return found


def dock(grid: np.ndarray, keep: bool) -> np.ndarray | None:
    """Every shape with a body painted (turned, reflected or scaled as needed) onto the marker cells that repeat
    its key cells (module docstring). `keep` False: each shape moves to its one place and leaves its old one; True:
    it stays and is copied onto every group of markers that fits it. None without a shape, where a shape has no
    place (or, moving, several), where one group of markers fits two ways, where a marker is left over, or past
    DOCK_MAX_SHAPES shapes or DOCK_MAX_MARKERS marker cells. The background is the grid's own commonest colour (a
    shape's body may have the task's background colour)."""
    bg = most_common_colour(grid)
    shapes = [o for o in components(grid, bg, "m8") if _with_body(o)]
    if not shapes or len(shapes) > DOCK_MAX_SHAPES:
        return None
    owned = cells_of(shapes, grid.shape)
    markers = (grid != bg) & ~owned
    if markers.sum() > DOCK_MAX_MARKERS:
        return None
    out = grid.copy() if keep else np.where(owned, np.uint8(bg), grid)
    taken: set = set()
    for o in shapes:
        places = list(_dockings(grid, bg, o, markers, owned).values())
        groups = {keys for _, keys in places}
        if not places or len(groups) != len(places) or (not keep and len(places) != 1):
            return None
        for painting, keys in places:
            if keys & taken:
                return None
            taken |= keys
            out[painting >= 0] = painting[painting >= 0]
    if len(taken) != int(markers.sum()):
        return None
    return out


Pair = tuple[int, int]


def _neighbours_in_line(line: np.ndarray, bg: int) -> list[tuple[int, int]]:
    """(index, index) of each two non-background cells of `line` next in line with a gap between them."""
    at = np.flatnonzero(line != bg)
    return [(int(a), int(b)) for a, b in zip(at[:-1], at[1:]) if b > a + 1]


def snap_pairs(grid: np.ndarray, ctx_bg: int, pairs: frozenset[Pair], axis: int) -> np.ndarray | None:
    """Along each row (axis 0) or column (axis 1), the later cell of two next in line whose colours (either order)
    are in `pairs` moved back beside the earlier one; None where nothing moves."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy() if axis == 0 else grid.T.copy()
    moved = False
    for line in out:
        for a, b in _neighbours_in_line(line, bg):
            if tuple(sorted((int(line[a]), int(line[b])))) in pairs:
                line[a + 1], line[b] = line[b], bg
                moved = True
    if not moved:
        return None
    return out if axis == 0 else np.ascontiguousarray(out.T)


def _snap_ops(ctx: TaskContext) -> list[Op]:
    """snap_pairs along rows or columns, the pairs those that the demonstrations move together (and no pair that they
    leave apart), where it reproduces every demonstration."""
    pairs = same_shape_pairs(ctx)
    if not ctx.same_shape or not pairs:
        return []
    found = []
    for axis in (0, 1):
        snapped: set[Pair] = set()
        apart: set[Pair] = set()
        for i, o in pairs:
            bg = grid_background(i, ctx.bg)
            for line, after in zip(i if axis == 0 else i.T, o if axis == 0 else o.T):
                for a, b in _neighbours_in_line(line, bg):
                    x, y = sorted((int(line[a]), int(line[b])))
                    pair = (x, y)
                    (snapped if after[a + 1] == line[b] and after[b] == bg else apart).add(pair)
        together = frozenset(snapped - apart)
        if not together or together != snapped:
            continue
        fn = partial(snap_pairs, ctx_bg=ctx.bg, pairs=together, axis=axis)
        if all(((r := fn(i)) is None and (i == o).all()) or (r is not None and (r == o).all()) for i, o in pairs):
            text = ",".join(f"{a}{b}" for a, b in sorted(together))
            found.append(Op(f"snap_pairs({'rows' if axis == 0 else 'columns'};{text})", fn, keeps_shape=True))
    return found[:1]


def _colour_of(o: Obj) -> int:
    """The colour of a one-colour object."""
    return int(o.grid[o.mask][0])


def plug_holes(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Each hole (an enclosed background region, 4-neighbour) whose shape exactly one piece (a one-colour object,
    8-neighbour, no turning) has gets that piece, erased where it was; where several fit, the one piece whose colour
    no other object has. A piece goes into one hole at most. None where no hole is plugged."""
    bg = grid_background(grid, ctx_bg)
    holes = enclosed_regions(grid, bg)
    if not holes:
        return None
    pieces = components(grid, bg, "c8")
    per_colour = Counter(_colour_of(p) for p in pieces)
    out, used = grid.copy(), set()
    for hole in holes:
        fits = [k for k, p in enumerate(pieces) if p.mask.shape == hole.mask.shape and (p.mask == hole.mask).all()]
        if len(fits) > 1:   # a piece whose colour no other object has beats pieces of a scattered colour
            fits = [k for k in fits if per_colour[_colour_of(pieces[k])] == 1]
        if len(fits) != 1 or fits[0] in used:
            continue
        piece = pieces[fits[0]]
        used.add(fits[0])
        rows, cols = np.nonzero(piece.mask)
        out[rows + piece.top, cols + piece.left] = bg
        out[rows + hole.top, cols + hole.left] = piece.grid[rows, cols]
    return out if used else None


def _stalk(mask: np.ndarray) -> tuple[int, int, int] | None:
    """(axis, direction, length) of the one stalk of an object mask: the lines (rows for axis 0, columns for 1) at
    one end holding one cell each, the body's lines beyond them holding more; direction -1 at the start, +1 at the
    end. None without exactly one."""
    found = []
    for axis in (0, 1):
        counts = mask.sum(axis=1 - axis)
        for direction, seq in ((-1, counts), (1, counts[::-1])):
            k = int(np.argmax(seq != 1)) if (seq != 1).any() else len(seq)
            if 0 < k < len(seq) and seq[k] > 1:
                found.append((axis, direction, k))
    return found[0] if len(found) == 1 else None


def retract_tethers(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Every one-colour object (4-neighbour) with one stalk (`_stalk`) whose tip has a non-background cell of
    another colour just beyond it loses the stalk, and its body moves the stalk's length toward that cell. None
    where no object has such a tether."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    out, found = grid.copy(), False
    for o in components(grid, bg, "c4"):
        stalk = _stalk(o.mask)
        if stalk is None:
            continue
        axis, direction, k = stalk
        rows, cols = np.nonzero(o.mask)
        line = rows if axis == 0 else cols
        tip = line.min() if direction < 0 else line.max()
        ty, tx = (rows[line == tip][0], cols[line == tip][0])
        by, bx = (ty + direction, tx) if axis == 0 else (ty, tx + direction)
        by, bx = by + o.top, bx + o.left
        colour = int(o.grid[ty, tx])
        if not (0 <= by < h and 0 <= bx < w) or grid[by, bx] in (bg, colour):
            continue
        body = (line >= tip + k) if direction < 0 else (line <= tip - k)
        dy, dx = (direction * k, 0) if axis == 0 else (0, direction * k)
        out[rows + o.top, cols + o.left] = bg
        out[rows[body] + o.top + dy, cols[body] + o.left + dx] = colour
        found = True
    return out if found else None


def corners_inward(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Each one-colour object (8-neighbour) holding one corner cell of the grid, whose colour another corner's object
    has too, erased and drawn again moved inward along the diagonal by its box's height and width. None where no
    colour holds two corners."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    corners = {(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)}
    held = []
    for o in components(grid, bg, "c8"):
        cells = {(o.top + int(r), o.left + int(c)) for r, c in zip(*np.nonzero(o.mask))}
        mine = corners & cells
        if len(mine) == 1:   # an object across two corners (a full bar) has no one way in
            y, x = mine.pop()
            held.append((o, 1 if y == 0 else -1, 1 if x == 0 else -1))
    per_colour = Counter(_colour_of(o) for o, _, _ in held)
    moving = [(o, sy, sx) for o, sy, sx in held if per_colour[_colour_of(o)] >= 2]
    if not moving:
        return None
    out = grid.copy()
    for o, _, _ in moving:
        rows, cols = np.nonzero(o.mask)
        out[rows + o.top, cols + o.left] = bg
    for o, sy, sx in moving:
        rows, cols = np.nonzero(o.mask)
        rr, cc = rows + o.top + sy * o.height, cols + o.left + sx * o.width
        keep = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        out[rr[keep], cc[keep]] = _colour_of(o)
    return out


def ops(ctx: TaskContext) -> list[Op]:
    """attract(anchor), align(anchor) and reflect_out(anchor) for anchor colours, to_anchor, gather_onto(colour),
    to_own_colour, to_own_wall, step_to_corner, plug_holes, retract_tethers, corners_inward and dock, where their
    moves agree with the train outputs; shift_colours where every colour's own translation reproduces the train
    outputs; the first move_by_measure and the first move_by_count that do; snap_pairs along the first axis where it
    does."""
    bg = ctx.bg
    anchors = [c for c in _anchor_colours(ctx) if c != bg]
    candidates = [Op(f"attract({c})", partial(attract, ctx_bg=bg, anchor=c)) for c in anchors]
    candidates += [Op(f"align({c})", partial(align, ctx_bg=bg, anchor=c)) for c in anchors]
    candidates += [Op(f"reflect_out({c})", partial(reflect_out, ctx_bg=bg, anchor=c)) for c in anchors]
    candidates += [Op(f"gather_onto({c})", partial(gather_onto, ctx_bg=bg, target=c)) for c in ctx.in_colours]
    if anchors:
        candidates.append(Op(f"to_anchor({''.join(map(str, anchors))})",
                             partial(to_anchor, ctx_bg=bg, anchors=tuple(anchors))))
    candidates += [Op(f"attract({c},paint)", partial(attract, ctx_bg=bg, anchor=c, paint=True))
                   for c in _kept_colours(ctx)]
    candidates += [Op(f"to_own_colour({'keep' if keep else 'erase'})",
                      partial(to_own_colour, ctx_bg=bg, keep_lost=keep)) for keep in (False, True)]
    candidates += [Op(f"to_own_wall({'keep' if keep else 'erase'})",
                      partial(to_own_wall, ctx_bg=bg, keep_lost=keep)) for keep in (False, True)]
    candidates.append(Op("step_to_corner", partial(step_to_corner, ctx_bg=bg)))
    candidates.append(Op("plug_holes", partial(plug_holes, ctx_bg=bg)))
    candidates.append(Op("retract_tethers", partial(retract_tethers, ctx_bg=bg)))
    candidates.append(Op("corners_inward", partial(corners_inward, ctx_bg=bg)))
    candidates += [Op(f"dock({'copy' if keep else 'move'})", partial(dock, keep=keep))
                   for keep in (False, True)]
    return shape_keeping([op for op in candidates if agrees(op.fn, ctx, exact=False)] + _shift_ops(ctx)
                         + _measure_ops(ctx) + _count_move_ops(ctx) + _snap_ops(ctx) + _turn_ops(ctx, anchors))
