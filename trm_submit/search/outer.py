"""The outer-product candidate: an output made of one block per input cell (a Kronecker-style product of two
images of the input), e.g. "put a copy of the input where the input has a coloured cell".

Form: an input of h x w gives an output of (h*h) x (w*w), block (i, j) of h x w cells being either all 0 or
`fill(x, x[i, j])`, the filled blocks being the cells where `where(x)` holds. `where` and `fill` are fitted:
the first pair (in the order of `WHERE` x `FILLS`) that reproduces every demonstration gives the answer.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from ..io.tasks import Task

Grid = np.ndarray


def _is_colour(c: int) -> Callable[[Grid], np.ndarray]:
    return lambda x: x == c


def _most(x: Grid) -> int:
    values, counts = np.unique(x[x != 0], return_counts=True)
    return int(values[np.argmax(counts)]) if len(values) else -1


def _least(x: Grid) -> int:
    values, counts = np.unique(x[x != 0], return_counts=True)
    return int(values[np.argmin(counts)]) if len(values) else -1


# where a block is filled, as a mask over the input's cells
WHERE: tuple[tuple[str, Callable[[Grid], np.ndarray]], ...] = (
    ("coloured", lambda x: x != 0),
    ("blank", lambda x: x == 0),
    ("most_colour", lambda x: x == _most(x)),
    ("least_colour", lambda x: x == _least(x)),
) + tuple((f"colour_{c}", _is_colour(c)) for c in range(1, 10))

# what a filled block holds, from the input and the colour of its cell
FILLS: tuple[tuple[str, Callable[[Grid, int], Grid]], ...] = (
    ("input", lambda x, c: x),
    ("input_in_cell_colour", lambda x, c: np.where(x != 0, c, 0).astype(np.uint8)),
    ("inverse_in_cell_colour", lambda x, c: np.where(x == 0, c, 0).astype(np.uint8)),
    ("inverse_in_most_colour", lambda x, c: np.where(x == 0, _most(x), 0).astype(np.uint8)),
    ("input_flipped_h", lambda x, c: x[:, ::-1]),
    ("input_flipped_v", lambda x, c: x[::-1, :]),
    ("input_rotated_180", lambda x, c: x[::-1, ::-1]),
)


def product(x: Grid, where: Callable[[Grid], np.ndarray], fill: Callable[[Grid, int], Grid]) -> Optional[Grid]:
    """The outer product of `x` with itself under (`where`, `fill`), or None past 30 cells a side."""
    h, w = x.shape
    if h * h > 30 or w * w > 30:
        return None
    out = np.zeros((h * h, w * w), np.uint8)
    mask = where(x)
    for i, j in zip(*np.nonzero(mask)):
        block = fill(x, int(x[i, j]))
        if block.shape != x.shape or block.min() < 0:
            return None
        out[i * h:(i + 1) * h, j * w:(j + 1) * w] = block
    return out


def outer_candidates(task: Task) -> Optional[tuple[str, list[Optional[Grid]]]]:
    """(program text, answer per test input) of the first (where, fill) that reproduces every demonstration,
    or None."""
    if not all(o.shape == (i.shape[0] ** 2, i.shape[1] ** 2) for i, o in task.train):
        return None
    for wname, where in WHERE:
        for fname, fill in FILLS:
            if all(_same(product(i, where, fill), o) for i, o in task.train):
                return f"outer_product({wname}, {fname})", [product(t, where, fill) for t in task.test_inputs]
    return None


def _same(a: Optional[Grid], b: Grid) -> bool:
    return a is not None and a.shape == b.shape and bool(np.array_equal(a, b))
