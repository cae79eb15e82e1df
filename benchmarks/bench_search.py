"""Program search alone on a public set: how often a program fits, how precise it is, pass@2, time, memory.

    python benchmarks/bench_search.py --set arc-agi-1 --split training --seconds 3 --limit 400 --workers 2

Prints: tasks with a fitting program (every demonstration reproduced), precision of that program's answer
(test inputs whose attempt 1 is right / test inputs with a candidate), pass@2 per task (Kaggle rule: a test
input is solved if either of the two top candidates equals the solution; task score = fraction of its test
inputs solved; mean over tasks), search time median/p90, peak RSS of the worker processes and op applications
per search second.

With `--runs raw,colours,...` each task goes through `search.runs.solve_with_runs` (the entry point the search
source calls) with those runs; `--ablation` adds the pass@2 of every run added alone to the raw run, of all but
each run and of each merge penalty, merged from the same tasks' runs.

With `--perturb KIND` every task (its demonstrations, test inputs and solutions) is changed as a whole first: turned
a quarter ("rot90"), reflected left to right ("flip"), colours 1-9 permuted with black kept ("colours"), all ten
colours permuted with black moved ("all_colours"), or its demonstrations in reverse order ("reverse"); the colour
permutations are drawn per task from its id. A search should solve a task it solves as it is in each of these
forms too: run `--ids` of the solved tasks with each KIND, and a task lost at a longer `--seconds` is an op that
reads the grid one way round, or gives black, a colour number or a demonstration's place a meaning.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

# after PYTHONPATH and the installed package: a worktree named in PYTHONPATH is the code measured
sys.path.append(str(Path(__file__).resolve().parents[1]))

from trm_submit.budget import Budget  # noqa: E402
from trm_submit.io import datasets  # noqa: E402
from trm_submit.io.tasks import Task  # noqa: E402
from trm_submit.search import runs as search_runs  # noqa: E402
from trm_submit.search import solve_task, warm_up  # noqa: E402

_TASKS: dict = {}


def _load(name: str, split: str) -> None:
    """Worker start: load the set and compile (or load) the numba kernels, as the product's search workers do before
    their first task's share starts (a cold cache would otherwise cost the first tasks seconds of their budget)."""
    global _TASKS
    challenges, solutions = datasets.load_tasks(name, split, log=lambda line: None)
    _TASKS = {"tasks": challenges.tasks, "solutions": solutions}
    warm_up()


PERTURBATIONS = ("rot90", "flip", "colours", "all_colours", "reverse")


def perturbed(task: Task, truth: list, kind: str) -> tuple[Task, list]:
    """`task` and its test solutions changed as a whole by `kind` (one of PERTURBATIONS; "" changes nothing)."""
    if not kind:
        return task, truth
    rng = np.random.default_rng(zlib.crc32(task.task_id.encode()))
    if kind == "colours":
        table = np.concatenate([[0], 1 + rng.permutation(9)]).astype(np.uint8)
    else:
        table = rng.permutation(10).astype(np.uint8)
        while table[0] == 0:
            table = rng.permutation(10).astype(np.uint8)
    maps = {"rot90": lambda g: np.ascontiguousarray(np.rot90(g)), "flip": lambda g: np.ascontiguousarray(g[:, ::-1]),
            "colours": lambda g: table[g], "all_colours": lambda g: table[g], "reverse": lambda g: g}
    change = maps[kind]
    train = tuple((change(i), change(o)) for i, o in task.train)
    train = train[::-1] if kind == "reverse" else train
    return Task(task.task_id, train, tuple(change(g) for g in task.test_inputs)), [change(g) for g in truth]


