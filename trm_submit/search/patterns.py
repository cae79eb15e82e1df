"""Grid patterns: gravity of cells or objects in 4 directions, flood fill of enclosed background regions and
of the background regions that touch a colour, rays (lines drawn from seed cells), denoising (isolated
cells, small objects, objects inside another object's box, 3x3 majority filter, noisy stripes to their
majority colour, the largest solid rectangle kept alone, scribbles lifted off layered rectangles), the largest
blank rectangle (at least 2 x 2) filled (3eda0437: "paint the biggest empty area"), a path flooded in two colours
by turns (b782dc8a), rows continued like a template row in their own colours and blank rows filled with the first
row's colours in turn, overlapping rectangles redrawn in the reverse order (52df9849), the one run of colour on the
grid's edge repeated all the way round it, a gap of its length between copies (ARC-AGI-2 30f42897), the box each
cluster of a colour spans shaded in a new colour (36fdfd69).
Symmetry completion lives in `symmetry`, splitting and boolean combination in `split`; `ops` also offers
the ops of `lines` (connect, surround, fill_box, interior), `stamp` (fitted neighbourhood patterns) and
`move` (objects attracted to an anchor colour).

Parameters come from the demonstrations: fill colour = the colour outputs add on enclosed background, ray
seed colours = the colours the outputs add, a variant is offered only where it agrees with the outputs.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import numpy as np

from .dsl import Op, TaskContext
from .fitting import added_colours, agrees, same_shape_pairs, shape_keeping
from .grid_loops import beside, draw_rays, enclosed, gravity_down, label_components, majority3x3, window_counts
from .objects import Obj, components, diagonal_segment, grid_background, place
from .views import turned_ops

# Direction d means: apply in the frame where d points down. to_frame/from_frame map a grid there and back.
_FRAMES: dict[str, tuple[Callable, Callable]] = {
    "down": (lambda g: g, lambda g: g),
    "up": (np.flipud, np.flipud),
    "right": (lambda g: g.T, lambda g: g.T),
    "left": (lambda g: np.flipud(g.T), lambda g: np.flipud(g).T),
}
RAY_DIRS: dict[str, tuple[tuple[int, int], ...]] = {
    "up": ((-1, 0),), "down": ((1, 0),), "left": ((0, -1),), "right": ((0, 1),),
    "h": ((0, -1), (0, 1)), "v": ((-1, 0), (1, 0)), "hv": ((0, -1), (0, 1), (-1, 0), (1, 0)),
    "diag": ((-1, -1), (-1, 1), (1, -1), (1, 1)),
    "all": ((0, -1), (0, 1), (-1, 0), (1, 0), (-1, -1), (-1, 1), (1, -1), (1, 1)),
}
_RAY_ARRAYS = {name: np.array(dirs, dtype=np.int64) for name, dirs in RAY_DIRS.items()}
MAX_RAY_OPS = 4


def _c(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.uint8)


def gravity_cells(grid: np.ndarray, ctx_bg: int, direction: str) -> np.ndarray:
    """Every non-bg cell slides to the `direction` wall of its row/column, keeping their order."""
    to_frame, from_frame = _FRAMES[direction]
    bg = grid_background(grid, ctx_bg)
    return _c(from_frame(gravity_down(_c(to_frame(grid)), bg)))


def _drop(canvas: np.ndarray, obj: Obj, bg: int) -> Obj:
    """`obj` (already lifted off `canvas`) moved down until the border or a non-bg canvas cell stops it."""
    top = obj.top
    while top + obj.height < canvas.shape[0]:
        region = canvas[top + 1:top + 1 + obj.height, obj.left:obj.left + obj.width]
        if (region[obj.mask] != bg).any():
            break
        top += 1
    return Obj(top, obj.left, obj.grid, obj.mask, bg)


def gravity_objects(grid: np.ndarray, ctx_bg: int, direction: str, mode: str = "m8", min_size: int = 0
                    ) -> np.ndarray | None:
    """Objects fall as rigid units toward `direction` until each rests on the border or on another object:
    drop them one by one (nearest the wall first), repeated until none moves. Objects of fewer than `min_size`
    cells stay where they are (others may land on them)."""
    to_frame, from_frame = _FRAMES[direction]
    g = _c(to_frame(grid))
    bg = grid_background(g, ctx_bg)
    objs = sorted((o for o in components(g, bg, mode) if o.size >= min_size), key=lambda o: -(o.top + o.height))
    if not objs:
        return grid
    canvas = g.copy()
    for _ in range(len(objs)):
        moved = False
        for k, obj in enumerate(objs):
            place(canvas, obj, bg)
            objs[k] = _drop(canvas, obj, bg)
            place(canvas, objs[k])
            moved |= objs[k].top != obj.top
        if not moved:
            break
    return _c(from_frame(canvas))


def fill_enclosed(grid: np.ndarray, ctx_bg: int, colour: int) -> np.ndarray | None:
    """Background cells not 4-connected to the border through background, painted `colour` (a grid
    without such cells is returned as it is, as by every op here that finds nothing to do)."""
    bg = grid_background(grid, ctx_bg)
    inside = enclosed(grid, bg)
    if not inside.any():
        return grid
    out = grid.copy()
    out[inside] = colour
    return out


def flood_from(grid: np.ndarray, ctx_bg: int, colour: int) -> np.ndarray | None:
    """Background regions (4-neighbour) that touch a cell of `colour` at a side, painted `colour`."""
    bg = grid_background(grid, ctx_bg)
    labels, _ = label_components((grid == bg).astype(np.uint8), 0, False, False)
    touched = np.unique(labels[beside(grid == colour, "4") & (labels > 0)])
    if touched.size == 0:
        return grid
    out = grid.copy()
    out[np.isin(labels, touched) & (labels > 0)] = colour
    return out


MAX_SEED_CELLS = 8   # flood_checker: a colour with more cells than this is no seed


def flood_checker(grid: np.ndarray, over: int) -> np.ndarray | None:
    """The regions of colour `over` (4-neighbour) that touch a seed painted in the seeds' two colours by turns,
    like the seeds themselves (b782dc8a: "colour the maze's path in alternating steps"; `over` is the path's
    colour, which need not be the background). The seeds are the one pair of colours (at most MAX_SEED_CELLS
    cells each, next to each other) whose cells sit on the two colours of a checkerboard, one colour on each;
    None without exactly one such pair."""
    rows, cols = np.indices(grid.shape)
    parity = (rows + cols) % 2
    seeds = []
    for c in range(10):
        cells = grid == c
        n = int(cells.sum())
        if c != over and 0 < n <= MAX_SEED_CELLS and len(np.unique(parity[cells])) == 1:
            seeds.append((c, cells, int(parity[cells][0])))
    pairs = [(a, b) for a in seeds for b in seeds if a[0] < b[0] and a[2] != b[2] and (beside(a[1], "4") & b[1]).any()]
    if len(pairs) != 1:
        return None
    (a, cells_a, parity_a), (b, cells_b, _) = pairs[0]
    labels, _ = label_components((grid == over).astype(np.uint8), 0, False, False)
    touched = np.unique(labels[beside(cells_a | cells_b, "4") & (labels > 0)])
    region = np.isin(labels, touched) & (labels > 0)
    if not region.any():
        return None
    out = grid.copy()
    out[region & (parity == parity_a)] = a
    out[region & (parity != parity_a)] = b
    return out


def continue_rows(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Rows with background cells completed like a full row (no background) of the grid: the first full row
    whose colours map (each to one colour) onto the row's coloured cells gives the row's missing cells
    through that map ("the other rows repeat the template row in their own colours")."""
    bg = grid_background(grid, ctx_bg)
    full = [r for r in range(grid.shape[0]) if (grid[r] != bg).all()]
    out = grid.copy()
    for r in range(grid.shape[0]):
        row = grid[r]
        known = row != bg
        if known.all() or not known.any():
            continue
        for t in full:
            template = grid[t]
            colour_map: dict[int, int] = {}
            if all(colour_map.setdefault(int(a), int(b)) == b for a, b in zip(template[known], row[known])) \
                    and all(int(a) in colour_map for a in template[~known]):
                out[r, ~known] = [colour_map[int(a)] for a in template[~known]]
                break
    return out


