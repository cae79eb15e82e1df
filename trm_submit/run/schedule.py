"""Task order and seeds, stop signals, and worker processes: lanes of workers (e.g. TRM on the GPUs, the
program search on the CPU cores) pulling from their own task queues under one run deadline.

The parent process is the only writer of the submission and the journal; workers send back results.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from ..budget import Budget
from ..grids.augment import task_seed
from . import lifeline


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
                 results_q: Any, remaining: Any, run_end_wall: float, run_seed: int, current: Any) -> None:
    """Worker process: build the solver once (model load), then pull its lane's tasks until none is left.
    `current[rank]` holds the index of the task being solved (-1: none), for the parent to name it if we die;
    the worker dies with its parent (lifeline)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    parent = mp.parent_process()
    lifeline.die_with_parent(parent.pid if parent is not None else None)
    run = Budget.from_wall(run_end_wall)
    solve = make_solver(rank, n_workers)
    while not run.over():
        try:
            index, task = tasks_q.get_nowait()
        except queue.Empty:
            break
        current[rank] = index
        with remaining.get_lock():
            tasks_left = remaining.value
            remaining.value -= 1
        try:
            results_q.put(solve(task, run.share(tasks_left, n_workers), task_seed(run_seed, task.task_id)))
        except Exception as exc:  # the solver reports its own failures; this is a last resort
            results_q.put({"task_id": task.task_id, "lane": lane, "status": "error", "reason": repr(exc)})
        current[rank] = -1
    results_q.put(("done", lane, rank))


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
    """The parent's view of one lane's workers: who is running, who said done, which tasks came back or were
    retried. Holds the lane's queue and counter for the workers' whole life (Process.start() drops its args,
    and a queue collected before its worker unpickles it takes its semaphores with it)."""

    def __init__(self, ctx: Any, lane: Lane, results_q: Any, end_wall: float, run_seed: int,
                 notify: Callable[[str], None]):
        self.ctx, self.lane, self.notify = ctx, lane, notify
        self.tasks_q = ctx.Queue()
        for index, task in enumerate(lane.items):
            self.tasks_q.put((index, task))
        self.remaining = ctx.Value("i", len(lane.items))
        self.current = ctx.Array("i", [-1] * lane.workers)
        self.start_args = (lane.workers, lane.make_solver, self.tasks_q, results_q, self.remaining, end_wall,
                           run_seed, self.current)
        self.procs = {r: self._start(r) for r in range(lane.workers)}
        self.done: set[int] = set()
        self.answered: set[str] = set()
        self.retried: set[str] = set()

    def _start(self, rank: int) -> Any:
        p = self.ctx.Process(target=_worker_main, daemon=True, name=f"trm-submit-{self.lane.name}-{rank}",
                             args=(self.lane.name, rank, *self.start_args))
        p.start()
        return p

    def _restart(self, rank: int, index: int, task: Any) -> bool:
        """Queue `task` again and start a fresh worker of `rank` for it; False when no process can start."""
        try:
            proc = self._start(rank)
        except OSError:  # out of processes or memory: the task keeps what it has
            return False
        self.retried.add(task.task_id)
        with self.remaining.get_lock():
            self.remaining.value += 1
        self.tasks_q.put((index, task))
        self.procs[rank] = proc
        self.done.discard(rank)
        return True

    def take(self, msg: Any) -> dict | None:
        """A message from one of this lane's workers -> a result to yield (None: a done message or a duplicate)."""
        if isinstance(msg, tuple):
            self.done.add(msg[2])
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
            task = self.lane.items[index] if index >= 0 else None
            who = f"{self.lane.name} worker {rank}"
            if task is None or task.task_id in self.answered:
                self.notify(f"{who} died ({why}) while holding no task")
                continue
            if task.task_id not in self.retried and time_left > 0 and self._restart(rank, index, task):
                self.notify(f"{who} died ({why}) while solving task {task.task_id}; retrying it once")
                continue
            self.notify(f"{who} died ({why}) while solving task {task.task_id}; it keeps what it has")
            self.answered.add(task.task_id)
            records.append({"task_id": task.task_id, "lane": self.lane.name, "status": "error", "cut": True,
                            "reason": f"worker died ({why}) while solving it"})
        return records

    def stop(self) -> None:
        """Terminate the workers and abandon the tasks still queued: without cancel_join_thread, the queue's
        feeder thread would keep this process from exiting while a full pipe holds tasks nobody will read."""
        for p in self.procs.values():
            if p.is_alive():
                p.terminate()
        for p in self.procs.values():
            p.join(timeout=5)
        self.tasks_q.cancel_join_thread()


def run_lanes(lanes: list[Lane], run: Budget, run_seed: int, grace: float = 5.0,
              notify: Callable[[str], None] | None = None) -> Iterator[dict]:
    """Solve every lane's tasks in spawned worker processes (`lane.workers` per lane, each lane pulling from its
    own queue); yields results as they arrive. A worker that dies is named with its task (`notify`, default
    stderr) and the task is retried once. At the deadline (or on a stop signal) the workers are terminated;
    tasks they were running keep what the file already holds."""
    ctx = mp.get_context("spawn")
    results_q = ctx.Queue()
    end_wall = run.to_wall()
    pools: dict[str, _Pool] = {}
    try:
        for lane in lanes:
            pools[lane.name] = _Pool(ctx, lane, results_q, end_wall, run_seed, notify or _notify_stderr)
        while not all(p.finished() for p in pools.values()):
            if run.stop() or run.left() < -grace:  # the run budget carries the stop signal
                break
            try:
                messages = [results_q.get(timeout=0.5)] + _drain(results_q)
            except queue.Empty:
                messages = []
            yield from _taken(pools, messages)
            for pool in pools.values():
                yield from pool.deaths(run.left())
        if all(p.finished() for p in pools.values()):  # results of a worker that died after sending them
            yield from _taken(pools, _drain(results_q))
    finally:
        for pool in pools.values():
            pool.stop()


def _taken(pools: dict[str, _Pool], messages: list[Any]) -> Iterator[dict]:
    for msg in messages:
        lane = msg[1] if isinstance(msg, tuple) else msg.get("lane")
        pool = pools.get(str(lane))
        if pool is not None and (res := pool.take(msg)) is not None:
            yield res
