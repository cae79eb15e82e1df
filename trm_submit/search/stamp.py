"""Stamps: around every cell of a seed colour, paint a fixed pattern over the background cells of its
3x3 neighbourhood. The pattern of each seed colour is read off the train pairs (the output colour at each
offset of the input-background cells around that colour's cells, where every instance agrees), and the op
is offered only if it then reproduces every train output exactly. The functions take any radius; radius 2
is not offered (on the ARC-AGI-1 training set it fitted one task's demonstrations and got its test wrong).

Repeated motifs (`motif_rays`): from every lone cell (a seed), a motif repeated along a period vector v to the
grid's edge: the cells at the offsets of the first period (those whose projection on v lies in (0, |v|]) and
their translates by every multiple of v, painted in the seed's colour or a fixed one; "both" also draws the motif
turned by 180 degrees the other way (3ac3eb23: "a zigzag falls from each dot"; d06dbe63: "a staircase up and down
from the dot"). The motif and v are read off the demonstrations and offered only where they reproduce them.

Corner stamps (`corner_stamps`): a cell at a corner of the grid is replaced by a pattern in its colour, the pattern
(offsets from the corner, and whether the cell itself stays) read off the demonstrations per corner, whatever the
colour (ARC-AGI-2 fd02da9e: "each corner dot throws its own shape inward").
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .dsl import Op, TaskContext
from .fitting import reproduces, same_shape_pairs
from .objects import components, grid_background

Stamps = dict[int, tuple[tuple[int, int, int], ...]]   # seed colour -> ((dy, dx, colour), ...)


def _offsets(radius: int) -> list[tuple[int, int]]:
    return [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1) if dy or dx]


def _shifted(a: np.ndarray, dy: int, dx: int, fill: bool) -> np.ndarray:
    """b with b[y, x] = a[y - dy, x - dx] (cells shifted by (dy, dx)), `fill` where that is outside."""
    h, w = a.shape
    out = np.full_like(a, fill)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = (
        a[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)])
    return out


def fit_stamps(pairs: list[tuple[np.ndarray, np.ndarray]], ctx_bg: int, radius: int) -> Stamps:
    """Per seed colour with at least 2 cells over the pairs (one instance says nothing about a rule), the
    offsets whose background cells take one colour (not bg) in every instance."""
    seen: dict[tuple[int, int, int], set[int]] = {}
    instances: dict[int, int] = {}
    for i, o in pairs:
        bg = grid_background(i, ctx_bg)
        for colour in np.unique(i):
            if colour == bg:
                continue
            seeds = i == colour
            instances[int(colour)] = instances.get(int(colour), 0) + int(seeds.sum())
            for dy, dx in _offsets(radius):
                reach = _shifted(seeds, dy, dx, False) & (i == bg)
                seen.setdefault((int(colour), dy, dx), set()).update(np.unique(o[reach]).tolist())
    stamps: dict[int, list] = {}
    for (colour, dy, dx), values in seen.items():
        if len(values) == 1 and next(iter(values)) != ctx_bg and instances[colour] >= 2:
            stamps.setdefault(colour, []).append((dy, dx, next(iter(values))))
    return {c: tuple(v) for c, v in sorted(stamps.items())}


def apply_stamps(grid: np.ndarray, ctx_bg: int, stamps: Stamps) -> np.ndarray:
    """`grid` with each seed colour's stamp painted over the background around its cells."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    free = grid == bg
    for colour, entries in sorted(stamps.items()):   # later colours, then later entries, paint over
        seeds = grid == colour
        if not seeds.any():
            continue
        for dy, dx, value in entries:
            out[_shifted(seeds, dy, dx, False) & free] = value
    return out


SEED_COLOUR = 10   # a motif cell painted in its seed's colour
MAX_PERIOD = 4     # |vy|, |vx| of the period vectors tried
MAX_PAINTED = 200  # painted cells of one demonstration the motif rays may explain
Motif = tuple[tuple[int, int, int], ...]   # ((dy, dx, colour or SEED_COLOUR), ...)


