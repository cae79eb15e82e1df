"""Kaggle challenges/solutions JSON <-> Task records: the only module that knows that JSON structure.

Owns whole-file checks (`InputFileError`; `jsonfile` reads the bytes), per-grid and per-task validation (a
broken task becomes a `Rejected` record with a precise reason, never an exception), and duplicate task-id detection.
Grids are C-contiguous uint8 2-D numpy arrays.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..grids.encoding import MAX_SIDE, NUM_COLORS
from .jsonfile import InputFileError as InputFileError  # the whole-file error, named tasks.InputFileError too
from .jsonfile import duplicate_top_level_keys, kind, parse_json_object, read_bytes, type_name

Log = Callable[[str], None]


def log_stderr(line: str) -> None:
    """Default log: one line to stderr."""
    print(line, file=sys.stderr, flush=True)


class GridError(ValueError):
    """A value that is not a valid ARC grid; the message says what is wrong (no location)."""


@dataclass(frozen=True)
class Task:
    """One usable task: demonstration pairs and test inputs as uint8 2-D arrays."""

    task_id: str
    train: tuple[tuple[np.ndarray, np.ndarray], ...]
    test_inputs: tuple[np.ndarray, ...]

    @property
    def n_test(self) -> int:
        return len(self.test_inputs)

    @property
    def grids(self) -> tuple[np.ndarray, ...]:
        """Every grid of the task: train inputs and outputs, then test inputs."""
        return tuple(chain.from_iterable(self.train)) + self.test_inputs

    @property
    def max_side(self) -> int:
        """Largest side (rows or columns) among all grids of the task."""
        return max(max(g.shape) for g in self.grids)


@dataclass
class Rejected:
    """A task that cannot be used. `n_test` = test entries the submission must still carry for it;
    `test_inputs` holds each test input that is itself a valid grid (None where it is not)."""

    task_id: str
    reason: str
    n_test: int
    test_inputs: tuple[np.ndarray | None, ...] = ()


@dataclass
class Challenges:
    """A parsed challenges file. `order` lists every task id in file order, valid and rejected alike."""

    tasks: dict[str, Task]
    rejected: dict[str, Rejected]
    duplicates: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)

    def n_test(self, task_id: str) -> int:
        """How many test entries the submission carries for `task_id`."""
        if task_id in self.tasks:
            return self.tasks[task_id].n_test
        return self.rejected[task_id].n_test


class _TaskProblem(Exception):
    """Internal: a task-level problem; `where` locates it inside the task ('' for the task itself)."""

    def __init__(self, where: str, problem: str):
        super().__init__(problem)
        self.where, self.problem = where, problem

    def detail(self) -> str:
        return f"{self.where}: {self.problem}" if self.where else self.problem


MAX_SHOWN = 60  # characters of a user's value or id shown in a message


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """`text` cut to `limit` characters with '...' (messages stay one short line whatever the input)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown_value(v: Any) -> str:
    """A cell value for a message: scalars as JSON (cut short), containers by kind (never walked)."""
    if type(v) in (type(None), bool, float, str):
        return shorten(json.dumps(v)) + " "
    return ""


def _bad_cell(grid: list) -> str:
    """Describe the first cell that is not an integer 0..9 (slow path, only on error)."""
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            if type(v) is not int:
                return f"non-integer value {_shown_value(v)}({type_name(v)}) at row {r}, column {c}"
            if not 0 <= v < NUM_COLORS:
                return f"value {v} at row {r}, column {c} is outside 0..9"
    raise AssertionError("no bad cell found")


def parse_grid(value: Any) -> np.ndarray:
    """A JSON grid (list of equal-length lists of ints 0..9, sides 1..30) -> uint8 array; else GridError."""
    if value is None:
        raise GridError("null grid")
    if type(value) is not list:
        raise GridError(f"grid is {kind(value)}, not a list of rows")
    if not value:
        raise GridError("empty grid (no rows)")
    for r, row in enumerate(value):
        if type(row) is not list:
            raise GridError(f"row {r} is {kind(row)}, not a list")
    width = len(value[0])
    for r, row in enumerate(value):
        if len(row) != width:
            raise GridError(f"ragged grid (row {r} has {len(row)} cells, row 0 has {width})")
    if not 1 <= len(value) <= MAX_SIDE or not 1 <= width <= MAX_SIDE:
        raise GridError(f"grid is {len(value)}x{width}; sides must be 1..{MAX_SIDE}")
    cells = list(chain.from_iterable(value))
    if set(map(type, cells)) != {int} or min(cells) < 0 or max(cells) >= NUM_COLORS:
        raise GridError(_bad_cell(value))
    return np.array(value, dtype=np.uint8)


def grid_to_list(arr: np.ndarray) -> list[list[int]]:
    """A 2-D integer array -> list of lists of Python ints (JSON-ready)."""
    a = np.asarray(arr)
    if a.ndim != 2:
        raise GridError(f"grid must be 2-D, got shape {a.shape}")
    return a.astype(np.int64, copy=False).tolist()


def _grid_at(value: Any, where: str) -> np.ndarray:
    try:
        return parse_grid(value)
    except GridError as e:
        raise _TaskProblem(where, str(e)) from None


def _pairs(task: dict, key: str, need_output: bool) -> list:
    if key not in task:
        raise _TaskProblem("", f"missing '{key}'")
    pairs = task[key]
    if type(pairs) is not list:
        raise _TaskProblem("", f"'{key}' is {kind(pairs)}, not a list")
    if not pairs:
        raise _TaskProblem("", "no demonstration pairs" if key == "train" else "empty test list")
    for i, pair in enumerate(pairs):
        if type(pair) is not dict:
            raise _TaskProblem(f"{key}[{i}]", f"pair is {kind(pair)}, not an object")
        for k in ("input", "output") if need_output else ("input",):
            if k not in pair:
                raise _TaskProblem(f"{key}[{i}]", f"missing '{k}'")
    return pairs


