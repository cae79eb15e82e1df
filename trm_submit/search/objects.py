"""Objects: connected components of a grid (4-/8-neighbour, one colour or multicolour, background excluded) and the
background regions they enclose (`enclosed_regions`), object lists as "list" values (each object cropped to its
bounding box, row-major order of first cell), and the list -> grid joins (first item, overlay of equal-size items:
later ones on top or the first on top, horizontal/vertical stacks).

Background of one grid: the task's background colour (TaskContext.bg, the most frequent colour over all
inputs) when the grid holds it, else the grid's own most frequent colour (smallest colour on ties).
Selection rules and crops live in `select`, recolouring by fitted rules in `recolour`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache, partial
from typing import Sequence

import numpy as np

from .dsl import GRID, LIST, MAX_LIST, VALUE_MAX_SIDE, Items, Op, TaskContext
from .grid_loops import component_boxes, enclosed, label_components

# Segmentation modes: (name, 8-neighbour, multicolour)
MODES: tuple[tuple[str, bool, bool], ...] = (("c4", False, False), ("c8", True, False), ("m8", True, True))
MODE_BY_NAME = {name: (diag, multi) for name, diag, multi in MODES} | {"m4": (False, True)}   # m4: copies only
MAX_OBJECTS = 200   # noisy grids (a frame among scattered cells) have 100+ components


def grid_background(grid: np.ndarray, default: int) -> int:
    """`default` when the grid holds it, else the grid's most frequent colour (smallest on ties)."""
    return int(default) if (grid == default).any() else most_common_colour(grid)


def colour_counts(grid: np.ndarray, bg: int) -> np.ndarray:
    """Cells of each colour 0-9, the background `bg` counted as none (the count most colour rules start from)."""
    counts = np.bincount(grid.ravel(), minlength=10)
    counts[bg] = 0
    return counts


def most_common_colour(grid: np.ndarray) -> int:
    """The grid's most frequent colour (smallest on ties): its own background, whatever the task's is."""
    return int(np.bincount(grid.ravel(), minlength=10).argmax())


@dataclass(frozen=True)
class Obj:
    """One component: its bounding box position, cropped cells (bg outside the component) and mask."""

    top: int
    left: int
    grid: np.ndarray   # cropped to the bbox; cells outside the component are bg
    mask: np.ndarray   # bool, same shape as grid: the component's cells
    bg: int

    @cached_property
    def size(self) -> int:
        """Number of the component's cells (computed once: objects are cached and shared)."""
        return int(self.mask.sum())

    @property
    def height(self) -> int:
        return self.grid.shape[0]

    @property
    def width(self) -> int:
        return self.grid.shape[1]

    @cached_property
    def colour(self) -> int:
        """The most frequent colour of the component (smallest on ties)."""
        return int(np.argmax(np.bincount(self.grid[self.mask], minlength=10)))

    @cached_property
    def n_colours(self) -> int:
        return len(np.unique(self.grid[self.mask]))

    def shape_key(self) -> tuple:
        """The component's mask shape, independent of colour and position."""
        return (self.mask.shape, self.mask.tobytes())

    def content_key(self) -> tuple:
        return (self.grid.shape, self.grid.tobytes())


@lru_cache(maxsize=256)   # an entry: each object's box (cells + mask), a few grid areas in all; a few MB typically
def _components_cached(raw: bytes, h: int, w: int, bg: int, mode: str) -> tuple[Obj, ...]:
    grid = np.frombuffer(raw, dtype=np.uint8).reshape(h, w)
    diag, multi = MODE_BY_NAME[mode]
    labels, n = label_components(grid, bg, diag, multi)
    if n == 0 or n > MAX_OBJECTS:
        return ()
    objs = []
    for k, (r0, c0, r1, c1) in enumerate(component_boxes(labels, n).tolist(), start=1):
        mask = labels[r0:r1, c0:c1] == k
        crop = np.where(mask, grid[r0:r1, c0:c1], np.uint8(bg)).astype(np.uint8)
        crop.flags.writeable = False
        mask.flags.writeable = False
        objs.append(Obj(int(r0), int(c0), crop, mask, bg))
    objs.sort(key=lambda o: (o.top, o.left))
    return tuple(objs)


def components(grid: np.ndarray, bg: int, mode: str) -> tuple[Obj, ...]:
    """The components of `grid` (not `bg`) under segmentation `mode` ("c4", "c8", "m8"), sorted by the
    row then column of their bounding box; () when there are none or more than MAX_OBJECTS."""
    g = np.ascontiguousarray(grid, dtype=np.uint8)
    return _components_cached(g.tobytes(), g.shape[0], g.shape[1], int(bg), mode)


def colour_components(grid: np.ndarray, bg: int, colour: int) -> tuple[Obj, ...]:
    """The 8-connected objects of one colour (the grid's other colours taken as background)."""
    return components(np.where(grid == colour, colour, bg).astype(np.uint8), bg, "c8")