def _seeds(grid: np.ndarray, bg: int) -> list[tuple[int, int, int]]:
    """(row, column, colour) of every lone cell (no non-background 8-neighbour)."""
    return [(o.top, o.left, int(o.grid[0, 0])) for o in components(grid, bg, "m8") if o.size == 1]


def draw_motifs(grid: np.ndarray, ctx_bg: int, motif: Motif, v: tuple[int, int], both: bool) -> np.ndarray | None:
    """Every seed's motif rays (module docstring) painted over the background. None without a seed."""
    bg = grid_background(grid, ctx_bg)
    seeds = _seeds(grid, bg)
    if not seeds:
        return None
    h, w = grid.shape
    out = grid.copy()
    steps = max(h, w) // max(abs(v[0]), abs(v[1])) + 1
    for r, c, colour in seeds:
        for sign in ((1, -1) if both else (1,)):
            for dy, dx, value in motif:
                for n in range(steps):
                    y, x = r + sign * (dy + n * v[0]), c + sign * (dx + n * v[1])
                    if 0 <= y < h and 0 <= x < w and grid[y, x] == bg:
                        out[y, x] = colour if value == SEED_COLOUR else value
    return out


def _painted(pairs: list[tuple[np.ndarray, np.ndarray]], ctx_bg: int) -> np.ndarray | None:
    """Rows (dy, dx, colour) of every cell an output paints, read from its nearest seed (Chebyshev; cells as near
    to two seeds are left out: they tell nothing about either), colour SEED_COLOUR where it is the seed's own.
    None where a demonstration has no seed or more than MAX_PAINTED painted cells."""
    rows = []
    for i, o in pairs:
        seeds = np.array(_seeds(i, grid_background(i, ctx_bg)))
        painted = np.argwhere(o != i)
        if not len(seeds) or len(painted) > MAX_PAINTED:
            return None
        dist = np.abs(painted[:, None, :] - seeds[None, :, :2]).max(axis=2)
        nearest = dist.argmin(axis=1)
        single = (dist == dist.min(axis=1, keepdims=True)).sum(axis=1) == 1
        painted, seed = painted[single], seeds[nearest[single]]
        value = o[painted[:, 0], painted[:, 1]].astype(np.int64)
        rows.append(np.column_stack([painted - seed[:, :2], np.where(value == seed[:, 2], SEED_COLOUR, value)]))
    return np.concatenate(rows) if rows else None


def _fit_motif(painted: np.ndarray, v: tuple[int, int]) -> Motif | None:
    """The first-period offsets of the painted cells (`_painted`), each with one colour in every instance; None
    where two instances disagree, there is nothing, or no painted cell lies beyond the first period (the
    repetition must be seen, not assumed)."""
    dot = painted[:, 0] * v[0] + painted[:, 1] * v[1]
    period = v[0] * v[0] + v[1] * v[1]
    if not (dot > period).any():
        return None
    first = np.unique(painted[(dot > 0) & (dot <= period)], axis=0)
    if not len(first) or len(np.unique(first[:, :2], axis=0)) < len(first):
        return None
    return tuple((int(dy), int(dx), int(value)) for dy, dx, value in first)


