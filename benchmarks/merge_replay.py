"""Replay the search runs' merge offline under other rules, from a `bench_search.py --dump` file.

    python benchmarks/bench_search.py --runs outer,raw,colours,transpose,anti_transpose,deeper --dump rows.pkl
    python benchmarks/merge_replay.py rows.pkl

Each rule re-scores the candidates every run kept (at most `runs.MAX_CANDIDATES` per run and test input, so a
rule that would promote a run's sixth candidate cannot be seen) and merges them with `runs.merge_runs`. Prints
one table row per rule: pass@2 per task, test inputs with a full fit, precision of attempt 1, and the tasks
gained and lost against the shipped rule (the first row).
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
from pathlib import Path
from typing import Callable

import numpy as np

# after PYTHONPATH and the installed package: a worktree named in PYTHONPATH is the code measured
sys.path.append(str(Path(__file__).resolve().parents[1]))

from trm_submit.search import runs as search_runs  # noqa: E402

Rescore = Callable[[object], float]   # candidate -> its program cost under the rule


def stack_pieces(program: str | None) -> int:
    """Pieces of a stacked program's text (0: not a stack)."""
    if not program or "stack(" not in program:
        return 0
    return program.count(" ; ") + 1


def _rules() -> list[tuple[str, dict[str, float], Rescore]]:
    shipped = {r.name: r.penalty for r in search_runs.RUNS}
    plain: Rescore = lambda c: c.cost  # noqa: E731
    rules = [("shipped", shipped, plain)]
    for colours in (0.0, 1.0, 2.0):
        rules.append((f"colours {colours:g}", {**shipped, "colours": colours}, plain))
    for view in (0.5, 3.0, 6.0):
        rules.append((f"views {view:g}", {**shipped, "transpose": view, "anti_transpose": view}, plain))
    for outer in (0.0, 2.0):
        rules.append((f"outer {outer:g}", {**shipped, "outer": outer}, plain))
    for k in (1.0, 2.0, 4.0):
        rules.append((f"stack piece +{k:g}", shipped, lambda c, k=k: c.cost + k * stack_pieces(c.program)))
    for n in (3, 4, 6):
        rules.append((f"stacks over {n} pieces last", shipped,
                      lambda c, n=n: c.cost + (1e5 if stack_pieces(c.program) > n else 0.0)))
    return rules


def replay(rows: list[dict], penalties: dict[str, float], rescore: Rescore) -> tuple[dict[str, float], int, int]:
    """(score per task, test inputs with a full fit, of them right on attempt 1) of the runs merged by a rule."""
    scores, fitted, right = {}, 0, 0
    by_name = {r.name: r for r in search_runs.RUNS + search_runs.EXTRA_RUNS}
    for r in rows:
        done = []
        for name, per_test in r["per_run"].items():
            run = dataclasses.replace(by_name[name], penalty=penalties.get(name, by_name[name].penalty))
            done.append((run, [[None if c is None else dataclasses.replace(c, cost=rescore(c)) for c in cands]
                               for cands in per_test]))
        solved = 0
        for cands, sol in zip(search_runs.merge_runs(done, len(r["truth"])), r["truth"]):
            top = [c.grid for c in cands[:2]]
            full = bool(cands) and not cands[0].partial
            fitted += full
            right += full and np.array_equal(top[0], sol)
            solved += any(g.shape == sol.shape and np.array_equal(g, sol) for g in top)
        scores[r["task"]] = solved / len(r["truth"])
    return scores, fitted, right


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dumps", nargs="+", help="bench_search.py --dump files (their rows are pooled)")
    args = ap.parse_args(argv)
    rows = [row for path in args.dumps for row in pickle.loads(Path(path).read_bytes())]
    print(f"{len(rows)} tasks from {', '.join(args.dumps)}")
    print("| rule | pass@2 per task | test inputs with a full fit | precision of attempt 1 | gained | lost |")
    print("|---|---|---|---|---|---|")
    base: dict[str, float] = {}
    for name, penalties, rescore in _rules():
        scores, fitted, right = replay(rows, penalties, rescore)
        base = base or scores
        gained = sorted(t for t in scores if scores[t] > base[t])
        lost = sorted(t for t in scores if scores[t] < base[t])
        total = sum(scores.values())
        print(f"| {name} | {100 * total / len(rows):.2f}% ({total:.1f}) | {fitted} | "
              f"{right}/{fitted} = {100 * right / max(1, fitted):.1f}% | {' '.join(gained) or '-'} | "
              f"{' '.join(lost) or '-'} |")


if __name__ == "__main__":
    main()
