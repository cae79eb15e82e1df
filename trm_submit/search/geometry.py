"""Geometry primitives: the 8 dihedral maps, crops to a bounding box, scaling up and down (down: uniform
blocks, each block's majority colour, or its one colour), scaling by the number of colours, tiling,
mirror-tiling, tiling by rotations, concatenation with a transformed copy, halves, deleting blank or repeated
rows/columns, the unit tile of a repeating grid, the grid in place of each of its cells (`kron_self`;
`kron_colours`: only that cell's colour), a fitted block per coloured cell, the grid framed by its own edges
(`bleed_edges`, where every output is one cell larger on each side), the rows sheared into a parallelogram
(`skew`: each row shifted one cell further right than the row below it, or above it), the colours along each
one-cell-wide path read backwards (`reverse_paths`: ARC-AGI-2 5792cb4d), a mosaic of unequal one-colour blocks
with holes read as one cell per block (`block_colours`: ARC-AGI-2 80214e03), blocks each the grid under its own
dihedral map (or blank), the map per block fitted (`dihedral_blocks`: ARC-AGI-2 cf5fd0ad), the grid below a
header row and right of a header column rolled cyclically by the header markers' offsets (`roll_by_markers`: ARC-AGI-2
79cce52d), the rows or columns sorted by their number of coloured cells (`sort_lines`), a colour's box grown by a margin
(`crop_colour_margin`).

Conventions: `flip_h` mirrors left-right (columns reversed), `flip_v` mirrors top-bottom, `rot90` turns a
quarter counter-clockwise (numpy's rot90). Size parameters (scale and tile factors) are fitted from the
demonstrations' input/output shape ratios, plus the common factors 2 and 3.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Optional

import numpy as np

from .dsl import VALUE_MAX_SIDE, Op, TaskContext
from .fitting import agrees, reproduces
from .grid_loops import colour_box
from .objects import components, grid_background

Grid = np.ndarray

DIHEDRAL: dict[str, Callable[[Grid], Grid]] = {
    "rot90": lambda g: g.T[::-1, :],
    "rot180": lambda g: g[::-1, ::-1],
    "rot270": lambda g: g.T[:, ::-1],
    "flip_h": lambda g: g[:, ::-1],
    "flip_v": lambda g: g[::-1, :],
    "transpose": lambda g: g.T,
    "anti_transpose": lambda g: g[::-1, ::-1].T,
}


def crop_to_mask(g: Grid, mask: np.ndarray) -> Optional[Grid]:
    """The bounding box of the true cells of `mask` cut out of `g` (None when the mask is empty)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return g[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]


def _crop_box(g: Grid, colour: int, equal: bool) -> Optional[Grid]:
    r0, c0, r1, c1 = colour_box(np.ascontiguousarray(g, dtype=np.uint8), colour, equal).tolist()
    return g[r0:r1, c0:c1] if r1 else None


def crop_non_bg(g: Grid, bg: int) -> Optional[Grid]:
    """The bounding box of the cells that are not `bg` (None when there are none)."""
    return _crop_box(g, bg, False)


def crop_colour(g: Grid, colour: int) -> Optional[Grid]:
    """The bounding box of the cells of `colour` (None when there are none)."""
    return _crop_box(g, colour, True)


def crop_colour_margin(g: Grid, colour: int, rows: int, cols: int) -> Optional[Grid]:
    """The bounding box of the cells of `colour` grown by `rows` above and below and `cols` left and right (None
    when there are none or the grown box leaves the grid): "the bars and their caps" (3f7978a0)."""
    r, c = np.nonzero(g == colour)
    if not r.size:
        return None
    top, bottom, left, right = r.min() - rows, r.max() + rows + 1, c.min() - cols, c.max() + cols + 1
    if top < 0 or left < 0 or bottom > g.shape[0] or right > g.shape[1]:
        return None
    return g[top:bottom, left:right]


def _margin_crop_ops(ctx: TaskContext) -> list[Op]:
    """A colour's box grown by one or two lines on some side, where it reproduces every demonstration."""
    if ctx.same_shape:
        return []
    found = []
    for c in ctx.in_colours:
        for rows, cols in ((1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 2)):
            fn = partial(crop_colour_margin, colour=c, rows=rows, cols=cols)
            if reproduces(fn, ctx):
                found.append(Op(f"crop(colour {c},+{rows},+{cols})", fn))
    return found


