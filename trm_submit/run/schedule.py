"""Task order and seeds, stop signals, and worker processes: lanes of workers (e.g. TRM on the GPUs, the
program search on the CPU cores) pulling from their own task queues under one run deadline.

The parent process is the only writer of the submission and the journal; workers send back results.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import sys
import threading
import time
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


POLL_SECONDS = 0.2  # a worker's wait for its next task before it looks at the lane's count again


def _thread_locked_progress_bars() -> None:
    """tqdm's default lock holds a named semaphore (in a spawned process); a worker terminated at the deadline
    could not release it, and multiprocessing's resource_tracker warns of a leak at exit. A worker draws no
    bar beside another process, so a thread lock is all it needs."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


def _next_task(tasks_q: Any, remaining: Any, run: Budget) -> tuple[int, Any] | None:
    """The lane's next task, or None once no task is left for the lane (its count of tasks not yet taken is 0)
    or the run is over. An empty `get` is not the end: another worker may hold the queue's read lock or the
    feeder thread may not have flushed yet, so the worker waits again while the count says tasks remain."""
    while not run.over():
        with remaining.get_lock():
            if remaining.value <= 0:
                return None
        try:
            return tasks_q.get(timeout=POLL_SECONDS)
        except queue.Empty:
            continue
    return None


