"""The search's numba kernels: connected-component labelling, the border-reachable region of a colour (for
flood fills of enclosed regions), rays from seed cells, cell gravity, and the greedy stacker's step on packed
bits. Each kernel has a plain reference in tests/test_search_objects.py, tests/test_search_patterns.py or
tests/test_search_stack.py that it must equal on random inputs. Plain-numpy helpers sit beside them: the cells
beside a mask, the enclosed cells of a colour, and a one-cell border (`pad1`, np.pad's result at a tenth of its
cost: the search pads small grids hundreds of thousands of times a task).

The grid kernels take C-contiguous uint8 grids; no kernel modifies its arguments.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import register_jitable

_N4 = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int64)
_N8 = np.array([[-1, 0], [1, 0], [0, -1], [0, 1], [-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.int64)


@njit(cache=True)
def _label(grid: np.ndarray, bg: int, nbrs: np.ndarray, multi: bool) -> tuple[np.ndarray, int]:
    h, w = grid.shape
    labels = np.zeros((h, w), dtype=np.int32)
    stack = np.empty(h * w, dtype=np.int64)
    n = 0
    for r0 in range(h):
        for c0 in range(w):
            if grid[r0, c0] == bg or labels[r0, c0] != 0:
                continue
            n += 1
            colour = grid[r0, c0]
            labels[r0, c0] = n
            top = 0
            stack[top] = r0 * w + c0
            top += 1
            while top > 0:
                top -= 1
                r, c = divmod(stack[top], w)
                for k in range(nbrs.shape[0]):
                    rr, cc = r + nbrs[k, 0], c + nbrs[k, 1]
                    if rr < 0 or rr >= h or cc < 0 or cc >= w or labels[rr, cc] != 0:
                        continue
                    v = grid[rr, cc]
                    if v == bg or (not multi and v != colour):
                        continue
                    labels[rr, cc] = n
                    stack[top] = rr * w + cc
                    top += 1
    return labels, n


def label_components(grid: np.ndarray, bg: int, diag: bool, multi: bool) -> tuple[np.ndarray, int]:
    """(labels, n): int32 labels 1..n of the connected non-`bg` components, 0 on `bg` cells.

    `diag`: 8-neighbour connectivity (else 4); `multi`: any non-bg colours connect (else one colour per
    component). Components are numbered in row-major order of their first cell.
    """
    return _label(np.ascontiguousarray(grid, dtype=np.uint8), int(bg), _N8 if diag else _N4, bool(multi))


@njit(cache=True)
def border_reach(grid: np.ndarray, colour: int) -> np.ndarray:
    """Boolean mask of the cells of `colour` 4-connected to the grid's border through cells of `colour`."""
    h, w = grid.shape
    seen = np.zeros((h, w), dtype=np.bool_)
    stack = np.empty(h * w, dtype=np.int64)
    top = 0
    for r in range(h):
        for c in range(w):
            if (r == 0 or c == 0 or r == h - 1 or c == w - 1) and grid[r, c] == colour and not seen[r, c]:
                seen[r, c] = True
                stack[top] = r * w + c
                top += 1
    while top > 0:
        top -= 1
        r, c = divmod(stack[top], w)
        for k in range(4):
            rr, cc = r + _N4[k, 0], c + _N4[k, 1]
            if 0 <= rr < h and 0 <= cc < w and not seen[rr, cc] and grid[rr, cc] == colour:
                seen[rr, cc] = True
                stack[top] = rr * w + cc
                top += 1
    return seen


def enclosed(grid: np.ndarray, colour: int) -> np.ndarray:
    """Boolean mask of the cells of `colour` not 4-connected to the grid's border through cells of `colour`."""
    grid = np.ascontiguousarray(grid, dtype=np.uint8)
    return (grid == colour) & ~border_reach(grid, colour)


NEIGHBOURS = {"": [(dy, dx) for dy in (0, 1, 2) for dx in (0, 1, 2)],
              "4": [(0, 1), (2, 1), (1, 0), (1, 2)], "diag": [(0, 0), (0, 2), (2, 0), (2, 2)]}


def pad1(a: np.ndarray, value: int = 0) -> np.ndarray:
    """`a` inside a border one cell wide of `value`: np.pad(a, 1, constant_values=value)."""
    out = np.full((a.shape[0] + 2, a.shape[1] + 2), value, dtype=a.dtype)
    out[1:-1, 1:-1] = a
    return out


