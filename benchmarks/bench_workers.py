"""Share of tasks started by the worker processes of a run, at several worker counts: a worker must leave only
when no task is left for its lane, so with time enough every task is started.

Two measures on the same generated tasks (3x3 grids, two demonstrations each, a mirror rule; seeded):
  cli       the real `submit --sources search --search-depth 1` on every task, budget large enough for all:
            started = tasks the run returned (total minus "not reached"); lines = stderr lines naming a worker
  schedule  `schedule.run_lanes` with a solver that answers at once, `--repeats` runs: started per run
A third, `kill`, on its own tasks (300 of 300 KB each, answered after 2 ms): in each of `--kill-runs` runs of
`schedule.run_lanes` the worker that just answered is killed (SIGKILL) 0-2 ms after the parent got its answer,
while it takes its next task; each run in a process of its own; waited = runs that lasted past half their 20 s
budget (a worker kept waiting for a task the dead one took with it, or for a lock it held); hung = runs whose
process had not ended after 60 s (the parent itself waiting on a lock the dead worker held).

    python benchmarks/bench_workers.py --tasks 2000 --workers 2 4
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def small_tasks(n: int, seed: int = 0) -> dict[str, Any]:
    """`n` tasks of 3x3 random grids whose output is the input mirrored left-right."""
    rng = random.Random(seed)

    def grid() -> list[list[int]]:
        return [[rng.randrange(10) for _ in range(3)] for _ in range(3)]

    out = {}
    for i in range(n):
        pairs = [{"input": g, "output": [row[::-1] for row in g]} for g in (grid(), grid())]
        out[f"s{i:05d}"] = {"train": pairs, "test": [{"input": grid()}]}
    return out


def instant(rank: int, n_workers: int) -> Any:
    """A solver that answers at once (built in each worker)."""

    def solve(task: Any, budget: Any, seed: int) -> dict:
        return {"task_id": task.task_id, "lane": "instant", "status": "model"}

    return solve


@dataclass(frozen=True)
class Heavy:
    """A task as `schedule` sees it, with 300 KB standing for a large task's grids."""

    task_id: str
    grids: bytes = bytes(300_000)


def answer_after_2ms(rank: int, n_workers: int) -> Any:
    """A solver that answers after 2 ms, naming its worker process (built in each worker)."""

    def solve(task: Any, budget: Any, seed: int) -> dict:
        time.sleep(0.002)
        return {"task_id": task.task_id, "lane": "instant", "status": "model", "pid": os.getpid()}

    return solve