def _within(g: Grid) -> Optional[Grid]:
    """`g`, or None when a side exceeds VALUE_MAX_SIDE (the ops that grow a grid say so themselves)."""
    return g if max(g.shape) <= VALUE_MAX_SIDE else None


def scale_up(g: Grid, ky: int, kx: int) -> Optional[Grid]:
    if g.shape[0] * ky > VALUE_MAX_SIDE or g.shape[1] * kx > VALUE_MAX_SIDE:
        return None
    return np.repeat(np.repeat(g, ky, axis=0), kx, axis=1)


def block_per_cell(g: Grid, bg: int, block: Grid) -> Optional[Grid]:
    """Each coloured cell replaced by `block`, each background cell by a blank block."""
    ky, kx = block.shape
    if g.shape[0] * ky > VALUE_MAX_SIDE or g.shape[1] * kx > VALUE_MAX_SIDE:
        return None
    tiles = np.where((g != bg)[:, :, None, None], block[None, None], np.uint8(bg)).astype(np.uint8)
    return np.ascontiguousarray(tiles.transpose(0, 2, 1, 3).reshape(g.shape[0] * ky, g.shape[1] * kx))


def fit_block(ctx: TaskContext) -> Optional[Grid]:
    """The one block that every coloured input cell becomes in every demonstration (the outputs a fixed
    multiple of the inputs, background cells blank), or None. The block in each cell's own colour was tried: on
    the ARC-AGI-1 and ARC-AGI-2 training sets it fitted only tasks that scale_up solves."""
    up, _ = shape_ratios(ctx)
    if len(up) != 1:
        return None
    ky, kx = next(iter(up))
    block: Optional[Grid] = None
    for i, o in zip(ctx.train_in, ctx.train_out):
        blocks = o.reshape(i.shape[0], ky, i.shape[1], kx).transpose(0, 2, 1, 3)
        fg = i != ctx.bg
        if not fg.any() or (blocks[~fg] != ctx.bg).any():
            return None
        if block is None:
            block = blocks[fg][0]
        if (blocks[fg] != block).any():
            return None
    return None if block is None else np.ascontiguousarray(block)


def scale_down(g: Grid, ky: int, kx: int) -> Optional[Grid]:
    """Each ky x kx block to one cell; only when every block is one colour."""
    h, w = g.shape
    if h % ky or w % kx or (ky == 1 and kx == 1):
        return None
    small = g[::ky, ::kx]
    return small if np.array_equal(np.repeat(np.repeat(small, ky, axis=0), kx, axis=1), g) else None


