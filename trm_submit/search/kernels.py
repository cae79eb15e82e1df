"""The search's numba kernels: connected-component labelling, the border-reachable region of a colour (for
flood fills of enclosed regions), rays from seed cells, and cell gravity. Each kernel has a plain reference
in tests/test_search_objects.py or tests/test_search_patterns.py that it must equal on random grids.

All kernels take C-contiguous uint8 grids, never modify their arguments, and return new arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