def cycle_header(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The blank rows filled, top to bottom, with the colours of the first row's coloured cells in turn, left to
    right ("each colour of the header becomes a row, again and again"); None without two header colours or a
    blank row."""
    bg = grid_background(grid, ctx_bg)
    header = grid[0][grid[0] != bg]
    blank = [r for r in range(1, grid.shape[0]) if (grid[r] == bg).all()]
    if len(header) < 2 or not blank:
        return None
    out = grid.copy()
    for k, r in enumerate(blank):
        out[r] = header[k % len(header)]
    return out


def rays(grid: np.ndarray, ctx_bg: int, seed_colours: tuple[int, ...], dirs: str, through: bool) -> np.ndarray | None:
    """Rays from every cell of a seed colour, in the seed's colour, over background cells."""
    bg = grid_background(grid, ctx_bg)
    is_seed = np.zeros(256, dtype=bool)
    is_seed[list(seed_colours)] = True
    is_seed[bg] = False
    seeds = is_seed[grid]
    if not seeds.any():
        return grid
    return draw_rays(_c(grid), seeds, _RAY_ARRAYS[dirs], bg, through)


def remove_small(grid: np.ndarray, ctx_bg: int, max_size: int, mode: str = "m8") -> np.ndarray | None:
    """Components (under `mode`) of at most `max_size` cells painted background."""
    bg = grid_background(grid, ctx_bg)
    diag, multi = (True, True) if mode == "m8" else (mode == "c8", False)
    labels, n = label_components(_c(grid), bg, diag, multi)
    if n == 0:
        return grid
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    small = sizes[labels] <= max_size
    small &= labels > 0
    if not small.any():
        return grid
    out = grid.copy()
    out[small] = bg
    return out


def line_majority(grid: np.ndarray, axis: int) -> np.ndarray:
    """Each row (axis 1) or column (axis 0) painted its most frequent colour (smaller colour on ties)."""
    g = grid if axis == 1 else grid.T
    counts = np.apply_along_axis(np.bincount, 1, g, minlength=10)
    out = np.repeat(np.argmax(counts, axis=1).astype(np.uint8)[:, None], g.shape[1], axis=1)
    return _c(out if axis == 1 else out.T)


def stripe_majority(grid: np.ndarray) -> np.ndarray | None:
    """Noisy stripes cleaned (e26a3af2): `line_majority` along the axis that changes fewer cells (the
    stripes' direction); None on a tie."""
    rows, cols = line_majority(grid, 1), line_majority(grid, 0)
    n_rows, n_cols = int((rows != grid).sum()), int((cols != grid).sum())
    if n_rows == n_cols:
        return None
    return rows if n_rows < n_cols else cols


def majority_filter(grid: np.ndarray) -> np.ndarray:
    """Each cell takes the most frequent colour of its 3x3 neighbourhood (inside the grid); a tie keeps it."""
    return majority3x3(_c(grid))


def gravity_ops(ctx: TaskContext) -> list[Op]:
    bg = ctx.bg
    found = []
    for d in _FRAMES:
        found.append(Op(f"gravity_cells({d})", partial(gravity_cells, ctx_bg=bg, direction=d)))
        found.append(Op(f"gravity_objects({d})", partial(gravity_objects, ctx_bg=bg, direction=d)))
    pairs = same_shape_pairs(ctx)
    if not pairs:
        return []

    def mask_fits(op: Op) -> bool:  # the moved mask matches the output's non-bg mask
        for i, o in pairs:
            r = op.fn(i)
            b = grid_background(i, bg)
            if r is None or not ((r != b) == (o != b)).all():
                return False
        return True
    kept = [op for op in found if mask_fits(op)]
    return kept + ([] if kept else _sized_gravity_ops(ctx))


MAX_STAYING = 8   # sized gravity: the largest object size that may stay where it is


def _sized_gravity_ops(ctx: TaskContext) -> list[Op]:
    """Gravity of the objects of at least k cells (the smaller ones stay), the first (direction, mode, k) that
    reproduces every train output; k from 2 to MAX_STAYING + 1."""
    if not ctx.same_shape or all((i == o).all() for i, o in zip(ctx.train_in, ctx.train_out)):
        return []
    if any((np.bincount(i.ravel(), minlength=10) != np.bincount(o.ravel(), minlength=10)).any()
           for i, o in zip(ctx.train_in, ctx.train_out)):   # objects only move: every colour keeps its count
        return []
    for d in _FRAMES:
        for mode in ("c4", "c8"):
            for k in range(2, MAX_STAYING + 2):
                op = Op(f"gravity_objects({d},{mode},{k}+)",
                        partial(gravity_objects, ctx_bg=ctx.bg, direction=d, mode=mode, min_size=k))
                if agrees(op.fn, ctx, exact=True):
                    return [op]
    return []


MAX_CLUSTER_CELLS = 400   # fill_boxes_of: more cells of the colour than this and it is no cluster colour


def fill_boxes_of(grid: np.ndarray, colour: int, fill: int) -> np.ndarray | None:
    """Every cell of another colour in the bounding box of a cluster of `colour` painted `fill` (36fdfd69: "shade
    the box each red cluster spans"); a cluster's cells are linked by steps of at most two cells each way (one cell
    between them). None without such a cell."""
    ys, xs = np.nonzero(grid == colour)
    if len(ys) == 0 or len(ys) > MAX_CLUSTER_CELLS:
        return None
    near = (np.abs(ys[:, None] - ys[None, :]) <= 2) & (np.abs(xs[:, None] - xs[None, :]) <= 2)
    cluster = np.arange(len(ys))
    while True:                      # each cell takes the least label within reach until none changes
        least = np.where(near, cluster[None, :], len(ys)).min(axis=1)
        if np.array_equal(least, cluster):
            break
        cluster = least[least]
    out = grid.copy()
    for k in np.unique(cluster):
        r, c = ys[cluster == k], xs[cluster == k]
        box = out[r.min():r.max() + 1, c.min():c.max() + 1]
        box[grid[r.min():r.max() + 1, c.min():c.max() + 1] != colour] = fill
    return None if np.array_equal(out, grid) else out


def fill_ops(ctx: TaskContext) -> list[Op]:
    """Fills of enclosed regions in the colours the outputs add there; floods from a colour that the outputs
    spread over background, where they agree with the outputs."""
    bg = ctx.bg
    colours = added_colours(ctx, enclosed_only=True) if ctx.train_in else set()
    if not colours and not ctx.same_shape:
        colours = set(ctx.new_colours)
    found = [Op(f"fill_enclosed({c})", partial(fill_enclosed, ctx_bg=bg, colour=c)) for c in sorted(colours)[:2]]
    if ctx.same_shape:
        spread = added_colours(ctx, enclosed_only=False) & set(ctx.in_colours)
        floods = [Op(f"flood_from({c})", partial(flood_from, ctx_bg=bg, colour=c)) for c in sorted(spread)]
        found += [op for op in floods if agrees(op.fn, ctx, exact=False)][:2]
        boxes = [Op(f"fill_boxes_of({c},{f})", partial(fill_boxes_of, colour=c, fill=f))
                 for c in ctx.in_colours if c != bg for f in ctx.new_colours]
        found += [op for op in boxes if agrees(op.fn, ctx, exact=False)][:1]
    return found


def ray_ops(ctx: TaskContext) -> list[Op]:
    """Ray variants that agree with the outputs; seeds are all non-bg cells, or else the cells of the
    colours the outputs add."""
    bg = ctx.bg
    fitted = tuple(sorted(added_colours(ctx, enclosed_only=False) & set(ctx.in_colours)))
    if not fitted:
        return []
    every = tuple(c for c in range(10) if c != bg)
    found = []
    for name in RAY_DIRS:
        for through in (False, True):
            for seeds, label in ((every, "all"), (fitted, ",".join(map(str, fitted)))):
                op = Op(f"rays({name},{'through' if through else 'stop'},{label})",
                        partial(rays, ctx_bg=bg, seed_colours=seeds, dirs=name, through=through))
                if agrees(op.fn, ctx, exact=False):
                    found.append((not agrees(op.fn, ctx, exact=True), op))
                    break
    found.sort(key=lambda v: v[0])
    return [op for _, op in found[:MAX_RAY_OPS]]


def _largest_block(mask: np.ndarray) -> tuple[int, int, int, int, int]:
    """(area, top, left, height, width) of the largest all-True rectangle of `mask` (per row, the column heights
    of True runs ending there, and the widest span each height holds, by a stack); area 0 when there is none.
    Ties: the first found (top rows first)."""
    h, w = mask.shape
    best = (0, 0, 0, 0, 0)
    heights = [0] * (w + 1)   # a zero sentinel closes every open span at the row's end
    for r in range(h):
        for c in range(w):
            heights[c] = heights[c] + 1 if mask[r, c] else 0
        stack: list[int] = []
        for c in range(w + 1):
            while stack and heights[stack[-1]] >= heights[c]:
                height = heights[stack.pop()]
                left = stack[-1] + 1 if stack else 0
                area = height * (c - left)
                if area > best[0]:
                    best = (area, r - height + 1, left, height, c - left)
            stack.append(c)
    return best


def largest_rectangle(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Only the largest solid rectangle of one colour (at least 2 x 2), every other cell background: a block
    kept out of noise. None on a tie between two rectangles of different places or colours."""
    bg = grid_background(grid, ctx_bg)
    found = [(_largest_block(grid == c), c) for c in np.unique(grid) if c != bg]
    found = [(b, c) for b, c in found if b[3] >= 2 and b[4] >= 2]
    if not found:
        return None
    found.sort(key=lambda e: -e[0][0])
    if len(found) > 1 and found[1][0][0] == found[0][0][0]:
        return None
    (_, top, left, height, width), colour = found[0]
    out = np.full(grid.shape, bg, dtype=np.uint8)
    out[top:top + height, left:left + width] = colour
    return out


def fill_largest_blank(grid: np.ndarray, ctx_bg: int, colour: int) -> np.ndarray | None:
    """The largest all-background rectangle of at least 2 x 2 cells painted `colour` (a one-cell-thin run of
    background is a gap, not an area); None without one, or when two rectangles share the largest area."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    blank = grid == bg
    best = 0
    spots: list[tuple[int, int, int, int]] = []
    for rh in range(2, h + 1):
        for rw in range(max(2, -(-best // rh)), w + 1):   # only sizes that can tie or beat the best
            area = rh * rw
            found = np.argwhere(window_counts(blank, rh, rw) == area)
            if not len(found) or area < best:
                continue
            if area > best:
                best, spots = area, []
            spots += [(int(r), int(c), rh, rw) for r, c in found]
    if len(spots) != 1:
        return None
    r, c, rh, rw = spots[0]
    out = grid.copy()
    out[r:r + rh, c:c + rw] = colour
    return out


def remove_inner(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """One-colour objects (8-neighbour) lying wholly inside another object's bounding box painted background:
    what sits within another shape (ARC-AGI-2 9720b24f). None when no object does."""
    bg = grid_background(grid, ctx_bg)
    objs = components(grid, bg, "c8")
    out = grid.copy()
    for o in objs:
        if any(p is not o and p.top <= o.top and p.left <= o.left and o.top + o.height <= p.top + p.height
               and o.left + o.width <= p.left + p.width and p.size > o.size for p in objs):
            place(out, o, bg)
    return None if np.array_equal(out, grid) else out


def _colour_boxes(grid: np.ndarray, skip: np.ndarray) -> tuple[dict, dict]:
    """({colour: (top, bottom, left, right) of its cells' bounding box}, {(a, b): some cell of a lies inside b's
    box}) over the colours of the cells outside `skip`: each colour read as one rectangle, a over b where it
    covers part of b's box."""
    boxes = {}
    for colour in np.unique(grid[~skip]):
        ys, xs = np.nonzero(grid == colour)
        boxes[int(colour)] = (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)
    over = {(a, b): bool((grid[y0:y1, x0:x1] == a).any())
            for b, (y0, y1, x0, x1) in boxes.items() for a in boxes if a != b}
    return boxes, over


def uncover_rectangles(grid: np.ndarray, noise: int) -> np.ndarray | None:
    """Every `noise` cell takes the colour of the topmost rectangle over it (`_colour_boxes`: each other colour one
    rectangle, laid over another when some of its cells lie inside the other's box; b7955b3c: "layered panels under
    scribbles"). Where the layering does not decide, the smallest box covering the cell wins. None without noise, or
    with a noise cell no box covers."""
    mask = grid == noise
    if not mask.any() or mask.all():
        return None
    boxes, over = _colour_boxes(grid, mask)

    def area(k: int) -> int:
        y0, y1, x0, x1 = boxes[k]
        return (y1 - y0) * (x1 - x0)

    out = grid.copy()
    for r, c in zip(*np.nonzero(mask)):
        under = [k for k, (y0, y1, x0, x1) in boxes.items() if y0 <= r < y1 and x0 <= c < x1]
        if not under:
            return None
        top = [k for k in under if all(over[k, d] and not over[d, k] for d in under if d != k)]
        out[r, c] = top[0] if len(top) == 1 else min(under, key=area)
    return out


def _layer_shapes(grid: np.ndarray, bg: int) -> dict[int, np.ndarray]:
    """{colour: the cells of its layer}: its bounding box where no cell of the box is background, else the diagonal
    line through its cells (`diagonal_segment`), else its own cells (a shape nothing lies over)."""
    shapes = {}
    for colour in np.unique(grid[grid != bg]):
        mask = grid == colour
        ys, xs = np.nonzero(mask)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        if (grid[y0:y1, x0:x1] != bg).all():
            mask = np.zeros(grid.shape, dtype=bool)
            mask[y0:y1, x0:x1] = True
        else:
            line = diagonal_segment(grid, int(colour), bg)
            mask = mask if line is None else line
        shapes[int(colour)] = mask
    return shapes


def reverse_layers(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Overlapping layers redrawn in the reverse order (`_layer_shapes`: each colour one rectangle, one diagonal line
    or, on top, a shape of its own; the one on top goes to the bottom; 52df9849: "the bar underneath comes to the
    front"). None unless the layers, drawn bottom first, give the grid back, their order has no cycle and some
    layer lies over another."""
    bg = grid_background(grid, ctx_bg)
    shapes = _layer_shapes(grid, bg)
    over = {(a, b): bool((grid[shapes[b]] == a).any()) for b in shapes for a in shapes if a != b}
    if len(shapes) < 2 or not any(over.values()):
        return None
    order: list[int] = []          # bottom first
    left = set(shapes)
    while left:
        bottom = [k for k in sorted(left) if not any(over[k, d] for d in left if d != k)]
        if not bottom:
            return None
        order.append(bottom[0])
        left.remove(bottom[0])
    out = np.full(grid.shape, bg, dtype=np.uint8)
    for k in order:                  # the old order: it must give the grid back
        out[shapes[k]] = k
    if not np.array_equal(out, grid):
        return None
    for k in reversed(order):
        out[shapes[k]] = k
    return out


def denoise_ops(ctx: TaskContext) -> list[Op]:
    bg = ctx.bg
    result = [Op("remove_isolated", lambda g: remove_small(g, bg, 1)), Op("majority3x3", majority_filter)]
    if ctx.same_shape:
        result.append(Op("stripe_majority", stripe_majority))
        result.append(Op("remove_inner", partial(remove_inner, ctx_bg=bg)))
        result = [op for op in result if agrees(op.fn, ctx, exact=False)]
    removed = []
    for i, o in same_shape_pairs(ctx):
        b = grid_background(i, bg)
        labels, n = label_components(_c(i), b, True, True)
        sizes = np.bincount(labels.ravel(), minlength=n + 1)
        gone = np.unique(labels[(o == b) & (i != b)])
        removed += [int(sizes[k]) for k in gone if k > 0]
    if removed and max(removed) > 1:
        k = max(removed)
        result.append(Op(f"remove_small({k})", lambda g: remove_small(g, bg, k)))
    block = Op("largest_rectangle", partial(largest_rectangle, ctx_bg=bg))
    if ctx.same_shape and agrees(block.fn, ctx, exact=False):
        result.append(block)
    added = sorted(added_colours(ctx, enclosed_only=False)) if ctx.same_shape else []
    if len(added) == 1:
        blank = Op(f"fill_largest_blank({added[0]})", partial(fill_largest_blank, ctx_bg=bg, colour=added[0]))
        if agrees(blank.fn, ctx, exact=False):
            result.append(blank)
    if ctx.same_shape:   # a colour every input has and no output keeps: scribbles over layered rectangles
        for noise in sorted(set(ctx.in_colours) - set(ctx.out_colours)):
            uncover = Op(f"uncover_rectangles({noise})", partial(uncover_rectangles, noise=noise))
            if agrees(uncover.fn, ctx, exact=True):
                result.append(uncover)
    return result


def _rim(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the grid's edge cells in clockwise order from the top-left corner (h, w >= 2)."""
    rows = [0] * w + list(range(1, h)) + [h - 1] * (w - 1) + list(range(h - 2, 0, -1))
    cols = list(range(w)) + [w - 1] * (h - 1) + list(range(w - 2, -1, -1)) + [0] * (h - 2)
    return np.array(rows), np.array(cols)


def repeat_round_edge(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The one run of one colour on the grid's edge (read round it, clockwise) repeated all the way round: run,
    a gap of background as long, run, ... from where it starts. None unless the edge holds exactly one such run of
    non-background cells (and some background)."""
    h, w = grid.shape
    if h < 2 or w < 2:
        return None
    bg = grid_background(grid, ctx_bg)
    rows, cols = _rim(h, w)
    ring = grid[rows, cols]
    on = ring != bg
    n = len(ring)
    starts = np.nonzero(on & ~np.roll(on, 1))[0]
    if len(starts) != 1 or on.all():
        return None
    start = int(starts[0])
    length = int(np.argmin(np.roll(on, -start)))   # the run's length: up to its first background cell
    colours = np.unique(np.roll(ring, -start)[:length])
    if len(colours) != 1:
        return None
    k = (np.arange(n) - start) % n
    out = grid.copy()
    out[rows, cols] = np.where(k % (2 * length) < length, colours[0], bg)
    return out


def continue_ops(ctx: TaskContext) -> list[Op]:
    """Rows continued, headers cycled, paths flooded by turns and edge runs repeated round the grid, where they
    agree with the outputs."""
    if not ctx.same_shape:
        return []
    header = Op("cycle_header", partial(cycle_header, ctx_bg=ctx.bg))
    found = [Op("continue_rows", partial(continue_rows, ctx_bg=ctx.bg)), header]
    found += [Op(f"flood_checker({c})", partial(flood_checker, over=c)) for c in ctx.in_colours]
    found.append(Op("repeat_round_edge", partial(repeat_round_edge, ctx_bg=ctx.bg)))
    fits = lambda fn: agrees(fn, ctx, exact=False)   # noqa: E731
    return [op for op in found if fits(op.fn)] + turned_ops([header], fits)   # the header in another edge


def ops(ctx: TaskContext) -> list[Op]:
    """Gravity, fills, rays, denoising, row continuation and layer reversal ops for this task, parameters fitted
    from its demonstrations."""
    layers = Op("reverse_layers", partial(reverse_layers, ctx_bg=ctx.bg))
    reversed_layers = [layers] if ctx.same_shape and agrees(layers.fn, ctx, exact=True) else []
    return shape_keeping(gravity_ops(ctx) + fill_ops(ctx) + ray_ops(ctx) + denoise_ops(ctx) + continue_ops(ctx)
                         + reversed_layers)


def finishers(ctx: TaskContext) -> list:
    return []
