"""Symmetry and periodic completion of the search against grids built symmetric (or periodic) by
construction and then masked, and real ARC-AGI-1 training tasks."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves

from trm_submit.search import symmetry
from trm_submit.search.symmetry import complete, fit_axis, symmetry_patch


def _symmetric(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """An n x n grid (colours 1..4) with the symmetry of `kind`, made by mirroring a random block."""
    g = rng.integers(1, 5, size=(n, n)).astype(np.uint8)
    if kind == "d4":
        g = (np.triu(g) + np.triu(g, 1).T).astype(np.uint8)   # transpose-symmetric, then both mirrors
    if kind in ("lr", "lrud", "d4"):
        g[:, n - n // 2:] = g[:, :n // 2][:, ::-1]
    if kind in ("ud", "lrud", "d4"):
        g[n - n // 2:] = g[:n // 2][::-1]
    return g


@pytest.mark.parametrize("kind", ["lr", "ud", "lrud", "d4"])
def test_complete_recovers_masked_symmetric_grid(kind):
    rng = np.random.default_rng(20)
    recovered = 0
    for _ in range(20):
        full = _symmetric(rng, kind, int(rng.integers(6, 13)))
        if kind == "d4":
            assert (full == full.T).all() and (full == full[::-1]).all()
        h, w = full.shape
        masked = full.copy()
        r0, c0 = int(rng.integers(0, h - 2)), int(rng.integers(0, w // 2 - 1))
        masked[r0:r0 + 2, c0:c0 + 2] = 0   # a hole only on the left half: its mirror is known
        got = complete(masked, 0, kind)
        if got is not None:
            recovered += 1
            assert (got == full).all()
            patch = symmetry_patch(masked, 0, kind)
            assert (patch == full[r0:r0 + 2, c0:c0 + 2]).all()
    assert recovered >= 15


def test_fit_axis_finds_off_centre_axis():
    rng = np.random.default_rng(21)
    half = rng.integers(1, 5, size=(5, 4)).astype(np.uint8)
    sym = np.concatenate([half, half[:, ::-1]], axis=1)          # axis between columns 3 and 4
    grid = np.concatenate([sym, rng.integers(1, 5, size=(5, 1)).astype(np.uint8)], axis=1)  # plus a column
    assert fit_axis(grid, np.zeros(grid.shape, bool), 1) == 7      # mirror of column i is 7 - i


def test_periodic_completion_recovers_tiling():
    rng = np.random.default_rng(22)
    for _ in range(20):
        tile = rng.integers(1, 6, size=(int(rng.integers(2, 4)), int(rng.integers(2, 4)))).astype(np.uint8)
        full = np.tile(tile, (4, 4))[:11, :10]
        masked = full.copy()
        masked[3:6, 4:7] = 0
        assert (complete(masked, 0, "tile") == full).all()


def test_nothing_masked_or_no_axis_gives_none():
    g = (np.arange(24).reshape(4, 6) % 9 + 1).astype(np.uint8)   # no two cells of a row or column agree
    g[0, 0] = 0
    assert all(complete(g, 0, kind) is None for kind in ("lr", "ud", "lrud", "d4"))
    assert complete(np.ones((3, 3), np.uint8), 0, "lr") is None


@pytest.mark.parametrize("task_id,names", [
    ("3631a71a", ["symmetry(lrud,9)"]),
    ("b8825c91", ["symmetry(lrud,4)"]),
    ("9ecd008a", ["symmetry_patch(lr,0)"]),
    ("f9012d9b", ["symmetry_patch(tile,0)"]),
    ("dc0a314f", ["symmetry_patch(lrud,3)"]),
])
def test_real_training_tasks(task_id, names):
    assert_op_solves(symmetry, task_id, names)
