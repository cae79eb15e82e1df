"""One task's search share spent on several runs of the engine, in order of expected value, and their answers
merged into one ranked candidate list per test input. The search source calls `solve_with_runs`.

Runs (`RUNS`, in this order): "outer" (the outer-product candidate, `outer.py`, fitted directly without the
engine), "raw" (the task as given), "colours" (the colour-normalised task, `normalise.py`), "background" (each
example's background swapped with the task's, `normalise.normalise_background`), "transpose" and
"anti_transpose" (the whole task under that dihedral view, `views.py`), then "deeper" (the raw task one level
deeper, on small tasks only). `EXTRA_RUNS` holds a run measured and left out: "colours_alt" (normalised by the
next feature that separates the colours, when it gives another task). An engine run that cannot change anything
(normalising or viewing gives the raw task back) is skipped. Each engine run may take `weight / (sum of the
weights of itself and the runs after it)` of the time left, so time a run does not use flows to the next ones,
and the runs go on until the share is used or none is left.

Merge: a candidate's score is its program's cost (the engine's own rank key: ops, fitted maps, stack pieces) plus
its run's penalty (0 for raw and deeper), so a one-op program of the colour run outranks a four-piece stack of the
raw run. A grid several runs give is one candidate, scored by its best run, with its agreement (the number of runs
giving it; the deeper run counts as the raw one) and the program count of its best run. Order: lowest score, then
most runs agreeing, then the run order, then the rank within the run. A partial fit (its programs reproduce every
demonstration but one) ranks after every full fit of every run (PARTIAL_OFFSET), and a grid some run fits fully is
a full fit.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..budget import Budget
from ..grids import vote
from ..grids.kernels import grid_hash
from ..io.tasks import Task
from . import normalise, outer, views
from .engine import SearchResult, solve_task

MIN_RUN_SECONDS = 0.05   # a later run starts only with at least this much time left
DEEPER_MAX_CELLS = 200   # "deeper" runs only when every grid of the task has at most this many cells
DEEPER_MAX_STATES = 50_000  # stored states of the deeper run (memory: its last stored level is one deeper)
MAX_CANDIDATES = 5
PARTIAL_OFFSET = 1e6     # added to a partial fit's score: after every full fit of every run
OUTER_COST = 1.0         # the outer-product candidate's program cost (it is fitted directly, one step)


@dataclass(frozen=True)
class Run:
    name: str
    weight: float    # share of the time left (see the module docstring)
    penalty: float   # added to the rank of this run's candidates in the merge
    generic: bool = True  # with the generic pieces (generic.py): they would repeat the raw run's in the
                          # views (the generic functions are closed under transposition) and in "deeper"


# Penalties measured on ARC-AGI-1 training (benchmarks/bench_search.py --ablation), when the merge added them to
# ranks; they now add to program costs, in the same units (one op = 1): see benchmarks/README.md.
RUNS: tuple[Run, ...] = (
    Run("outer", 0.0, 0.5),
    Run("raw", 6.0, 0.0),
    Run("colours", 3.0, 0.5),
    Run("background", 2.0, 0.5),
    Run("transpose", 1.0, 1.5, generic=False),
    Run("anti_transpose", 1.0, 1.5, generic=False),
    Run("deeper", 1.0, 0.0, generic=False),
)
# Runs that did not pay on training (benchmarks/README.md), kept for `bench_search.py --runs`:
# "colours_alt" found nothing the colour run had not (133.5 tasks with and without it).
EXTRA_RUNS: tuple[Run, ...] = (Run("colours_alt", 1.0, 0.75),)


@dataclass
class RunsResult(SearchResult):
    runs: dict[str, dict] = field(default_factory=dict)  # run name -> its stats (seconds, programs, stopped_by)
    per_run: dict[str, list] = field(default_factory=dict)  # run name -> its own candidates, mapped back


@dataclass
class _Found:
    grid: np.ndarray
    score: float
    order: tuple[int, int]   # (run order, rank in that run)
    count: int
    program: Optional[str]
    runs: set = field(default_factory=set)
    partial: bool = False


Solver = Callable[..., SearchResult]


def _prepared(task: Task, run: Run, max_depth: int
              ) -> Optional[tuple[Task, int, int, Callable[[int, np.ndarray], Optional[np.ndarray]]]]:
    """(task to search, depth, max states, map back of an answer of test input t) for `run`, or None when the
    run would repeat another."""
    if run.name == "raw":
        return task, max_depth, 200_000, lambda t, g: g
    if run.name in ("colours", "colours_alt", "background"):
        norm = (normalise.normalise_background(task) if run.name == "background"
                else normalise.normalise(task, 0 if run.name == "colours" else 1))
        if norm is None:
            return None
        if run.name == "colours_alt":
            first = normalise.normalise(task, 0)
            if first is not None and all(np.array_equal(a, b) for a, b in zip(first.perms, norm.perms)):
                return None  # the same normalised task as the colour run
        return norm.task, max_depth, 200_000, lambda t, g: normalise.map_back(
            g, norm.test_perms[t], task.test_inputs[t], norm.fixed)
    if run.name in views.VIEWS:
        viewed = views.view_task(task, run.name)
        if viewed is None:
            return None
        return viewed, max_depth, 200_000, lambda t, g: views.map_back(g, run.name)
    if run.name == "deeper":
        if max(g.size for g in task.grids) > DEEPER_MAX_CELLS:
            return None
        return task, max_depth + 1, DEEPER_MAX_STATES, lambda t, g: g
    raise ValueError(f"unknown search run {run.name!r}")


def solve_with_runs(task: Task, budget: Budget, max_depth: int = 3, *, runs: tuple[Run, ...] = RUNS,
                    solver: Solver = solve_task) -> RunsResult:
    """Search `task` with every applicable run of `runs` within `budget` (see the module docstring)."""
    t0 = time.monotonic()
    plans = []
    done: list[tuple[Run, RunCandidates]] = []
    for run in runs:
        if run.name == "outer":
            found = _outer(task)
            if found is not None:
                done.append((run, [[] if g is None else
                                   [vote.Candidate(g, 1, 1.0, 0, "search", found[0], cost=OUTER_COST)]
                                   for g in found[1]]))
            continue
        prepared = _prepared(task, run, max_depth)
        if prepared is not None:
            plans.append((run, prepared))
    stats: dict[str, dict] = {}
    first: Optional[SearchResult] = None
    programs = states = applications = errors = 0
    for k, (run, (searched, depth, max_states, back)) in enumerate(plans):
        if (k and budget.left() < MIN_RUN_SECONDS) or budget.stop():
            break
        weight = run.weight / sum(r.weight for r, _ in plans[k:])
        res = solver(searched, budget.fraction(weight), max_depth=depth, max_states=max_states,
                     generic_pieces=run.generic)
        first = first or res
        programs, states = programs + res.programs, states + res.states
        applications, errors = applications + res.applications, errors + res.errors
        stats[run.name] = {"seconds": round(res.seconds, 3), "programs": res.programs, "depth": res.depth,
                           "stopped_by": res.stopped_by}
        done.append((run, [_mapped(cands, t, back) for t, cands in enumerate(res.candidates)]))
    base = first or SearchResult(candidates=[[] for _ in task.test_inputs], programs=0, states=0, depth=0,
                                 stopped_by="done", seconds=0.0)
    return RunsResult(candidates=merge_runs(done, task.n_test), programs=programs, states=states, depth=base.depth,
                      stopped_by=base.stopped_by, seconds=time.monotonic() - t0, applications=applications,
                      errors=errors, runs=stats, per_run=dict((r.name, c) for r, c in done),
                      predicted_sizes=getattr(base, "predicted_sizes", []))


def _outer(task: Task) -> Optional[tuple[str, list[Optional[np.ndarray]]]]:
    try:
        return outer.outer_candidates(task)
    except Exception as e:  # defensive: a bug here must not cost the task its other runs
        print(f"search: task {task.task_id}: outer product: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return None


def _mapped(cands: list[vote.Candidate], t: int, back: Callable[[int, np.ndarray], Optional[np.ndarray]]
            ) -> list[Optional[vote.Candidate]]:
    """A run's ranked candidates of test input t in the task's own colours and orientation (a candidate that
    cannot be mapped back keeps its rank, as None: `merge_runs` skips it)."""
    out: list[Optional[vote.Candidate]] = []
    for c in cands:
        g = back(t, c.grid)
        out.append(None if g is None else vote.Candidate(g, c.count, 1.0, 0, "search", c.program, c.partial, c.cost))
    return out


RunCandidates = list[list[Optional[vote.Candidate]]]  # one run's ranked candidates per test input (None: unmappable)


def merge_runs(done: list[tuple[Run, RunCandidates]], n_test: int) -> list[list[vote.Candidate]]:
    """The merged ranked candidates per test input of runs done in this order (module docstring)."""
    merged = []
    for t in range(n_test):
        found: dict[int, _Found] = {}
        for order, (run, per_test) in enumerate(done):
            for rank, c in enumerate(per_test[t] if t < len(per_test) else []):
                if c is not None:
                    score = c.cost + run.penalty + (PARTIAL_OFFSET if c.partial else 0.0)
                    _add(found, c.grid, score, (order, rank), c.count, run.name, c.program, c.partial)
        merged.append(_ranked(found))
    return merged


def _add(found: dict[int, _Found], grid: np.ndarray, score: float, order: tuple[int, int], count: int, run: str,
         program: Optional[str], partial: bool = False) -> None:
    key = hash((grid.shape, grid.tobytes()))
    text = program if run in ("raw", "deeper", "outer") or program is None else f"[{run}] {program}"
    agreeing = "raw" if run == "deeper" else run  # the deeper run repeats the raw one: no second opinion
    entry = found.get(key)
    if entry is None:
        found[key] = _Found(grid, score, order, count, text, {agreeing}, partial)
        return
    if partial and not entry.partial:
        return                          # a partial fit is no second opinion on a full fit
    if entry.partial and not partial:   # a full fit replaces the partial one
        found[key] = _Found(grid, score, order, count, text, {agreeing}, partial)
        return
    entry.runs.add(agreeing)
    if (score, order) < (entry.score, entry.order):
        entry.score, entry.order, entry.program, entry.count = score, order, text, max(entry.count, count)


def _ranked(found: dict[int, _Found]) -> list[vote.Candidate]:
    best = sorted(found.values(), key=lambda f: (f.score, -len(f.runs), f.order))[:MAX_CANDIDATES]
    return [vote.Candidate(grid=f.grid, count=f.count, mean_conf=1.0, hash=grid_hash(f.grid), source="search",
                           program=f.program, partial=f.partial) for f in best]
