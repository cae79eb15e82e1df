"""Colour primitives: keep or erase one colour, recolour everything that is not background, fill the background, the
majority/minority colour as a 1x1 grid, the colours present as a list (a line of cells), and the colour-map finisher (a
per-task colour substitution fitted from the demonstrations). `permute_layers` permutes the input's own colours by
their order from the border inwards (reversed, or each taking the next or the previous layer's colour): nested
rings swap colours, a map that differs in every demonstration. `colour_histogram` draws the colours' counts as
bars; `largest_bars` draws one bar per largest object; `concentric` draws the grid's nested layers (or its colours,
the most frequent outside) as square rings; `rings_from_markers` fills a square grid with rings around its centre,
each ring the colour of the marker cell lying on it (ac0c2ac3: "each dot's distance from the middle is its ring").
`rotate_colours` turns the colours of the regions around the grid's centre one step (880c1354: "the colours go round
the middle"), the colours that no demonstration changes held fixed. `nearest_colour` gives each cell (or object) of
one colour the colour of the nearest cell of any other colour (2204b7a8: "each dot takes the nearer wall's colour");
`most_specked` the colour of the area with the most lone specks, as a 1x1 grid. `recolour_by_sides` recolours each
coloured cell by a table keyed by its colour and how many of its four side neighbours are coloured (b6afb2da: "corners
one colour, edges another, the inside a third"), the table read off the demonstrations.
"""

from __future__ import annotations

from functools import partial
from typing import Optional

import numpy as np

from .dsl import Op, TaskContext
from .fitting import agrees, reproduces
from .grid_loops import beside, label_components, pad1
from .objects import colour_components, colour_counts, components, diagonal_segment, grid_background
from .views import turned_ops

Grid = np.ndarray
UNSEEN = 255
FITTED_COST = 2  # a fitted colour map ranks after a named op that explains the same demonstrations


def keep_colour(g: Grid, colour: int, bg: int) -> Optional[Grid]:
    """Only the cells of `colour` stay; everything else becomes background (None if `colour` is absent)."""
    mask = g == colour
    if not mask.any():
        return None
    return np.where(mask, g, np.uint8(bg)).astype(np.uint8)


def _painted(g: Grid, mask: np.ndarray, colour: int) -> Optional[Grid]:
    """A copy of `g` with the `mask` cells set to `colour`; None when the mask is empty (nothing to paint)."""
    if not mask.any():
        return None
    out = g.copy()
    out[mask] = colour
    return out


def erase_colour(g: Grid, colour: int, bg: int) -> Optional[Grid]:
    """Cells of `colour` become background (None if `colour` is absent)."""
    return _painted(g, g == colour, bg)


def recolour_non_bg(g: Grid, colour: int, bg: int) -> Optional[Grid]:
    """Every non-background cell takes `colour`."""
    return _painted(g, g != bg, colour)


def fill_bg(g: Grid, colour: int, bg: int) -> Optional[Grid]:
    """Every background cell takes `colour`."""
    return _painted(g, g == bg, colour)


def majority_any(g: Grid) -> Grid:
    """1x1 grid of the most common colour, background included (ties: the smaller colour)."""
    return np.array([[int(np.argmax(np.bincount(g.ravel(), minlength=10)))]], dtype=np.uint8)


def majority_colour(g: Grid, bg: int) -> Optional[Grid]:
    """1x1 grid of the most common non-background colour (ties: the smaller colour)."""
    counts = colour_counts(g, bg)
    if counts.max() == 0:
        return None
    return np.array([[int(np.argmax(counts))]], dtype=np.uint8)


def minority_colour(g: Grid, bg: int) -> Optional[Grid]:
    """1x1 grid of the least common non-background colour present (ties: the smaller colour)."""
    counts = colour_counts(g, bg)
    present = np.flatnonzero(counts)
    if present.size == 0:
        return None
    return np.array([[int(present[np.argmin(counts[present])])]], dtype=np.uint8)