def window_counts(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """For every top-left corner (r, c) where a height x width window fits, how many cells of `mask` it holds
    (summed-area table)."""
    h, w = mask.shape
    table = np.pad(np.cumsum(np.cumsum(mask, axis=0), axis=1), ((1, 0), (1, 0)))
    return (table[height:, width:] - table[:h - height + 1, width:] - table[height:, :w - width + 1]
            + table[:h - height + 1, :w - width + 1])


def beside(mask: np.ndarray, near_by: str) -> np.ndarray:
    """The cells with a neighbour in `mask` (near_by: "" the 3x3 block, so the mask itself too; "4" sides;
    "diag" corners), over the mask's shape."""
    padded = pad1(mask)
    h, w = mask.shape
    near = np.zeros((h, w), dtype=bool)
    for dy, dx in NEIGHBOURS[near_by]:
        near |= padded[dy:dy + h, dx:dx + w]
    return near


@njit(cache=True)
def draw_rays(grid: np.ndarray, seeds: np.ndarray, dirs: np.ndarray, bg: int, through: bool) -> np.ndarray:
    """From every seed cell (row-major order), a ray in each direction (dr, dc) of `dirs` painted in the
    seed's colour over the cells that are `bg` in the input. A ray stops at the border, and at the first
    non-bg input cell unless `through` (then it skips non-bg cells and goes on). Later seeds paint over
    earlier rays."""
    h, w = grid.shape
    out = grid.copy()
    for r0 in range(h):
        for c0 in range(w):
            if not seeds[r0, c0]:
                continue
            colour = grid[r0, c0]
            for k in range(dirs.shape[0]):
                r, c = r0 + dirs[k, 0], c0 + dirs[k, 1]
                while 0 <= r < h and 0 <= c < w:
                    if grid[r, c] == bg:
                        out[r, c] = colour
                    elif not through:
                        break
                    r += dirs[k, 0]
                    c += dirs[k, 1]
    return out


@njit(cache=True)
def gravity_down(grid: np.ndarray, bg: int) -> np.ndarray:
    """Every non-bg cell falls to the bottom of its column, keeping the column's order of colours."""
    h, w = grid.shape
    out = np.full((h, w), bg, dtype=np.uint8)
    for c in range(w):
        r_out = h - 1
        for r in range(h - 1, -1, -1):
            if grid[r, c] != bg:
                out[r_out, c] = grid[r, c]
                r_out -= 1
    return out


@njit(cache=True)
def mirror_axis(grid: np.ndarray, known: np.ndarray) -> int:
    """The sum s (column c mirrors to s - c) under which the most pairs of distinct known cells agree and
    none disagree; ties go to the s nearest the centre (w - 1), then the smaller. -1 when no pair agrees."""
    h, w = grid.shape
    best, best_s = 0, -1
    for s in range(1, 2 * w - 2):
        agree = 0
        bad = False
        for c in range(max(0, s - w + 1), min(w, s + 1)):
            p = s - c
            if p <= c:
                continue
            for r in range(h):
                if known[r, c] and known[r, p]:
                    if grid[r, c] != grid[r, p]:
                        bad = True
                        break
                    agree += 1
            if bad:
                break
        if bad or agree == 0:
            continue
        if agree > best or (agree == best and abs(s - (w - 1)) < abs(best_s - (w - 1))):
            best, best_s = agree, s
    return best_s


@njit(cache=True)
def majority3x3(grid: np.ndarray) -> np.ndarray:
    """Each cell takes the single most frequent colour of its 3x3 neighbourhood inside the grid; a tie
    for the most frequent, or the cell's own colour among the most frequent, keeps the cell."""
    h, w = grid.shape
    out = grid.copy()
    counts = np.zeros(10, dtype=np.int64)
    for r in range(h):
        for c in range(w):
            counts[:] = 0
            for y in range(max(0, r - 1), min(h, r + 2)):
                for x in range(max(0, c - 1), min(w, c + 2)):
                    counts[grid[y, x]] += 1
            best = counts.max()
            n_best = 0
            winner = 0
            for k in range(10):
                if counts[k] == best:
                    n_best += 1
                    winner = k
            if n_best == 1 and counts[grid[r, c]] != best:
                out[r, c] = winner
    return out


@njit(cache=True)
def periodic_fill(grid: np.ndarray, mask: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """`grid` with its masked cells filled from the first lattice (pr, pc, shift) of `periods` under which
    every class of cells holds one known colour and every class of a masked cell has one; an empty (0 x 0)
    array when none fits. The lattice is spanned by (pr, shift) and (0, pc): cell (r, c) is in class
    (r mod pr, (c - shift * (r div pr)) mod pc); shift 0 is the plain (r mod pr, c mod pc) tiling."""
    h, w = grid.shape
    for k in range(periods.shape[0]):
        pr, pc, shift = periods[k, 0], periods[k, 1], periods[k, 2]
        table = np.full(pr * pc, -1, dtype=np.int64)
        ok = True
        for r in range(h):
            base = (r % pr) * pc
            off = shift * (r // pr)
            for c in range(w):
                if mask[r, c]:
                    continue
                i = base + (c - off) % pc
                if table[i] < 0:
                    table[i] = grid[r, c]
                elif table[i] != grid[r, c]:
                    ok = False
                    break
            if not ok:
                break
        if not ok:
            continue
        out = grid.copy()
        for r in range(h):
            base = (r % pr) * pc
            off = shift * (r // pr)
            for c in range(w):
                if mask[r, c]:
                    v = table[base + (c - off) % pc]
                    if v < 0:
                        ok = False
                        break
                    out[r, c] = v
            if not ok:
                break
        if ok:
            return out
    return np.empty((0, 0), dtype=np.uint8)


@njit(cache=True)
def component_boxes(labels: np.ndarray, n: int) -> np.ndarray:
    """(n, 4) int64 array: top, left, bottom + 1, right + 1 of each label 1..n (row k-1 for label k)."""
    h, w = labels.shape
    boxes = np.empty((n, 4), dtype=np.int64)
    boxes[:, 0] = h
    boxes[:, 1] = w
    boxes[:, 2] = 0
    boxes[:, 3] = 0
    for r in range(h):
        for c in range(w):
            k = labels[r, c] - 1
            if k < 0:
                continue
            boxes[k, 0] = min(boxes[k, 0], r)
            boxes[k, 1] = min(boxes[k, 1], c)
            boxes[k, 2] = max(boxes[k, 2], r + 1)
            boxes[k, 3] = max(boxes[k, 3], c + 1)
    return boxes


@njit(cache=True)
def overlay_items(cells: np.ndarray, boxes: np.ndarray, frame_h: int, frame_w: int, bg: int) -> np.ndarray:
    """Items painted into a `bg` frame: item k's cells are `cells[boxes[k, 4]:]` (row-major, boxes[k, 2] x
    boxes[k, 3]) and its top-left corner sits at (boxes[k, 0], boxes[k, 1]). The item with the most non-bg
    cells is painted first (ties: list order), only non-bg cells paint, cells outside the frame are cut."""
    n = boxes.shape[0]
    counts = np.zeros(n, dtype=np.int64)
    for m in range(n):
        start, size = boxes[m, 4], boxes[m, 2] * boxes[m, 3]
        for i in range(start, start + size):
            if cells[i] != bg:
                counts[m] += 1
    order = np.arange(n)
    for i in range(1, n):   # stable insertion sort, most cells first
        j = i
        while j > 0 and counts[order[j - 1]] < counts[order[j]]:
            order[j - 1], order[j] = order[j], order[j - 1]
            j -= 1
    canvas = np.full((frame_h, frame_w), bg, dtype=np.uint8)
    for k in order:
        r0, c0, ih, iw, at = boxes[k, 0], boxes[k, 1], boxes[k, 2], boxes[k, 3], boxes[k, 4]
        for y in range(max(0, -r0), min(ih, frame_h - r0)):
            for x in range(max(0, -c0), min(iw, frame_w - c0)):
                v = cells[at + y * iw + x]
                if v != bg:
                    canvas[r0 + y, c0 + x] = v
    return canvas


@njit(cache=True)
def enclosed_cells(mask: np.ndarray) -> int:
    """Number of cells outside `mask` that are not 4-connected, through cells outside `mask`, to the
    outside of the grid (the holes that `mask` encloses)."""
    h, w = mask.shape
    free = np.ones((h + 2, w + 2), dtype=np.bool_)
    total = 0
    for r in range(h):
        for c in range(w):
            if mask[r, c]:
                free[r + 1, c + 1] = False
            else:
                total += 1
    seen = np.zeros((h + 2, w + 2), dtype=np.bool_)
    stack = np.empty((h + 2) * (w + 2), dtype=np.int64)
    seen[0, 0] = True
    stack[0] = 0
    top = 1
    reached = 0
    while top > 0:
        top -= 1
        r, c = divmod(stack[top], w + 2)
        if 0 < r <= h and 0 < c <= w:
            reached += 1
        for k in range(4):
            rr, cc = r + _N4[k, 0], c + _N4[k, 1]
            if 0 <= rr < h + 2 and 0 <= cc < w + 2 and free[rr, cc] and not seen[rr, cc]:
                seen[rr, cc] = True
                stack[top] = rr * (w + 2) + cc
                top += 1
    return total - reached


@njit(cache=True)
def connect_runs(grid: np.ndarray, bg: int, colour: int, rows: bool, cols: bool) -> np.ndarray:
    """A copy of `grid` where the background run between two consecutive non-bg cells of one colour is
    filled, along rows (if `rows`), then along columns (if `cols`, painted over the rows), in the cells'
    colour (`colour` < 0) or in `colour`. The cells and runs are read from `grid`, not from the copy."""
    h, w = grid.shape
    out = grid.copy()
    if rows:
        for r in range(h):
            last = -1
            for c in range(w):
                if grid[r, c] != bg:
                    if last >= 0 and c > last + 1 and grid[r, last] == grid[r, c]:
                        v = grid[r, c] if colour < 0 else colour
                        for x in range(last + 1, c):
                            out[r, x] = v
                    last = c
    if cols:
        for c in range(w):
            last = -1
            for r in range(h):
                if grid[r, c] != bg:
                    if last >= 0 and r > last + 1 and grid[last, c] == grid[r, c]:
                        v = grid[r, c] if colour < 0 else colour
                        for y in range(last + 1, r):
                            out[y, c] = v
                    last = r
    return out


@njit(cache=True)
def colour_box(grid: np.ndarray, colour: int, equal: bool) -> np.ndarray:
    """(top, left, bottom + 1, right + 1) of the cells equal to `colour` (`equal`) or different from it;
    (0, 0, 0, 0) when there is none."""
    h, w = grid.shape
    r0, c0, r1, c1 = h, w, 0, 0
    for r in range(h):
        for c in range(w):
            if (grid[r, c] == colour) == equal:
                r0 = min(r0, r)
                c0 = min(c0, c)
                r1 = max(r1, r + 1)
                c1 = max(c1, c + 1)
    box = np.zeros(4, dtype=np.int64)
    if r1 > 0:
        box[0], box[1], box[2], box[3] = r0, c0, r1, c1
    return box


@njit(cache=True)
def best_stack_step(masks: np.ndarray, disagree: np.ndarray, open_cells: np.ndarray, care: np.ndarray,
                    allowed: np.ndarray) -> tuple[int, int, int]:
    """The greedy stacker's step on packed bits: (piece, mode, gain) of the (piece, mode) that paints the most
    `care` cells among `open_cells` while it disagrees with the target on none of the open cells it paints;
    `masks` (modes, pieces, words) are the cells each piece paints in each mode, `disagree` (pieces, words)
    its cells that differ from the target. Ties: the lower piece, then the lower mode; (-1, -1, 0) when no
    admissible step gains a care cell."""
    n_modes, n_pieces, n_words = masks.shape
    w0, w1 = n_words, 0  # the words that hold care cells
    for w in range(n_words):
        if care[w] & open_cells[w]:
            w0 = min(w0, w)
            w1 = w + 1
    best_p, best_m, best_gain = -1, -1, 0
    for p in range(n_pieces):
        if not allowed[p]:
            continue
        for m in range(n_modes):
            gain = 0
            for w in range(w0, w1):
                x = masks[m, p, w] & open_cells[w] & care[w]
                x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))  # popcount, SWAR
                x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
                x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
                gain += int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))
            if gain <= best_gain:
                continue
            ok = True
            for w in range(n_words):
                if masks[m, p, w] & open_cells[w] & disagree[p, w]:
                    ok = False
                    break
            if ok:
                best_p, best_m, best_gain = p, m, gain
    return best_p, best_m, best_gain


