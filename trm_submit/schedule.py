"""Task order and seeds, stop signals, and worker processes: lanes of workers (e.g. TRM on the GPUs, the
program search on the CPU cores) pulling from their own task queues under one run deadline.

The parent process is the only writer of the submission and the journal; workers send back results.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import queue
import signal
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from .budget import Budget


def task_seed(run_seed: int, task_id: str) -> int:
    """Seed of one task: a function of the run seed and the task id only (independent of order and workers)."""
    digest = hashlib.sha256(f"{run_seed}:{task_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


class StopFlag:
    """Set by SIGTERM/SIGINT; checked by the loops so the run can write its file and exit cleanly."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __bool__(self) -> bool:
        return self.signum is not None

    def install(self) -> "StopFlag":
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.signum = signum

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


# A solver takes (task, its budget, seed) and returns a picklable result dict.
Solver = Callable[[Any, Budget, int], dict]


@dataclass
class Lane:
    """A group of workers with one task queue: `make_solver(rank, n_workers)` builds a worker's solver (inside
    the worker process); every lane's workers share the run's deadline and send results to one queue."""

    name: str
    items: list[Any]
    make_solver: Callable[[int, int], Solver]
    workers: int = 1


def run_serial(items: Iterable[Any], solve: Solver, run: Budget, run_seed: int) -> Iterator[dict]:
    """Solve tasks one after another in this process; yields each result as it finishes."""
    items = list(items)
    for i, task in enumerate(items):
        if run.over():
            return
        yield solve(task, run.share(len(items) - i), task_seed(run_seed, task.task_id))


def _worker_main(lane: str, rank: int, n_workers: int, make_solver: Callable[[int, int], Solver], tasks_q: Any,
                 results_q: Any, remaining: Any, run_end_wall: float, run_seed: int) -> None:
    """Worker process: build the solver once (model load), then pull its lane's tasks until none is left."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    run = Budget.from_wall(run_end_wall)
    solve = make_solver(rank, n_workers)
    while not run.over():
        try:
            task = tasks_q.get_nowait()
        except queue.Empty:
            break
        with remaining.get_lock():
            tasks_left = remaining.value
            remaining.value -= 1
        try:
            results_q.put(solve(task, run.share(tasks_left, n_workers), task_seed(run_seed, task.task_id)))
        except Exception as exc:  # the solver reports its own failures; this is a last resort
            results_q.put({"task_id": task.task_id, "lane": lane, "status": "error", "reason": repr(exc)})
    results_q.put(None)


def run_lanes(lanes: list[Lane], run: Budget, run_seed: int, stop: StopFlag,
              grace: float = 5.0) -> Iterator[dict]:
    """Solve every lane's tasks in spawned worker processes (`lane.workers` per lane, each lane pulling from its
    own queue); yields results as they arrive. At the deadline (or on a stop signal) the workers are
    terminated; tasks they were running keep what the file already holds."""
    ctx = mp.get_context("spawn")
    results_q = ctx.Queue()
    end_wall = run.to_wall()
    procs, shared = [], []  # `shared` keeps each lane's queue and counter alive: Process.start() drops its
    # args, and a queue or counter collected before its worker unpickles it takes its semaphores with it
    for lane in lanes:
        tasks_q = ctx.Queue()
        for task in lane.items:
            tasks_q.put(task)
        remaining = ctx.Value("i", len(lane.items))
        shared.append((tasks_q, remaining))
        procs += [ctx.Process(target=_worker_main, daemon=True, name=f"trm-submit-{lane.name}-{r}",
                              args=(lane.name, r, lane.workers, lane.make_solver, tasks_q, results_q, remaining,
                                    end_wall, run_seed))
                  for r in range(lane.workers)]
    for p in procs:
        p.start()
    finished = 0
    try:
        while finished < len(procs):
            if stop or run.left() < -grace:
                break
            try:
                res = results_q.get(timeout=0.5)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    break
                continue
            if res is None:
                finished += 1
            else:
                yield res
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)
