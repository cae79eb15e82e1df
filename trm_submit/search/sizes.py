"""Output-size prediction for the test inputs, from "seeds": the shapes one shallow search state has on every
demonstration and test input (the input itself first, then states in discovery order).

Per axis (rows, then columns) the simplest rule that gives every demonstration output's side is chosen, by cost:
the seed's side on the same axis (cost = the seed's rank), or on the other axis (+1), times k in 1..5 (+2 per step
above 1) plus c in -3..3 (+|c|); the seed's side divided by 2 or 3 where it divides on every demonstration (+3 per
divisor step: "half as many rows as the input has columns"); a constant side (cost 1); the sum of two seeds' sides
(their ranks + 3). Ties go to the first found. The rule is then applied to each test input; a side outside 1..30
gives no prediction for that input.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

MAX_SIDE_OUT = 30    # an answer's side (ARC grids)
KS = (1, 2, 3, 4, 5)
DIVISORS = (2, 3)
MAX_SHIFT = 3
MAX_SUM_SEEDS = 40   # sums of two seeds are searched among the first this many
Shape = tuple[int, int]


def _axis_rule(seeds: np.ndarray, target: np.ndarray, n_train: int, axis: int) -> Optional[np.ndarray]:
    """The test sides (one per test input, 0 where unknown) of the cheapest rule for `axis`, or None."""
    best_cost, best = np.inf, None
    if (target == target[0]).all():
        best_cost, best = 1.0, np.full(seeds.shape[1] - n_train, target[0])
    ranks = np.arange(len(seeds))
    for b in (axis, 1 - axis):
        x_train, x_test = seeds[:, :n_train, b], seeds[:, n_train:, b]
        for k in KS:
            c = target[None, :] - k * x_train
            ok = (c == c[:, :1]).all(axis=1) & (np.abs(c[:, 0]) <= MAX_SHIFT) & (x_train > 0).all(axis=1)
            if not ok.any():
                continue
            cost = ranks + (b != axis) + 2 * (k - 1) + np.abs(c[:, 0])
            cost = np.where(ok, cost, np.inf)
            i = int(np.argmin(cost))
            if cost[i] < best_cost:
                best_cost, best = float(cost[i]), np.where(x_test[i] > 0, k * x_test[i] + c[i, 0], 0)
        for d in DIVISORS:
            ok = ((x_train % d == 0) & (x_train // d == target[None, :]) & (x_train > 0)).all(axis=1)
            cost = np.where(ok, ranks + (b != axis) + 3 * (d - 1), np.inf)
            i = int(np.argmin(cost))
            if cost[i] < best_cost:
                exact = (x_test[i] > 0) & (x_test[i] % d == 0)
                best_cost, best = float(cost[i]), np.where(exact, x_test[i] // d, 0)
    m = min(len(seeds), MAX_SUM_SEEDS)
    if m >= 1:
        a = seeds[:m, :, axis]
        sums = a[:, None, :] + a[None, :, :]
        ok = (sums[:, :, :n_train] == target).all(axis=2) & (a[:, None, :n_train] > 0).all(axis=2) \
            & (a[None, :, :n_train] > 0).all(axis=2)
        cost = np.where(ok, ranks[:m, None] + ranks[None, :m] + 3.0, np.inf)
        i, j = (int(v) for v in np.unravel_index(int(np.argmin(cost)), cost.shape))
        if cost[i, j] < best_cost:
            ti, tj = a[i, n_train:], a[j, n_train:]
            best = np.where((ti > 0) & (tj > 0), ti + tj, 0)
    return best


def predict(seeds: Sequence[Sequence[Optional[Shape]]], out_shapes: Sequence[Shape]) -> list[Optional[Shape]]:
    """The predicted output shape of each test input (None: no rule, or a side outside 1..30). `seeds[s]`
    holds seed s's shape on every demonstration then every test input (None: the state has no value there);
    a seed missing a demonstration's value is ignored."""
    n_train = len(out_shapes)
    rows = [[(0, 0) if v is None else v for v in s] for s in seeds if all(v is not None for v in s[:n_train])]
    if not rows:
        return []
    arr = np.array(rows, dtype=np.int64).reshape(len(rows), -1, 2)
    n_test = arr.shape[1] - n_train
    target = np.array(out_shapes, dtype=np.int64)
    sides = [_axis_rule(arr, target[:, a], n_train, a) for a in (0, 1)]
    out: list[Optional[Shape]] = []
    for t in range(n_test):
        if sides[0] is None or sides[1] is None:
            out.append(None)
            continue
        h, w = int(sides[0][t]), int(sides[1][t])
        out.append((h, w) if 1 <= h <= MAX_SIDE_OUT and 1 <= w <= MAX_SIDE_OUT else None)
    return out
