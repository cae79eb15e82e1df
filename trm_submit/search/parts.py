"""Per-part rules on a grid cut by separator lines (`split.separator_lines`): each part is judged by a key
(its number of coloured cells, whether it is the fullest or the emptiest, its number of colours, its one
colour, whether its content is unique among the parts, where it lies: first, middle, last or between in its row and
column of parts) and a table read off the demonstrations says what it
becomes: filled with a colour or with its own colour, or kept (`fill_parts`, same-shape tasks: "fill the
fullest cell, clear the rest"); or one cell of an output laid out like the parts (`summarise_parts`: "a cell
with two dots gives a 1"). `copy_parts` fills the empty parts with the one coloured part under a dihedral
map fitted per part position ("the next cell shows it turned a quarter"), or `copy_everywhere` under one map
wherever the coloured part is. `copy_to_marked`: among parts of one size, most look alike (plain); the one that
differs from them most is the pattern, and every other part that differs (a marked one) becomes a copy of it
(e734a0e8: "the pattern goes to every cell with a dot"). `part_to_marker_slot`: parts laid out as the cells of one
part; the one part holding a marker colour goes to the slot its marker cell names and the others are cleared
(6d0160f0: "the panel with the yellow cell goes where the yellow cell points"). `solid_parts`: among patterned
parts, the few filled with one colour form a block; one cell per solid part, laid out as they are (458e3a53: "the
colours of the plain panels"). `part_as_map`: parts laid out as the cells of one part; the emptiest (or fullest)
part is a map, and every part is filled with the colour of its cell in the map (09629e4f: "the sparsest panel says
how to paint the panels"). `pile_parts`: a row of equal parts becomes one part holding every part's coloured rows piled
against one side (25c199f5: "the panels' shapes drop into one panel").
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Callable, Sequence, cast

import numpy as np

from .dsl import Op, TaskContext
from .fitting import agrees, reproduces
from .geometry import DIHEDRAL
from .grid_loops import beside, window_counts
from .objects import components, grid_background
from .split import layout_backgrounds, separator_lines, spans

KEEP, OWN = -1, -2   # table entries besides a colour: the part stays as it is / takes its own one colour
UNSEEN = "*"         # the table key of a fill for key values no demonstration showed
MAX_PART_OPS = 2

Part = tuple[int, int, int, int]   # rows r0:r1, columns c0:c1
Layout = tuple[list[Part], int, int, int]   # parts row-major, rows of parts, columns of parts, background


def _layout_and_separator(grid: np.ndarray, ctx_bg: int) -> tuple[Layout, int] | None:
    """(the layout, the separator colour) or None without a separator layout of at least two parts."""
    found = separator_lines(grid, ctx_bg)
    if found is None:
        return None
    colour, rows, cols = found
    rs, cs = spans(grid.shape[0], rows), spans(grid.shape[1], cols)
    if len(rs) * len(cs) < 2:
        return None
    parts = [(r0, r1, c0, c1) for r0, r1 in rs for c0, c1 in cs]
    return (parts, len(rs), len(cs), grid_background(grid, ctx_bg)), colour


def _layout(grid: np.ndarray, ctx_bg: int) -> Layout | None:
    """(parts row-major, rows of parts, columns of parts, background) or None without a separator layout of
    at least two parts."""
    found = _layout_and_separator(grid, ctx_bg)
    return None if found is None else found[0]


def _counts(grid: np.ndarray, parts: list[Part], bg: int) -> list[int]:
    return [int((grid[r0:r1, c0:c1] != bg).sum()) for r0, r1, c0, c1 in parts]


def _colour(cells: np.ndarray, bg: int) -> int:
    """The part's one non-background colour; -1 with none, -2 with several."""
    colours = np.unique(cells[cells != bg])
    return int(colours[0]) if len(colours) == 1 else (-1 if len(colours) == 0 else -2)


def _unique(grid: np.ndarray, parts: list[Part], bg: int) -> list[bool]:
    looks = [grid[r0:r1, c0:c1].tobytes() + bytes((r1 - r0, c1 - c0)) for r0, r1, c0, c1 in parts]
    seen = Counter(looks)
    return [seen[k] == 1 for k in looks]


