"""Plain-Python references (loops and BFS) for the search's object and pattern primitives, and the real
ARC-AGI-1 training tasks the tests check them on. Deliberately simple: no numpy tricks, no numba."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest


def ref_components(grid: np.ndarray, bg: int, diag: bool, multi: bool) -> list[list[tuple[int, int]]]:
    """Components as cell lists, numbered in row-major order of their first cell (BFS)."""
    h, w = grid.shape
    seen = [[False] * w for _ in range(h)]
    steps = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0) and (diag or not (dy and dx))]
    comps = []
    for r in range(h):
        for c in range(w):
            if grid[r, c] == bg or seen[r][c]:
                continue
            seen[r][c] = True
            queue, cells = deque([(r, c)]), []
            while queue:
                y, x = queue.popleft()
                cells.append((y, x))
                for dy, dx in steps:
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < h and 0 <= xx < w and not seen[yy][xx] and grid[yy, xx] != bg \
                            and (multi or grid[yy, xx] == grid[r, c]):
                        seen[yy][xx] = True
                        queue.append((yy, xx))
            comps.append(cells)
    return comps


def ref_labels(grid: np.ndarray, bg: int, diag: bool, multi: bool) -> np.ndarray:
    labels = np.zeros(grid.shape, dtype=np.int32)
    for k, cells in enumerate(ref_components(grid, bg, diag, multi), start=1):
        for y, x in cells:
            labels[y, x] = k
    return labels


def ref_border_reach(grid: np.ndarray, colour: int) -> np.ndarray:
    h, w = grid.shape
    seen = np.zeros((h, w), dtype=bool)
    queue = deque((r, c) for r in range(h) for c in range(w)
                  if (r in (0, h - 1) or c in (0, w - 1)) and grid[r, c] == colour)
    for r, c in queue:
        seen[r, c] = True
    while queue:
        y, x = queue.popleft()
        for yy, xx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= yy < h and 0 <= xx < w and not seen[yy, xx] and grid[yy, xx] == colour:
                seen[yy, xx] = True
                queue.append((yy, xx))
    return seen


def ref_crop(grid: np.ndarray, cells: list[tuple[int, int]], bg: int) -> np.ndarray:
    """The bbox of `cells`, with only those cells kept (others bg)."""
    rows, cols = [y for y, _ in cells], [x for _, x in cells]
    top, left = min(rows), min(cols)
    out = np.full((max(rows) - top + 1, max(cols) - left + 1), bg, dtype=np.uint8)
    for y, x in cells:
        out[y - top, x - left] = grid[y, x]
    return out


def random_sparse(rng: np.random.Generator, h: int, w: int, colours: int = 3, fill: float = 0.35) -> np.ndarray:
    """A grid of mostly 0 with `fill` of its cells in colours 1..colours."""
    g = rng.integers(1, colours + 1, size=(h, w)).astype(np.uint8)
    g[rng.random((h, w)) >= fill] = 0
    return g


def training_task(task_id: str, dataset: str = "arc-agi-1"):
    """(Task, test solutions) of one training task of `dataset`; skips when the public data is missing."""
    datasets = pytest.importorskip("trm_submit.io.datasets")
    try:
        challenges, solutions = _training(dataset)
    except datasets.DatasetError as exc:
        pytest.skip(f"public ARC data unavailable: {exc}")
    return challenges.tasks[task_id], solutions[task_id]


_CACHE: dict = {}


def _training(dataset: str):
    if dataset not in _CACHE:
        from trm_submit.io.datasets import load_tasks
        _CACHE[dataset] = load_tasks(dataset, "training")
    return _CACHE[dataset]


def assert_op_solves(modules, task_id: str, op_names: list[str], dataset: str = "arc-agi-1", remap=None) -> None:
    """The ops named (in order) from the `ops(ctx)` of `modules` (one or a list) map every train input to its
    output and the test inputs to their solutions (a training task of `dataset`; with `remap`, every grid of the
    task and its solutions mapped by it first: the task turned or recoloured)."""
    from trm_submit.io.tasks import Task
    from trm_submit.search.dsl import make_context
    task, solutions = training_task(task_id, dataset)
    if remap is not None:
        task = Task(task.task_id, tuple((remap(i), remap(o)) for i, o in task.train),
                    tuple(remap(g) for g in task.test_inputs))
        solutions = [remap(g) for g in solutions]
    ctx = make_context(task)
    modules = modules if isinstance(modules, (list, tuple)) else [modules]
    available = {op.name: op for module in modules for op in module.ops(ctx)}
    missing = [n for n in op_names if n not in available]
    assert not missing, f"{task_id}: {missing} not offered; offered {sorted(available)}"
    pairs = list(task.train) + list(zip(task.test_inputs, solutions))
    for k, (grid, want) in enumerate(pairs):
        value = grid
        for name in op_names:
            value = available[name].fn(value)
            assert value is not None, f"{task_id} pair {k}: {name} gave None"
        assert value.shape == want.shape and (value == want).all(), f"{task_id} pair {k}: wrong output"
