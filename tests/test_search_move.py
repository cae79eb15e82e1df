"""Attraction toward an anchor colour (search.move) against a plain step-by-step reference on random grids,
a hand-made case, and real ARC-AGI-1 training tasks."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves, random_sparse, ref_components

from trm_submit.search import move
from trm_submit.search.move import attract


def _ref_attract(g: np.ndarray, anchor: int) -> np.ndarray:
    ys, xs = np.nonzero(g == anchor)
    top, left, bottom, right = ys.min(), xs.min(), ys.max(), xs.max()
    movers = np.where(g == anchor, 0, g)
    comps = ref_components(movers, 0, True, True)
    comps.sort(key=lambda cs: (min(y for y, _ in cs), min(x for _, x in cs)))
    cy, cx = (top + bottom) / 2, (left + right) / 2
    comps.sort(key=lambda cs: abs(min(y for y, _ in cs) - cy) + abs(min(x for _, x in cs) - cx))
    out = g.copy()
    h, w = g.shape
    for cs in comps:
        colours = {(y, x): out[y, x] for y, x in cs}
        for y, x in cs:
            out[y, x] = 0
        cells = list(cs)
        while True:
            y0, y1 = min(y for y, _ in cells), max(y for y, _ in cells)
            x0, x1 = min(x for _, x in cells), max(x for _, x in cells)
            dy = 1 if y1 < top else -1 if y0 > bottom else 0
            dx = 1 if x1 < left else -1 if x0 > right else 0
            if (dy, dx) == (0, 0) or not all(0 <= y + dy < h and 0 <= x + dx < w and out[y + dy, x + dx] == 0
                                             for y, x in cells):
                break
            cells = [(y + dy, x + dx) for y, x in cells]
        for (y, x), (oy, ox) in zip(cells, cs):
            out[y, x] = colours[(oy, ox)]
    return out


def test_attract_equals_reference():
    rng = np.random.default_rng(60)
    for _ in range(60):
        g = random_sparse(rng, 12, 12, colours=2, fill=0.08)
        g[5:7, 5:8] = 3
        assert (attract(g, 0, 3) == _ref_attract(g, 3)).all()


def test_attract_hand_example():
    g = np.zeros((5, 7), np.uint8)
    g[2, 3] = 8          # anchor
    g[2, 0] = 1          # same row: slides right until next to the anchor
    g[0, 6] = 2          # no shared row or column: down-left to (1, 5), (2, 4), then blocked by the anchor
    out = attract(g, 0, 8)
    assert out.tolist() == [[0] * 7, [0] * 7, [0, 0, 1, 8, 2, 0, 0], [0] * 7, [0] * 7]
    assert attract(g, 0, 5) is None   # no anchor of colour 5


@pytest.mark.parametrize("task_id,names", [
    ("05f2a901", ["attract(8)"]),
    ("a48eeaf7", ["attract(2)"]),
])
def test_real_training_tasks(task_id, names):
    assert_op_solves(move, task_id, names)