def _one(args: tuple) -> dict:
    task_id, seconds, depth, run_names, perturb = args
    task, truth = perturbed(_TASKS["tasks"][task_id], _TASKS["solutions"][task_id], perturb)
    per_run: dict = {}
    if run_names:
        chosen = tuple(r for r in search_runs.RUNS + search_runs.EXTRA_RUNS if r.name in run_names)
        result = search_runs.solve_with_runs(task, Budget.seconds(seconds), max_depth=depth, runs=chosen)
        per_run = result.per_run
    else:
        result = solve_task(task, Budget.seconds(seconds), max_depth=depth)
    solved, fitted, right1, second, right2, partial, partial1, partial2 = 0, 0, 0, 0, 0, 0, 0, 0
    ranks = []   # per test input: the index of the right grid among all candidates (None: not among them)
    for cands, sol in zip(result.candidates, truth):
        ranks.append(next((k for k, c in enumerate(cands)
                           if c.grid.shape == sol.shape and np.array_equal(c.grid, sol)), None))
        top = [c.grid for c in cands[:2]]
        if cands and cands[0].partial:   # no full fit: the partial fits' own precision
            partial += 1
            partial1 += int(np.array_equal(top[0], sol))
            partial2 += int(any(g.shape == sol.shape and np.array_equal(g, sol) for g in top))
        elif cands:
            fitted += 1
            right1 += int(np.array_equal(top[0], sol))
        if len(top) > 1 and not np.array_equal(top[0], sol):
            second += 1
            right2 += int(top[1].shape == sol.shape and np.array_equal(top[1], sol))
        solved += int(any(g.shape == sol.shape and np.array_equal(g, sol) for g in top))
    predicted = list(getattr(result, "predicted_sizes", []) or [])
    size_right = sum(int(t < len(predicted) and predicted[t] == tuple(sol.shape)) for t, sol in enumerate(truth))
    program = result.candidates[0][0].program if result.candidates and result.candidates[0] else None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(task=task_id, score=solved / len(truth), n_test=len(truth), fitted=fitted, right1=right1,
                seconds=result.seconds, depth=result.depth, states=result.states, stopped=result.stopped_by,
                program=program, rss_mb=rss, applications=result.applications, size_right=size_right,
                per_run=per_run, truth=truth, second=second, right2=right2, partial=partial, partial1=partial1,
                partial2=partial2, ranks=ranks)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="arc-agi-1")
    ap.add_argument("--split", default="training")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0, help="first N tasks (0: all)")
    ap.add_argument("--every", type=int, default=1, help="every K-th task in sorted order (a spread sample)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--verbose", action="store_true", help="one line per task with a fitting program")
    ap.add_argument("--runs", default="", help="comma list of search.runs.RUNS names (empty: the engine alone)")
    ap.add_argument("--ablation", action="store_true", help="with --runs: each run added alone, each penalty")
    ap.add_argument("--ids", default="", help="comma list of task ids, or a file of one id per line (before --every)")
    ap.add_argument("--rows", default="", help="write one JSON line per task (id, score, program...) to this file")
    ap.add_argument("--dump", default="", help="pickle every row, with each run's candidates and the solutions, to "
                                               "this file (to replay merges offline: benchmarks/merge_replay.py)")
    ap.add_argument("--perturb", default="", choices=("",) + PERTURBATIONS,
                    help="change every task as a whole first (module docstring): an invariance check")
    args = ap.parse_args(argv)
    _load(args.set, args.split)
    ids = sorted(_TASKS["tasks"])
    if args.ids:
        wanted = Path(args.ids).read_text().split() if Path(args.ids).is_file() else args.ids.split(",")
        missing = sorted(set(wanted) - set(ids))
        if missing:
            ap.error(f"unknown task ids: {missing[:5]}")
        ids = sorted(set(wanted))
    ids = ids[:: args.every]
    if args.limit:
        ids = ids[: args.limit]
    run_names = tuple(n for n in args.runs.split(",") if n)
    known = [r.name for r in search_runs.RUNS + search_runs.EXTRA_RUNS]
    unknown = set(run_names) - set(known)
    if unknown:
        ap.error(f"unknown runs {sorted(unknown)}; known: {known}")
    jobs = [(t, args.seconds, args.depth, run_names, args.perturb) for t in ids]
    t0 = time.time()
    with ProcessPoolExecutor(args.workers, initializer=_load, initargs=(args.set, args.split)) as pool:
        rows = list(pool.map(_one, jobs, chunksize=1))
    wall = time.time() - t0
    if args.rows:
        keep = ("task", "score", "n_test", "fitted", "right1", "seconds", "depth", "stopped", "program", "partial",
                "partial2", "ranks")
        Path(args.rows).write_text("".join(json.dumps({k: r[k] for k in keep}) + "\n" for r in rows))
    if args.dump:
        with open(args.dump, "wb") as f:
            pickle.dump(rows, f)
    if args.verbose:
        for r in rows:
            if r["fitted"]:
                print(f"{r['task']} score={r['score']:.2f} d={r['depth']} {r['seconds']:.2f}s {r['program']}")
    secs = np.array([r["seconds"] for r in rows])
    fitted_tasks = sum(1 for r in rows if r["fitted"])  # a full fit (every demonstration) on some test input
    fitted = sum(r["fitted"] for r in rows)
    right = sum(r["right1"] for r in rows)
    score = float(np.mean([r["score"] for r in rows]))
    stops = {s: sum(1 for r in rows if r["stopped"] == s) for s in sorted({r["stopped"] for r in rows})}
    print(f"set {args.set}/{args.split}: {len(rows)} tasks, {args.seconds:g} s/task, depth {args.depth}, "
          f"{args.workers} workers, wall {wall:.0f} s{f', perturbed: {args.perturb}' if args.perturb else ''}")
    print(f"tasks with a fitting program: {fitted_tasks} ({100 * fitted_tasks / len(rows):.1f}%)")
    print(f"precision of attempt 1 (right / test inputs with a candidate): {right}/{fitted}"
          f" = {100 * right / max(1, fitted):.1f}%")
    print(f"pass@2 per task: {100 * score:.2f}% ({score * len(rows):.1f} tasks)")
    partial = sum(r["partial"] for r in rows)
    print(f"test inputs answered by a partial fit only: {partial}; right on attempt 1: "
          f"{sum(r['partial1'] for r in rows)}, on attempt 1 or 2: {sum(r['partial2'] for r in rows)}")
    second, right2 = sum(r["second"] for r in rows), sum(r["right2"] for r in rows)
    print(f"second candidate right where the first is wrong: {right2}/{second} = {100 * right2 / max(1, second):.1f}%")
    later = sum(1 for r in rows for k in r["ranks"] if k is not None and k >= 2)
    print(f"test inputs whose right grid is a candidate after the first two: {later}")
    slowest = rows[int(np.argmax(secs))]["task"]
    print(f"search seconds: median {np.median(secs):.2f}, p90 {np.percentile(secs, 90):.2f}, max {secs.max():.2f}"
          f" ({slowest}); share of the budget used: {secs.sum() / (args.seconds * len(rows)):.0%}")
    print(f"stopped by: {stops}; peak RSS of a worker: {max(r['rss_mb'] for r in rows):.0f} MB")
    n_inputs = sum(r["n_test"] for r in rows)
    print(f"test output size predicted right: {sum(r['size_right'] for r in rows)}/{n_inputs}")
    apps = sum(r["applications"] for r in rows)
    print(f"op applications: {apps} in {secs.sum():.0f} search seconds = {apps / max(secs.sum(), 1e-9):.0f}/s")
    if args.ablation and run_names:
        _ablation(rows, run_names)