def most_specked(g: Grid) -> Optional[Grid]:
    """1x1 grid of the colour of the area holding the most specks (de1cd16c: "the field with the most dots"):
    the specks are the one colour whose every cell stands alone (no 8-neighbour of its colour); a speck lies in
    the area of its 4-neighbours' commonest colour. None without one speck colour, or on a tie."""
    alone = [c for c in np.unique(g).tolist()
             if not ((g == c) & (beside(g == c, "4") | beside(g == c, "diag"))).any()]
    if len(alone) != 1 or (g == alone[0]).sum() < 2:
        return None
    padded = np.pad(g.astype(np.int16), 1, constant_values=-1)
    counts = np.zeros(10, dtype=int)
    for r, c in np.argwhere(g == alone[0]):
        near = [int(padded[1 + r + dr, 1 + c + dc]) for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))]
        near = [x for x in near if x >= 0 and x != alone[0]]
        if near:
            values, n = np.unique(near, return_counts=True)
            if (n == n.max()).sum() == 1:
                counts[values[np.argmax(n)]] += 1
    if counts.max() == 0 or (counts == counts.max()).sum() > 1:
        return None
    return np.array([[int(np.argmax(counts))]], dtype=np.uint8)


def stacking_order(g: Grid, bg: int) -> Optional[list[int]]:
    """The non-background colours from the bottom layer up, where each colour is one rectangle outline (or
    solid rectangle, or straight line) or one diagonal line that others may cover: a colour B lies above A where B
    shows on the border of A's bounding box (on A's line). None when a colour is neither (a background cell on
    both), or when the order has a cycle or leaves two colours unordered (68bc2e87: "which frame lies on which";
    ARC-AGI-2 22425bda: "which line crosses over which")."""
    present = [int(c) for c in np.unique(g) if c != bg]
    if len(present) < 2:
        return None
    above: dict[int, set[int]] = {c: set() for c in present}
    for c in present:
        rows, cols = np.nonzero(g == c)
        top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
        border = np.concatenate([g[top, left:right + 1], g[bottom, left:right + 1],
                                 g[top:bottom + 1, left], g[top:bottom + 1, right]])
        if (border == bg).any():
            line = diagonal_segment(g, c, bg)
            if line is None:
                return None
            border = g[line]
        above[c] = {int(v) for v in np.unique(border) if v != c}
    order: list[int] = []
    while len(order) < len(present):   # the bottom colour is the one no remaining colour lies under
        bottom_now = [c for c in present if c not in order
                      and not any(c in above[d] for d in present if d not in order and d != c)]
        if len(bottom_now) != 1:
            return None
        order.append(bottom_now[0])
    return order


def colour_list(g: Grid, bg: int, order: str) -> Optional[Grid]:
    """The colours present, one cell each: the non-background ones by count ("count_desc", "count_asc"; ties:
    the smaller colour first) as a column, or from the bottom layer up (`stacking_order`) as a column ("stacked")
    or a row ("stacked_row"), or every one along the grid ("along", stripes: in the order of their cells' mean
    column, as a row, where the colours' mean columns spread wider than their mean rows; else by mean row, as a
    column). None with fewer than two colours or a tie in position."""
    if order in ("stacked", "stacked_row"):
        stacked = stacking_order(g, bg)
        if stacked is None:
            return None
        return np.array([stacked] if order == "stacked_row" else [[c] for c in stacked], dtype=np.uint8)
    counts = colour_counts(g, bg) if order != "along" else np.bincount(g.ravel(), minlength=10)
    present = [int(c) for c in np.flatnonzero(counts)]
    if len(present) < 2:
        return None
    if order != "along":
        sign = -1 if order == "count_desc" else 1
        ranked = sorted(present, key=lambda c: (sign * int(counts[c]), c))
        return np.array(ranked, dtype=np.uint8)[:, None]
    centres = np.array([np.argwhere(g == c).mean(axis=0) for c in present])
    axis = 1 if np.ptp(centres[:, 1]) > np.ptp(centres[:, 0]) else 0
    if len(np.unique(centres[:, axis])) < len(present):
        return None
    ranked = [present[i] for i in np.argsort(centres[:, axis], kind="stable")]
    column = np.array(ranked, dtype=np.uint8)[:, None]
    return column.T.copy() if axis == 1 else column


