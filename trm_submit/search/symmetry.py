"""Symmetry completion: cells of a mask colour take the value of their mirror images so that the grid
becomes left-right ("lr"), up-down ("ud"), both ("lrud") or fully dihedral ("d4": both plus the diagonal)
symmetric. The mirror axes are fitted per grid (the axis position where the known cells agree most, with no
disagreement), so off-centre symmetric patterns work; the mask colour is fitted from the demonstrations.

`symmetry_patch` returns only the completed cells' bounding box (tasks whose output is the hidden patch).
`unocclude` / `unoccluded_patch` take every solid one-colour rectangle as a block laid over the pattern, whatever
its colour and however many there are, and give the completed grid or the largest block's patch (abbfd121).
`symmetrise_about` reflects a grid's shapes about the centre of an anchor (a colour, or the one colour that is
symmetric by itself): "mirror the arm around the cross"; a single line of the anchor colour across the whole grid
is an axis itself. `symmetrise_objects` completes each object by itself, about the centre that needs the fewest
new cells ("make every broken shape whole"; offered where the outputs only add cells, the largest group that agrees
first: a smaller one can fit the demonstrations by chance and miss the test). `mirror_at_marker` reflects each shape
over the side a marker colour touches it on, the marker giving way to the reflection (2bcee788).
`mirror_to_corner_cells` reflects a shape toward each lone cell of another colour at one corner of it, in that cell's
colour: over a side for a cell beside the corner cell, through the corner for a diagonal one (b775ac94).
`throw_corners` reflects an object's four corner colours through its centre, out past its opposite corners: a
solid block's corners as blocks of its size (93b581b8), a frame's inner corner cells as one cell each, taken out of
the frame (952a094c).
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from .dsl import Op, TaskContext
from .fitting import agrees, marker_colours
from .grid_loops import component_boxes, label_components, mirror_axis, periodic_fill
from .objects import components, grid_background

KINDS = ("lr", "ud", "lrud", "d4", "tile")
MAX_PERIOD_TRIES = 400
ANCHOR = -1   # symmetrise_about's anchor: each grid's one colour that is symmetric by itself
MAX_SHEAR_AREA = 64
MAX_SYMMETRISED = 40   # symmetrise_objects leaves larger objects as they are
NO_BACKGROUND = 10   # a 'background' no cell has: every cell belongs to a component


def fit_axis(grid: np.ndarray, mask: np.ndarray, axis: int) -> int | None:
    """The sum s (mirror of index i is s - i along `axis`: 0 rows, 1 columns) under which the most pairs of
    known, distinct cells agree with no pair disagreeing; ties go to the centre. None when no pair agrees."""
    g, known = (grid, ~mask) if axis == 1 else (grid.T, ~mask.T)
    s = mirror_axis(np.ascontiguousarray(g), np.ascontiguousarray(known))
    return None if s < 0 else int(s)


def _partners(kind: str, shape: tuple[int, int], s_rows: int | None, s_cols: int | None) -> list:
    """Index maps (rows, cols) arrays giving each cell's mirror image, for the mirrors of `kind`."""
    h, w = shape
    r, c = np.indices(shape)
    maps = []
    if kind in ("lr", "lrud", "d4") and s_cols is not None:
        maps.append((r, s_cols - c))
    if kind in ("ud", "lrud", "d4") and s_rows is not None:
        maps.append((s_rows - r, c))
    if kind in ("lrud", "d4") and s_rows is not None and s_cols is not None:
        maps.append((s_rows - r, s_cols - c))
    if kind == "d4" and s_rows is not None and s_cols is not None and (s_rows - s_cols) % 2 == 0:
        d = (s_rows - s_cols) // 2
        maps += [(c + d, r - d), (s_rows - (c + d), s_cols - (r - d)),
                 (s_cols - c + d, r - d), (c + d, s_cols - r + d)]
    return maps


