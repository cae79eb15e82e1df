"""Submission files: the only writer of them. Skeleton with fallback attempts, fill, atomic write,
schema validation, and scoring against solutions (pass@1 / pass@2, per task and per test output).

Format: `{task_id: [{"attempt_1": grid, "attempt_2": grid} per test input, in order]}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..grids.encoding import MAX_SIDE, NUM_COLORS
from . import outpath
from .jsonfile import InputFileError, read_json_object
from .tasks import Challenges, GridError, expected_test_counts, grid_to_list, parse_grid, shorten

Grid = list[list[int]]
ATTEMPTS = ("attempt_1", "attempt_2")


def fallback_attempts(test_input: np.ndarray | None) -> tuple[Grid, Grid]:
    """Cheap guesses: the input itself, then a distinct grid (transpose, flip, or a 1x1 grid)."""
    if test_input is None:
        return [[0]], [[1]]
    a = np.asarray(test_input)
    for other in (a.T, a[::-1], np.zeros((1, 1), a.dtype), np.ones((1, 1), a.dtype)):
        if other.shape != a.shape or not np.array_equal(other, a):
            return grid_to_list(a), grid_to_list(other)
    raise AssertionError("unreachable: [[0]] and [[1]] cannot both equal the input")


def skeleton(ch: Challenges) -> dict[str, list[dict[str, Grid]]]:
    """A complete submission for `ch`: every task id in file order, fallbacks for every test input."""
    sub: dict[str, list[dict[str, Grid]]] = {}
    for task_id in ch.order:
        if task_id in ch.tasks:
            inputs: list[np.ndarray | None] = list(ch.tasks[task_id].test_inputs)
        else:
            rej = ch.rejected[task_id]
            inputs = list(rej.test_inputs[: rej.n_test])
            inputs += [None] * (rej.n_test - len(inputs))
        sub[task_id] = [dict(zip(ATTEMPTS, fallback_attempts(x))) for x in inputs]
    return sub


def _plain_ints(grid: Any) -> Any:
    """Lists holding numpy integers -> the same lists with Python ints (anything else is left as is)."""
    if type(grid) is list and all(type(row) is list for row in grid):
        return [[int(c) if isinstance(c, np.integer) else c for c in row] for row in grid]
    return grid


def _as_grid_list(grid: Any, what: str) -> Grid:
    """A numpy array or JSON-style list -> list of lists of ints, checked like an input grid."""
    try:
        if not isinstance(grid, np.ndarray):
            return grid_to_list(parse_grid(_plain_ints(grid)))
        if grid.ndim != 2 or grid.dtype.kind not in "iu":
            raise GridError(f"expected a 2-D integer array, got {grid.ndim}-D {grid.dtype}")
        rows, cols = grid.shape
        if not (1 <= rows <= MAX_SIDE and 1 <= cols <= MAX_SIDE):
            raise GridError(f"grid is {rows}x{cols}; sides must be 1..{MAX_SIDE}")
        if grid.min() < 0 or grid.max() >= NUM_COLORS:
            raise GridError(f"values outside 0..{NUM_COLORS - 1}")
        return grid_to_list(grid)
    except GridError as e:
        raise ValueError(f"{what}: {e}") from None


def fill(sub: dict, task_id: str, index: int, attempt_1: Any, attempt_2: Any) -> None:
    """Store two attempts for test input `index` of `task_id` (numpy arrays or lists of ints)."""
    if task_id not in sub:
        raise KeyError(f"task {task_id!r} is not in the submission")
    entries = sub[task_id]
    if not 0 <= index < len(entries):
        raise IndexError(f"task {task_id}: test index {index} out of range 0..{len(entries) - 1}")
    entries[index] = {
        "attempt_1": _as_grid_list(attempt_1, f"{task_id}[{index}].attempt_1"),
        "attempt_2": _as_grid_list(attempt_2, f"{task_id}[{index}].attempt_2"),
    }


def encode(sub: dict) -> bytes:
    """The bytes of a submission file."""
    return orjson.dumps(sub, option=orjson.OPT_SERIALIZE_NUMPY)


def write_atomic(path: str | Path, sub: dict) -> None:
    """Write `sub` as JSON to the real file behind `path` atomically (outpath.write_atomic: temp file beside
    it, fsync, os.replace; mode 0o644 under umask 022, or the existing file's mode)."""
    outpath.write_atomic(path, encode(sub))


def other_file_kind(data: dict[str, Any]) -> str | None:
    """'a challenges file' / 'a solutions file' when every task of `data` has that shape, else None."""
    values = list(data.values())
    if not values:
        return None
    if all(type(v) is dict and ("train" in v or "test" in v) for v in values):
        return "a challenges file (tasks with 'train' and 'test')"
    if all(type(v) is list and v and all(type(g) is list and g and type(g[0]) is list for g in v) for v in values):
        return "a solutions file (grids, not attempt_1/attempt_2 entries)"
    return None


def load_submission(path: str | Path) -> dict[str, Any]:
    """Read a submission file (InputFileError on a missing, empty, non-JSON or non-object file, and on a
    challenges or solutions file given in its place)."""
    data = read_json_object(path)
    kind = other_file_kind(data)
    if kind is not None:
        raise InputFileError(f"{path} looks like {kind}, not a submission")
    return data


def _entry_problems(task_id: str, i: int, entry: Any) -> list[str]:
    if type(entry) is not dict:
        return [f"{shorten(task_id)}[{i}]: entry is not an object with attempt_1 and attempt_2"]
    problems = []
    for key in ATTEMPTS:
        if key not in entry:
            problems.append(f"{shorten(task_id)}[{i}]: missing '{key}'")
            continue
        try:
            parse_grid(entry[key])
        except GridError as e:
            problems.append(f"{shorten(task_id)}[{i}].{key}: {e}")
    return problems


def validate(sub: Any, challenges: dict[str, Any] | Challenges) -> list[str]:
    """Problems that would make `sub` an invalid submission for `challenges`; empty list = valid."""
    if isinstance(challenges, Challenges):
        expected = {t: challenges.n_test(t) for t in challenges.order}
    else:
        expected = expected_test_counts(challenges)
    if type(sub) is not dict:
        return ["submission is not a JSON object of task ids"]
    problems = [f"{shorten(t)}: task missing from submission" for t in expected if t not in sub]
    problems += [f"{shorten(t)}: task not in challenges" for t in sub if t not in expected]
    for task_id, n in expected.items():
        entries = sub.get(task_id)
        if task_id not in sub:
            continue
        if type(entries) is not list:
            problems.append(f"{shorten(task_id)}: value is not a list of entries")
            continue
        if len(entries) != n:
            problems.append(f"{shorten(task_id)}: {len(entries)} entries, expected {n} (one per test input)")
        for i, entry in enumerate(entries):
            problems += _entry_problems(task_id, i, entry)
    return problems


@dataclass(frozen=True)
class TaskResult:
    """Per-test-output results of one task: solved by attempt_1, and by either attempt; near misses: either
    attempt has the true shape, and the larger fraction of true cells among the attempts (0 for a wrong shape)."""

    task_id: str
    pass1: tuple[bool, ...]
    pass2: tuple[bool, ...]
    shape_ok: tuple[bool, ...] = ()
    cells: tuple[float, ...] = ()


@dataclass(frozen=True)
class Score:
    """pass@1 / pass@2 as the mean over tasks of their solved fraction (Kaggle) and per test output."""

    task_pass1: float
    task_pass2: float
    output_pass1: float
    output_pass2: float
    n_tasks: int
    n_outputs: int
    results: tuple[TaskResult, ...]
    output_shape: float = 0.0  # near misses, per test output: an attempt of the true shape
    output_cells: float = 0.0  # mean best fraction of true cells (0 for a wrong shape)


def _compare(attempt: Any, truth: np.ndarray) -> tuple[bool, float]:
    """(`attempt` has `truth`'s shape, fraction of its cells right); (False, 0.0) for an invalid grid."""
    truth = np.asarray(truth)
    try:
        guess = parse_grid(attempt)
    except GridError:
        return False, 0.0
    if guess.shape != truth.shape:
        return False, 0.0
    return True, float((guess == truth).mean())


def _task_result(task_id: str, entries: Any, truths: list[np.ndarray]) -> TaskResult:
    entries = entries if type(entries) is list else []
    p1, p2, shape, cells = [], [], [], []
    for i, truth in enumerate(truths):
        entry = entries[i] if i < len(entries) and type(entries[i]) is dict else {}
        (s1, c1), (s2, c2) = (_compare(entry.get(k), truth) for k in ATTEMPTS)
        p1.append(c1 == 1.0)
        p2.append(c1 == 1.0 or c2 == 1.0)
        shape.append(s1 or s2)
        cells.append(max(c1, c2))
    return TaskResult(task_id, tuple(p1), tuple(p2), tuple(shape), tuple(cells))


def score(sub: dict, solutions: dict[str, list[np.ndarray]]) -> Score:
    """Score `sub` against solutions; tasks missing from `sub` count as unsolved."""
    results = tuple(_task_result(t, sub.get(t), truths) for t, truths in solutions.items())
    scored = [r for r in results if r.pass1]  # a task with no outputs cannot be scored
    n_out = sum(len(r.pass1) for r in scored)

    def task_mean(flags: str) -> float:
        return sum(sum(getattr(r, flags)) / len(r.pass1) for r in scored) / len(scored) if scored else 0.0

    def output_mean(flags: str) -> float:
        return sum(sum(getattr(r, flags)) for r in scored) / n_out if n_out else 0.0

    return Score(task_mean("pass1"), task_mean("pass2"), output_mean("pass1"), output_mean("pass2"),
                 len(scored), n_out, results, output_mean("shape_ok"), output_mean("cells"))


def score_record(s: Score) -> dict[str, float | int]:
    """The numbers of a Score without its per-task results (for the run summary JSON)."""
    return {k: v for k, v in s.__dict__.items() if k != "results"}


def format_score_table(s: Score) -> str:
    """A small plain-text table of the score."""
    t1, t2 = s.task_pass1 * s.n_tasks, s.task_pass2 * s.n_tasks
    o1, o2 = round(s.output_pass1 * s.n_outputs), round(s.output_pass2 * s.n_outputs)
    rows = [
        f"{'':<22}{'pass@1':>21}{'pass@2':>21}",
        f"{'per task (Kaggle)':<22}{f'{s.task_pass1:.2%} ({t1:g}/{s.n_tasks})':>21}"
        f"{f'{s.task_pass2:.2%} ({t2:g}/{s.n_tasks})':>21}",
        f"{'per test output':<22}{f'{s.output_pass1:.2%} ({o1}/{s.n_outputs})':>21}"
        f"{f'{s.output_pass2:.2%} ({o2}/{s.n_outputs})':>21}",
        f"near misses per test output: {s.output_shape:.1%} right shape, {s.output_cells:.1%} of cells right "
        f"(best of the two attempts)",
    ]
    return "\n".join(rows)