def _merged_row(rows: list[dict], runs: tuple) -> tuple[float, int, int]:
    """(pass@2 per task, test inputs with a full fit, of them right on attempt 1) of `runs` merged."""
    total, fitted, right = 0.0, 0, 0
    for r in rows:
        done = [(run, r["per_run"][run.name]) for run in runs if run.name in r["per_run"]]
        merged = search_runs.merge_runs(done, len(r["truth"]))
        solved = 0
        for cands, sol in zip(merged, r["truth"]):
            top = [c.grid for c in cands[:2]]
            full = bool(cands) and not cands[0].partial
            fitted += full
            right += full and np.array_equal(top[0], sol)
            solved += any(g.shape == sol.shape and np.array_equal(g, sol) for g in top)
        total += solved / len(r["truth"])
    return total / len(rows), fitted, right


def _ablation(rows: list[dict], run_names: tuple) -> None:
    """Pass@2 of the raw run, of each other run added alone, of all, and of all under other penalties."""
    import dataclasses

    by_name = {r.name: r for r in search_runs.RUNS + search_runs.EXTRA_RUNS if r.name in run_names}
    raw = by_name.get("raw")
    cases: list[tuple[str, tuple]] = [("raw", (raw,))] if raw else []
    cases += [(f"raw + {n}", (raw, r) if raw else (r,)) for n, r in by_name.items() if n != "raw"]
    cases.append(("all", tuple(by_name.values())))
    cases += [(f"all but {n}", tuple(r for m, r in by_name.items() if m != n)) for n in by_name if n != "raw"]
    for pen in (0.0, 0.5, 1.5, 10.0):
        cases.append((f"all, penalty {pen:g} for colours and views", tuple(
            dataclasses.replace(r, penalty=pen) if r.name not in ("raw", "deeper") else r
            for r in by_name.values())))
    print("| runs merged | pass@2 per task | test inputs with a candidate | precision of attempt 1 |")
    print("|---|---|---|---|")
    for name, runs in cases:
        score, fitted, right = _merged_row(rows, runs)
        print(f"| {name} | {100 * score:.2f}% ({score * len(rows):.1f}) | {fitted} | "
              f"{right}/{fitted} = {100 * right / max(1, fitted):.1f}% |")


if __name__ == "__main__":
    main()
