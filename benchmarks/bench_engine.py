"""The search engine's speed at a fixed amount of work, side by side with another revision of the code, and
the check that both find the same candidates.

    python benchmarks/bench_engine.py --baseline main --depth 3 --every 33
    python benchmarks/bench_engine.py --baseline main --depth 2 --every 1     # identity on all 400 tasks

Each task is searched to `--depth` with no time cut (`--seconds` is only a safety limit), once by the code of
this tree and once by the code of `--baseline` (a git revision, exported to a temporary folder), one after
the other in two single-worker processes (so both see the same machine load), `--repeat` times each, the
fastest counting. Per task it compares the
candidates (per test input, in order: program text, grid, count) and the engine's counts (op applications,
states, depth, stop reason); it prints every task that differs, then per tree the seconds of search, the CPU
seconds and the op applications per search second, and the ratio. Tasks: every `--every`-th id of the sorted
set (ARC-AGI-1 training by default). Exit status 1 when a task differs (or ran into the safety limit).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TASKS: dict = {}


def _init(tree: str, name: str, split: str) -> None:
    """Worker start: import the search from `tree`, load the set, compile the kernels (not timed)."""
    sys.path.insert(0, tree)
    from trm_submit.io import datasets
    from trm_submit.search import engine

    challenges, _ = datasets.load_tasks(name, split, log=lambda line: None)
    _TASKS.update(challenges.tasks)
    engine.warm_up()


def _digest(grid) -> str:
    return f"{grid.shape[0]}x{grid.shape[1]}:" + hashlib.sha1(grid.tobytes()).hexdigest()[:16]


def search_one(args: tuple) -> dict:
    """One task searched at a fixed amount of work: its candidates as text, its counts and its times."""
    task_id, depth, seconds = args
    from trm_submit.budget import Budget
    from trm_submit.search import solve_task

    cpu = time.process_time()
    result = solve_task(_TASKS[task_id], Budget.seconds(seconds), max_depth=depth)
    cpu = time.process_time() - cpu
    cands = [[(c.program, _digest(c.grid), c.count) for c in per_test] for per_test in result.candidates]
    counts = dict(applications=result.applications, states=result.states, depth=result.depth,
                  stopped=result.stopped_by, errors=result.errors)
    return dict(task=task_id, candidates=cands, counts=counts, seconds=result.seconds, cpu=cpu)


def export(rev: str, into: str) -> str:
    """The package `trm_submit` of git revision `rev` written under `into`; returns that folder."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "trm_submit"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return into


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="", help="git revision to compare with (empty: this tree alone)")
    ap.add_argument("--set", default="arc-agi-1")
    ap.add_argument("--split", default="training")
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--every", type=int, default=33, help="every N-th task id in sorted order")
    ap.add_argument("--repeat", type=int, default=2, help="searches per task and tree; the fastest counts "
                    "(the first one may compile a numba kernel)")
    ap.add_argument("--seconds", type=float, default=600.0, help="safety limit per task (not a time cut)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from trm_submit.io import datasets

    ids = sorted(datasets.load_tasks(args.set, args.split, log=lambda line: None)[0].tasks)[:: args.every]
    jobs = [(t, args.depth, args.seconds) for t in ids]
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": str(ROOT)}
        if args.baseline:
            trees[f"baseline {args.baseline}"] = export(args.baseline, tmp)
        ctx = multiprocessing.get_context("spawn")
        pools = {name: ProcessPoolExecutor(1, ctx, initializer=_init, initargs=(tree, args.set, args.split))
                 for name, tree in trees.items()}
        rows: dict[str, list[dict]] = {name: [] for name in trees}
        differ = 0
        for job in jobs:
            for name, pool in pools.items():   # one after the other: both see the same load
                runs = [pool.submit(search_one, job).result() for _ in range(args.repeat)]
                best = min(runs, key=lambda r: r["seconds"])
                best["cpu"] = min(r["cpu"] for r in runs)
                rows[name].append(best)
            first, *others = (rows[name][-1] for name in trees)
            for other in others:
                if (other["candidates"], other["counts"]) != (first["candidates"], first["counts"]):
                    differ += 1
                    print(f"DIFFERS {job[0]}: counts {first['counts']} vs {other['counts']}", flush=True)
            if first["counts"]["stopped"] == "time":
                differ += 1
                print(f"TIME LIMIT {job[0]}: raise --seconds for a fixed amount of work", flush=True)
        for pool in pools.values():
            pool.shutdown()
    print(f"{len(jobs)} tasks of {args.set}/{args.split} (every {args.every}-th id), depth {args.depth}, no time cut")
    base = None
    for name, rs in rows.items():
        secs, cpu = sum(r["seconds"] for r in rs), sum(r["cpu"] for r in rs)
        apps = sum(r["counts"]["applications"] for r in rs)
        ratio = "" if base is None else f"; this tree is {secs / base:.2f}x faster (search seconds)"
        print(f"{name}: {secs:.1f} s search, {cpu:.1f} s CPU, {apps} op applications = {apps / secs:.0f}/s{ratio}")
        base = base if base is not None else secs
    print(f"tasks whose candidates or counts differ: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