def scale_down_majority(g: Grid, ky: int, kx: int) -> Optional[Grid]:
    """Each ky x kx block to its most frequent colour (smaller colour on ties): noisy blocks (5614dbcf)."""
    h, w = g.shape
    if h % ky or w % kx or (ky == 1 and kx == 1):
        return None
    blocks = g.reshape(h // ky, ky, w // kx, kx).transpose(0, 2, 1, 3).reshape(h // ky, w // kx, ky * kx)
    counts = (blocks[..., None] == np.arange(10, dtype=np.uint8)).sum(axis=2)
    return np.argmax(counts, axis=2).astype(np.uint8)


def scale_down_any(g: Grid, ky: int, kx: int, bg: int) -> Optional[Grid]:
    """Each ky x kx block to its one non-background colour (background when it has none): a sparse grid whose
    cells sit one to a block, compressed (46f33fce). None when a block holds two colours."""
    h, w = g.shape
    if h % ky or w % kx or (ky == 1 and kx == 1):
        return None
    blocks = g.reshape(h // ky, ky, w // kx, kx).transpose(0, 2, 1, 3).reshape(h // ky, w // kx, ky * kx)
    coloured = blocks != bg
    top = np.where(coloured, blocks, 0).max(axis=2)
    low = np.where(coloured, blocks, 10).min(axis=2)
    if (coloured.any(axis=2) & (top != low)).any():
        return None
    return np.where(coloured.any(axis=2), top, bg).astype(np.uint8)


def tile(g: Grid, ry: int, rx: int) -> Optional[Grid]:
    if g.shape[0] * ry > VALUE_MAX_SIDE or g.shape[1] * rx > VALUE_MAX_SIDE:
        return None
    return np.tile(g, (ry, rx))


def mirror_tile(g: Grid) -> Optional[Grid]:
    """2 x 2 mirror tiling: g, flip_h(g) over flip_v(g), rot180(g)."""
    top = np.hstack([g, g[:, ::-1]])
    return _within(np.vstack([top, top[::-1, :]]))


def rotation_tile(g: Grid) -> Optional[Grid]:
    """2 x 2 tiling of a square grid by its rotations: g, g turned clockwise over g turned counter-clockwise,
    g turned half (7fe24cdd, 46442a0e)."""
    if g.shape[0] != g.shape[1]:
        return None
    top = np.hstack([g, DIHEDRAL["rot270"](g)])
    return _within(np.vstack([top, np.hstack([DIHEDRAL["rot90"](g), DIHEDRAL["rot180"](g)])]))


def scale_by_colours(g: Grid, bg: int) -> Optional[Grid]:
    """Each cell becomes a k x k block, k = the number of non-background colours in g (ac0a08a4)."""
    k = len(set(np.unique(g).tolist()) - {bg})
    return scale_up(g, k, k) if k > 1 else None


def concat_with(g: Grid, name: str, axis: int, copy_first: bool) -> Grid | None:
    """g next to (axis 1) or above (axis 0) its transformed copy; the copy first when copy_first."""
    t = DIHEDRAL[name](g) if name != "id" else g
    if t.shape[1 - axis] != g.shape[1 - axis]:
        return None
    parts = [t, g] if copy_first else [g, t]
    return _within(np.concatenate(parts, axis=axis))


def half(g: Grid, which: str) -> Optional[Grid]:
    """Left/right/top/bottom half; with an odd side the middle line belongs to neither half."""
    h, w = g.shape
    if which in ("left", "right"):
        if w < 2:
            return None
        return g[:, : w // 2] if which == "left" else g[:, (w + 1) // 2:]
    if h < 2:
        return None
    return g[: h // 2, :] if which == "top" else g[(h + 1) // 2:, :]


def drop_blank_lines(g: Grid, bg: int) -> Optional[Grid]:
    """Delete every row and column that is all background."""
    keep_r = (g != bg).any(axis=1)
    keep_c = (g != bg).any(axis=0)
    if not keep_r.any():
        return None
    return g[keep_r][:, keep_c]


def _line_counts(g: Grid, bg: int, axis: int) -> np.ndarray:
    return (g != bg).sum(axis=1 - axis)


def sort_lines(g: Grid, bg: int, axis: int, descending: bool) -> Grid:
    """The rows (axis 0) or columns (axis 1) reordered by their number of non-background cells, fewest first (or
    most first), lines of equal count in their order: "the bars stacked by length" (beb8660c, after gravity)."""
    counts = _line_counts(g, bg, axis)
    order = np.argsort(-counts if descending else counts, kind="stable")
    return np.ascontiguousarray(g[order] if axis == 0 else g[:, order])


def _sort_lines_ops(ctx: TaskContext) -> list[Op]:
    """Line sorts whose order the demonstrations show: in every (same-shape) pair, the output's lines have the
    input's counts of non-background cells, in sorted order, and some input's are not sorted already."""
    if not ctx.same_shape:
        return []
    found = []
    for axis, word in ((0, "rows"), (1, "cols")):
        for descending in (False, True):
            moved = False
            for i, o in zip(ctx.train_in, ctx.train_out):
                got, want = _line_counts(i, ctx.bg, axis), _line_counts(o, ctx.bg, axis)
                ordered = np.sort(got)[::-1] if descending else np.sort(got)
                if not np.array_equal(want, ordered):
                    break
                moved |= not np.array_equal(got, ordered)
            else:
                if moved:
                    found.append(Op(f"sort_{word}({'desc' if descending else 'asc'})",
                                    partial(sort_lines, bg=ctx.bg, axis=axis, descending=descending),
                                    keeps_shape=True))
    return found


def drop_repeated_lines(g: Grid) -> Grid:
    """Collapse each run of identical adjacent rows, then of identical adjacent columns, to one."""
    keep_r = np.ones(g.shape[0], dtype=bool)
    keep_r[1:] = (g[1:] != g[:-1]).any(axis=1)
    g = g[keep_r]
    keep_c = np.ones(g.shape[1], dtype=bool)
    keep_c[1:] = (g[:, 1:] != g[:, :-1]).any(axis=0)
    return g[:, keep_c]


def _block_cuts(g: Grid, coloured: np.ndarray) -> np.ndarray:
    """The rows r where a new block starts: two or more of the columns coloured in both rows r-1 and r (or all
    of them) change colour there; a block may end where its neighbour goes on."""
    both = coloured[1:] & coloured[:-1]
    changed = ((g[1:] != g[:-1]) & both).sum(axis=1)
    n = both.sum(axis=1)
    return np.nonzero((changed >= 2) | ((n > 0) & (changed == n)))[0] + 1


BLOCK_MAJORITY = 0.8   # a block's colour holds at least this share of its coloured cells


def block_colours(g: Grid, bg: int) -> Optional[Grid]:
    """One cell per block of the coloured area's box: blocks are cut where most cells change colour from one
    line to the next (background holes ignored), each block's colour its main one; None with one block, an
    empty block, or a block without a main colour."""
    coloured = g != bg
    if not coloured.any():
        return None
    rows, cols = np.nonzero(coloured.any(axis=1))[0], np.nonzero(coloured.any(axis=0))[0]
    g, coloured = (a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] for a in (g, coloured))
    row_blocks = np.split(np.arange(g.shape[0]), _block_cuts(g, coloured))
    col_blocks = np.split(np.arange(g.shape[1]), _block_cuts(g.T, coloured.T))
    if len(row_blocks) * len(col_blocks) < 2:
        return None
    out = np.empty((len(row_blocks), len(col_blocks)), np.uint8)
    for i, rs in enumerate(row_blocks):
        for j, cs in enumerate(col_blocks):
            block = g[rs[0]:rs[-1] + 1, cs[0]:cs[-1] + 1]
            values = block[block != bg]
            if values.size == 0:
                return None
            counts = np.bincount(values, minlength=10)
            if counts.max() < BLOCK_MAJORITY * values.size:
                return None
            out[i, j] = counts.argmax()
    return out


def _period(g: Grid) -> int:
    """The smallest p with g[r] == g[r + p] for every row r and two whole copies at least (p <= half the height);
    the height when there is none."""
    h = g.shape[0]
    for p in range(1, h // 2 + 1):
        if (g[p:] == g[:-p]).all():
            return p
    return h


def unit_tile(g: Grid) -> Optional[Grid]:
    """The smallest block whose repetition (two whole copies at least, the last one possibly cut) makes the grid,
    row and column periods found apart; None when the grid repeats along neither side."""
    p, q = _period(g), _period(g.T)
    if (p, q) == g.shape:
        return None
    return g[:p, :q]


def kron_self(g: Grid, bg: int) -> Optional[Grid]:
    """Each non-background cell of g replaced by a copy of g, each background cell by a blank block."""
    h, w = g.shape
    if h * h > VALUE_MAX_SIDE or w * w > VALUE_MAX_SIDE:
        return None
    out = np.kron((g != bg).astype(np.uint8), g)
    if bg:
        out[np.kron(g == bg, np.ones_like(g, dtype=bool))] = bg
    return out


def kron_colours(g: Grid, pad: int) -> Optional[Grid]:
    """Each cell of g replaced by a copy of g that keeps only the cells of that cell's colour, the rest `pad`."""
    h, w = g.shape
    if h * h > VALUE_MAX_SIDE or w * w > VALUE_MAX_SIDE:
        return None
    same = np.kron(g, np.ones_like(g)) == np.tile(g, g.shape)
    return np.where(same, np.tile(g, g.shape), np.uint8(pad)).astype(g.dtype)


BLOCK_MAPS = ("id", *DIHEDRAL, "blank")   # what a block of `dihedral_blocks` may hold, preferred first


def _block_map(g: Grid, name: str, bg: int) -> Grid:
    if name == "id":
        return g
    return np.full_like(g, bg) if name == "blank" else DIHEDRAL[name](g)


def fit_dihedral_blocks(ctx: TaskContext) -> Optional[tuple[tuple[str, ...], ...]]:
    """Per block of an output `ky` x `kx` times its input: the first map of BLOCK_MAPS that gives that block on
    every pair (a table of names), or None where the shapes do not allow it or some block has none."""
    up, _ = shape_ratios(ctx)
    if len(up) != 1:
        return None
    (ky, kx), = up
    pairs = list(zip(ctx.train_in, ctx.train_out))
    images = [{name: _block_map(i, name, ctx.bg) for name in BLOCK_MAPS} for i in ctx.train_in]
    table = []
    for a in range(ky):
        row = []
        for b in range(kx):
            fits = [name for name in BLOCK_MAPS if all(
                (m := maps[name]).shape == i.shape
                and (o[a * i.shape[0]:(a + 1) * i.shape[0], b * i.shape[1]:(b + 1) * i.shape[1]] == m).all()
                for (i, o), maps in zip(pairs, images))]
            if not fits:
                return None
            row.append(fits[0])
        table.append(tuple(row))
    return tuple(table)


def dihedral_blocks(g: Grid, table: tuple[tuple[str, ...], ...], bg: int) -> Optional[Grid]:
    """Blocks laid out as `table` says, each the grid under the map it names; None where a map changes the
    grid's shape."""
    blocks = [[_block_map(g, name, bg) for name in row] for row in table]
    if any(b.shape != g.shape for row in blocks for b in row):
        return None
    return _within(np.block(blocks))


def shape_ratios(ctx: TaskContext) -> tuple[set, set]:
    """(up, down): per-axis integer factors (ky, kx) with out = in * k, resp. in = out * k, on every pair."""
    up, down = set(), set()
    pairs = list(zip(ctx.train_in, ctx.train_out))
    if all(o.shape[0] % i.shape[0] == 0 and o.shape[1] % i.shape[1] == 0 for i, o in pairs):
        ks = {(o.shape[0] // i.shape[0], o.shape[1] // i.shape[1]) for i, o in pairs}
        if len(ks) == 1:
            up |= ks - {(1, 1)}
    if all(i.shape[0] % o.shape[0] == 0 and i.shape[1] % o.shape[1] == 0 for i, o in pairs):
        ks = {(i.shape[0] // o.shape[0], i.shape[1] // o.shape[1]) for i, o in pairs}
        if len(ks) == 1:
            down |= ks - {(1, 1)}
    return up, down


def bleed_edges(grid: np.ndarray) -> np.ndarray:
    """The grid framed by a copy of its own edge rows and columns (one cell out), the four corners black."""
    h, w = grid.shape
    out = np.zeros((h + 2, w + 2), dtype=grid.dtype)
    out[1:-1, 1:-1] = grid
    out[0, 1:-1], out[-1, 1:-1] = grid[0], grid[-1]
    out[1:-1, 0], out[1:-1, -1] = grid[:, 0], grid[:, -1]
    return out


def _shear(h: int, lean: str) -> list[int]:
    """Each row's offset in a skew of `h` rows: "top" leans the top row furthest right, "bottom" the bottom row."""
    return [h - 1 - r if lean == "top" else r for r in range(h)]


def skew(g: Grid, lean: str, pad: int) -> Grid:
    """Row r shifted right by its shear offset (`_shear`) on a canvas `h - 1` cells wider, filled with `pad`."""
    h, w = g.shape
    out = np.full((h, w + h - 1), pad, dtype=g.dtype)
    for r, off in enumerate(_shear(h, lean)):
        out[r, off:off + w] = g[r]
    return out


def _skew_pad(ctx: TaskContext, lean: str) -> Optional[int]:
    """The one colour of every output cell a skew of its input leaves uncovered, or None."""
    found: set[int] = set()
    for i, o in zip(ctx.train_in, ctx.train_out):
        covered = np.zeros(o.shape, dtype=bool)
        for r, off in enumerate(_shear(i.shape[0], lean)):
            covered[r, off:off + i.shape[1]] = True
        found.update(int(v) for v in np.unique(o[~covered]))
    return found.pop() if len(found) == 1 else None


def _size_ops(ctx: TaskContext) -> list[Op]:
    up, down = shape_ratios(ctx)
    ops = []
    # an up ratio times 2 too: a block shrunk to its one colour (scale_down_any 2x2) then scaled up (46f33fce)
    for ky, kx in sorted(up | {(2, 2), (3, 3)} | {(2 * ky, 2 * kx) for ky, kx in up}):
        ops.append(Op(f"scale_up({ky}x{kx})", partial(scale_up, ky=ky, kx=kx)))
    for ky, kx in sorted(down | {(2, 2), (3, 3)}):
        ops.append(Op(f"scale_down({ky}x{kx})", partial(scale_down, ky=ky, kx=kx)))
    for ky, kx in sorted(down):
        ops.append(Op(f"scale_down_majority({ky}x{kx})", partial(scale_down_majority, ky=ky, kx=kx)))
    for ky, kx in sorted(down | {(2, 2), (3, 3)}):
        ops.append(Op(f"scale_down_any({ky}x{kx})", partial(scale_down_any, ky=ky, kx=kx, bg=ctx.bg)))
    for ry, rx in sorted(up | {(2, 2)}):
        ops.append(Op(f"tile({ry}x{rx})", partial(tile, ry=ry, rx=rx)))
    pairs = list(zip(ctx.train_in, ctx.train_out))
    squares = {k * k for k in range(2, 6)}   # an output n*n x m*m may be a pattern put in place of its own cells
    if any(i.shape[0] ** 2 == o.shape[0] and i.shape[1] ** 2 == o.shape[1] for i, o in pairs) or \
            not ctx.same_shape and all(o.shape[0] in squares and o.shape[1] in squares for o in ctx.train_out):
        ops.append(Op("kron_self", partial(kron_self, bg=ctx.bg)))
        ops += [Op(f"kron_colours({pad})", partial(kron_colours, pad=pad)) for pad in sorted({0, ctx.bg})]
    table = fit_dihedral_blocks(ctx)
    if table is not None:
        ops.append(Op(f"dihedral_blocks({'/'.join(','.join(row) for row in table)})",
                      partial(dihedral_blocks, table=table, bg=ctx.bg)))
    block = fit_block(ctx)
    if block is not None:
        ops.append(Op("block_per_cell", partial(block_per_cell, bg=ctx.bg, block=block)))
    if all(o.shape == (i.shape[0] + 2, i.shape[1] + 2) for i, o in pairs):
        ops.append(Op("bleed_edges", bleed_edges))
    if all(i.shape[0] > 1 and o.shape == (i.shape[0], i.shape[1] + i.shape[0] - 1) for i, o in pairs):
        for lean in ("top", "bottom"):
            pad = _skew_pad(ctx, lean)
            if pad is not None:
                ops.append(Op(f"skew({lean})", partial(skew, lean=lean, pad=pad)))
    ratios = {(o.shape[0] / i.shape[0], o.shape[1] / i.shape[1]) for i, o in pairs}
    if len(ratios) > 1 and all(ky == kx and ky == int(ky) for ky, kx in ratios):
        ops.append(Op("scale_by_colours", partial(scale_by_colours, bg=ctx.bg)))
    return ops


def _concat_ops(ctx: TaskContext) -> list[Op]:
    ops = []
    even_w = all(o.shape[1] % 2 == 0 for o in ctx.train_out)
    even_h = all(o.shape[0] % 2 == 0 for o in ctx.train_out)
    for axis, allowed, word in ((1, even_w, "hcat"), (0, even_h, "vcat")):
        if not allowed:
            continue
        for name in ("id", "flip_h", "flip_v", "rot180"):
            for first in (False, True):
                label = f"{word}({name}, self)" if first else f"{word}(self, {name})"
                ops.append(Op(label, partial(concat_with, name=name, axis=axis, copy_first=first)))
    if even_w and even_h:
        ops.append(Op("mirror_tile", mirror_tile))
        ops.append(Op("rotation_tile", rotation_tile))
    return ops


def _path_order(mask: np.ndarray) -> Optional[list[tuple[int, int]]]:
    """The cells of `mask` from one end to the other when they form one path of 4-neighbour steps (two end
    cells with one neighbour, every other cell with two), else None."""
    rows, cols = np.nonzero(mask)
    cells = set(zip(rows.tolist(), cols.tolist()))
    steps = ((-1, 0), (1, 0), (0, -1), (0, 1))
    near = {cell: [(cell[0] + dy, cell[1] + dx) for dy, dx in steps if (cell[0] + dy, cell[1] + dx) in cells]
            for cell in cells}
    ends = [cell for cell, n in near.items() if len(n) == 1]
    if len(ends) != 2 or any(len(n) > 2 for n in near.values()):
        return None
    order, prev = [min(ends)], None
    while len(order) < len(cells):
        nxt = [n for n in near[order[-1]] if n != prev]
        if not nxt:
            return None
        prev = order[-1]
        order.append(nxt[0])
    return order


def reverse_paths(grid: Grid, ctx_bg: int) -> Optional[Grid]:
    """Each object (8-neighbour, multicolour) that is a one-cell-wide path (see `_path_order`) with its colours
    read backwards from the other end; other objects stay. None when no path changes."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    for obj in components(grid, bg, "m8"):
        if obj.size < 2:
            continue
        order = _path_order(obj.mask)
        if order is None:
            continue
        colours = [int(obj.grid[r, c]) for r, c in order]
        for (r, c), colour in zip(order, reversed(colours)):
            out[obj.top + r, obj.left + c] = colour
    return None if np.array_equal(out, grid) else out


def _marker_index(line: Grid) -> Optional[int]:
    """The index of the one cell of a two-colour line whose colour no other cell has, else None."""
    colours, counts = np.unique(line, return_counts=True)
    if len(colours) != 2 or counts.min() != 1 or counts.max() == 1:
        return None
    return int(np.flatnonzero(line == colours[int(np.argmin(counts))])[0])


def roll_by_markers(g: Grid, sign: int) -> Optional[Grid]:
    """The grid without its first row and column, rolled cyclically down and right (`sign` 1; -1: up and left) by
    the index of the one marker cell in the first column and in the first row (corner excluded). None unless both
    header lines hold exactly one marker."""
    if g.shape[0] < 3 or g.shape[1] < 3:
        return None
    down, right = _marker_index(g[1:, 0]), _marker_index(g[0, 1:])
    if down is None or right is None:
        return None
    return np.roll(g[1:, 1:], (sign * down, sign * right), axis=(0, 1))


def roll_rows_by_marker(g: Grid, sign: int) -> Optional[Grid]:
    """The grid without its first column, its rows rolled cyclically down (`sign` 1; -1: up) by the index of the one
    marker cell in that column (6d1d5c90; the transposed run reads a header row). None unless the column holds
    exactly one marker."""
    if g.shape[1] < 2:
        return None
    down = _marker_index(g[:, 0])
    return None if down is None else np.roll(g[:, 1:], sign * down, axis=0)


def ops(ctx: TaskContext) -> list[Op]:
    """The task's geometry ops (`reverse_paths` only where it reproduces every demonstration)."""
    out = [Op(name, fn, keeps_shape=name in ("rot180", "flip_h", "flip_v")) for name, fn in DIHEDRAL.items()]
    out.append(Op("crop(non_bg)", partial(crop_non_bg, bg=ctx.bg)))
    for c in ctx.in_colours:
        if c != ctx.bg:
            out.append(Op(f"crop(colour {c})", partial(crop_colour, colour=c)))
    out += [Op(f"half({w})", partial(half, which=w)) for w in ("left", "right", "top", "bottom")]
    out.append(Op("drop_blank_lines", partial(drop_blank_lines, bg=ctx.bg)))
    out.append(Op("drop_repeated_lines", drop_repeated_lines))
    out.append(Op("unit_tile", unit_tile))
    if not ctx.same_shape:
        out.append(Op("block_colours", partial(block_colours, bg=ctx.bg)))
        out += [Op(f"roll_by_markers({sign})", partial(roll_by_markers, sign=sign)) for sign in (1, -1)]
        if all(y.shape == (x.shape[0], x.shape[1] - 1) for x, y in zip(ctx.train_in, ctx.train_out)):
            out += [Op(f"roll_rows_by_marker({sign})", partial(roll_rows_by_marker, sign=sign)) for sign in (1, -1)]
    paths = partial(reverse_paths, ctx_bg=ctx.bg)
    if ctx.same_shape and agrees(paths, ctx, exact=True):
        out.append(Op("reverse_paths", paths, keeps_shape=True))
    return out + _sort_lines_ops(ctx) + _margin_crop_ops(ctx) + _size_ops(ctx) + _concat_ops(ctx)
