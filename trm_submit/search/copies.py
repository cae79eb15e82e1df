"""Copies of a template: the one object with the most colours (multicolour segmentation, 8-neighbour, or 4-neighbour
"m4" where a marker touches the template at a corner) is painted over every marker, a one-colour object elsewhere in the
grid: over a one-cell marker with the template's centre on it, over a marker of the template's shape in its bounding
box; a marker of another shape is left as it is. The template itself is kept or erased. ("Stamp the pattern at every
grey cell", "colour each grey copy like the pattern".)

`scale_into_frame`: the one empty rectangular frame, cropped, with everything outside it scaled up by a whole factor
to fill its inside ("put the shape into the box, as large as it fits"). `stretch_into_frame` puts it there in place
(the shape erased where it was), stretched rather than scaled: its full lines stay one cell thick and its other lines
share the rest (465b7d93: "an L drawn along the box's inside").

`stretch_to_marker`: the one box (an object of at least 3 x 3) stretched toward the one lone marker cell beyond one
of its sides until that side reaches the marker's row or column, its line next to that side copied over the new
cells ("pull the box out to the dot").

`gather_around`: the 3 x 3 windows centred on every cell of a marker colour, overlaid into one 3 x 3 grid ("put the
pieces around each grey dot together").

`frame_again`: the empty one-colour frame with the largest inside drawn once more around the one other
background rectangle of exactly its inside's size (890034e9: "the frame fits one more hole").

`colour_like_framed`: the shapes shut inside a closed frame are samples; every other object of a sample's shape
takes that sample's colour (776ffc46: "colour the shapes like the one in the box"). `colour_like_penned`: the shapes
in a pen (an area one colour's walls cut off from the rest of the grid, the grid's edge closing it: a corner box)
are samples; every other object of a sample's shape takes the pen's wall colour (63613498: "the shape like the one in
the corner turns grey").

`assemble_corners`: four corner pieces of one box size (each with a full outer row and column at one corner, a
different corner each) put together into one square, each in its own corner (a61ba2ce: "fit the four L's
into a frame").

`complete_copies`: the objects of two or more colours are whole templates; every other coloured cell belongs to a
broken copy of one, and each copy is completed where one placement of a template (shifted, not turned) agrees
with more of its cells than any other (d6542281: "finish the partial copies of the patterns").

`grow_copies`: objects of two colours, a body colour and one key colour whose cells form a square block; the template
is the largest whose key is one cell. Every other two-colour object is a seed: its block of the key colour gives the
scale, its other colour the body colour, and the template is drawn around it at that scale, in that colour, turned or
reflected only where it does not fit as it is (57aa92db: "grow each seed into the pattern, at its size and in its
colour").

`shoot_copies`: an object with cells of a marker colour at corners of its box is copied, in its other colour, one
diagonal step at a time toward each marked corner until it leaves the grid, its markers taking that colour too
(1f0c79e5: "the block slides off the way its red corners point").

`anchored_copies`: every template (an object of two or more colours) is anchored on each colour it holds once; a lone
cell of an anchor colour gets a copy of that template, anchor on the cell, turned the way the demonstrations show for
that colour (3e980e27: "each dot grows the pattern that holds its colour; red ones mirrored").

`repeat_toward_marker`: a one-colour shape touched by one lone cell of another colour repeated in that colour toward
the cell, step after step to the edge (e8dc4411: "the dot says which way the pattern runs"). `repeat_to_wall`: an
object of several colours, one of them in a single cell, repeated side by side toward the first cell of that colour
along that cell's row or column until a copy's single cell lands on it (ARC-AGI-2 985ae207: "the tile runs to the wall
of its middle colour").
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .dsl import Op, TaskContext
from .fitting import agrees, marker_colours, reproduces
from .geometry import DIHEDRAL
from .grid_loops import border_reach, window_counts
from .objects import Obj, cells_of, components, grid_background, most_common_colour, place


def copy_template(grid: np.ndarray, ctx_bg: int, keep: bool, mode: str = "m8") -> np.ndarray | None:
    """`grid` with the template painted over its markers (None without one template, a marker it fits, or a
    centre for a one-cell marker)."""
    bg = grid_background(grid, ctx_bg)
    objs = components(grid, bg, mode)
    if len(objs) < 2:
        return None
    most = max(o.n_colours for o in objs)
    templates = [o for o in objs if o.n_colours == most]
    if most < 2 or len(templates) != 1:
        return None
    t = templates[0]
    out = grid.copy()
    if not keep:
        out[t.top:t.top + t.height, t.left:t.left + t.width][t.mask] = bg
    painted = False
    for o in objs:
        if o is t:
            continue
        if o.size == 1:
            if t.height % 2 == 0 or t.width % 2 == 0:
                return None
            top, left = o.top - t.height // 2, o.left - t.width // 2
        elif o.mask.shape == t.mask.shape and (o.mask == t.mask).all():
            top, left = o.top, o.left
        else:
            continue
        painted |= _paste_clipped(out, t.grid, t.mask, top, left)
    return out if painted else None


def _paste_clipped(out: np.ndarray, cells: np.ndarray, mask: np.ndarray, top: int, left: int) -> bool:
    """`cells` under `mask` painted onto `out` (in place) with their box's corner at (top, left), the part off the
    grid cut away; False (nothing painted) where the box lies wholly off the grid."""
    h, w = out.shape
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + mask.shape[0], h), min(left + mask.shape[1], w)
    if r0 >= r1 or c0 >= c1:
        return False
    cut = mask[r0 - top:r1 - top, c0 - left:c1 - left]
    out[r0:r1, c0:c1][cut] = cells[r0 - top:r1 - top, c0 - left:c1 - left][cut]
    return True


TURNS = ("identity",) + tuple(DIHEDRAL)   # anchored_copies: how a template is turned, per anchor colour


def _anchored_templates(grid: np.ndarray, bg: int) -> tuple[dict[int, tuple[Obj, int, int]], list] | None:
    """({anchor colour: (template, the anchor's row and column in its box)}, the lone cells [(row, col, colour)]):
    a template is an object (8-neighbour) of two or more colours, its anchors the colours it holds once; None where
    two templates share an anchor colour."""
    templates: dict[int, tuple[Obj, int, int]] = {}
    lone = []
    for o in components(grid, bg, "m8"):
        if o.size == 1:
            lone.append((o.top, o.left, int(o.grid[0, 0])))
            continue
        colours, counts = np.unique(o.grid[o.mask], return_counts=True)
        if len(colours) < 2:
            continue
        for c in colours[counts == 1].tolist():
            if c in templates:
                return None
            ys, xs = np.nonzero(o.mask & (o.grid == c))
            templates[c] = (o, int(ys[0]), int(xs[0]))
    return templates, lone


def _turned_template(o: Obj, ay: int, ax: int, turn: str) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(cells, mask, anchor row, anchor column) of the template turned by `turn` (a TURNS name)."""
    if turn == "identity":
        return o.grid, o.mask, ay, ax
    f = DIHEDRAL[turn]
    where = np.zeros(o.mask.shape, dtype=bool)
    where[ay, ax] = True
    ys, xs = np.nonzero(f(where))
    return f(o.grid), f(o.mask), int(ys[0]), int(xs[0])


def anchored_copies(grid: np.ndarray, ctx_bg: int, turns: dict[int, str]) -> np.ndarray | None:
    """A copy of the template over every lone cell of one of its anchor colours, anchor on the cell, turned as
    `turns` says for that colour (3e980e27: "each dot grows the pattern that holds its colour; red ones mirrored").
    None where no lone cell of a colour in `turns` has a template."""
    bg = grid_background(grid, ctx_bg)
    found = _anchored_templates(grid, bg)
    if found is None:
        return None
    templates, lone = found
    out = grid.copy()
    painted = False
    for y, x, c in lone:
        if c not in templates or c not in turns:
            continue
        cells, mask, ay, ax = _turned_template(*templates[c], turns[c])
        painted |= _paste_clipped(out, cells, mask, y - ay, x - ax)
    return out if painted else None


def fit_anchor_turns(pairs: list[tuple[np.ndarray, np.ndarray]], ctx_bg: int) -> dict[int, str] | None:
    """{anchor colour: the first turn whose copies give the output's colour at every cell they paint, in every
    pair}; None where some colour with lone cells and a template has no such turn, or none has."""
    turns: dict[int, str] = {}
    seen: set[int] = set()
    for i, _ in pairs:
        found = _anchored_templates(i, grid_background(i, ctx_bg))
        if found is None:
            return None
        seen |= {c for _, _, c in found[1] if c in found[0]}
    for c in sorted(seen):
        for turn in TURNS:
            ok = True
            for i, o in pairs:
                r = anchored_copies(i, ctx_bg, {c: turn})
                if r is not None and not (r[r != i] == o[r != i]).all():
                    ok = False
                    break
            if ok:
                turns[c] = turn
                break
        else:
            return None
    return turns or None


CORNERS = {(0, 0): (0, 0), (0, -1): (0, 1), (-1, 0): (1, 0), (-1, -1): (1, 1)}   # (row, column) -> quadrant


def assemble_corners(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The four corner pieces in one square of twice their side (module docstring); None without four pieces
    of one square box size, each the corner piece of a different corner."""
    bg = grid_background(grid, ctx_bg)
    objs = components(grid, bg, "c8")
    if len(objs) != 4 or len({(o.height, o.width) for o in objs}) != 1 or objs[0].height != objs[0].width:
        return None
    k = objs[0].height
    out = np.full((2 * k, 2 * k), bg, dtype=grid.dtype)
    used = set()
    for o in objs:
        corners = [q for (r, c), q in CORNERS.items() if o.mask[r].all() and o.mask[:, c].all()]
        if len(corners) != 1 or corners[0] in used:
            return None
        used.add(corners[0])
        qr, qc = corners[0]
        out[qr * k:(qr + 1) * k, qc * k:(qc + 1) * k][o.mask] = o.grid[o.mask]
    return out


MAX_TEMPLATES = 4      # complete_copies: more multicolour objects than this is no set of templates
MAX_LOOSE_CELLS = 100  # complete_copies: more cells outside the templates than this is no set of broken copies


def _placements(grid: np.ndarray, bg: int, templates: list[Obj], owned: np.ndarray
                ) -> list[tuple[int, int, int, int, np.ndarray]]:
    """(cells agreeing, template index, top, left, the agreeing cells' mask over the grid) of every shift of a
    template that lays one of its cells on a loose cell of that colour, agrees with every coloured cell it
    covers, covers no template cell, fits in the grid and is not already whole."""
    h, w = grid.shape
    loose = np.argwhere((grid != bg) & ~owned)
    found = []
    for k, t in enumerate(templates):
        cells = np.argwhere(t.mask)
        offsets = {(int(r - a), int(c - b)) for r, c in loose.tolist() for a, b in cells.tolist()
                   if t.grid[a, b] == grid[r, c]}
        for top, left in sorted(offsets):
            if top < 0 or left < 0 or top + t.height > h or left + t.width > w:
                continue
            window = grid[top:top + t.height, left:left + t.width]
            covered = t.mask & (window != bg)
            if (window[covered] != t.grid[covered]).any():
                continue
            if owned[top:top + t.height, left:left + t.width][t.mask].any():
                continue
            n = int(covered.sum())
            if n == t.size:
                continue
            where = np.zeros(grid.shape, dtype=bool)
            where[top:top + t.height, left:left + t.width] = covered
            found.append((n, k, top, left, where))
    return found


def _turned(t: Obj) -> list[Obj]:
    """`t` under each of the eight rotations and reflections (distinct images only), all at `t`'s place."""
    images: dict = {}
    for fn in [lambda a: a, *DIHEDRAL.values()]:
        g, m = np.ascontiguousarray(fn(t.grid)), np.ascontiguousarray(fn(t.mask))
        images.setdefault((g.shape, g.tobytes(), m.tobytes()), Obj(t.top, t.left, g, m, t.bg))
    return list(images.values())


def complete_copies(grid: np.ndarray, turned: bool = False) -> np.ndarray | None:
    """The broken copies completed from their templates (module docstring) on the grid's own most common colour
    (the demonstrations of d6542281 differ in background); None without templates and loose cells, when a loose
    cell has no copy, or when two placements agree equally on one cell. `turned`: the templates are the objects
    with the most colours, and a copy may be any rotation or reflection of one (36d67576: "finish each arm of the
    bar as the whole one is, whichever way it points")."""
    bg = most_common_colour(grid)
    objs = components(grid, bg, "m8")
    most = max((o.n_colours for o in objs), default=0)
    templates = [o for o in objs if o.n_colours >= (most if turned else 2) and o.n_colours >= 2]
    if not templates or len(templates) > MAX_TEMPLATES or len(templates) == len(objs):
        return None
    owned = cells_of(templates, grid.shape)
    loose = (grid != bg) & ~owned
    if loose.sum() > MAX_LOOSE_CELLS:
        return None
    shapes = [image for t in templates for image in _turned(t)] if turned else templates
    placements = sorted(_placements(grid, bg, shapes, owned), key=lambda p: -p[0])
    out = grid.copy()
    done = np.zeros(grid.shape, dtype=bool)
    for n, k, top, left, where in placements:
        if (where & done).any():
            continue
        if any(m == n and (w & where).any() for m, j, y, x, w in placements if (j, y, x) != (k, top, left)):
            return None   # as good a placement over the same cells: no one copy
        t = shapes[k]
        out[top:top + t.height, left:left + t.width][t.mask] = t.grid[t.mask]
        done |= where
    return out if (done | ~loose).all() else None


def _stretched(n: int, full: np.ndarray, size: int) -> np.ndarray | None:
    """For `n` source lines (`full`: which are solid) the source index of each of `size` target lines: full lines
    once each, the other lines sharing the rest equally (None where it does not divide); when every line is full,
    each target line takes the source line at its proportional place."""
    if full.all():
        return None if size < n else np.arange(size) * n // size
    grow = np.flatnonzero(~full)
    rest = size - (n - len(grow))
    if rest < len(grow) or rest % len(grow):
        return None
    counts = np.ones(n, dtype=np.int64)
    counts[grow] = rest // len(grow)
    return np.repeat(np.arange(n), counts)


def stretch_into_frame(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The one empty frame's inside filled with the bounding box of every cell outside the frame, stretched to fit
    (`_stretched` per axis) and erased where it was; None without one frame, content, or a fit."""
    bg = grid_background(grid, ctx_bg)
    found = _frame_and_shape(grid, bg)
    if found is None:
        return None
    f, rest, shape = found
    inside = np.s_[f.top + 1:f.top + f.height - 1, f.left + 1:f.left + f.width - 1]
    if (grid[inside] != bg).any():
        return None
    solid = shape != bg
    down = _stretched(shape.shape[0], solid.all(axis=1), f.height - 2)
    across = _stretched(shape.shape[1], solid.all(axis=0), f.width - 2)
    if down is None or across is None:
        return None
    out = np.where(rest != bg, np.uint8(bg), grid).astype(np.uint8)
    out[inside] = shape[np.ix_(down, across)]
    return out


def shoot_copies(grid: np.ndarray, ctx_bg: int, marker: int) -> np.ndarray | None:
    """Every object (multicolour, 8-neighbour) holding `marker` only at corners of its box and one other colour is
    redrawn in that colour and copied in it along the diagonal out of each marked corner, one cell per step, until
    the copies leave the grid. None without such an object, or where an object holding `marker` has a marker cell
    off its box's corners, another number of other colours, or a box one cell across."""
    bg = grid_background(grid, ctx_bg)
    out, found = grid.copy(), False
    for o in components(grid, bg, "m8"):
        marked = (o.grid == marker) & o.mask
        if not marked.any():
            continue
        others = np.unique(o.grid[o.mask & ~marked])
        if len(others) != 1 or o.height < 2 or o.width < 2:
            return None
        corners = [(r, c) for r in (0, o.height - 1) for c in (0, o.width - 1) if marked[r, c]]
        if len(corners) != int(marked.sum()):
            return None
        found = True
        colour = int(others[0])
        rows, cols = np.nonzero(o.mask)
        rows, cols = rows + o.top, cols + o.left
        out[rows, cols] = colour
        for r, c in corners:
            _trail(out, rows, cols, (1 if r else -1, 1 if c else -1), colour)
    return out if found else None


def _trail(out: np.ndarray, rows: np.ndarray, cols: np.ndarray, step: tuple[int, int], colour: int,
           only: np.ndarray | None = None) -> None:
    """The cells (rows, cols) moved by 1, 2, 3, ... times `step` until every copy is off the grid, each copy painted
    `colour` on `out` (in place), on the cells where `only` holds when it is given."""
    h, w = out.shape
    for k in range(1, h + w):
        rr, cc = rows + k * step[0], cols + k * step[1]
        keep = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        if not keep.any():
            break
        rr, cc = rr[keep], cc[keep]
        if only is not None:
            rr, cc = rr[only[rr, cc]], cc[only[rr, cc]]
        out[rr, cc] = colour


def _repeat_step(shape: np.ndarray, mark: tuple[int, int], h: int, w: int) -> tuple[int, int] | None:
    """The step from `shape` (a mask) toward `mark`: along the signs of the mark's offset from the shape's box
    centre, the fewest cells that carry a copy onto the mark without touching the shape."""
    rows, cols = np.nonzero(shape)
    dy = int(np.sign(2 * mark[0] - rows.min() - rows.max()))
    dx = int(np.sign(2 * mark[1] - cols.min() - cols.max()))
    for k in range(1, max(h, w) + 1):
        moved = set(zip((rows + k * dy).tolist(), (cols + k * dx).tolist()))
        if mark in moved and not moved & set(zip(rows.tolist(), cols.tolist())):
            return k * dy, k * dx
    return None


def repeat_toward_marker(grid: np.ndarray) -> np.ndarray | None:
    """Every one-colour shape touched (8-neighbour) by one lone cell of another colour is repeated in that cell's
    colour toward it, step after step to the grid's edge, each step the shortest that puts a copy on the marker
    without touching the shape (e8dc4411: "the dot says which way the pattern runs"). The background is the grid's
    most common colour; only its cells are painted. None where no shape has such a marker or a step fails."""
    bg = most_common_colour(grid)
    h, w = grid.shape
    out, found = grid.copy(), False
    for o in components(grid, bg, "m8"):
        colours, counts = np.unique(o.grid[o.mask], return_counts=True)
        if len(colours) != 2 or counts.min() != 1 or counts.max() < 2:
            continue
        marker = int(colours[np.argmin(counts)])
        my, mx = np.argwhere(o.mask & (o.grid == marker))[0]
        mark = (int(my), int(mx))
        step = _repeat_step(o.mask & (o.grid != marker), mark, h, w)
        if step is None:
            return None
        rows, cols = np.nonzero(o.mask & (o.grid != marker))
        _trail(out, rows + o.top, cols + o.left, step, marker, only=grid == bg)
        found = True
    return out if found else None


def _wall_step(grid: np.ndarray, bg: int, o: Obj, y: int, x: int) -> tuple[int, int] | None:
    """The step (one object height or width) from the object toward the first non-background cell beyond it
    along the row or column of its key cell (y, x), where that cell has the key colour; None unless exactly one
    direction finds one."""
    h, w = grid.shape
    key = grid[y, x]
    found = []
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        r, c = y + dy, x + dx
        while 0 <= r < h and 0 <= c < w and (o.top <= r < o.top + o.height and o.left <= c < o.left + o.width):
            r, c = r + dy, c + dx
        while 0 <= r < h and 0 <= c < w and grid[r, c] == bg:
            r, c = r + dy, c + dx
        if 0 <= r < h and 0 <= c < w and grid[r, c] == key:
            found.append((dy * o.height, dx * o.width))
    return found[0] if len(found) == 1 else None


def repeat_to_wall(grid: np.ndarray) -> np.ndarray | None:
    """Every object (8-neighbour, several colours, filling its box) with one colour in a single cell (its key) is
    copied side by side toward the first cell of the key colour along the key cell's row or column, until a copy's
    key cell lands on a cell of that colour; the copies are painted over whatever lies there. The background is the
    grid's most common colour. None where an object's copies leave the grid first or no object has such a wall."""
    bg = most_common_colour(grid)
    h, w = grid.shape
    out, found = grid.copy(), False
    for o in components(grid, bg, "m8"):
        colours, counts = np.unique(o.grid[o.mask], return_counts=True)
        if len(colours) < 2 or not o.mask.all() or (counts == 1).sum() != 1:
            continue
        ky, kx = np.argwhere(o.grid == colours[counts == 1][0])[0]
        y, x = o.top + int(ky), o.left + int(kx)
        step = _wall_step(grid, bg, o, y, x)
        if step is None:
            continue
        for k in range(1, h + w):
            top, left = o.top + k * step[0], o.left + k * step[1]
            if top < 0 or left < 0 or top + o.height > h or left + o.width > w:
                return None
            out[top:top + o.height, left:left + o.width] = o.grid
            if grid[y + k * step[0], x + k * step[1]] == grid[y, x]:
                break
        found = True
    return out if found else None


def ops(ctx: TaskContext) -> list[Op]:
    """Template copies, the template kept or erased, the box stretched to its marker, the frame drawn again, the
    shapes coloured like the framed ones and the shape stretched into the frame (same-shape tasks); the shape scaled
    into the frame, the corners assembled, or the pieces gathered around the markers, where it gives every train
    output; the broken copies completed where every cell it paints takes the output's colour."""
    if not ctx.same_shape:
        fn = partial(scale_into_frame, ctx_bg=ctx.bg)
        found = [Op("scale_into_frame", fn)] if reproduces(fn, ctx) else []
        corners = partial(assemble_corners, ctx_bg=ctx.bg)
        found += [Op("assemble_corners", corners)] if reproduces(corners, ctx) else []
        if all(o.shape == (3, 3) for o in ctx.train_out):
            gathers = [Op(f"gather_around({m})", partial(gather_around, ctx_bg=ctx.bg, marker=m))
                       for m in ctx.in_colours if m != ctx.bg]
            found += [op for op in gathers if reproduces(op.fn, ctx)]
        return found
    fitted = [Op("stretch_to_marker", partial(stretch_to_marker, ctx_bg=ctx.bg), keeps_shape=True),
              Op("frame_again", partial(frame_again, ctx_bg=ctx.bg), keeps_shape=True),
              Op("colour_like_framed", partial(colour_like_framed, ctx_bg=ctx.bg), keeps_shape=True),
              Op("colour_like_penned", partial(colour_like_penned, ctx_bg=ctx.bg), keeps_shape=True),
              Op("stretch_into_frame", partial(stretch_into_frame, ctx_bg=ctx.bg), keeps_shape=True),
              Op("repeat_toward_marker", repeat_toward_marker, keeps_shape=True),
              Op("repeat_to_wall", repeat_to_wall, keeps_shape=True)]
    fitted += [Op(f"shoot_copies({m})", partial(shoot_copies, ctx_bg=ctx.bg, marker=m), keeps_shape=True)
               for m in marker_colours(ctx)]
    turns = fit_anchor_turns(list(zip(ctx.train_in, ctx.train_out)), ctx.bg)
    if turns is not None:
        text = ",".join(f"{c}:{t}" for c, t in turns.items())
        fitted.append(Op(f"anchored_copies({text})", partial(anchored_copies, ctx_bg=ctx.bg, turns=turns),
                         keeps_shape=True))
    completing = [Op("complete_copies", complete_copies, keeps_shape=True),
                  Op("complete_copies(turned)", partial(complete_copies, turned=True), keeps_shape=True),
                  Op("grow_copies", grow_copies, keeps_shape=True)]
    return [Op(f"copy_template({'keep' if keep else 'erase'}{',m4' if mode == 'm4' else ''})",
               partial(copy_template, ctx_bg=ctx.bg, keep=keep, mode=mode), keeps_shape=True)
            for mode in ("m8", "m4") for keep in (True, False)] + [op for op in fitted if reproduces(op.fn, ctx)] \
        + [op for op in completing if agrees(op.fn, ctx, exact=False)]


def _key_block(o: Obj, key: int | None = None) -> tuple[int, int, int, int, int] | None:
    """(key colour, body colour, block side, block top, block left) of a two-colour object whose key colour (`key`,
    else its rarer colour) forms a square block (top, left in the grid), else None."""
    counts = np.bincount(o.grid[o.mask], minlength=10)
    colours = np.flatnonzero(counts)
    if len(colours) != 2 or (key is None and counts[colours[0]] == counts[colours[1]]) or \
            (key is not None and key not in colours):
        return None
    if key is None:
        key = int(colours[np.argmin(counts[colours])])
    body = int(colours[colours != key][0])
    rows, cols = np.nonzero((o.grid == key) & o.mask)
    side = int(rows.max() - rows.min() + 1)
    if cols.max() - cols.min() + 1 != side or len(rows) != side * side:
        return None
    return key, body, side, o.top + int(rows.min()), o.left + int(cols.min())


def _grown(grid: np.ndarray, bg: int, template: Obj, key: int, body: int, seed: Obj, seed_key: tuple
           ) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """(box, cells to paint there: -1 none) of the template grown around `seed`: the first of the eight maps
    (as it is first) under which the scaled template, recoloured, holds every seed cell with its colour and paints
    only background beyond the seed."""
    _, seed_body, side, top, left = seed_key
    h, w = grid.shape
    cells = np.where(template.mask, template.grid.astype(np.int16), -1)
    cells = np.where(cells == body, seed_body, cells)
    seed_mask = np.zeros(grid.shape, dtype=bool)
    seed_mask[seed.top:seed.top + seed.height, seed.left:seed.left + seed.width] = seed.mask
    for flip in (1, -1):
        for turns in range(4):
            image = np.rot90(cells[:, ::flip], turns)
            r, c = np.argwhere(image == key)[0]
            big = np.kron(image, np.ones((side, side), np.int16))
            r0, c0 = top - r * side, left - c * side
            if r0 < 0 or c0 < 0 or r0 + big.shape[0] > h or c0 + big.shape[1] > w:
                continue
            box = (slice(r0, r0 + big.shape[0]), slice(c0, c0 + big.shape[1]))
            held, paint, there = seed_mask[box], big >= 0, grid[box]
            if held.sum() != seed.size or (held & ~paint).any() or (there[held] != big[held]).any():
                continue
            if (paint & ~held & (there != bg)).any():
                continue
            return box, big
    return None


def grow_copies(grid: np.ndarray) -> np.ndarray | None:
    """Every seed grown into the template (module docstring) on the grid's own most common colour; None without a
    template with one key cell and a seed, or where a seed fits no map of it."""
    bg = most_common_colour(grid)
    objs = [o for o in components(grid, bg, "m8") if o.n_colours == 2]
    own = [(o, _key_block(o)) for o in objs]
    singles = [(o, k) for o, k in own if k is not None and k[2] == 1]
    if not singles or len(objs) < 2:
        return None
    sizes = [o.size for o, _ in singles]
    if sizes.count(max(sizes)) > 1:
        return None
    template, (key, body, _, _, _) = singles[sizes.index(max(sizes))]
    out = grid.copy()
    for seed in objs:
        if seed is template:
            continue
        seed_key = _key_block(seed, key)
        if seed_key is None:
            return None
        grown = _grown(grid, bg, template, key, body, seed, seed_key)
        if grown is None:
            return None
        box, big = grown
        out[box][big >= 0] = big[big >= 0]
    return out


def _ring(h: int, w: int) -> np.ndarray:
    ring = np.ones((h, w), dtype=bool)
    ring[1:-1, 1:-1] = False
    return ring


def frame_again(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The largest empty frame drawn around the one other background rectangle of its inside's size (module
    docstring); None without a frame or without exactly one such rectangle."""
    bg = grid_background(grid, ctx_bg)
    frames = [o for o in components(grid, bg, "c4") if o.height >= 3 and o.width >= 3
              and np.array_equal(o.mask, _ring(o.height, o.width))
              and (grid[o.top + 1:o.top + o.height - 1, o.left + 1:o.left + o.width - 1] == bg).all()]
    if not frames:
        return None
    frame = max(frames, key=lambda o: (o.height - 2) * (o.width - 2))
    ih, iw = frame.height - 2, frame.width - 2
    h, w = grid.shape
    sums = window_counts(grid == bg, ih, iw)
    spots = [(int(y), int(x)) for y, x in np.argwhere(sums == ih * iw)
             if 1 <= y and 1 <= x and y + ih < h and x + iw < w and (y, x) != (frame.top + 1, frame.left + 1)]
    if len(spots) != 1:
        return None
    y, x = spots[0]
    out = grid.copy()
    out[y - 1:y + ih + 1, x - 1:x + iw + 1][frame.mask] = frame.grid[frame.mask]
    return out


def _shut_in(grid: np.ndarray, bg: int) -> np.ndarray:
    """Cells that cannot reach the grid's border without crossing cells of some one colour (other than `bg`)
    that shut them in."""
    inside = np.zeros(grid.shape, dtype=bool)
    for f in np.unique(grid):
        if f != bg:
            walls = (grid == f).astype(np.uint8)
            inside |= (walls == 0) & ~border_reach(walls, 0)
    return inside


def colour_like_framed(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Objects (one colour, 8-neighbour) outside every frame recoloured like the framed sample of their shape
    (module docstring); None without a sample, when two samples of one shape differ in colour, or when nothing
    changes."""
    bg = grid_background(grid, ctx_bg)
    inside = _shut_in(grid, bg)
    objs = components(grid, bg, "c8")
    samples: dict[tuple, int] = {}
    for o in objs:
        if inside[o.top:o.top + o.height, o.left:o.left + o.width][o.mask].all():
            key = (o.mask.shape, o.mask.tobytes())
            colour = int(o.grid[o.mask][0])
            if samples.setdefault(key, colour) != colour:
                return None
    if not samples:
        return None
    out = grid.copy()
    for o in objs:
        like = samples.get((o.mask.shape, o.mask.tobytes()))
        if like is not None and not inside[o.top:o.top + o.height, o.left:o.left + o.width][o.mask].any():
            place(out, o, like)
    return None if np.array_equal(out, grid) else out


def _pens(grid: np.ndarray, bg: int) -> list[tuple[int, np.ndarray]]:
    """(wall colour, pen mask) of every area that one colour's cells cut off from the largest other area of the grid
    (4-neighbour regions of the cells not of that colour, the grid's edge closing them)."""
    pens = []
    for f in np.unique(grid).tolist():
        if f == bg:
            continue
        regions = components((grid != f).astype(np.uint8), 0, "c4")
        if len(regions) < 2:
            continue
        largest = max(r.size for r in regions)
        for r in regions:
            if r.size < largest:
                mask = np.zeros(grid.shape, dtype=bool)
                mask[r.top:r.top + r.height, r.left:r.left + r.width] = r.mask
                pens.append((int(f), mask))
    return pens


def colour_like_penned(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """Objects (one colour, 8-neighbour) outside every pen recoloured to the wall colour of the pen holding a sample
    of their shape (module docstring); None without a sample, with samples of one shape in pens of two wall colours,
    or when nothing changes."""
    bg = grid_background(grid, ctx_bg)
    pens = _pens(grid, bg)
    if not pens:
        return None
    penned = np.zeros(grid.shape, dtype=bool)
    for _, mask in pens:
        penned |= mask
    samples: dict[tuple, int] = {}
    objs = components(grid, bg, "c8")
    for o in objs:
        box = (slice(o.top, o.top + o.height), slice(o.left, o.left + o.width))
        for f, mask in pens:
            if mask[box][o.mask].all() and o.colour != f:
                if samples.setdefault((o.mask.shape, o.mask.tobytes()), f) != f:
                    return None
    if not samples:
        return None
    out = grid.copy()
    for o in objs:
        box = (slice(o.top, o.top + o.height), slice(o.left, o.left + o.width))
        wall = samples.get((o.mask.shape, o.mask.tobytes()))
        if wall is not None and not penned[box][o.mask].any() and o.colour != wall:
            place(out, o, wall)
    return None if np.array_equal(out, grid) else out


def stretch_to_marker(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The box stretched to the marker (module docstring); None without exactly one box and one one-cell marker
    that lies beyond one side of it, in line with it."""
    bg = grid_background(grid, ctx_bg)
    objs = components(grid, bg, "m8")
    boxes = [o for o in objs if o.height >= 3 and o.width >= 3]
    markers = [o for o in objs if o.size == 1]
    if len(boxes) != 1 or len(markers) != 1 or len(objs) != 2:
        return None
    b, (r, c) = boxes[0], (markers[0].top, markers[0].left)
    cells = b.grid
    flips = {"down": (False, False), "up": (True, False), "right": (False, True), "left": (True, True)}
    if b.left <= c < b.left + b.width and r >= b.top + b.height:
        side, reach = "down", r - (b.top + b.height) + 1
    elif b.left <= c < b.left + b.width and r < b.top:
        side, reach = "up", b.top - r
    elif b.top <= r < b.top + b.height and c >= b.left + b.width:
        side, reach = "right", c - (b.left + b.width) + 1
    elif b.top <= r < b.top + b.height and c < b.left:
        side, reach = "left", b.left - c
    else:
        return None
    backward, across = flips[side]
    v = cells.T if across else cells          # stretch along axis 0, toward the end (or the start: backward)
    v = v[::-1] if backward else v
    stretched = np.concatenate([v[:-1], np.repeat(v[-2:-1], reach, axis=0), v[-1:]], axis=0)
    stretched = stretched[::-1] if backward else stretched
    stretched = stretched.T if across else stretched
    top = b.top - (reach if side == "up" else 0)
    left = b.left - (reach if side == "left" else 0)
    out = grid.copy()
    out[r, c] = bg
    out[top:top + stretched.shape[0], left:left + stretched.shape[1]] = stretched
    return out


def gather_around(grid: np.ndarray, ctx_bg: int, marker: int) -> np.ndarray | None:
    """The 3 x 3 windows centred on the cells of colour `marker` (cells beyond the grid count as background),
    overlaid: each cell takes the non-background colour the windows show there; None without a marker cell or
    where two windows show different colours in one cell."""
    bg = grid_background(grid, ctx_bg)
    centres = np.argwhere(grid == marker)
    if marker == bg or not len(centres):
        return None
    padded = np.pad(grid, 1, constant_values=bg)
    out = np.full((3, 3), bg, dtype=np.uint8)
    for r, c in centres.tolist():
        window = padded[r:r + 3, c:c + 3]
        clash = (window != bg) & (out != bg) & (window != out)
        if clash.any():
            return None
        out[window != bg] = window[window != bg]
    return out


def _is_frame(o: Obj) -> bool:
    """A one-colour object that is exactly the border of its bounding box, at least 3 x 3."""
    if o.height < 3 or o.width < 3 or o.n_colours != 1:
        return False
    ring = np.ones(o.mask.shape, dtype=bool)
    ring[1:-1, 1:-1] = False
    return bool((o.mask == ring).all())


def _frame_and_shape(grid: np.ndarray, bg: int) -> tuple[Obj, np.ndarray, np.ndarray] | None:
    """(the one frame, the grid with the frame's box blanked, the bounding box of what is left); None without
    exactly one frame or with nothing outside it."""
    frames = [o for o in components(grid, bg, "c8") if _is_frame(o)]
    if len(frames) != 1:
        return None
    f = frames[0]
    rest = grid.copy()
    rest[f.top:f.top + f.height, f.left:f.left + f.width] = bg
    rows, cols = np.nonzero(rest != bg)
    if not len(rows):
        return None
    return f, rest, rest[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def scale_into_frame(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The one empty frame cropped, its inside filled with the bounding box of every cell outside the frame scaled
    by the whole factor that fills it; None without one frame, content, or a whole factor."""
    found = _frame_and_shape(grid, grid_background(grid, ctx_bg))
    if found is None:
        return None
    f, _, shape = found
    inner_h, inner_w = f.height - 2, f.width - 2
    k = inner_h // shape.shape[0]
    if k < 1 or shape.shape[0] * k != inner_h or shape.shape[1] * k != inner_w:
        return None
    out = grid[f.top:f.top + f.height, f.left:f.left + f.width].copy()
    out[1:-1, 1:-1] = np.kron(shape, np.ones((k, k), dtype=grid.dtype))
    return out
