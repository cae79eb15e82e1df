"""Task order and seeds, stop signals, and worker processes: lanes of workers (e.g. TRM on the GPUs, the
program search on the CPU cores), each worker handed its lane's tasks one at a time by the parent, under one
run deadline.

The parent process is the only writer of the submission and the journal; workers send back results.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import sys
import threading
import time
from collections import deque
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
    """A group of workers sharing one list of tasks: `make_solver(rank, n_workers)` builds a worker's solver
    (inside the worker process); every lane's workers share the run's deadline."""

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


POLL_SECONDS = 0.2  # a worker's wait for its next task before it looks at the deadline again


def _thread_locked_progress_bars() -> None:
    """tqdm's default lock holds a named semaphore (in a spawned process); a worker terminated at the deadline
    could not release it, and multiprocessing's resource_tracker warns of a leak at exit. A worker draws no
    bar beside another process, so a thread lock is all it needs."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


def _worker_main(lane: str, rank: int, n_workers: int, make_solver: Callable[[int, int], Solver], items: list[Any],
                 conn: Any, run_end_wall: float, run_seed: int) -> None:
    """Worker process: build the solver once (model load), say "ready", then solve each task the parent names
    (an index into the lane's `items`, on `conn`, a pipe between this worker and the parent alone) and send the
    result back, until the parent sends None or the deadline passes. Nothing is shared with the other workers
    (no queue, no lock), so a worker killed at any moment leaves no lock held and no task half-taken. The
    worker dies with its parent (lifeline); its last message says why it left: "empty" or "deadline"."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    parent = mp.parent_process()
    lifeline.die_with_parent(parent.pid if parent is not None else None)
    _thread_locked_progress_bars()
    run = Budget.from_wall(run_end_wall)
    solve = make_solver(rank, n_workers)
    conn.send(("ready", None))
    why = "deadline"
    while not run.over():
        if not conn.poll(POLL_SECONDS):
            continue
        order = conn.recv()
        if order is None:
            why = "empty"
            break
        index, tasks_left = order
        task = items[index]
        try:
            result = solve(task, run.share(tasks_left, n_workers), task_seed(run_seed, task.task_id))
        except Exception as exc:  # the solver reports its own failures; this is a last resort
            result = {"task_id": task.task_id, "lane": lane, "status": "error", "reason": repr(exc)}
        conn.send(("result", result))
    conn.send(("done", why))


def _exit_reason(exitcode: int) -> str:
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def _notify_stderr(line: str) -> None:
    print(f"trm-submit: {line}", file=sys.stderr, flush=True)


STOP_JOIN_SECONDS = 2.0  # how long stopped workers get to exit after SIGTERM, all together, before SIGKILL
_ENDED = ("ended", None)  # what a reader thread puts in the inbox once its worker's pipe is closed


@dataclass(eq=False)
class _Worker:
    """One worker process as the parent sees it: the parent's end of its pipe, the task it holds (index, task;
    None between tasks) and whether its pipe has ended (every message it sent has been taken)."""

    proc: Any
    conn: Any
    holding: tuple[int, Any] | None = None
    ended: bool = False
    reader: threading.Thread | None = None


def _read_pipe(worker: _Worker, pool: "_Pool", rank: int, inbox: queue.SimpleQueue) -> None:
    """A reader thread: every message of `worker`'s pipe into the run's inbox, then _ENDED. A worker stopped in
    the middle of a message blocks this thread only, never the parent's loop and its deadline."""
    while True:
        try:
            msg = worker.conn.recv()
        except (EOFError, OSError):
            inbox.put((pool, rank, worker, _ENDED))
            return
        inbox.put((pool, rank, worker, msg))