def _extreme(grid: np.ndarray, parts: list[Part], bg: int, pick: Callable) -> list[bool]:
    """Per part: its coloured-cell count is the `pick` (max or min) of all parts' counts."""
    counts = _counts(grid, parts, bg)
    best = pick(counts)
    return [n == best for n in counts]


def _place(k: int, n: int) -> str:
    """Where index k of n lies: "first", "last", "middle" (the centre of an odd count) or "inner"."""
    if k == 0:
        return "first"
    if k == n - 1:
        return "last"
    return "middle" if n % 2 and k == n // 2 else "inner"


def _places(grid: np.ndarray, parts: list[Part], bg: int) -> list[tuple[str, str]]:
    """Per part: (`_place` of its row of parts, `_place` of its column): "the corner cells", "the centre cell"."""
    rows, cols = sorted({p[0] for p in parts}), sorted({p[2] for p in parts})
    return [(_place(rows.index(r0), len(rows)), _place(cols.index(c0), len(cols))) for r0, _, c0, _ in parts]


# Key: (grid, parts, bg) -> one hashable value per part.
KEYS: dict[str, Callable[[np.ndarray, list[Part], int], list]] = {
    "fullest": lambda g, ps, bg: _extreme(g, ps, bg, max),
    "emptiest": lambda g, ps, bg: _extreme(g, ps, bg, min),
    "n_cells": _counts,
    "n_colours": lambda g, ps, bg: [len(np.unique(g[r0:r1, c0:c1][g[r0:r1, c0:c1] != bg])) for r0, r1, c0, c1 in ps],
    "colour": lambda g, ps, bg: [_colour(g[r0:r1, c0:c1], bg) for r0, r1, c0, c1 in ps],
    "unique": _unique,
    "place": _places,
}


def _entries(cells: np.ndarray, target: np.ndarray, bg: int) -> set[int]:
    """What a part may have become: KEEP (unchanged), a colour or OWN (filled with it / with its one colour)."""
    found = {KEEP} if cells.shape == target.shape and (cells == target).all() else set()
    first = int(target.flat[0])
    if (target == first).all():
        found.add(first)
        if first == _colour(cells, bg):
            found.add(OWN)
    return found