@lru_cache(maxsize=64)
def _periods(h: int, w: int) -> np.ndarray:
    """Lattices (pr, pc, shift) other than the whole grid, smallest area pr * pc first (plain tilings before
    sheared ones of the same area): the first MAX_PERIOD_TRIES plain tilings, and the sheared lattices
    (0 < shift < pc, a pattern that repeats down the rows shifted sideways: diagonal stripes, brick
    layouts, each row its predecessor shifted) of area at most MAX_SHEAR_AREA, pc up to that area (wider
    than the grid: rows that never repeat across it)."""
    plain = sorted(((pr, pc, 0) for pr in range(1, h + 1) for pc in range(1, w + 1) if pr < h or pc < w),
                   key=lambda p: (p[0] * p[1], p))[:MAX_PERIOD_TRIES]
    sheared = [(pr, pc, s) for pr in range(1, h) for pc in range(2, MAX_SHEAR_AREA // pr + 1) for s in range(1, pc)]
    found = sorted(plain + sheared, key=lambda p: (p[0] * p[1], p[2] > 0, p))
    return np.array(found, dtype=np.int64).reshape(-1, 3)


def complete_periodic(grid: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """`grid` with its masked cells filled from the smallest-area lattice (`_periods`) under which every
    class of cells holds one known colour; None when none fits."""
    out = periodic_fill(np.ascontiguousarray(grid), np.ascontiguousarray(mask), _periods(*grid.shape))
    return out if out.size else None


def complete(grid: np.ndarray, mask_colour: int, kind: str) -> np.ndarray | None:
    """`grid` with its `mask_colour` cells copied from a mirror image that is known; None when no axis
    fits, a masked cell stays unknown, or every cell is masked (`grid` itself when none is)."""
    return complete_mask(grid, grid == mask_colour, kind)


def complete_mask(grid: np.ndarray, mask: np.ndarray, kind: str) -> np.ndarray | None:
    """`grid` with its `mask` cells filled under `kind` (a mirror group, or "tile": a lattice); None when no
    axis or lattice fits, a masked cell stays unknown, or every cell is masked (`grid` itself when none is)."""
    if not mask.any():
        return grid
    if mask.all():
        return None
    if kind == "tile":
        return complete_periodic(grid, mask)
    s_rows = fit_axis(grid, mask, 0) if kind != "lr" else None
    s_cols = fit_axis(grid, mask, 1) if kind != "ud" else None
    maps = _partners(kind, grid.shape, s_rows, s_cols)
    if not maps:
        return None
    h, w = grid.shape
    out, unknown = grid.copy(), mask.copy()
    for _ in range(3):
        for pr, pc in maps:
            inside = (pr >= 0) & (pr < h) & (pc >= 0) & (pc < w) & unknown
            rr, cc = pr[inside], pc[inside]
            src_known = ~unknown[rr, cc]
            tr, tc = np.nonzero(inside)
            tr, tc = tr[src_known], tc[src_known]
            out[tr, tc] = out[rr[src_known], cc[src_known]]
            unknown[tr, tc] = False
        if not unknown.any():
            return out
    return None


def solid_rectangles(grid: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right; the last two exclusive) of every one-colour 4-connected component that fills
    its bounding box, at least 2 x 2 and smaller than half the grid: the blocks laid over a pattern (any colour, any
    number of them)."""
    labels, n = label_components(np.ascontiguousarray(grid), NO_BACKGROUND, False, False)
    if n == 0:
        return []
    found = []
    for k, (r0, c0, r1, c1) in enumerate(component_boxes(labels, n).tolist(), start=1):
        h, w = r1 - r0, c1 - c0
        if h >= 2 and w >= 2 and 2 * h * w < grid.size and (labels[r0:r1, c0:c1] == k).all():
            found.append((r0, c0, r1, c1))
    return found


def _unoccluded(grid: np.ndarray, kind: str) -> tuple[np.ndarray, list] | None:
    """`grid` completed under `kind` with every solid rectangle taken as unknown, and the rectangles."""
    boxes = solid_rectangles(grid)
    if not boxes:
        return None
    mask = np.zeros(grid.shape, dtype=bool)
    for r0, c0, r1, c1 in boxes:
        mask[r0:r1, c0:c1] = True
    done = complete_mask(grid, mask, kind)
    return None if done is None else (done, boxes)


def unocclude(grid: np.ndarray, kind: str) -> np.ndarray | None:
    """The pattern under every block laid over it (`solid_rectangles`, whatever their colours), completed under
    `kind`: "fill in what the rectangles hide"."""
    found = _unoccluded(grid, kind)
    return None if found is None else found[0]


def unoccluded_patch(grid: np.ndarray, kind: str) -> np.ndarray | None:
    """What the largest block (`solid_rectangles`; None on a tie) hides, the pattern completed under `kind` with
    every block taken as unknown: "show what is under the biggest cover"."""
    found = _unoccluded(grid, kind)
    if found is None:
        return None
    done, boxes = found
    largest = _largest(boxes)
    if largest is None:
        return None
    r0, c0, r1, c1 = largest
    return np.ascontiguousarray(done[r0:r1, c0:c1])


def _largest(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int] | None:
    """The box of the largest area, None when there is none or two share it."""
    areas = [(r1 - r0) * (c1 - c0) for r0, c0, r1, c1 in boxes]
    if not areas or areas.count(max(areas)) > 1:
        return None
    return boxes[areas.index(max(areas))]


def _self_symmetric(mask: np.ndarray, kind: str) -> bool:
    rows, cols = np.nonzero(mask)
    box = mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    lr, ud = bool((box == box[:, ::-1]).all()), bool((box == box[::-1]).all())
    return {"lr": lr, "ud": ud}.get(kind, lr and ud) and (kind != "d4" or (box.shape[0] == box.shape[1]
                                                                          and bool((box == box.T).all())))


def _axes(mask: np.ndarray) -> tuple[int, int] | None:
    """The mirror sums (row, column) through the centre of `mask`'s cells: a single line of them across the whole
    grid is the axis itself (a cross of lines need not be centred), else the centre of their bounding box."""
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return None
    full_rows, full_cols = np.flatnonzero(mask.all(axis=1)), np.flatnonzero(mask.all(axis=0))
    s_rows = 2 * int(full_rows[0]) if len(full_rows) == 1 else int(rows.min() + rows.max())
    s_cols = 2 * int(full_cols[0]) if len(full_cols) == 1 else int(cols.min() + cols.max())
    return s_rows, s_cols


def _is_cross(mask: np.ndarray) -> bool:
    """`mask` is exactly one full row and one full column."""
    rows, cols = np.flatnonzero(mask.all(axis=1)), np.flatnonzero(mask.all(axis=0))
    if len(rows) != 1 or len(cols) != 1:
        return False
    cross = np.zeros_like(mask)
    cross[rows[0], :], cross[:, cols[0]] = True, True
    return bool((cross == mask).all())


def symmetrise_about(grid: np.ndarray, ctx_bg: int, colour: int, kind: str) -> np.ndarray | None:
    """`grid` with the mirror images (`kind`'s mirrors) of its coloured cells painted on background cells,
    the mirror axes through the centre of the cells of `colour` (the shape reflected around an anchor);
    colour ANCHOR: the one non-background colour whose cells form a cross of two lines across the grid, else the
    one whose cells are symmetric by themselves under `kind`'s mirrors (None when not exactly one is)."""
    bg = grid_background(grid, ctx_bg)
    if colour == ANCHOR:
        colours = [c for c in np.unique(grid).tolist() if c != bg]
        found = [c for c in colours if _is_cross(grid == c)] or [c for c in colours
                                                                 if _self_symmetric(grid == c, kind)]
        if len(found) != 1:
            return None
        colour = found[0]
    axes = _axes(grid == colour)
    if axes is None:
        return None
    s_rows, s_cols = axes
    h, w = grid.shape
    out = grid.copy()
    for pr, pc in _partners(kind, grid.shape, s_rows, s_cols):
        inside = (pr >= 0) & (pr < h) & (pc >= 0) & (pc < w)
        tr, tc = np.nonzero(inside)
        src = grid[pr[inside], pc[inside]]
        paint = (src != bg) & (out[tr, tc] == bg)
        out[tr[paint], tc[paint]] = src[paint]
    return out


def _object_images(rows: np.ndarray, cols: np.ndarray, kind: str, s_rows: int, s_cols: int) -> list:
    """(rows, cols) of the cells' images under each map of `kind` about the centre (s_rows / 2, s_cols / 2):
    "lrud" both mirrors, "c4" the three turns, "d4" all seven (as in `_partners`)."""
    if kind == "c4":
        d = (s_rows - s_cols) // 2
        return [(s_rows - rows, s_cols - cols), (cols + d, s_cols - rows + d), (s_rows - (cols + d), rows - d)]
    maps = [(rows, s_cols - cols), (s_rows - rows, cols), (s_rows - rows, s_cols - cols)]
    if kind == "d4":
        d = (s_rows - s_cols) // 2
        maps += [(cols + d, rows - d), (s_rows - (cols + d), s_cols - (rows - d)),
                 (s_cols - cols + d, rows - d), (cols + d, s_cols - rows + d)]
    return maps


def symmetrise_objects(grid: np.ndarray, ctx_bg: int, kind: str) -> np.ndarray | None:
    """Each object (8-neighbour, any colours, at most MAX_SYMMETRISED cells) completed to be symmetric under
    `kind` ("lrud": both mirrors; "c4": the quarter turns; "d4": both) about the centre that needs the fewest new
    cells, its images painted on background cells: a broken shape made whole again. A centre is possible when
    every image lands inside the grid on background or on its own colour. None when an object's best centre is
    not unique, or nothing changes."""
    bg = grid_background(grid, ctx_bg)
    h, w = grid.shape
    out = grid.copy()
    for obj in components(grid, bg, "m8"):
        if obj.size > MAX_SYMMETRISED:
            continue
        rows, cols = np.nonzero(obj.mask)
        rows, cols = rows + obj.top, cols + obj.left
        colours = grid[rows, cols]
        best: list = []
        for s_rows in range(2 * int(rows.min()), 2 * int(rows.max()) + 1):
            for s_cols in range(2 * int(cols.min()), 2 * int(cols.max()) + 1):
                if kind in ("c4", "d4") and (s_rows - s_cols) % 2:
                    continue
                new: dict[tuple[int, int], int] = {}
                for ir, ic in _object_images(rows, cols, kind, s_rows, s_cols):
                    if ir.min() < 0 or ic.min() < 0 or ir.max() >= h or ic.max() >= w:
                        break
                    there = grid[ir, ic]
                    if ((there != bg) & (there != colours)).any():
                        break
                    for r, c, v in zip(ir[there == bg].tolist(), ic[there == bg].tolist(),
                                       colours[there == bg].tolist()):
                        if new.setdefault((r, c), v) != v:
                            break
                    else:
                        continue
                    break
                else:
                    if not best or len(new) < len(best[0]):
                        best = [new]
                    elif len(new) == len(best[0]) and new != best[0]:
                        best.append(new)
        if len(best) > 1:
            return None
        for (r, c), v in (best[0].items() if best else ()):
            out[r, c] = v
    return out if (out != grid).any() else None


def symmetry_patch(grid: np.ndarray, mask_colour: int, kind: str) -> np.ndarray | None:
    """The completed cells of `complete`, cropped to the bounding box of the masked cells."""
    rows, cols = np.nonzero(grid == mask_colour)
    done = complete(grid, mask_colour, kind) if len(rows) else None
    if done is None:
        return None
    return np.ascontiguousarray(done[rows.min():rows.max() + 1, cols.min():cols.max() + 1])


def _mask_colours(ctx: TaskContext) -> list[int]:
    """Same-shape tasks: the one colour the outputs overwrite; else the colours of every input that no
    output uses (the hidden region's colour)."""
    if ctx.same_shape:
        changed: set[int] = set()
        for i, o in zip(ctx.train_in, ctx.train_out):
            changed.update(int(v) for v in np.unique(i[i != o]))
        return sorted(changed) if len(changed) == 1 else []
    in_all = set(range(10))
    for g in ctx.train_in:
        in_all &= set(np.unique(g).tolist())
    return sorted(in_all - set(ctx.out_colours))[:1]


def _patch_shapes_fit(ctx: TaskContext, mask_colour: int) -> bool:
    """Every train output has the shape of its input's `mask_colour` bounding box."""
    for i, o in zip(ctx.train_in, ctx.train_out):
        rows, cols = np.nonzero(i == mask_colour)
        if not len(rows) or (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) != o.shape:
            return False
    return True


def ops(ctx: TaskContext) -> list[Op]:
    """Completion ops (same-shape tasks, kinds that agree with the outputs) or patch ops (tasks whose
    outputs have the shape of the masked region); mirrors about an anchor colour's centre that agree."""
    result = []
    if ctx.same_shape:
        for colour in [c for c in ctx.in_colours if c != ctx.bg] + [ANCHOR]:
            for kind in ("lr", "ud", "lrud", "d4"):
                op = Op(f"symmetrise_about({'anchor' if colour == ANCHOR else colour},{kind})",
                        partial(symmetrise_about, ctx_bg=ctx.bg, colour=colour, kind=kind), keeps_shape=True)
                if agrees(op.fn, ctx, exact=True):
                    result.append(op)
                    break
    adds_only = ctx.same_shape and all(((o == i) | (i == grid_background(i, ctx.bg))).all()
                                       for i, o in zip(ctx.train_in, ctx.train_out))
    if adds_only:
        for kind in ("d4", "c4", "lrud"):   # the largest group that agrees: fewer maps can fit by chance
            op = Op(f"symmetrise_objects({kind})", partial(symmetrise_objects, ctx_bg=ctx.bg, kind=kind),
                    keeps_shape=True)
            if agrees(op.fn, ctx, exact=False):
                result.append(op)
                break
    for m in _mask_colours(ctx):
        if not ctx.same_shape and not _patch_shapes_fit(ctx, m):
            continue
        for kind in KINDS:
            if ctx.same_shape:
                op = Op(f"symmetry({kind},{m})", partial(complete, mask_colour=m, kind=kind), keeps_shape=True)
                if agrees(op.fn, ctx, exact=False):
                    result.append(op)
            else:
                result.append(Op(f"symmetry_patch({kind},{m})", partial(symmetry_patch, mask_colour=m, kind=kind)))
    corner = Op("mirror_to_corner_cells", partial(mirror_to_corner_cells, ctx_bg=ctx.bg), keeps_shape=True)
    result += [corner] if ctx.same_shape and agrees(corner.fn, ctx, exact=False) else []
    for kind in THROW_KINDS:
        throw = Op(f"throw_corners({kind})", partial(throw_corners, ctx_bg=ctx.bg, kind=kind), keeps_shape=True)
        result += [throw] if ctx.same_shape and agrees(throw.fn, ctx, exact=False) else []
    return result + _unocclusion_ops(ctx) + _marker_mirror_ops(ctx)


def mirror_at_marker(grid: np.ndarray, ctx_bg: int, marker: int) -> np.ndarray | None:
    """Each shape (8-neighbour, multicolour) with cells of `marker` on one side of its other cells reflected over
    its edge on that side, the marker cells erased first: "a marker says which way the shape opens". None where a
    marker sits beside no side, a reflection leaves the grid, or no shape carries the marker."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    changed = False
    for o in components(grid, bg, "m8"):
        mark, body = o.mask & (o.grid == marker), o.mask & (o.grid != marker)
        if not mark.any() or not body.any():
            continue
        br, bc = np.nonzero(body)
        mr, mc = np.nonzero(mark)
        if mc.min() > bc.max():
            rows, cols = br, 2 * bc.max() + 1 - bc
        elif mc.max() < bc.min():
            rows, cols = br, 2 * bc.min() - 1 - bc
        elif mr.min() > br.max():
            rows, cols = 2 * br.max() + 1 - br, bc
        elif mr.max() < br.min():
            rows, cols = 2 * br.min() - 1 - br, bc
        else:
            return None
        rows, cols = rows + o.top, cols + o.left
        if rows.min() < 0 or cols.min() < 0 or rows.max() >= grid.shape[0] or cols.max() >= grid.shape[1]:
            return None
        out[mr + o.top, mc + o.left] = bg
        out[rows, cols] = o.grid[br, bc]
        changed = True
    return out if changed else None


def _pivot(main: np.ndarray, marks: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The one cell of `main` (a mask) that every mark touches (8-neighbour), the marks all on one corner's side of
    it (one 2x2 block with it); None where there is none or more than one."""
    found = []
    for y, x in zip(*np.nonzero(main)):
        offsets = [(my - y, mx - x) for my, mx in marks]
        if all(max(abs(dy), abs(dx)) == 1 for dy, dx in offsets) and \
                len({dy for dy, _ in offsets} - {0}) <= 1 and len({dx for _, dx in offsets} - {0}) <= 1:
            found.append((int(y), int(x)))
    return found[0] if len(found) == 1 else None


def mirror_to_corner_cells(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Each shape (8-neighbour) of one main colour with lone cells of other colours at one corner of a cell of it
    (the pivot) reflected toward each such cell in that cell's colour: over the pivot's side for a cell beside it,
    through its corner for a diagonal one (b775ac94: "the coloured corner says where the mirror images go"); only
    background cells painted. None where a shape's marks have no single pivot or no shape has marks."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    h, w = grid.shape
    changed = False
    for o in components(grid, bg, "m8"):
        colours, counts = np.unique(o.grid[o.mask], return_counts=True)
        if len(colours) < 2 or len(colours) > 4:
            continue
        main_colour = int(colours[np.argmax(counts)])
        main = o.mask & (o.grid == main_colour)
        marks = list(zip(*np.nonzero(o.mask & ~main)))
        if len(marks) > 3 or len(colours) != len(marks) + 1:
            return None
        pivot = _pivot(main, marks)
        if pivot is None:
            return None
        py, px = pivot
        ys, xs = np.nonzero(main)
        for my, mx in marks:
            dy, dx = int(my) - py, int(mx) - px
            rows = 2 * py + dy - ys if dy else ys
            cols = 2 * px + dx - xs if dx else xs
            rows, cols = rows + o.top, cols + o.left
            inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
            rows, cols = rows[inside], cols[inside]
            free = grid[rows, cols] == bg
            out[rows[free], cols[free]] = o.grid[my, mx]
            changed = True
    return out if changed else None


THROW_KINDS = ("block", "frame")


def _thrown_corners(grid: np.ndarray, bg: int, top: int, left: int, bottom: int, right: int,
                    kind: str) -> list[tuple[int, int, int, int]] | None:
    """The (row, col, dy, dx) of the corner cells `throw_corners` takes from the box top..bottom x left..right (ends
    included) and the diagonal each goes out along; None where the box is no solid block / no one-colour frame."""
    box = grid[top:bottom + 1, left:right + 1]
    if kind == "block":
        if box.shape[0] < 2 or box.shape[1] < 2 or (box == bg).any():
            return None
        return [(top, left, 1, 1), (top, right, 1, -1), (bottom, left, -1, 1), (bottom, right, -1, -1)]
    if box.shape[0] < 4 or box.shape[1] < 4:
        return None
    ring = np.ones(box.shape, bool)
    ring[1:-1, 1:-1] = False
    if len(np.unique(box[ring])) != 1 or box[0, 0] == bg:
        return None
    corners = [(top + 1, left + 1, 1, 1), (top + 1, right - 1, 1, -1), (bottom - 1, left + 1, -1, 1),
               (bottom - 1, right - 1, -1, -1)]
    return [c for c in corners if grid[c[0], c[1]] not in (bg, box[0, 0])] or None


def throw_corners(grid: np.ndarray, ctx_bg: int, kind: str) -> np.ndarray | None:
    """Each object (8-neighbour, multicolour) whose box is a solid block of several colours ("block") or a one-colour
    frame with cells at its inner corners ("frame") has each corner colour thrown through the centre to beyond the
    opposite corner: a block's corner as a block of the object's size diagonally beside that corner (93b581b8), a
    frame's inner corner as the one cell diagonally outside it, the inner cell cleared (952a094c). Only background
    cells painted, clipped at the edge. None where no object has such corners."""
    bg = grid_background(grid, ctx_bg)
    out = grid.copy()
    h, w = grid.shape
    changed = False
    for o in components(grid, bg, "m8"):
        bottom, right = o.top + o.mask.shape[0] - 1, o.left + o.mask.shape[1] - 1
        corners = _thrown_corners(grid, bg, o.top, o.left, bottom, right, kind)
        if corners is None or (kind == "block" and len(np.unique(o.grid)) < 2):
            continue
        bh, bw = (o.mask.shape if kind == "block" else (1, 1))
        for y, x, dy, dx in corners:
            row = bottom + 1 if dy > 0 else o.top - bh   # beyond the opposite corner, outward
            col = right + 1 if dx > 0 else o.left - bw
            r0, r1, c0, c1 = max(row, 0), min(row + bh, h), max(col, 0), min(col + bw, w)
            if r0 >= r1 or c0 >= c1:
                continue
            patch = out[r0:r1, c0:c1]
            patch[grid[r0:r1, c0:c1] == bg] = grid[y, x]
            if kind == "frame":
                out[y, x] = bg
            changed = True
    return out if changed else None


def _marker_mirror_ops(ctx: TaskContext) -> list[Op]:
    """`mirror_at_marker` for each colour that every input holds and no output does, where on every demonstration
    the result's shapes are the output's cells and the rest of the output is one colour (the background, or a new
    one that a colour map then gives)."""
    if not ctx.same_shape:
        return []
    found = []
    for m in marker_colours(ctx):
        fn = partial(mirror_at_marker, ctx_bg=ctx.bg, marker=m)
        rest = set()
        for i, o in zip(ctx.train_in, ctx.train_out):
            r = fn(i)
            if r is None:
                break
            shapes = r != grid_background(i, ctx.bg)
            if (r[shapes] != o[shapes]).any():
                break
            rest |= set(np.unique(o[~shapes]).tolist())
        else:
            if len(rest) == 1:
                found.append(Op(f"mirror_at_marker({m})", fn, keeps_shape=True))
    return found


def _largest_block_shape(grid: np.ndarray) -> tuple[int, int] | None:
    largest = _largest(solid_rectangles(grid))
    return None if largest is None else (largest[2] - largest[0], largest[3] - largest[1])


def _unocclusion_ops(ctx: TaskContext) -> list[Op]:
    """`unocclude` under each kind that agrees (same-shape tasks); `unoccluded_patch` under each kind where every
    train output has the shape of its input's largest block."""
    if ctx.same_shape:
        ops_ = [Op(f"unocclude({kind})", partial(unocclude, kind=kind), keeps_shape=True) for kind in KINDS]
        return [op for op in ops_ if agrees(op.fn, ctx, exact=False)]
    if all(_largest_block_shape(i) == o.shape for i, o in zip(ctx.train_in, ctx.train_out)):
        return [Op(f"unoccluded_patch({kind})", partial(unoccluded_patch, kind=kind)) for kind in KINDS]
    return []