def colour_histogram(g: Grid, bg: int, which: str, fill: int = 0) -> Optional[Grid]:
    """Bars of the colours' counts: one column per colour (every colour, or `which` "non_bg": all but `bg`), the
    most frequent first (ties: the smaller colour), each filled from the top with its colour as many cells as it
    has, on `fill`. None with fewer than two colours or a bar longer than 30."""
    counts = np.bincount(g.ravel(), minlength=10) if which == "all" else colour_counts(g, bg)
    present = sorted((int(c) for c in np.flatnonzero(counts)), key=lambda c: (-int(counts[c]), c))
    if len(present) < 2 or counts[present[0]] > 30:
        return None
    out = np.full((int(counts[present[0]]), len(present)), fill, dtype=np.uint8)
    for k, c in enumerate(present):
        out[:int(counts[c]), k] = c
    return out


def _layers(g: Grid) -> Optional[list[int]]:
    """The colours of the grid's nested layers from the border in: layer 0 is every one-colour region (4-neighbour)
    that touches the border, layer k+1 every region next to layer k not in an earlier one; None when a layer holds
    two colours."""
    labels, n = label_components(g, 10, False, False)
    touching = np.zeros((n + 1, n + 1), dtype=bool)
    for a, b in ((labels[1:, :], labels[:-1, :]), (labels[:, 1:], labels[:, :-1])):
        touching[a.ravel(), b.ravel()] = True
    touching |= touching.T
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    layer = np.full(n + 1, -1)
    front = sorted(set(edge.tolist()))
    colours: list[int] = []
    first = np.zeros(n + 1, dtype=np.int64)
    first[labels.ravel()] = g.ravel()
    while front:
        found = {int(first[r]) for r in front}
        if len(found) != 1:
            return None
        colours.append(found.pop())
        layer[front] = len(colours) - 1
        front = sorted({int(r) for f in front for r in np.flatnonzero(touching[f]) if layer[r] < 0})
    return colours