def kill_run(workers: int, r: int, n_tasks: int = 300, budget: float = 20.0) -> tuple[int, float]:
    """(tasks answered, wall s) of one run (seeded by `r`): the worker that sent answer k is killed."""
    from trm_submit.budget import Budget
    from trm_submit.run import schedule

    items = [Heavy(f"k{i:04d}") for i in range(n_tasks)]
    rng = random.Random(r)
    kill_at, pause = rng.randint(20, n_tasks * 5 // 6), rng.uniform(0, 0.002)
    answered, t0 = 0, time.monotonic()
    lane = schedule.Lane("instant", items, answer_after_2ms, workers=workers)
    for res in schedule.run_lanes([lane], Budget.seconds(budget), 0, notify=lambda line: None):
        answered += 1
        if answered == kill_at:
            time.sleep(pause)
            os.kill(res["pid"], signal.SIGKILL)
    return answered, time.monotonic() - t0


def run_kills(workers: int, runs: int, hang_s: float = 60.0) -> list[tuple[int, float | None]]:
    """`kill_run` for r = 0..runs-1, each in a process of its own (PYTHONPATH as given): a run whose process
    has not ended after `hang_s` (three times its budget) is killed and counted as hung (wall None)."""
    rows: list[tuple[int, float | None]] = []
    for r in range(runs):
        try:
            out = subprocess.run([sys.executable, __file__, "--kill-one", str(workers), str(r)], capture_output=True,
                                 text=True, timeout=hang_s).stdout.split()
            rows.append((int(out[-2]), float(out[-1])))
        except subprocess.TimeoutExpired:
            rows.append((0, None))
    return rows


def _workers_of(pid: int) -> int:
    """Worker processes (spawned children) of `pid`, from /proc (0 where there is no /proc)."""
    n = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat, cmd = (entry / "stat").read_text(), (entry / "cmdline").read_bytes()
        except OSError:
            continue
        n += int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmd
    return n


def run_cli(path: Path, workers: int, budget: float, depth: int) -> dict[str, Any]:
    """One `submit` run; the worker processes are counted every 0.2 s: `first_gone` is when the first of them
    left (seconds from the start; a worker leaves once every task is taken, while the others finish theirs and
    the parent journals the results it has received), None when none left before the journal was complete."""
    out = path.parent / f"w{workers}" / "submission.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "trm_submit", "submit", "--challenges", str(path), "--out",
                             str(out), "--sources", "search", "--search-depth", str(depth), "--workers", str(workers),
                             "--time-budget", str(budget), "--quiet"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    journal = out.with_name("submission.journal.jsonl")
    peak, first_gone, lines_then = 0, None, 0
    while proc.poll() is None:
        n = _workers_of(proc.pid)
        done = journal.read_bytes().count(b"\n") if journal.exists() else 0
        if n > peak:
            peak = n
        elif n < peak and first_gone is None and done < len(json.loads(path.read_text())):
            first_gone, lines_then = time.monotonic() - t0, done
        time.sleep(0.2)
    _, err = proc.communicate()
    wall = time.monotonic() - t0
    summary = json.loads(out.with_name("submission.summary.json").read_text())
    total = summary["tasks_total"]
    return {"workers": workers, "total": total, "started": total - summary["not_reached"], "wall": wall,
            "solve_s": summary["stage_seconds"].get("solve"), "exit": proc.returncode, "peak": peak,
            "first_gone": first_gone, "answered_then": lines_then,
            "lines": [line for line in err.splitlines() if "worker" in line]}


def run_schedule(path: Path, workers: int, repeats: int) -> list[int]:
    from trm_submit.budget import Budget
    from trm_submit.io import tasks
    from trm_submit.run import schedule

    items = [t for t in tasks.load_challenges(path).tasks.values()]
    started = []
    for _ in range(repeats):
        lane = schedule.Lane("instant", items, instant, workers=workers)
        started.append(len(list(schedule.run_lanes([lane], Budget.seconds(600), 0, notify=lambda line: None))))
    return started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--budget", type=float, default=900.0, help="--time-budget of each cli run (s)")
    ap.add_argument("--search-depth", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5, help="schedule runs per worker count")
    ap.add_argument("--kill-runs", type=int, default=40, help="runs of the kill measure per worker count")
    ap.add_argument("--only", choices=["cli", "schedule", "kill"], default=None)
    ap.add_argument("--kill-one", type=int, nargs=2, metavar=("WORKERS", "RUN"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.kill_one:
        print(*kill_run(*a.kill_one))
        return
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        path = Path(tmp) / "challenges.json"
        path.write_text(json.dumps(small_tasks(a.tasks)))
        if a.only in (None, "kill"):
            print("| workers | measure | runs | every task answered | waited past half the budget | hung (no end "
                  "after 60 s) | wall s of the runs that ended (median / max) |")
            print("|---|---|---|---|---|---|---|")
            for w in a.workers:
                rows = run_kills(w, a.kill_runs)
                walls = [wall for _, wall in rows if wall is not None]
                print(f"| {w} | kill the worker that just answered | {len(rows)} | {sum(n == 300 for n, _ in rows)} | "
                      f"{sum(wall > 10 for wall in walls)} | {len(rows) - len(walls)} | "
                      f"{statistics.median(walls):.1f} / {max(walls):.1f} |", flush=True)
        if a.only in (None, "schedule"):
            print("| workers | measure | tasks | started per run (min / median / max) |")
            print("|---|---|---|---|")
            for w in a.workers:
                s = run_schedule(path, w, a.repeats)
                print(f"| {w} | schedule, instant solver, {a.repeats} runs | {a.tasks} | "
                      f"{min(s) / a.tasks:.1%} / {statistics.median(s) / a.tasks:.1%} / {max(s) / a.tasks:.1%} |",
                      flush=True)
        if a.only in (None, "cli"):
            print("| workers | measure | tasks | started | share | worker processes | first worker gone (journal "
                  "then) | wall s | exit | worker lines |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            path_tasks = json.loads(path.read_text())
            for w in a.workers:
                r = run_cli(path, w, a.budget, a.search_depth)
                gone = "never" if r["first_gone"] is None else \
                    f"at {r['first_gone']:.1f} s ({r['answered_then']} of {len(path_tasks)})"
                print(f"| {w} | cli submit, search depth {a.search_depth} | {r['total']} | {r['started']} | "
                      f"{r['started'] / r['total']:.1%} | {r['peak']} | {gone} | {r['wall']:.1f} | {r['exit']} | "
                      f"{'; '.join(r['lines']) or 'none'} |", flush=True)


if __name__ == "__main__":
    main()