def _parse_task(task_id: str, task: Any) -> Task:
    if type(task) is not dict:
        raise _TaskProblem("", f"task is {kind(task)}, not an object")
    train_raw = _pairs(task, "train", need_output=True)
    test_raw = _pairs(task, "test", need_output=False)
    train = tuple(
        (_grid_at(p["input"], f"train[{i}].input"), _grid_at(p["output"], f"train[{i}].output"))
        for i, p in enumerate(train_raw)
    )
    tests = tuple(_grid_at(p["input"], f"test[{i}].input") for i, p in enumerate(test_raw))
    return Task(task_id, train, tests)


def _raw_tests(task: Any) -> list | None:
    """The raw `test` list of a decoded task, or None when there is no such list."""
    tests = task.get("test") if type(task) is dict else None
    return tests if type(tests) is list else None


def _grid_or_none(value: Any) -> np.ndarray | None:
    try:
        return parse_grid(value)
    except GridError:
        return None


def _reject(task_id: str, task: Any, err: _TaskProblem) -> Rejected:
    """A Rejected record that keeps each test input that is a valid grid on its own."""
    tests = _raw_tests(task)
    inputs = (None,) if tests is None else tuple(
        _grid_or_none(p.get("input")) if type(p) is dict else None for p in tests
    )
    reason = f"{shorten(task_id)} {err.where}: {err.problem}" if err.where else f"{shorten(task_id)}: {err.problem}"
    return Rejected(task_id, reason, len(inputs), inputs)


def usable_id(task_id: str) -> str:
    """`task_id` as the files of a run can hold it: an id that is not valid Unicode (a lone surrogate, which
    JSON can escape but UTF-8 cannot encode) has each bad character spelt as its escape (backslash, u, hex)."""
    try:
        task_id.encode("utf-8")
        return task_id
    except UnicodeEncodeError:
        return task_id.encode("utf-8", "backslashreplace").decode("utf-8")


def challenges_from_dict(data: dict[str, Any], log: Log = log_stderr) -> Challenges:
    """Validate each task of a decoded challenges object; broken tasks become `Rejected` (logged). A task whose
    id is not valid Unicode is rejected under its `usable_id` (the submission carries its fallbacks there)."""
    ch = Challenges(tasks={}, rejected={}, duplicates=[], order=[usable_id(t) for t in data])
    for task_id, task in data.items():
        if (shown := usable_id(task_id)) != task_id:
            problem = _TaskProblem("", f"the task id is not valid Unicode (a lone surrogate); its fallbacks are "
                                       f"filed under the id {shown}")
            ch.rejected[shown] = _reject(shown, task, problem)
            log(f"trm-submit: task {shorten(shown)} rejected: {problem.detail()}")
            continue
        try:
            ch.tasks[task_id] = _parse_task(task_id, task)
        except _TaskProblem as err:
            ch.rejected[task_id] = _reject(task_id, task, err)
            log(f"trm-submit: task {shorten(task_id)} rejected: {err.detail()}")
    return ch


def parse_challenges(raw: bytes, name: str, log: Log = log_stderr) -> Challenges:
    """Challenges file bytes -> Challenges. Duplicate ids keep the last occurrence and are reported."""
    data = parse_json_object(raw, name)
    ch = challenges_from_dict(data, log)
    ch.duplicates = [usable_id(t) for t in duplicate_top_level_keys(raw)]
    for task_id in ch.duplicates:
        log(f"trm-submit: task {shorten(task_id)} appears more than once in {name}; the last occurrence is used")
    return ch


def load_challenges(path: str | Path, log: Log = log_stderr) -> Challenges:
    """Read and validate a Kaggle challenges file (InputFileError on whole-file problems)."""
    return parse_challenges(read_bytes(path), str(path), log)


def solutions_from_dict(data: dict[str, Any], log: Log = log_stderr) -> dict[str, list[np.ndarray]]:
    """Decoded solutions object -> {task_id: [grid per test input]}; a bad task is logged and skipped."""
    out: dict[str, list[np.ndarray]] = {}
    for raw_id, grids in data.items():
        task_id = usable_id(raw_id)
        if type(grids) is not list or not grids:
            problem = "empty list of solutions" if grids == [] else f"is {kind(grids)}, not a list"
            log(f"trm-submit: solution {shorten(task_id)} skipped: {problem}")
            continue
        try:
            out[task_id] = [_grid_at(g, f"[{i}]") for i, g in enumerate(grids)]
        except _TaskProblem as err:
            log(f"trm-submit: solution {shorten(task_id)} skipped: {err.detail()}")
    return out


def parse_solutions(raw: bytes, name: str, log: Log = log_stderr) -> dict[str, list[np.ndarray]]:
    """Solutions file bytes -> {task_id: [grid, ...]}; duplicates are reported, the last one kept."""
    out = solutions_from_dict(parse_json_object(raw, name), log)
    for task_id in map(usable_id, duplicate_top_level_keys(raw)):
        log(f"trm-submit: solution {shorten(task_id)} appears more than once in {name}; the last occurrence is used")
    return out


def load_solutions(path: str | Path, log: Log = log_stderr) -> dict[str, list[np.ndarray]]:
    """Read and validate a Kaggle solutions file (InputFileError on whole-file problems)."""
    return parse_solutions(read_bytes(path), str(path), log)


def expected_test_counts(raw_challenges: dict[str, Any]) -> dict[str, int]:
    """{task_id: number of submission entries} for a decoded challenges object, broken tasks included."""
    return {t: 1 if (tests := _raw_tests(task)) is None else len(tests) for t, task in raw_challenges.items()}
