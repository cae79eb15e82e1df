"""Time budget, per-task time shares, the journal of finished tasks (resume), and worker processes.

The parent process is the only writer of the submission and the journal; workers (one per CUDA device, or
CPU processes sharing the cores) pull tasks from one queue and send back results.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import queue
import signal
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson


class Deadline:
    """Wall-clock deadline of the run: `budget` seconds from `start`, minus a safety margin for the final write."""

    def __init__(self, budget: float, margin: float, start: float | None = None):
        self.start = time.monotonic() if start is None else start
        self.end = self.start + max(0.0, budget - margin)

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def share(self, tasks_left: int, workers: int = 1) -> float:
        """Seconds one task may use now: time left spread over the tasks left, `workers` at a time."""
        if tasks_left <= 0:
            return 0.0
        left = max(0.0, self.left())
        return min(left, left * workers / tasks_left)


def task_seed(run_seed: int, task_id: str) -> int:
    """Seed of one task: a function of the run seed and the task id only (independent of order and workers)."""
    digest = hashlib.sha256(f"{run_seed}:{task_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


class Journal:
    """Append-only JSONL record of finished tasks beside the submission; read back by `--resume`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]]:
        """Finished tasks by id; a torn last line (crash mid-write) is ignored."""
        done: dict[str, dict[str, Any]] = {}
        if not self.path.exists():
            return done
        for line in self.path.read_bytes().splitlines():
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("task_id"), str):
                done[rec["task_id"]] = rec
        return done

    def reset(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(b"")

    def append(self, record: dict[str, Any]) -> None:
        with open(self.path, "ab") as f:
            f.write(orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
            f.flush()
            os.fsync(f.fileno())


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


# A solver takes (task, seconds allowed for it, seed) and returns a picklable result dict.
Solver = Callable[[Any, float, int], dict]


def run_serial(items: Iterable[Any], solve: Solver, deadline: Deadline, run_seed: int,
               stop: StopFlag) -> Iterator[dict]:
    """Solve tasks one after another in this process; yields each result as it finishes."""
    items = list(items)
    for i, task in enumerate(items):
        if deadline.passed() or stop:
            return
        share = deadline.share(len(items) - i)
        yield solve(task, share, task_seed(run_seed, task.task_id))


def _worker_main(rank: int, n_workers: int, make_solver: Callable[[int, int], Solver], tasks_q: Any,
                 results_q: Any, remaining: Any, deadline_end_wall: float, run_seed: int) -> None:
    """Worker process: build the solver once (model load), then pull tasks until the queue is empty."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    solve = make_solver(rank, n_workers)
    while True:
        try:
            task = tasks_q.get_nowait()
        except queue.Empty:
            break
        with remaining.get_lock():
            tasks_left = remaining.value
            remaining.value -= 1
        left = deadline_end_wall - time.time()
        if left <= 0:
            break
        share = min(left, left * n_workers / max(1, tasks_left))
        try:
            results_q.put(solve(task, share, task_seed(run_seed, task.task_id)))
        except Exception as exc:  # the solver reports its own failures; this is a last resort
            results_q.put({"task_id": task.task_id, "status": "error", "reason": repr(exc)})
    results_q.put(None)


def run_parallel(items: Iterable[Any], make_solver: Callable[[int, int], Solver], n_workers: int,
                 deadline: Deadline, run_seed: int, stop: StopFlag, grace: float = 5.0) -> Iterator[dict]:
    """Solve tasks in `n_workers` spawned processes pulling from one queue; yields results as they arrive.

    At the deadline (or on a stop signal) the workers are terminated; tasks they were running keep fallbacks.
    """
    ctx = mp.get_context("spawn")
    items = list(items)
    tasks_q, results_q = ctx.Queue(), ctx.Queue()
    for task in items:
        tasks_q.put(task)
    remaining = ctx.Value("i", len(items))
    end_wall = time.time() + deadline.left()
    procs = [ctx.Process(target=_worker_main, daemon=True,
                         args=(r, n_workers, make_solver, tasks_q, results_q, remaining, end_wall, run_seed))
             for r in range(n_workers)]
    for p in procs:
        p.start()
    finished = 0
    try:
        while finished < n_workers:
            if stop or deadline.left() < -grace:
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