def _fit(ins: Sequence[np.ndarray], outs: Sequence[np.ndarray], layouts: Sequence[Layout], key: str,
         summary: bool) -> dict | None:
    """{key value: entry} consistent with every pair (where several entries fit every part of one value:
    KEEP, then OWN, then the colour), or None. `layouts`: the inputs' layouts. A fill table whose entries are mostly
    KEEP keeps a part whose key value it lacks (UNSEEN: 941d9a10's test has inner parts, its demonstrations none)."""
    table: dict = {}
    for i, o, (parts, n_rows, n_cols, bg) in zip(ins, outs, layouts):
        if o.shape != ((n_rows, n_cols) if summary else i.shape):
            return None
        for k, (r0, r1, c0, c1), value in zip(range(len(parts)), parts, KEYS[key](i, parts, bg)):
            cells = i[r0:r1, c0:c1]
            target = o[k // n_cols:k // n_cols + 1, k % n_cols:k % n_cols + 1] if summary else o[r0:r1, c0:c1]
            entries = _entries(cells, target, bg) - ({KEEP} if summary else set())
            table[value] = table.get(value, entries) & entries
            if not table[value]:
                return None
    chosen = {v: max(e, key=lambda x: (x == KEEP, x == OWN, -x)) for v, e in table.items()}
    if not summary and 2 * sum(entry == KEEP for entry in chosen.values()) > len(chosen):
        chosen[UNSEEN] = KEEP   # most parts stay: so does one whose key no demonstration showed
    return chosen if len(set(chosen.values())) >= 2 else None


def _apply(grid: np.ndarray, ctx_bg: int, key: str, table: dict, summary: bool) -> np.ndarray | None:
    found = _layout(grid, ctx_bg)
    if found is None:
        return None
    parts, n_rows, n_cols, bg = found
    out = np.zeros((n_rows, n_cols), np.uint8) if summary else grid.copy()
    for k, (r0, r1, c0, c1), value in zip(range(len(parts)), parts, KEYS[key](grid, parts, bg)):
        entry = table.get(value, table.get(UNSEEN))
        if entry is None:
            return None
        if entry == OWN:
            entry = _colour(grid[r0:r1, c0:c1], bg)
            if entry < 0:
                return None
        if summary:
            out[k // n_cols, k % n_cols] = entry
        elif entry != KEEP:
            out[r0:r1, c0:c1] = entry
    return out


def fill_parts(grid: np.ndarray, ctx_bg: int, key: str, table: dict) -> np.ndarray | None:
    """Each part filled as the table says for its key (kept, its own colour, a colour); None for a key the
    table lacks (and has no UNSEEN entry for)."""
    return _apply(grid, ctx_bg, key, table, summary=False)


def summarise_parts(grid: np.ndarray, ctx_bg: int, key: str, table: dict) -> np.ndarray | None:
    """One cell per part, laid out as the parts are, coloured as the table says for the part's key."""
    return _apply(grid, ctx_bg, key, table, summary=True)


MAPS = {"id": lambda g: g, **DIHEDRAL}


def _source(grid: np.ndarray, parts: list[Part], bg: int) -> int | None:
    """The index of the one part with coloured cells, else None."""
    full = [k for k, n in enumerate(_counts(grid, parts, bg)) if n]
    return full[0] if len(full) == 1 else None


def copy_parts(grid: np.ndarray, ctx_bg: int, source: int, maps: tuple) -> np.ndarray | None:
    """The empty parts filled with the one coloured part (at index `source`) under the map `maps[k]` names
    for part k (dihedral, "id", or None: left empty)."""
    found = _layout(grid, ctx_bg)
    if found is None or len(found[0]) != len(maps) or _source(grid, found[0], found[3]) != source:
        return None
    parts = found[0]
    r0, r1, c0, c1 = parts[source]
    src = grid[r0:r1, c0:c1]
    out = grid.copy()
    for (a0, a1, b0, b1), name in zip(parts, maps):
        if name is None:
            continue
        copy = MAPS[name](src)
        if copy.shape != (a1 - a0, b1 - b0):
            return None
        out[a0:a1, b0:b1] = copy
    return out


def copy_everywhere(grid: np.ndarray, ctx_bg: int, name: str) -> np.ndarray | None:
    """Every other part filled with the one coloured part under the map `name`, wherever that part is."""
    found = _layout(grid, ctx_bg)
    if found is None:
        return None
    source = _source(grid, found[0], found[3])
    if source is None:
        return None
    return copy_parts(grid, ctx_bg, source, tuple(None if k == source else name for k in range(len(found[0]))))


def _layout_of_part_size(grid: np.ndarray, ctx_bg: int) -> Layout | None:
    """The separator layout where every part has as many rows and columns as the layout has parts (a part's cells
    can name the parts); None otherwise."""
    layout = _layout(grid, ctx_bg)
    if layout is None:
        return None
    parts, n_rows, n_cols, _ = layout
    return None if any((r1 - r0, c1 - c0) != (n_rows, n_cols) for r0, r1, c0, c1 in parts) else layout


def part_to_marker_slot(grid: np.ndarray, ctx_bg: int, marker: int) -> np.ndarray | None:
    """Every part cleared but the slot named by the one `marker` cell of the one part that holds it, which takes
    that part's cells; the parts must be as many (rows x columns) as a part has cells. None otherwise."""
    layout = _layout_of_part_size(grid, ctx_bg)
    if layout is None:
        return None
    parts, n_rows, n_cols, bg = layout
    holding = [k for k, (r0, r1, c0, c1) in enumerate(parts) if (grid[r0:r1, c0:c1] == marker).any()]
    if len(holding) != 1:
        return None
    r0, r1, c0, c1 = parts[holding[0]]
    source = grid[r0:r1, c0:c1]
    where = np.argwhere(source == marker)
    if len(where) != 1:
        return None
    out = grid.copy()
    for a0, a1, b0, b1 in parts:
        out[a0:a1, b0:b1] = bg
    t0, _, u0, _ = parts[int(where[0][0]) * n_cols + int(where[0][1])]
    out[t0:t0 + n_rows, u0:u0 + n_cols] = source
    return out


def part_as_map(grid: np.ndarray, ctx_bg: int, pick: str) -> np.ndarray | None:
    """Every part filled with the colour of its own cell in the one part whose coloured-cell count is the least
    (`pick` "emptiest") or the most ("fullest"); the parts must be as many (rows x columns) as a part has cells.
    None otherwise, or where two parts tie for the map."""
    layout = _layout_of_part_size(grid, ctx_bg)
    if layout is None:
        return None
    parts, n_rows, n_cols, bg = layout
    counts = _counts(grid, parts, bg)
    best = min(counts) if pick == "emptiest" else max(counts)
    if counts.count(best) != 1 or best == 0:
        return None
    r0, r1, c0, c1 = parts[counts.index(best)]
    source = grid[r0:r1, c0:c1]
    out = grid.copy()
    for k, (a0, a1, b0, b1) in enumerate(parts):
        out[a0:a1, b0:b1] = source[k // n_cols, k % n_cols]
    return out


def copy_to_marked(grid: np.ndarray, ctx_bg: int) -> np.ndarray | None:
    """The pattern part copied over every marked part (module docstring); None without a layout of three or more
    parts of one size, two alike, one pattern and a marked part."""
    found = _layout(grid, ctx_bg)
    if found is None or len(found[0]) < 3:
        return None
    parts = found[0]
    cells = [grid[r0:r1, c0:c1] for r0, r1, c0, c1 in parts]
    if len({c.shape for c in cells}) != 1:
        return None
    looks = Counter(c.tobytes() for c in cells)
    plain_look, n = looks.most_common(1)[0]
    if n < 2:
        return None
    plain = next(c for c in cells if c.tobytes() == plain_look)
    differ = [int((c != plain).sum()) for c in cells]
    most = max(differ)
    marked = [k for k, d in enumerate(differ) if 0 < d < most]
    if differ.count(most) != 1 or not marked:
        return None
    pattern = cells[differ.index(most)]
    out = grid.copy()
    for k in marked:
        r0, r1, c0, c1 = parts[k]
        out[r0:r1, c0:c1] = pattern
    return out


def stamp_parts(grid: np.ndarray, ctx_bg: int, paint: str) -> np.ndarray | None:
    """The fullest part's coloured cells (the first fullest, row-major) painted over the background cells of every
    other part of its size, in the separator colour (`paint` "separator") or in the template's own colours
    ("template"); None when every part is empty."""
    found = _layout_and_separator(grid, ctx_bg)
    if found is None:
        return None
    (parts, _, _, bg), separator = found
    counts = _counts(grid, parts, bg)
    best = max(counts)
    if best == 0:
        return None
    r0, r1, c0, c1 = parts[counts.index(best)]
    template = grid[r0:r1, c0:c1]
    mask = template != bg
    out = grid.copy()
    for a0, a1, b0, b1 in parts:
        cells = out[a0:a1, b0:b1]
        if cells.shape != template.shape:
            continue
        where = mask & (cells == bg)
        cells[where] = separator if paint == "separator" else template[where]
    return out


def _fit_copies(ctx: TaskContext, layouts: Sequence[Layout]) -> tuple[int, tuple] | None:
    """(source index, the map per part) that every same-shape pair agrees on, or None. `layouts`: the
    inputs' layouts."""
    source, options = None, None
    for i, o, (parts, _, _, bg) in zip(ctx.train_in, ctx.train_out, layouts):
        if o.shape != i.shape:
            return None
        k = _source(i, parts, bg)
        if k is None or source not in (None, k) or (options is not None and len(options) != len(parts)):
            return None
        source = k
        r0, r1, c0, c1 = parts[k]
        src = i[r0:r1, c0:c1]
        here = []
        for a0, a1, b0, b1 in parts:
            target, now = o[a0:a1, b0:b1], i[a0:a1, b0:b1]
            fits: set[str | None] = {n for n, f in MAPS.items()
                                     if f(src).shape == target.shape and (f(src) == target).all()}
            if (now == target).all():
                fits.add(None)
            here.append(fits)
        options = here if options is None else [a & b for a, b in zip(options, here)]
        if not all(options):
            return None
    if source is None or options is None:
        return None
    order = [None, *MAPS]
    maps = tuple(min(opts, key=order.index) for opts in options)
    return (source, maps) if any(m is not None for k, m in enumerate(maps) if k != source) else None


def _text(table: dict) -> str:
    names = {KEEP: "keep", OWN: "own"}
    return ",".join(f"{k}:{names.get(v, v)}" for k, v in sorted(table.items(), key=str))


def _map_ops(ctx: TaskContext) -> list[Op]:
    """The first `part_as_map` that reproduces every train output, on the task's background or, where the
    separators are the commonest colour, on the next commonest."""
    for bg in layout_backgrounds(ctx):
        for pick in ("emptiest", "fullest"):
            op = Op(f"part_as_map({pick}{'' if bg == ctx.bg else f',bg{bg}'})",
                    partial(part_as_map, ctx_bg=bg, pick=pick), keeps_shape=True)
            if agrees(op.fn, ctx, exact=True):
                return [op]
    return []


def ops(ctx: TaskContext) -> list[Op]:
    """Fill or summary ops whose tables fit every train pair and know every test input's parts, and the copy
    of the one coloured part into the empty ones, where every train input has a separator layout (on the task's
    background or, where the separators are the commonest colour, on the next commonest); the solid parts' colours
    where they give every train output (no separators needed); the map part or the piled parts where they give
    them."""
    solid = [Op("solid_parts", solid_parts)] if not ctx.same_shape and reproduces(solid_parts, ctx) else []
    solid += _map_ops(ctx) if ctx.same_shape else _pile_ops(ctx)
    for bg in layout_backgrounds(ctx):
        found_layouts = [_layout(i, bg) for i in ctx.train_in]
        if found_layouts and all(layout is not None for layout in found_layouts):
            return solid + _layout_ops(ctx, bg, cast(list[Layout], found_layouts))
    return solid


def _layout_ops(ctx: TaskContext, bg: int, known: list[Layout]) -> list[Op]:
    """`ops` where every train input has a separator layout on background `bg` (`known`: those layouts)."""
    tag = "" if bg == ctx.bg else f" [bg{bg}]"
    found = []
    if ctx.same_shape:
        copies = _fit_copies(ctx, known)
        if copies is not None:
            source, maps = copies
            found.append(Op(f"copy_parts({source};{','.join(str(m) for m in maps)}){tag}",
                            lambda g: copy_parts(g, bg, source, maps), keeps_shape=True))
        else:
            for name in MAPS:
                op = Op(f"copy_everywhere({name}){tag}", partial(copy_everywhere, ctx_bg=bg, name=name),
                        keeps_shape=True)
                if agrees(op.fn, ctx, exact=True):
                    found.append(op)
                    break
        op = Op(f"copy_to_marked{tag}", partial(copy_to_marked, ctx_bg=bg), keeps_shape=True)
        if agrees(op.fn, ctx, exact=True):
            found.append(op)
        for m in ctx.in_colours:
            op = Op(f"part_to_marker_slot({m}){tag}", partial(part_to_marker_slot, ctx_bg=bg, marker=m),
                    keeps_shape=True)
            if m != bg and agrees(op.fn, ctx, exact=True):
                found.append(op)
                break
        for paint in ("separator", "template"):
            op = Op(f"stamp_parts({paint}){tag}", partial(stamp_parts, ctx_bg=bg, paint=paint), keeps_shape=True)
            if agrees(op.fn, ctx, exact=True):
                found.append(op)
                break
    for summary, fn in ((False, fill_parts), (True, summarise_parts)):
        if summary == ctx.same_shape:
            continue
        for key in KEYS:
            table = _fit(ctx.train_in, ctx.train_out, known, key, summary)
            if table is None:
                continue
            op_fn = lambda g, k=key, t=table, f=fn: f(g, bg, k, t)  # noqa: E731
            if any(op_fn(g) is None for g in ctx.test_in):
                continue
            text = _text(table)
            found.append(Op(f"{fn.__name__}({key};{text if len(text) <= 60 else f'{len(table)} entries'}){tag}",
                            op_fn, keeps_shape=not summary))
    return found[:MAX_PART_OPS]


SOLID = 3   # a solid part holds a one-colour 3 x 3 square (the block `beside` spreads a centre over)


def solid_parts(grid: np.ndarray) -> np.ndarray | None:
    """One cell per solid part (the cells under some one-colour 3 x 3 window, as one-colour rectangles), laid out
    by their distinct tops and lefts; None unless there are two or more and they fill that layout."""
    h, w = grid.shape
    if h < SOLID or w < SOLID:
        return None
    centres = np.zeros((h, w), bool)   # the middle cell of every one-colour window
    for colour in np.unique(grid):
        centres[1:h - 1, 1:w - 1] |= window_counts(grid == colour, SOLID, SOLID) == SOLID * SOLID
    covered = beside(centres, "")
    outside = 10   # not an ARC colour: the cells under no solid window
    parts = components(np.where(covered, grid, outside).astype(np.uint8), outside, "c4")
    if len(parts) < 2 or not all(p.mask.all() for p in parts):
        return None
    tops, lefts = sorted({p.top for p in parts}), sorted({p.left for p in parts})
    if len(tops) * len(lefts) != len(parts):
        return None
    out = np.zeros((len(tops), len(lefts)), np.uint8)
    for p in parts:
        out[tops.index(p.top), lefts.index(p.left)] = p.grid[0, 0]
    return out


PILES = [(first, align) for first in ("start", "end") for align in ("start", "end")]


def pile_parts(grid: np.ndarray, ctx_bg: int, first: str, align: str) -> np.ndarray | None:
    """One part of a row (or column) of equal parts holding every part's coloured rows (columns) piled up: the
    parts taken from the `first` end, each one's lines in their own order, pushed against the `align` end of the
    part (25c199f5: "the panels' shapes drop into one panel, the first one lowest"). None without such a layout or
    where the lines do not fit."""
    layout = _layout(grid, ctx_bg)
    if layout is None:
        return None
    parts, n_rows, n_cols, bg = layout
    if n_rows > 1 and n_cols > 1 or len({(r1 - r0, c1 - c0) for r0, r1, c0, c1 in parts}) != 1:
        return None
    turned = n_rows > 1                        # parts stacked: pile columns, as rows of the transposed parts
    cells = [grid[r0:r1, c0:c1] for r0, r1, c0, c1 in parts]
    cells = [c.T if turned else c for c in cells]
    if first == "end":
        cells = cells[::-1]
    lines = [[line for line in cell if (line != bg).any()] for cell in cells]
    if align == "end":                         # the first part's lines lie nearest the end they are pushed to
        lines = lines[::-1]
    rows = [line for group in lines for line in group]
    height, width = cells[0].shape
    if not rows or len(rows) > height:
        return None
    out = np.full((height, width), bg, dtype=np.uint8)
    if align == "end":
        out[height - len(rows):] = rows
    else:
        out[:len(rows)] = rows
    return np.ascontiguousarray(out.T) if turned else out


def _pile_ops(ctx: TaskContext) -> list[Op]:
    """The first `pile_parts` that reproduces every train output (on `layout_backgrounds`)."""
    for bg in layout_backgrounds(ctx):
        for first, align in PILES:
            op = Op(f"pile_parts({first},{align}{'' if bg == ctx.bg else f',bg{bg}'})",
                    partial(pile_parts, ctx_bg=bg, first=first, align=align))
            if reproduces(op.fn, ctx):
                return [op]
    return []