def _worker_main(lane: str, rank: int, n_workers: int, make_solver: Callable[[int, int], Solver], tasks_q: Any,
                 results_q: Any, remaining: Any, run_end_wall: float, run_seed: int, current: Any) -> None:
    """Worker process: build the solver once (model load), then pull its lane's tasks until none is left.
    `current[rank]` holds the index of the task being solved (-1: none), for the parent to name it if we die;
    the worker dies with its parent (lifeline). Its last message says why it left: "empty" or "deadline"."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    parent = mp.parent_process()
    lifeline.die_with_parent(parent.pid if parent is not None else None)
    _thread_locked_progress_bars()
    run = Budget.from_wall(run_end_wall)
    solve = make_solver(rank, n_workers)
    while (item := _next_task(tasks_q, remaining, run)) is not None:
        index, task = item
        current[rank] = index
        with remaining.get_lock():
            remaining.value -= 1
            tasks_left = remaining.value + 1
        try:
            results_q.put(solve(task, run.share(tasks_left, n_workers), task_seed(run_seed, task.task_id)))
        except Exception as exc:  # the solver reports its own failures; this is a last resort
            results_q.put({"task_id": task.task_id, "lane": lane, "status": "error", "reason": repr(exc)})
        current[rank] = -1
    results_q.put(("done", lane, rank, "deadline" if run.over() else "empty"))


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
        self.started: list[Any] = []  # every worker process of the lane, the replaced ones too
        self.procs = {r: self._start(r) for r in range(lane.workers)}
        self.done: set[int] = set()
        self.exited: set[int] = set()  # ranks seen gone with exit code 0 and no done message yet
        self.left_behind_named = False
        self.answered: set[str] = set()
        self.retried: set[str] = set()

    def _start(self, rank: int) -> Any:
        p = self.ctx.Process(target=_worker_main, daemon=True, name=f"trm-submit-{self.lane.name}-{rank}",
                             args=(self.lane.name, rank, *self.start_args))
        p.start()
        self.started.append(p)
        return p

    def _restart(self, rank: int, index: int, task: Any) -> bool:
        """Queue `task` again and start a fresh worker of `rank` for it; False when no process can start. The
        count goes up before the task is queued, so no worker of the lane can leave while it waits there."""
        with self.remaining.get_lock():
            self.remaining.value += 1
        self.tasks_q.put((index, task))
        try:
            proc = self._start(rank)
        except OSError:  # out of processes or memory: the task keeps what it has (a live worker may take it)
            with self.remaining.get_lock():
                self.remaining.value -= 1
            return False
        self.retried.add(task.task_id)
        self.procs[rank] = proc
        self.done.discard(rank)
        self.exited.discard(rank)
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

    def check_left_behind(self, run: Budget) -> None:
        """Once every worker of the lane has left before the deadline: an error line when tasks of the lane
        were never taken (they stay fallbacks; a worker must leave only when none is left)."""
        if self.left_behind_named or not self.finished() or run.over():
            return
        with self.remaining.get_lock():
            untaken = self.remaining.value
        if untaken > 0:
            self.left_behind_named = True
            self.notify(f"error: every {self.lane.name} worker left with {untaken} of its tasks never started "
                        f"and {run.left():.0f} s left; they keep their fallbacks")

    def deaths(self, time_left: float) -> list[dict]:
        """Workers gone without saying done: name the task each was solving; retry it once (in a fresh worker
        of the same rank) while time is left, else return an error record for it. A worker gone with exit code
        0 counts once a further round of messages brought no done from it (a done is sent before the exit)."""
        records = []
        for rank, p in list(self.procs.items()):
            if rank in self.done or p.exitcode is None:
                continue
            if p.exitcode == 0 and rank not in self.exited:
                self.exited.add(rank)
                continue
            index = self.current[rank]
            self.current[rank] = -1
            self.done.add(rank)
            task = self.lane.items[index] if index >= 0 else None
            gone = f"{self.lane.name} worker {rank} " + (
                "left without saying done (exit code 0)" if p.exitcode == 0 else f"died ({_exit_reason(p.exitcode)})")
            why = "left" if p.exitcode == 0 else f"died ({_exit_reason(p.exitcode)})"
            if task is None or task.task_id in self.answered:
                self.notify(f"{gone} while holding no task")
                continue
            if task.task_id not in self.retried and time_left > 0 and self._restart(rank, index, task):
                self.notify(f"{gone} while solving task {task.task_id}; retrying it once")
                continue
            self.notify(f"{gone} while solving task {task.task_id}; it keeps what it has")
            self.answered.add(task.task_id)
            records.append({"task_id": task.task_id, "lane": self.lane.name, "status": "error", "cut": True,
                            "reason": f"worker {why} while solving it"})
        return records

    def release(self) -> None:
        """Abandon the tasks still queued: without cancel_join_thread, the queue's feeder thread would keep this
        process from exiting while a full pipe holds tasks nobody will read."""
        self.tasks_q.cancel_join_thread()


STOP_JOIN_SECONDS = 2.0  # how long stopped workers get to exit after SIGTERM, all together, before SIGKILL


def stop_processes(procs: list[Any], wait: float = STOP_JOIN_SECONDS) -> None:
    """End every process of `procs` in bounded time, whatever its state: SIGTERM, a short join (`wait` seconds
    for all of them together), SIGKILL for those still there (a SIGSTOPped process ignores SIGTERM until it
    is continued, not SIGKILL), then join. Nothing is left for the interpreter's exit to wait on."""
    live = [p for p in procs if p.exitcode is None]
    for p in live:
        p.terminate()
    end = time.monotonic() + wait
    for p in live:
        p.join(timeout=max(0.0, end - time.monotonic()))
    for p in live:
        if p.exitcode is None:
            p.kill()
    for p in live:
        p.join(timeout=wait)


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
                pool.check_left_behind(run)
        if all(p.finished() for p in pools.values()):  # results of a worker that died after sending them
            yield from _taken(pools, _drain(results_q))
    finally:
        stop_processes([p for pool in pools.values() for p in pool.started])
        for pool in pools.values():
            pool.release()
        results_q.cancel_join_thread()


def _taken(pools: dict[str, _Pool], messages: list[Any]) -> Iterator[dict]:
    for msg in messages:
        lane = msg[1] if isinstance(msg, tuple) else msg.get("lane")
        pool = pools.get(str(lane))
        if pool is not None and (res := pool.take(msg)) is not None:
            yield res