@register_jitable
def line_starts(h: int, w: int, dy: int, dx: int) -> np.ndarray:
    """(row, column) of the first cell of every line of an h x w grid along direction (dy, dx): the cells with
    no cell behind them, in row-major order. A helper of the kernels (compiled into each), not a kernel itself."""
    out = np.empty((h * w, 2), dtype=np.int64)
    n = 0
    for r in range(h):
        for c in range(w):
            if not (0 <= r - dy < h and 0 <= c - dx < w):
                out[n, 0], out[n, 1] = r, c
                n += 1
    return out[:n]


@njit(cache=True)
def smear(grid: np.ndarray, bg: int, dirs: np.ndarray) -> np.ndarray:
    """A copy of `grid` where, for each direction (dy, dx) of `dirs` in turn, every background cell takes the
    colour of the nearest non-background cell behind it along that direction (if any); a later direction
    paints over an earlier one. Colours are read from `grid`, not from the copy."""
    h, w = grid.shape
    out = grid.copy()
    for k in range(dirs.shape[0]):
        dy, dx = dirs[k, 0], dirs[k, 1]
        starts = line_starts(h, w, dy, dx)
        for s in range(starts.shape[0]):
            r, c, colour = starts[s, 0], starts[s, 1], -1
            while 0 <= r < h and 0 <= c < w:
                if grid[r, c] != bg:
                    colour = grid[r, c]
                elif colour >= 0:
                    out[r, c] = colour
                r += dy
                c += dx
    return out


