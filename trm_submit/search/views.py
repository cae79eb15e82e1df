"""Dihedral views of a whole task: every demonstration grid and every test input under one dihedral map, and
the map back of an answer found on the view. Both views used are their own inverse.

Turned ops: an op that reads the grid in one orientation (a spiral from the top-left corner, stripes repeated to
the right, a header in the first row) offered under the seven other dihedral maps (the grid turned, the op applied,
its answer turned back), where the op as it is fits nothing (`turned_ops`): the same rule drawn the other way round.
Rotating or reflecting whole ARC-AGI-1 training tasks that the search solves lost exactly these ops' tasks."""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from ..io.tasks import Task
from .dsl import Op
from .geometry import DIHEDRAL

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


TURN_BACK = {"rot90": "rot270", "rot270": "rot90"}   # the other dihedral maps are their own inverse
MAX_TURNED = 2   # turned ops offered per op (several turns can fit the demonstrations and differ on a test input)


def _turned(fn: Callable, turn: str) -> Callable:
    forward, back = DIHEDRAL[turn], DIHEDRAL[TURN_BACK.get(turn, turn)]

    def run(grid: np.ndarray) -> Optional[np.ndarray]:
        answer = fn(np.ascontiguousarray(forward(grid)))
        return None if answer is None else np.ascontiguousarray(back(answer))
    return run


def turned_ops(candidates: list[Op], fits: Callable[[Callable], bool]) -> list[Op]:
    """Each candidate op that `fits` rejects, under the dihedral maps whose turned op it accepts (at most MAX_TURNED
    per op, named "<op>@<map>"); a candidate that fits as it is gives none (it is offered as it is)."""
    found = []
    for candidate in candidates:
        if fits(candidate.fn):
            continue
        turned = [Op(f"{candidate.name}@{turn}", _turned(candidate.fn, turn), candidate.arg, candidate.ret,
                     candidate.cost, candidate.keeps_shape) for turn in DIHEDRAL]
        found += [t for t in turned if fits(t.fn)][:MAX_TURNED]
    return found