def motif_ops(ctx: TaskContext, pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[Op]:
    """The first motif ray (period vectors shortest first) that reproduces every train output, if any."""
    if any(((i != o) & (i != grid_background(i, ctx.bg))).any() for i, o in pairs):
        return []   # the motifs only paint over the background
    vectors = sorted(((vy, vx) for vy in range(-MAX_PERIOD, MAX_PERIOD + 1) for vx in range(-MAX_PERIOD, MAX_PERIOD + 1)
                      if vy or vx), key=lambda v: (abs(v[0]) + abs(v[1]), v))
    painted = _painted(pairs, ctx.bg)
    if painted is None:
        return []
    for v in vectors:
        motif = _fit_motif(painted, v)
        if motif is None:
            continue
        for both in (False, True):
            fn = partial(draw_motifs, ctx_bg=ctx.bg, motif=motif, v=v, both=both)
            if reproduces(fn, ctx):   # ops() offers motifs on same-shape tasks only: `pairs` is every pair
                return [Op(f"motif_rays({v[0]},{v[1]},{'both' if both else 'one'})", fn, keeps_shape=True)]
    return []


CornerStamps = dict[int, tuple[bool, tuple[tuple[int, int], ...]]]   # corner -> (seed kept, offsets)


def _corner_cells(h: int, w: int) -> list[tuple[int, int, int, int]]:
    """(row, column, row step inward, column step inward) of the four corners: top-left, top-right, bottom-left,
    bottom-right."""
    return [(0, 0, 1, 1), (0, w - 1, 1, -1), (h - 1, 0, -1, 1), (h - 1, w - 1, -1, -1)]


def fit_corner_stamps(pairs: list[tuple[np.ndarray, np.ndarray]], ctx_bg: int) -> CornerStamps | None:
    """Per corner that holds a coloured cell on some train input: the output cells of that colour that were
    background, as offsets inward from the corner, and whether the corner cell keeps its colour. None where a
    corner's instances disagree, two corners of one input share a colour, or no corner holds one."""
    stamps: CornerStamps = {}
    for i, o in pairs:
        bg = grid_background(i, ctx_bg)
        h, w = i.shape
        corners = [(k, y, x, sy, sx) for k, (y, x, sy, sx) in enumerate(_corner_cells(h, w)) if i[y, x] != bg]
        if len({int(i[y, x]) for _, y, x, _, _ in corners}) != len(corners):
            return None
        for k, y, x, sy, sx in corners:
            ys, xs = np.nonzero((o == i[y, x]) & (i == bg))
            entry = (bool(o[y, x] == i[y, x]), tuple(sorted(zip(((ys - y) * sy).tolist(), ((xs - x) * sx).tolist()))))
            if stamps.setdefault(k, entry) != entry:
                return None
    return stamps or None


def corner_stamps(grid: np.ndarray, ctx_bg: int, stamps: CornerStamps) -> np.ndarray | None:
    """Each coloured corner cell replaced by its corner's stamp (offsets inward) in its colour, over the
    background. None where a coloured corner has no stamp or no corner is coloured."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    out, found = grid.copy(), False
    for k, (y, x, sy, sx) in enumerate(_corner_cells(h, w)):
        if grid[y, x] == bg:
            continue
        if k not in stamps:
            return None
        kept, offsets = stamps[k]
        found = True
        if not kept:
            out[y, x] = bg
        for dy, dx in offsets:
            r, c = y + dy * sy, x + dx * sx
            if 0 <= r < h and 0 <= c < w and grid[r, c] == bg:
                out[r, c] = grid[y, x]
    return out if found else None


def ops(ctx: TaskContext) -> list[Op]:
    """The motif rays, the corner stamps and the radius-1 stamp op, where they reproduce every train output
    (same-shape tasks)."""
    pairs = same_shape_pairs(ctx)
    if not ctx.same_shape or not pairs:
        return []
    bg = ctx.bg
    found = motif_ops(ctx, pairs)
    corners = fit_corner_stamps(pairs, bg)
    if corners is not None:
        fn = partial(corner_stamps, ctx_bg=bg, stamps=corners)
        found += [Op(f"corner_stamps({len(corners)})", fn, keeps_shape=True)] if reproduces(fn, ctx) else []
    for radius in (1,):
        stamps = fit_stamps(pairs, bg, radius)
        if not stamps:
            continue
        if all((apply_stamps(i, bg, stamps) == o).all() for i, o in pairs):
            text = ";".join(f"{c}:{len(v)}" for c, v in stamps.items())
            return found + [Op(f"stamp(r{radius};{text})", partial(apply_stamps, ctx_bg=bg, stamps=stamps),
                               keeps_shape=True)]
    return found