@njit(cache=True)
def spread_colours(grid: np.ndarray, bg: int, skip: int) -> np.ndarray:
    """A copy of `grid` where the colours of the non-background cells (except those of colour `skip`) flood
    the background breadth-first (4-neighbours; sources in row-major order, the first to arrive wins)."""
    h, w = grid.shape
    out = grid.copy()
    done = grid != bg
    queue = np.empty(h * w, dtype=np.int64)
    head, tail = 0, 0
    for r in range(h):
        for c in range(w):
            if grid[r, c] != bg and grid[r, c] != skip:
                queue[tail] = r * w + c
                tail += 1
    while head < tail:
        r, c = divmod(queue[head], w)
        head += 1
        for k in range(4):
            rr, cc = r + _N4[k, 0], c + _N4[k, 1]
            if 0 <= rr < h and 0 <= cc < w and not done[rr, cc]:
                done[rr, cc] = True
                out[rr, cc] = out[r, c]
                queue[tail] = rr * w + cc
                tail += 1
    return out


@njit(cache=True)
def connect_along(grid: np.ndarray, bg: int, dy: int, dx: int) -> np.ndarray:
    """Only the background runs between two consecutive same-coloured cells along direction (dy, dx) (a
    diagonal, say), in their colour; every other cell background."""
    h, w = grid.shape
    out = np.full((h, w), bg, dtype=np.uint8)
    starts = line_starts(h, w, dy, dx)
    for s in range(starts.shape[0]):
        r, c, lr, lc = starts[s, 0], starts[s, 1], -1, -1
        while 0 <= r < h and 0 <= c < w:
            if grid[r, c] != bg:
                if lr >= 0 and grid[lr, lc] == grid[r, c]:
                    y, x = lr + dy, lc + dx
                    while y != r or x != c:
                        out[y, x] = grid[r, c]
                        y += dy
                        x += dx
                lr, lc = r, c
            r += dy
            c += dx
    return out


