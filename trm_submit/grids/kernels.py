"""Numba kernels: batched decode of predicted canvases (crop, inverse colour map, inverse dihedral transform)
and the 64-bit grid hash used for voting, with its plain numpy twin `grid_hash`.

Grid hash (Zobrist style): SHAPE_KEYS[h, w] XOR the XOR over cells of CELL_KEYS[r, c, colour]; the key
tables are filled from splitmix64, so the hash is the same on every machine and numpy version. Equal grids
hash equal; grids of different shapes differ through SHAPE_KEYS even when their cell bytes agree.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from .augment import DIHEDRAL_INVERSE
from .encoding import COLOR_OFFSET, MAX_SIDE, NUM_COLORS

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser of (x + golden), elementwise on uint64 (wrapping arithmetic)."""
    z = x.astype(np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _key_tables() -> tuple[np.ndarray, np.ndarray]:
    n_cell = MAX_SIDE * MAX_SIDE * NUM_COLORS
    seq = np.arange(n_cell + (MAX_SIDE + 1) ** 2, dtype=np.uint64)
    with np.errstate(over="ignore"):
        keys = _splitmix64(seq)
    cell = keys[:n_cell].reshape(MAX_SIDE, MAX_SIDE, NUM_COLORS)
    shape = keys[n_cell:].reshape(MAX_SIDE + 1, MAX_SIDE + 1)
    cell.setflags(write=False)
    shape.setflags(write=False)
    return cell, shape


CELL_KEYS, SHAPE_KEYS = _key_tables()
_FLAT_CELL_KEYS = CELL_KEYS.reshape(-1)
_INVERSE = np.array(DIHEDRAL_INVERSE, dtype=np.int64)


def grid_hash(grid: np.ndarray) -> int:
    """64-bit hash of a colour grid (numpy path); equal to the hashes `decode_views` returns."""
    g = np.asarray(grid)
    h, w = g.shape
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise ValueError(f"grid_hash needs a grid of 1..{MAX_SIDE} per side, got shape {g.shape}")
    rows, cols = np.indices((h, w))
    cells = np.bitwise_xor.reduce(CELL_KEYS[rows, cols, g].ravel())
    return int(SHAPE_KEYS[h, w] ^ cells)


@njit(cache=True, inline="always")
def _crop_shape(canvas: np.ndarray, side: int, lo: np.uint8, n_colors: np.uint8) -> tuple[int, int]:
    """(h, w) of the official crop of one flat canvas; colour tokens are lo <= t < lo + n_colors."""
    best_area, best_h, best_w = 0, 0, 0
    width = side
    for r in range(side):
        base = r * side
        c = 0
        while c < width and np.uint8(canvas[base + c] - lo) < n_colors:  # one unsigned range test
            c += 1
        width = c
        if width == 0:
            break
        area = (r + 1) * width
        if area > best_area:
            best_area, best_h, best_w = area, r + 1, width
    return best_h, best_w


@njit(cache=True, inline="always")
def _source_strides(k: int, h: int, w: int, side: int) -> tuple[int, int, int]:
    """Flat canvas index of B[i, j] = base + di * i + dj * j, for B = dihedral_k(A), A the h x w crop."""
    last_r, last_c = (h - 1) * side, w - 1
    if k == 0:
        return 0, side, 1
    if k == 1:
        return last_c, -1, side
    if k == 2:
        return last_r + last_c, -side, -1
    if k == 3:
        return last_r, 1, -side
    if k == 4:
        return last_c, side, -1
    if k == 5:
        return last_r, -side, 1
    if k == 6:
        return 0, 1, side
    return last_r + last_c, -1, -side


_LO = np.uint8(COLOR_OFFSET)  # compile-time constants of the kernels below
_N_COLORS = np.uint8(NUM_COLORS)


@njit(cache=True, parallel=True)
def _decode_kernel(tokens, side, dihedral, inv_colors, inverse, cell_keys, shape_keys):
    """cell_keys is CELL_KEYS flattened: key of (r, c, colour) at (r * MAX_SIDE + c) * NUM_COLORS + colour."""
    n_views = tokens.shape[0]
    grids = np.zeros((n_views, MAX_SIDE * MAX_SIDE), np.uint8)
    shapes = np.zeros((n_views, 2), np.int32)
    hashes = np.zeros(n_views, np.uint64)
    valid = np.zeros(n_views, np.bool_)
    for v in prange(n_views):
        canvas = tokens[v]
        h, w = _crop_shape(canvas, side, _LO, _N_COLORS)
        if h == 0:
            continue
        k = inverse[dihedral[v]]
        oh, ow = (w, h) if (k == 1 or k == 3 or k == 6 or k == 7) else (h, w)
        base, di, dj = _source_strides(k, h, w, side)
        out = grids[v]
        inv = inv_colors[v]
        acc = shape_keys[oh, ow]
        for i in range(oh):
            src = base + di * i
            row = i * MAX_SIDE
            for j in range(ow):
                colour = inv[canvas[src + dj * j] - _LO]
                out[row + j] = colour
                acc ^= cell_keys[(row + j) * NUM_COLORS + colour]
        shapes[v, 0] = oh
        shapes[v, 1] = ow
        hashes[v] = acc
        valid[v] = True
    return grids.reshape(n_views, MAX_SIDE, MAX_SIDE), shapes, hashes, valid


def _check_decode_inputs(tokens: np.ndarray, side: int, dihedral: np.ndarray, inv_colors: np.ndarray) -> None:
    if not isinstance(side, (int, np.integer)) or not 1 <= side <= MAX_SIDE:
        raise ValueError(f"side must be an int in 1..{MAX_SIDE}, got {side!r}")
    if tokens.ndim != 2 or tokens.shape[1] != side * side:
        raise ValueError(f"tokens must have shape [V, {side * side}] for side {side}, got {tokens.shape}")
    n_views = tokens.shape[0]
    if dihedral.shape != (n_views,) or (n_views and (dihedral.min() < 0 or dihedral.max() > 7)):
        raise ValueError(f"dihedral must be [{n_views}] ids in 0..7, got shape {dihedral.shape}")
    if inv_colors.shape != (n_views, NUM_COLORS):
        raise ValueError(f"inv_colors must have shape [{n_views}, {NUM_COLORS}], got {inv_colors.shape}")
    if n_views and inv_colors.max() >= NUM_COLORS:
        raise ValueError(f"inv_colors entries must be colours 0..{NUM_COLORS - 1}, got max {inv_colors.max()}")


def decode_views(
    tokens: np.ndarray, side: int, dihedral: np.ndarray, inv_colors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode V predicted canvases back into the original frame of the task.

    tokens: uint8[V, side*side] predictions; dihedral: [V] FORWARD dihedral id of each view (the kernel
    applies its inverse); inv_colors: uint8[V, 10] inverse colour table of each view (inv[new] = old).
    Returns grids uint8[V, 30, 30] (zero outside each shape), shapes int32[V, 2], hashes uint64[V]
    (`grid_hash` of each grid) and valid bool[V] (False for an empty crop; such rows are all zero).
    """
    tokens = np.asarray(tokens)
    if tokens.dtype != np.uint8:
        if tokens.size and (tokens.min() < 0 or tokens.max() > 255):
            raise ValueError(f"tokens must be ids 0..255, got min {tokens.min()}, max {tokens.max()}")
        tokens = tokens.astype(np.uint8)
    tokens = np.ascontiguousarray(tokens)
    dihedral = np.ascontiguousarray(dihedral, dtype=np.int64)
    inv_colors = np.ascontiguousarray(inv_colors, dtype=np.uint8)
    _check_decode_inputs(tokens, side, dihedral, inv_colors)
    return _decode_kernel(tokens, int(side), dihedral, inv_colors, _INVERSE, _FLAT_CELL_KEYS, SHAPE_KEYS)


def set_threads(n: int | None) -> int:
    """Pin numba's parallel kernels to `n` threads (None = all); returns the number now in use."""
    # numba.config sets its NUMBA_* options at import time; the stubs do not list them
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS if n is None else int(n))  # type: ignore[attr-defined]
    return numba.get_num_threads()
