"""The search's fast paths against their plain twins: the overlay and hole-count kernels against plain numpy on
random inputs, the colour-map fit against a plain np.unique version, and the whole search (last-level refusal
memo on, kernels) against the plain paths (memo off, plain overlay and holes) on real ARC-AGI-1 training
tasks: the same candidates, in the same order, from the same number of op applications."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pytest
from search_reference import training_task

from trm_submit.budget import Budget
from trm_submit.search import engine, geometry, lines, lists, postpass, recolour, select, solve_task
from trm_submit.search.colour import fit_colour_map
from trm_submit.search.dsl import Items

RNG = np.random.default_rng(21)


def test_overlay_kernel_equals_plain_overlay_on_random_positioned_lists():
    for _ in range(500):
        n = int(RNG.integers(1, 6))
        frame = (int(RNG.integers(1, 12)), int(RNG.integers(1, 12)))
        bg = int(RNG.integers(0, 3))
        items, pos = [], []
        for _ in range(n):
            h, w = int(RNG.integers(1, 6)), int(RNG.integers(1, 6))
            items.append(RNG.integers(0, 4, size=(h, w), dtype=np.uint8))
            pos.append((int(RNG.integers(-3, frame[0] + 2)), int(RNG.integers(-3, frame[1] + 2))))
        value = Items(tuple(items), tuple(pos), frame)
        assert np.array_equal(lists.overlay_at(value, bg), lists.overlay_at_plain(value, bg))
    assert lists.overlay_at((np.zeros((2, 2), np.uint8),), 0) is None   # no positions: nothing to put back


def test_hole_kernel_equals_plain_hole_count_on_random_masks():
    for _ in range(1000):
        h, w = (int(v) for v in RNG.integers(1, 12, 2))
        mask = RNG.random((h, w)) < RNG.random()
        grid = np.zeros((h, w), np.uint8)
        assert select.holes(grid, mask) == select.holes_plain(grid, mask)
        assert select.holes(grid, mask[:, ::-1]) == select.holes_plain(grid, mask[:, ::-1])   # a view
    ring = np.ones((5, 5), bool)
    ring[1:4, 1:4] = False
    assert select.holes(np.zeros((5, 5), np.uint8), ring) == 9


@pytest.mark.parametrize("axes", ["h", "v", "hv"])
def test_connect_kernel_equals_plain_connect_on_random_grids(axes):
    for _ in range(300):
        g = RNG.integers(0, 3, size=(int(RNG.integers(1, 10)), int(RNG.integers(1, 10))), dtype=np.uint8)
        g[RNG.random(g.shape) < RNG.random()] = 0   # sparse to dense: runs of background to fill
        for colour in (None, 7):
            assert np.array_equal(lines.connect(g, 0, axes, colour), lines.connect_plain(g, 0, axes, colour))


def test_crops_equal_the_mask_crop_on_random_grids():
    for _ in range(500):
        g = RNG.integers(0, 4, size=(int(RNG.integers(1, 9)), int(RNG.integers(1, 9))), dtype=np.uint8)
        g[RNG.random(g.shape) < 0.6] = 0
        for c in range(4):
            for got, want in ((geometry.crop_colour(g, c), geometry.crop_to_mask(g, g == c)),
                              (geometry.crop_non_bg(g, c), geometry.crop_to_mask(g, g != c))):
                assert (got is None and want is None) or np.array_equal(got, want)


def _plain_colour_map(outs: list, targets: list) -> Optional[str]:
    """The colour map's name from the np.unique formulation (the reference of `fit_colour_map`)."""
    lut, fixed = np.arange(10), np.zeros(10, bool)
    for o, t in zip(outs, targets):
        if o.shape != t.shape:
            return None
        pairs = np.unique(o.astype(np.int16) * 10 + t)
        src, dst = pairs // 10, pairs % 10
        if np.unique(src).size != src.size:
            return None
        for a, b in zip(src.tolist(), dst.tolist()):
            if fixed[a] and lut[a] != b:
                return None
            lut[a], fixed[a] = b, True
    changed = [(a, int(lut[a])) for a in range(10) if fixed[a] and lut[a] != a]
    return "colour_map(" + ", ".join(f"{a}->{b}" for a, b in changed) + ")" if changed else None


def test_colour_map_fit_equals_the_plain_formulation():
    for _ in range(500):
        k = int(RNG.integers(1, 4))
        outs = [RNG.integers(0, 4, size=(int(RNG.integers(1, 5)), 3), dtype=np.uint8) for _ in range(k)]
        perm = RNG.permutation(10).astype(np.uint8)
        targets = [perm[o] for o in outs]
        if RNG.random() < 0.3:   # sometimes a cell that breaks the map
            targets[0] = targets[0].copy()
            targets[0][0, 0] = (targets[0][0, 0] + 1) % 10
        got = fit_colour_map(outs, targets)
        assert (None if got is None else got.name) == _plain_colour_map(outs, targets)


def _run(task, calls: list) -> tuple:
    real_call = engine._Search.call

    def counting(self, op, value):
        calls.append(1)
        return real_call(self, op, value)

    engine._Search.call = counting
    try:
        res = solve_task(task, Budget.seconds(600), max_depth=2)
    finally:
        engine._Search.call = real_call
    cands = [[(c.program, c.grid.shape, c.grid.tobytes(), c.count) for c in per] for per in res.candidates]
    return cands, res.applications, res.states, res.errors, res.stopped_by


SHARED_FIRST_VALUES = ("007bbfb7", "445eab21")


@pytest.mark.parametrize("task_id", ["007bbfb7", "445eab21", "a8d7556c", "d364b489", "e509e548"])
def test_search_with_fast_paths_equals_plain_paths_on_real_training_tasks(task_id, monkeypatch):
    task, _ = training_task(task_id)
    fast_calls: list = []
    fast = _run(task, fast_calls)
    monkeypatch.setattr(engine, "REFUSAL_MEMO", False)
    for module in (lists, engine, postpass):
        monkeypatch.setattr(module, "overlay_at", lists.overlay_at_plain)
    for module in (lists, select, recolour):
        monkeypatch.setattr(module, "holes", select.holes_plain)
    plain_calls: list = []
    plain = _run(task, plain_calls)
    assert fast == plain
    assert fast[-1] == "done"
    assert len(fast_calls) <= len(plain_calls)
    if task_id in SHARED_FIRST_VALUES:   # level-1 states that share a first value: the memo spares calls
        assert len(fast_calls) < len(plain_calls)