def enclosed_regions(grid: np.ndarray, bg: int) -> tuple[Obj, ...]:
    """The enclosed background regions (4-neighbour, not reached from the border) as objects of background
    cells: the holes a shape encloses."""
    regions = components(enclosed(grid, bg).astype(np.uint8), 0, "c4")
    return tuple(Obj(o.top, o.left, np.full(o.mask.shape, bg, np.uint8), o.mask, bg) for o in regions)


def diagonal_segment(grid: np.ndarray, colour: int, bg: int) -> np.ndarray | None:
    """The cells of the one diagonal (or anti-diagonal) segment from the first to the last cell of `colour`, where
    every cell of the colour lies on it and none of its cells is background (a line others may cross over); None
    otherwise or with fewer than two cells."""
    ys, xs = np.nonzero(grid == colour)
    if len(ys) < 2:
        return None
    for sign in (1, -1):
        key = ys - sign * xs
        if (key == key[0]).all():
            rows = np.arange(ys.min(), ys.max() + 1)
            mask = np.zeros(grid.shape, dtype=bool)
            mask[rows, sign * (rows - key[0])] = True
            return None if (grid[mask] == bg).any() else mask
    return None


def cells_of(objs: Sequence[Obj], shape: tuple[int, int]) -> np.ndarray:
    """The cells of `objs` as one boolean mask over a grid of `shape`."""
    mask = np.zeros(shape, dtype=bool)
    for o in objs:
        mask[o.top:o.top + o.height, o.left:o.left + o.width] |= o.mask
    return mask


def place(canvas: np.ndarray, obj: Obj, colour: int | None = None) -> None:
    """Paint `obj`'s cells onto `canvas` (in place) at its position, in `colour` if given."""
    region = canvas[obj.top:obj.top + obj.height, obj.left:obj.left + obj.width]
    region[obj.mask] = obj.grid[obj.mask] if colour is None else colour


def object_list(grid: np.ndarray, ctx_bg: int, mode: str) -> tuple | None:
    """The objects of `grid` as a list value of cropped grids at their positions, or None without objects /
    too many."""
    objs = components(grid, grid_background(grid, ctx_bg), mode)
    if not objs or len(objs) > MAX_LIST:
        return None
    return Items(tuple(o.grid for o in objs), tuple((o.top, o.left) for o in objs), grid.shape)


def own_objects(grid: np.ndarray) -> tuple | None:
    """The multicolour objects (8-neighbour) of `grid` on its own most common colour, for tasks whose examples
    differ in background (25e02866)."""
    return object_list(grid, most_common_colour(grid), "m8")


def first_item(items: tuple) -> np.ndarray | None:
    return items[0] if items else None


def overlay(items: tuple, bg: int) -> np.ndarray | None:
    """Items of one shape painted in order, each item's non-bg cells over the previous ones."""
    if not items or any(it.shape != items[0].shape for it in items):
        return None
    out = items[0].copy()
    for it in items[1:]:
        keep = it != bg
        out[keep] = it[keep]
    return out


def overlay_common(items: tuple) -> np.ndarray | None:
    """Items of one shape painted in order over their most common colour, which is transparent in each: the marks
    of boxes of one colour gathered into one box (25e02866)."""
    if len(items) < 2 or any(it.shape != items[0].shape for it in items):
        return None
    clear = int(np.bincount(np.concatenate([it.ravel() for it in items]), minlength=10).argmax())
    out = np.full(items[0].shape, clear, dtype=np.uint8)
    for it in items:
        keep = it != clear
        out[keep] = it[keep]
    return out


def stack(items: tuple, axis: int) -> np.ndarray | None:
    """Items concatenated side by side (axis=1, equal heights) or top to bottom (axis=0, equal widths)."""
    if not items or any(it.shape[1 - axis] != items[0].shape[1 - axis] for it in items):
        return None
    out = np.concatenate(items, axis=axis)
    return out if max(out.shape) <= VALUE_MAX_SIDE else None


def ops(ctx: TaskContext) -> list[Op]:
    """Object-list splits (one per segmentation mode; the objects keep their positions, so a map over them can
    be put back in place) and the list -> grid joins."""
    bg = ctx.bg
    result = [Op(f"objects({m})", partial(object_list, ctx_bg=bg, mode=m), GRID, LIST) for m, _, _ in MODES]
    if any(most_common_colour(g) != bg for g in ctx.train_in + ctx.test_in):
        result.append(Op("objects(m8,own_bg)", own_objects, GRID, LIST))
    result += [
        Op("first", first_item, LIST, GRID),
        Op("overlay", lambda items: overlay(items, bg), LIST, GRID),
        Op("overlay_first_on_top", lambda items: overlay(items[::-1], bg), LIST, GRID),
        Op("overlay_common", overlay_common, LIST, GRID),
        Op("stack_h", lambda items: stack(items, 1), LIST, GRID),
        Op("stack_v", lambda items: stack(items, 0), LIST, GRID),
    ]
    return result


def finishers(ctx: TaskContext) -> list:
    return []
