"""Dihedral views of a whole task: every demonstration grid and every test input under one dihedral map, and
the map back of an answer found on the view. Both views used are their own inverse."""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from ..io.tasks import Task

Map = Callable[[np.ndarray], np.ndarray]

# name -> (forward map, inverse map)
VIEWS: dict[str, tuple[Map, Map]] = {
    "transpose": (lambda g: g.T, lambda g: g.T),
    "anti_transpose": (lambda g: g[::-1, ::-1].T, lambda g: g[::-1, ::-1].T),
}


def _apply(fn: Map, grid: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(fn(grid), dtype=np.uint8)


def view_task(task: Task, name: str) -> Optional[Task]:
    """`task` seen under view `name`, or None when the view changes no grid (searching it again finds nothing
    new)."""
    fwd = VIEWS[name][0]
    train = tuple((_apply(fwd, i), _apply(fwd, o)) for i, o in task.train)
    tests = tuple(_apply(fwd, g) for g in task.test_inputs)
    same = all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(
        [g for pair in train for g in pair] + list(tests), task.grids))
    return None if same else Task(task.task_id, train, tests)


def map_back(answer: np.ndarray, name: str) -> np.ndarray:
    """An answer found on view `name` in the task's own orientation."""
    return _apply(VIEWS[name][1], answer)