@njit(cache=True)
def alternate_along(grid: np.ndarray, bg: int, dy: int, dx: int) -> np.ndarray:
    """Only the second, fourth, ... cell of each run of non-background cells along direction (dy, dx); every
    other cell background."""
    h, w = grid.shape
    out = np.full((h, w), bg, dtype=np.uint8)
    starts = line_starts(h, w, dy, dx)
    for s in range(starts.shape[0]):
        r, c, k = starts[s, 0], starts[s, 1], 0
        while 0 <= r < h and 0 <= c < w:
            if grid[r, c] == bg:
                k = 0
            else:
                if k % 2 == 1:
                    out[r, c] = grid[r, c]
                k += 1
            r += dy
            c += dx
    return out


@njit(cache=True)
def reach_colour(grid: np.ndarray, bg: int, target: int) -> np.ndarray:
    """Only the lines drawn from each cell of another colour than `target` along a row or column over
    background cells to the first cell beyond them, where that cell has colour `target`: in the drawing cell's
    colour; every other cell background."""
    h, w = grid.shape
    out = np.full((h, w), bg, dtype=np.uint8)
    for r0 in range(h):
        for c0 in range(w):
            v = grid[r0, c0]
            if v == bg or v == target:
                continue
            for k in range(4):
                dy, dx = _N4[k, 0], _N4[k, 1]
                r, c = r0 + dy, c0 + dx
                while 0 <= r < h and 0 <= c < w and grid[r, c] == bg:
                    r += dy
                    c += dx
                if 0 <= r < h and 0 <= c < w and grid[r, c] == target and (r != r0 + dy or c != c0 + dx):
                    y, x = r0 + dy, c0 + dx
                    while y != r or x != c:
                        out[y, x] = v
                        y += dy
                        x += dx
    return out