def rings_from_markers(g: Grid, bg: int) -> Optional[Grid]:
    """An odd square grid filled with square rings around its centre cell, ring k (Chebyshev distance k) the colour
    of the non-background cells at that distance; None unless every ring has marker cells of exactly one colour."""
    h, w = g.shape
    if h != w or h % 2 == 0 or h < 3:
        return None
    bg = grid_background(g, bg)
    rows, cols = np.indices(g.shape)
    dist = np.maximum(abs(rows - h // 2), abs(cols - h // 2))
    ring = np.full(h // 2 + 1, 255, dtype=np.int64)
    for d, colour in zip(dist[g != bg], g[g != bg]):
        if ring[d] not in (255, colour):
            return None
        ring[d] = colour
    return None if (ring == 255).any() else ring.astype(np.uint8)[dist]


def concentric(g: Grid, bg: int, order: str) -> Optional[Grid]:
    """Colours as nested square rings around one centre cell, outermost first: by `order` "layer" the grid's own
    nested layers (`_layers`: the border's colour outside), by "count" the non-background colours, the most
    frequent outside (ties: the smaller colour; ARC-AGI-2 5587a8d0). n rings give a (2n-1)-square. None with
    fewer than two rings or more than 15."""
    if order == "layer":
        rings = _layers(g)
    else:
        counts = colour_counts(g, bg)
        rings = sorted((int(c) for c in np.flatnonzero(counts)), key=lambda c: (-int(counts[c]), c))
    if rings is None or not 2 <= len(rings) <= 15:
        return None
    side = 2 * len(rings) - 1
    out = np.empty((side, side), dtype=np.uint8)
    for k, c in enumerate(rings):
        out[k:side - k, k:side - k] = c
    return out


def largest_bars(g: Grid, bg: int) -> Optional[Grid]:
    """One column per object (one colour, 8-neighbour) of the largest size, left to right by its first column,
    each as tall as that size and filled with the object's colour. None without objects, with two of them
    starting in one column, or a size over 30."""
    objs = components(g, grid_background(g, bg), "c8")
    if not objs:
        return None
    size = max(o.size for o in objs)
    largest = sorted((o for o in objs if o.size == size), key=lambda o: o.left)
    if size > 30 or len({o.left for o in largest}) < len(largest):
        return None
    colours = [int(o.grid[o.mask][0]) for o in largest]
    return np.repeat(np.array(colours, dtype=np.uint8)[None, :], size, axis=0)


def fit_colour_map(outs: list[Grid], targets: list[Grid]) -> Optional[Op]:
    """The colour substitution that maps every `outs[i]` onto `targets[i]` (same shapes), or None when no
    single substitution does or it is the identity. It does not apply (None) to a grid holding a colour it
    never saw: such an answer would be a guess."""
    lut = np.arange(10, dtype=np.uint8)
    fixed = np.zeros(10, dtype=bool)
    for o, t in zip(outs, targets):
        if o.shape != t.shape:
            return None
        pairs = np.flatnonzero(np.bincount((o.astype(np.intp) * 10 + t).ravel(), minlength=100)).tolist()
        src = [p // 10 for p in pairs]
        if len(set(src)) != len(src):
            return None
        for a, b in zip(src, [p % 10 for p in pairs]):
            if fixed[a] and lut[a] != b:
                return None
            lut[a], fixed[a] = b, True
    changed = [(a, int(lut[a])) for a in range(10) if fixed[a] and lut[a] != a]
    if not changed:
        return None
    name = "colour_map(" + ", ".join(f"{a}->{b}" for a, b in changed) + ")"
    lut[~fixed] = UNSEEN
    return Op(name, partial(_apply_lut, lut=lut), cost=FITTED_COST, keeps_shape=True)


def _apply_lut(g: Grid, lut: np.ndarray) -> Optional[Grid]:
    out = lut[g]
    return None if (out == UNSEEN).any() else out


LAYER_MAPS = ("reverse", "next", "previous")


def permute_layers(g: Grid, how: str) -> Optional[Grid]:
    """Every colour replaced by another colour of the grid, by their order of depth (the least distance of a cell
    to the border, ties by colour): `how` "reverse" swaps first and last, "next" gives each colour the next
    layer's colour (the deepest the first's), "previous" the previous one's. None with fewer than two colours."""
    h, w = g.shape
    rows, cols = np.indices(g.shape)
    depth = np.minimum(np.minimum(rows, cols), np.minimum(h - 1 - rows, w - 1 - cols))
    present = [int(c) for c in np.unique(g)]
    if len(present) < 2:
        return None
    layers = sorted(present, key=lambda c: (int(depth[g == c].min()), c))
    n = len(layers)
    step = {"reverse": None, "next": 1, "previous": -1}[how]
    lut = np.arange(10, dtype=g.dtype)
    for k, c in enumerate(layers):
        lut[c] = layers[n - 1 - k] if step is None else layers[(k + step) % n]
    return lut[g]


def rotate_colours(g: Grid, fixed: tuple[int, ...], step: int) -> Optional[Grid]:
    """Each colour of `g` outside `fixed` takes the colour of the one `step` places before it in the order of their
    cells' mean position by angle around the grid's centre (step 1: clockwise, -1: anticlockwise on the screen; with
    two colours both swap them). None with fewer than two such colours or two of them at one angle."""
    h, w = g.shape
    turning = []
    for c in np.unique(g).tolist():
        if c in fixed:
            continue
        ys, xs = np.nonzero(g == c)
        turning.append((round(float(np.arctan2(ys.mean() - (h - 1) / 2, xs.mean() - (w - 1) / 2)), 9), c))
    turning.sort()
    if len(turning) < 2 or len({a for a, _ in turning}) < len(turning):
        return None
    lut = np.arange(10, dtype=g.dtype)
    for k, (_, c) in enumerate(turning):
        lut[c] = turning[(k - step) % len(turning)][1]
    return lut[g]


def _side_keys(g: Grid, bg: int) -> tuple[np.ndarray, np.ndarray]:
    """(coloured cells mask, key per cell): key = colour * 5 + how many of its four side neighbours are coloured."""
    fg = g != bg
    p = pad1(fg, False)
    sides = p[:-2, 1:-1].astype(np.int64) + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]
    return fg, g.astype(np.int64) * 5 + sides


def fit_side_table(ins: tuple, outs: tuple, bg: int) -> Optional[np.ndarray]:
    """The table key -> colour (`_side_keys`; UNSEEN where no coloured cell has that key) under which every coloured
    cell of each input takes its output's colour and every background cell stays; None where two cells of one key
    disagree, a background cell changes, or no colour takes two colours by its sides (a plain colour map)."""
    seen = np.zeros((50, 10), dtype=bool)   # key -> the output colours its cells take
    for i, o in zip(ins, outs):
        if i.shape != o.shape:
            return None
        fg, keys = _side_keys(i, bg)
        if (o[~fg] != bg).any():
            return None
        seen[keys[fg], o[fg]] = True
    if (seen.sum(axis=1) > 1).any():
        return None
    table = np.where(seen.any(axis=1), seen.argmax(axis=1), UNSEEN)
    if not any(len({int(x) for x in row if x != UNSEEN}) > 1 for row in table.reshape(10, 5)):
        return None
    return table


def recolour_by_sides(g: Grid, bg: int, table: tuple) -> Optional[Grid]:
    """Each coloured cell of `g` takes `table`'s colour for its key (`_side_keys`); None for a key the table lacks."""
    fg, keys = _side_keys(g, bg)
    lut = np.array(table, dtype=np.int64)
    got = lut[keys[fg]]
    if (got == UNSEEN).any():
        return None
    out = g.copy()
    out[fg] = got
    return out


def _unchanged_colours(ctx: TaskContext) -> tuple[int, ...]:
    """The colours of the train inputs (any of them, the background included) whose cells keep their colour in every
    same-shape demonstration that holds them."""
    kept: set[int] = set()
    changed: set[int] = set()
    for i, o in zip(ctx.train_in, ctx.train_out):
        if i.shape != o.shape:
            continue
        for c in np.unique(i).tolist():
            (changed if (o[i == c] != c).any() else kept).add(c)
    return tuple(sorted(kept - changed))


def ops(ctx: TaskContext) -> list[Op]:
    """The task's colour ops: parameters from the colours the task uses."""
    bg = ctx.bg
    out = []
    for c in ctx.in_colours:
        if c != bg:
            out.append(Op(f"keep_colour({c})", partial(keep_colour, colour=c, bg=bg), keeps_shape=True))
            out.append(Op(f"erase_colour({c})", partial(erase_colour, colour=c, bg=bg), keeps_shape=True))
    for c in ctx.out_colours:
        if c != bg:
            out.append(Op(f"recolour_non_bg({c})", partial(recolour_non_bg, colour=c, bg=bg), keeps_shape=True))
    for c in ctx.new_colours:
        out.append(Op(f"fill_bg({c})", partial(fill_bg, colour=c, bg=bg), keeps_shape=True))
    out.append(Op("majority_colour", partial(majority_colour, bg=bg)))
    out.append(Op("majority_any", majority_any))
    out.append(Op("minority_colour", partial(minority_colour, bg=bg)))
    if all(1 in o.shape for o in ctx.train_out):   # colour lists: only where every output is one line
        out += [Op(f"colour_list({order})", partial(colour_list, bg=bg, order=order))
                for order in ("count_desc", "count_asc", "along", "stacked", "stacked_row")]
    if not ctx.same_shape:   # offered where it gives every train output
        bars = [Op(f"colour_histogram({which}{'' if fill == 0 else f',{fill}'})",
                   partial(colour_histogram, bg=bg, which=which, fill=fill))
                for fill in dict.fromkeys((0, *ctx.new_colours)) for which in ("all", "non_bg")]   # on black or new
        fits = lambda fn: reproduces(fn, ctx)   # noqa: E731
        out += ([op for op in bars if fits(op.fn)] or turned_ops(bars, fits))[:1]   # bars hang down, or turned
        op = Op("largest_bars", partial(largest_bars, bg=bg))
        if reproduces(op.fn, ctx):
            out.append(op)
        op = Op("most_specked", most_specked)
        if all(o.shape == (1, 1) for o in ctx.train_out) and reproduces(op.fn, ctx):
            out.append(op)
        for order in ("layer", "count"):
            op = Op(f"concentric({order})", partial(concentric, bg=bg, order=order))
            if reproduces(op.fn, ctx):
                out.append(op)
                break
    if ctx.same_shape:   # offered where it reproduces every demonstration: a map read off each input itself
        for how in LAYER_MAPS:
            op = Op(f"permute_layers({how})", partial(permute_layers, how=how), keeps_shape=True)
            if agrees(op.fn, ctx, exact=True):
                out.append(op)
                break
        op = Op("rings_from_markers", partial(rings_from_markers, bg=bg), keeps_shape=True)
        if agrees(op.fn, ctx, exact=True):
            out.append(op)
        fixed = _unchanged_colours(ctx)
        for step in (1, -1):
            op = Op(f"rotate_colours({step})", partial(rotate_colours, fixed=fixed, step=step), keeps_shape=True)
            if agrees(op.fn, ctx, exact=True):
                out.append(op)
                break
        table = fit_side_table(ctx.train_in, ctx.train_out, bg)
        if table is not None:
            out.append(Op("recolour_by_sides", partial(recolour_by_sides, bg=bg, table=tuple(table.tolist())),
                          keeps_shape=True))
        for colour in _recoloured_colours(ctx):
            for objects in (True, False):
                op = Op(f"nearest_colour({colour},{'objects' if objects else 'cells'})",
                        partial(nearest_colour, ctx_bg=bg, colour=colour, objects=objects), keeps_shape=True)
                if agrees(op.fn, ctx, exact=False):
                    out.append(op)
                    break
    return out


def nearest_colour(grid: Grid, ctx_bg: int, colour: int, objects: bool) -> Optional[Grid]:
    """Every cell of `colour` (every 8-connected object of it, with `objects`) takes the colour of the nearest
    cell (straight-line distance) whose colour is neither the background nor `colour`. None without such cells,
    or when the nearest ones differ in colour."""
    bg = grid_background(grid, ctx_bg)
    others = np.argwhere((grid != bg) & (grid != colour))
    if not len(others) or not (grid == colour).any():
        return None
    others_colour = grid[others[:, 0], others[:, 1]]
    out = grid.copy()
    if objects:
        groups = [np.argwhere(o.mask) + (o.top, o.left)
                  for o in colour_components(grid, bg, colour)]
    else:
        groups = [cell[None] for cell in np.argwhere(grid == colour)]
    for cells in groups:
        d = ((cells[:, None, :] - others[None, :, :]) ** 2).sum(-1).min(0)
        near = np.unique(others_colour[d == d.min()])
        if len(near) != 1:
            return None
        out[cells[:, 0], cells[:, 1]] = near[0]
    return out


def _recoloured_colours(ctx: TaskContext) -> list[int]:
    """The input colours some of whose cells take another colour, not the background, in the outputs."""
    found = set()
    for i, o in zip(ctx.train_in, ctx.train_out):
        if i.shape == o.shape:
            bg = grid_background(i, ctx.bg)
            changed = (i != o) & (o != bg) & (i != bg)
            found |= set(np.unique(i[changed]).tolist())
    return sorted(found)


def finishers(ctx: TaskContext) -> list:
    return [fit_colour_map]
