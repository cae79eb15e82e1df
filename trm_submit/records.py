"""Task records (the journal lines) checked before use: a record from a worker or from the journal of an
earlier run (`--resume`) is applied only when its attempts are valid grids for every test input of the task;
anything else is named on stderr and the task is run again."""

from __future__ import annotations

from typing import Any, Callable

from .tasks import Challenges, GridError, parse_grid

MAX_SHOWN = 200  # characters of a reason shown in a message


def _short(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def attempts_problem(attempts: Any, n_test: int) -> str | None:
    """Why `attempts` is not [[attempt_1, attempt_2] per test input] of valid grids, or None when it is."""
    if type(attempts) is not list:
        return "attempts is not a list"
    if len(attempts) != n_test:
        return f"{len(attempts)} attempt pairs for {n_test} test inputs"
    for i, pair in enumerate(attempts):
        if type(pair) is not list or len(pair) != 2:
            return f"test {i}: not a pair of attempts"
        for k, grid in enumerate(pair):
            try:
                parse_grid(grid)
            except GridError as exc:
                return f"test {i} attempt {k + 1}: {_short(str(exc))}"
    return None


def views_run(rec: dict[str, Any]) -> int:
    """Views the model ran for the task (0 when its attempts are still the fallbacks)."""
    views = rec.get("views")
    if type(views) is list and all(type(v) is int and v >= 0 for v in views):
        return sum(views)
    return 0


def record_problem(rec: Any, n_test: int) -> str | None:
    """Why a finished-task record cannot be used as it stands, or None when it can."""
    if type(rec) is not dict or type(rec.get("task_id")) is not str:
        return "not a task record"
    status = rec.get("status")
    if status == "error":
        return None if type(rec.get("reason")) is str else "error record without a reason"
    if status != "model":
        return f"unknown status {_short(repr(status))}"
    return attempts_problem(rec.get("attempts"), n_test)


def resumable(journal: dict[str, dict[str, Any]], ch: Challenges,
              log: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """Records of an earlier run that `--resume` may keep: finished (not cut), with model views or a failure,
    and valid for the task as it is now. A bad record is logged; its task runs again."""
    keep: dict[str, dict[str, Any]] = {}
    for task_id, rec in journal.items():
        if task_id not in ch.tasks or rec.get("cut"):
            continue
        problem = record_problem(rec, ch.tasks[task_id].n_test)
        if problem is not None:
            log(f"trm-submit: journal record of task {task_id} is unusable ({problem}); the task runs again")
        elif rec["status"] == "error" or views_run(rec) > 0:
            keep[task_id] = rec
    return keep
