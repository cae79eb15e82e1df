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
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson

from . import lifeline


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
                 results_q: Any, remaining: Any, deadline_end_wall: float, run_seed: int, current: Any) -> None:
    """Worker process: build the solver once (model load), then pull tasks until the queue is empty.
    `current[rank]` holds the index of the task being solved (-1: none), for the parent to name it if we die."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    parent = mp.parent_process()
    lifeline.die_with_parent(parent.pid if parent is not None else None)
    solve = make_solver(rank, n_workers)
    while True:
        try:
            index, task = tasks_q.get_nowait()
        except queue.Empty:
            break
        current[rank] = index
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
        current[rank] = -1
    results_q.put(("done", rank))


def _exit_reason(exitcode: int) -> str:
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def _notify_stderr(line: str) -> None:
    print(f"trm-submit: {line}", file=sys.stderr, flush=True)


def _drain(results_q: Any) -> list[Any]:
    """Messages already in the queue, without waiting."""
    out = []
    while True:
        try:
            out.append(results_q.get_nowait())
        except queue.Empty:
            return out


class _Pool:
    """The parent's view of the workers: who is running, who said done, which tasks came back or were retried."""

    def __init__(self, ctx: Any, items: list[Any], start_args: tuple, n_workers: int, tasks_q: Any, remaining: Any,
                 notify: Callable[[str], None]):
        self.ctx, self.items, self.start_args, self.tasks_q, self.remaining = ctx, items, start_args, tasks_q, remaining
        self.notify = notify
        self.current = ctx.Array("i", [-1] * n_workers)
        self.procs = {r: self._start(r) for r in range(n_workers)}
        self.done: set[int] = set()
        self.answered: set[str] = set()
        self.retried: set[str] = set()

    def _start(self, rank: int) -> Any:
        p = self.ctx.Process(target=_worker_main, daemon=True, args=(rank, *self.start_args, self.current))
        p.start()
        return p

    def _restart(self, rank: int, index: int, task: Any) -> bool:
        """Queue `task` again and start a fresh worker of `rank` for it; False when no process can start."""
        try:
            proc = self._start(rank)
        except OSError:  # out of processes or memory: the task keeps its fallbacks
            return False
        self.retried.add(task.task_id)
        with self.remaining.get_lock():
            self.remaining.value += 1
        self.tasks_q.put((index, task))
        self.procs[rank] = proc
        self.done.discard(rank)
        return True

    def take(self, msg: Any) -> dict | None:
        """A message from a worker -> a result to yield (None for a done message or a duplicate)."""
        if isinstance(msg, tuple):
            self.done.add(msg[1])
            return None
        if msg["task_id"] in self.answered:  # a retried task whose first answer arrived after all
            return None
        self.answered.add(msg["task_id"])
        return msg

    def finished(self) -> bool:
        return len(self.done) >= len(self.procs)

    def deaths(self, time_left: float) -> list[dict]:
        """Workers gone without saying done: name the task each was solving; retry it once (in a fresh worker
        of the same rank) while time is left, else return an error record for it."""
        records = []
        for rank, p in list(self.procs.items()):
            if rank in self.done or p.exitcode in (None, 0):
                continue
            why, index = _exit_reason(p.exitcode), self.current[rank]
            self.current[rank] = -1
            self.done.add(rank)
            task = self.items[index] if index >= 0 else None
            if task is None or task.task_id in self.answered:
                self.notify(f"worker {rank} died ({why}) while holding no task")
                continue
            if task.task_id not in self.retried and time_left > 0 and self._restart(rank, index, task):
                self.notify(f"worker {rank} died ({why}) while solving task {task.task_id}; retrying it once")
                continue
            self.notify(f"worker {rank} died ({why}) while solving task {task.task_id}; it keeps its fallbacks")
            self.answered.add(task.task_id)
            records.append({"task_id": task.task_id, "status": "error", "cut": True,
                            "reason": f"worker died ({why}) while solving it"})
        return records


def run_parallel(items: Iterable[Any], make_solver: Callable[[int, int], Solver], n_workers: int,
                 deadline: Deadline, run_seed: int, stop: StopFlag, grace: float = 5.0,
                 notify: Callable[[str], None] | None = None) -> Iterator[dict]:
    """Solve tasks in `n_workers` spawned processes pulling from one queue; yields results as they arrive.

    At the deadline (or on a stop signal) the workers are terminated; tasks they were running keep fallbacks.
    A worker that dies is named with its task (`notify`, default stderr); the task is retried once.
    """
    ctx = mp.get_context("spawn")
    items = list(items)
    tasks_q, results_q = ctx.Queue(), ctx.Queue()
    for index, task in enumerate(items):
        tasks_q.put((index, task))
    remaining = ctx.Value("i", len(items))
    end_wall = time.time() + deadline.left()
    pool = _Pool(ctx, items, (n_workers, make_solver, tasks_q, results_q, remaining, end_wall, run_seed), n_workers,
                 tasks_q, remaining, notify or _notify_stderr)
    try:
        while not pool.finished():
            if stop or deadline.left() < -grace:
                break
            try:
                messages = [results_q.get(timeout=0.5)] + _drain(results_q)
            except queue.Empty:
                messages = []
            for msg in messages:
                if (res := pool.take(msg)) is not None:
                    yield res
            yield from pool.deaths(deadline.left())
        if pool.finished():  # results of a worker that died after sending them
            for msg in _drain(results_q):
                if (res := pool.take(msg)) is not None:
                    yield res
    finally:
        for p in pool.procs.values():
            if p.is_alive():
                p.terminate()
        for p in pool.procs.values():
            p.join(timeout=5)