class _Pool:
    """The parent's view of one lane's workers. The parent hands out the lane's tasks one at a time, to a
    worker that said ready or sent a result, so it always knows which task each worker holds; a worker that
    dies is named with that task, which is retried once in a fresh worker of the same rank."""

    def __init__(self, ctx: Any, lane: Lane, end_wall: float, run_seed: int, inbox: queue.SimpleQueue,
                 notify: Callable[[str], None]):
        self.ctx, self.lane, self.notify, self.inbox = ctx, lane, notify, inbox
        self.end_wall, self.run_seed = end_wall, run_seed
        self.pending: deque[tuple[int, Any]] = deque(enumerate(lane.items))
        self.started: list[_Worker] = []  # every worker of the lane, the replaced ones too
        self.workers = {r: self._start(r) for r in range(lane.workers)}
        self.done: set[int] = set()  # ranks that said done, or died and were not replaced
        self.left_behind_named = False
        self.answered: set[str] = set()
        self.retried: set[str] = set()

    def _start(self, rank: int) -> _Worker:
        ours, theirs = self.ctx.Pipe()
        p = self.ctx.Process(target=_worker_main, daemon=True, name=f"trm-submit-{self.lane.name}-{rank}",
                             args=(self.lane.name, rank, self.lane.workers, self.lane.make_solver, self.lane.items,
                                   theirs, self.end_wall, self.run_seed))
        try:
            p.start()
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()  # the worker holds its own copy: its exit ends the pipe
        worker = _Worker(p, ours)
        self.started.append(worker)
        worker.reader = threading.Thread(target=_read_pipe, args=(worker, self, rank, self.inbox), daemon=True,
                                         name=f"trm-submit-read-{self.lane.name}-{rank}")
        worker.reader.start()
        return worker

    def _hand_out(self, rank: int) -> None:
        """Name the lane's next task to worker `rank` (its index, with the count of tasks not yet handed out,
        this one included), or send None to tell it that nothing is left. The message is a few bytes, so the
        send never waits on the worker; a worker already gone leaves the task first in line."""
        worker = self.workers[rank]
        item = self.pending.popleft() if self.pending else None
        try:
            worker.conn.send(None if item is None else (item[0], len(self.pending) + 1))
        except OSError:  # the worker's end is closed: its death is named on its exit code
            if item is not None:
                self.pending.appendleft(item)
            return
        worker.holding = item

    def take(self, rank: int, worker: _Worker, msg: tuple[str, Any]) -> dict | None:
        """One message of a worker -> the result to yield (None: a retried task's second answer, a ready or a
        done message). A replaced worker's late result still counts; nothing else of it does."""
        kind, body = msg
        if kind == "ended":
            worker.ended = True
        elif worker is self.workers[rank]:
            if kind == "done":
                self.done.add(rank)
                return None
            if kind == "result":
                worker.holding = None
            if worker.proc.exitcode is None:  # after "ready" or a result
                self._hand_out(rank)
        if kind != "result" or body["task_id"] in self.answered:
            return None
        self.answered.add(body["task_id"])
        return body

    def finished(self) -> bool:
        return len(self.done) >= len(self.workers)

    def check_left_behind(self, run: Budget) -> None:
        """Once every worker of the lane has left before the deadline: an error line when tasks of the lane
        were never handed out (they stay fallbacks; a worker must leave only when none is left)."""
        if self.left_behind_named or not self.finished() or run.over() or not self.pending:
            return
        self.left_behind_named = True
        self.notify(f"error: every {self.lane.name} worker left with {len(self.pending)} of its tasks never "
                    f"started and {run.left():.0f} s left; they keep their fallbacks")

    def deaths(self, time_left: float) -> list[dict]:
        """Workers gone without saying done, once every message they sent has been taken (a result sent just
        before dying counts): name the task each was holding; retry it once (first in line, with a fresh
        worker of the same rank) while time is left, else return an error record for it."""
        records = []
        for rank, worker in list(self.workers.items()):
            if rank in self.done or not worker.ended or worker.proc.exitcode is None:
                continue
            self.done.add(rank)
            code = worker.proc.exitcode
            why = "left" if code == 0 else f"died ({_exit_reason(code)})"
            gone = f"{self.lane.name} worker {rank} " + ("left without saying done (exit code 0)" if code == 0 else why)
            held, worker.holding = worker.holding, None
            if held is None or held[1].task_id in self.answered:
                self.notify(f"{gone} while holding no task")
                continue
            task = held[1]
            if task.task_id not in self.retried and time_left > 0 and self._restart(rank, held):
                self.notify(f"{gone} while solving task {task.task_id}; retrying it once")
                continue
            self.notify(f"{gone} while solving task {task.task_id}; it keeps what it has")
            self.answered.add(task.task_id)
            records.append({"task_id": task.task_id, "lane": self.lane.name, "status": "error", "cut": True,
                            "reason": f"worker {why} while solving it"})
        return records

    def _restart(self, rank: int, held: tuple[int, Any]) -> bool:
        """Put `held` first in line and start a fresh worker of `rank`; False when no process can start."""
        try:
            worker = self._start(rank)
        except OSError:  # out of processes or memory: the task keeps what it has
            return False
        self.pending.appendleft(held)
        self.retried.add(held[1].task_id)
        self.workers[rank] = worker
        self.done.discard(rank)
        return True

    def release(self, wait: float = STOP_JOIN_SECONDS) -> None:
        """Once the lane's processes are gone: let each reader thread end on its pipe's end of file (`wait`
        seconds for all together), then close the pipes whose reader has ended (closing one under a reader
        still in recv could hand it a later pipe that reuses the descriptor)."""
        end = time.monotonic() + wait
        for worker in self.started:
            if worker.reader is not None:
                worker.reader.join(timeout=max(0.0, end - time.monotonic()))
            if worker.reader is None or not worker.reader.is_alive():
                worker.conn.close()


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
    """Solve every lane's tasks in spawned worker processes (`lane.workers` per lane, each worker handed its
    lane's tasks one at a time); yields results as they arrive. A worker that dies is named with its task
    (`notify`, default stderr) and the task is retried once. At the deadline (or on a stop signal) the workers
    are terminated; tasks they were running keep what the file already holds."""
    ctx = mp.get_context("spawn")
    end_wall = run.to_wall()
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    pools: list[_Pool] = []
    try:
        for lane in lanes:
            pools.append(_Pool(ctx, lane, end_wall, run_seed, inbox, notify or _notify_stderr))
        while not all(pool.finished() for pool in pools):
            if run.stop() or run.left() < -grace:  # the run budget carries the stop signal
                break
            try:
                messages = [inbox.get(timeout=0.5)]
            except queue.Empty:
                messages = []
            while not inbox.empty():
                messages.append(inbox.get())
            for pool, rank, worker, msg in messages:
                if (res := pool.take(rank, worker, msg)) is not None:
                    yield res
            for pool in pools:
                yield from pool.deaths(run.left())
                pool.check_left_behind(run)
    finally:
        stop_processes([w.proc for pool in pools for w in pool.started])
        for pool in pools:
            pool.release()
