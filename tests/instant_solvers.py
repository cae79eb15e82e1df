"""Solvers for the worker tests of `schedule`, in a module of their own: a spawned worker imports the module of
its solver factory, and this one imports no torch (a worker starts in a fraction of a second)."""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

from trm_submit.budget import Budget


@dataclass(frozen=True)
class Item:
    """A task as `schedule` sees it: a task id, and `grids` standing for the bytes of a real task's grids (a
    queue of them overfills the pipe, so workers read while the parent's feeder thread still writes)."""

    task_id: str
    grids: bytes = bytes(2000)


def instant_solver(rank: int, n_workers: int) -> Any:
    """A solver that answers at once, naming the worker (built inside each worker process)."""

    def solve(task: Any, budget: Budget, seed: int) -> dict:
        return {"task_id": task.task_id, "lane": "instant", "status": "model", "rank": rank, "seed": seed}

    return solve


def pid_solver(rank: int, n_workers: int) -> Any:
    """A solver that answers after 2 ms, naming its worker process (for a test to kill the one that answered)."""

    def solve(task: Any, budget: Budget, seed: int) -> dict:
        time.sleep(0.002)
        return {"task_id": task.task_id, "lane": "instant", "status": "model", "pid": os.getpid()}

    return solve


def stopped_mid_answer(rank: int, n_workers: int) -> Any:
    """Worker 0 answers its first task with 64 MB and stops itself (SIGSTOP) half-way through writing that
    message to its pipe (its process's pipe writes are wrapped to do so): the parent holds part of a message
    whose rest does not come. The other workers answer after 0.25 s each, so worker 0 gets a task even when it
    starts last."""
    if rank != 0:
        answer = instant_solver(rank, n_workers)

        def slow(task: Any, budget: Budget, seed: int) -> dict:
            time.sleep(0.25)
            return answer(task, budget, seed)

        return slow
    from multiprocessing import connection

    write = getattr(connection.Connection, "_send")

    def write_half_then_stop(self: Any, buf: Any, *args: Any) -> None:
        if len(buf) < 1 << 20:
            return write(self, buf, *args)
        half = len(buf) // 2
        write(self, memoryview(buf)[:half], *args)
        os.kill(os.getpid(), signal.SIGSTOP)
        write(self, memoryview(buf)[half:], *args)

    setattr(connection.Connection, "_send", write_half_then_stop)

    def solve(task: Any, budget: Budget, seed: int) -> dict:
        return {"task_id": task.task_id, "lane": "instant", "status": "model", "blob": bytes(64 << 20)}

    return solve


def quitting_solver(rank: int, n_workers: int) -> Any:
    """Worker 0 ends its process with exit code 0 before its first task (as a library's sys.exit(0) would)."""
    if rank == 0:
        sys.exit(0)
    return instant_solver(rank, n_workers)


def quitting_everywhere(rank: int, n_workers: int) -> Any:
    """Every worker ends its process with exit code 0 before its first task."""
    sys.exit(0)


def bar_then_sleep(rank: int, n_workers: int) -> Any:
    """A solver that draws a (disabled) progress bar, as fine-tuning does, then works past any deadline."""

    def solve(task: Any, budget: Budget, seed: int) -> dict:
        import time

        from tqdm import tqdm

        with tqdm(total=1, disable=True):
            time.sleep(600)
        return {"task_id": task.task_id, "lane": "instant", "status": "model"}

    return solve
