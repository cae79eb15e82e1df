"""Candidate sources and one task's decision: which sources a run uses, how a lane (a group of workers) runs its
sources on a task within the task's budget, and how every source's candidates become the two attempts.

Sources: "search" (program search, CPU, no torch) and "trm" (test-time fine-tuned TRM). In a lane that runs
both, the search goes first and spends `search_share` of the task's time on its runs (`search.runs`: a program
that reproduces every demonstration is the more precise answer); TRM gets the rest.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any, Callable

import numpy as np

from ..budget import Budget
from ..config import RunConfig
from ..grids import vote
from ..io.records import TOP_CANDIDATES, SourceRecord, candidate
from ..io.submission import fallback_attempts
from ..io.tasks import Task, grid_to_list

KNOWN = ("search", "trm")


def run_sources(cfg: RunConfig) -> tuple[str, ...]:
    """The sources of a run: as asked, else both with weights and the search alone without."""
    if cfg.sources:
        return tuple(s for s in KNOWN if s in cfg.sources)
    return ("search", "trm") if cfg.weights else ("search",)


def search_record(task: Task, budget: Budget, depth: int, fixed_work: bool = False) -> dict[str, Any]:
    """The search source on one task -> its source record (candidates with their program text). The search
    spends `budget` on its runs (`search.runs`); with `fixed_work` it leaves out the runs that only end with
    the time (the deeper run), so the work done does not depend on the clock."""
    from ..search.runs import RUNS, solve_with_runs

    runs = tuple(r for r in RUNS if not (fixed_work and r.name == "deeper"))
    res = solve_with_runs(task, budget, max_depth=depth, runs=runs)
    return SourceRecord("ok", [[candidate(c.grid, c.count, 1.0, c.program, c.partial) for c in cands[:TOP_CANDIDATES]]
                               for cands in res.candidates], None,
                        {"programs": res.programs, "states": res.states, "depth": res.depth,
                         "stopped_by": res.stopped_by, "seconds": round(res.seconds, 3),
                         "runs": res.runs}).to_json()


class LaneSolver:
    """Runs the sources of one lane on a task within the task's budget -> the lane's journal record.

    `trm` builds the TRM solver on first use (it loads the weights; a search-only lane never imports torch)."""

    def __init__(self, cfg: RunConfig, sources: tuple[str, ...], run: Budget,
                 trm: Callable[[], Any] | None = None):
        self.cfg, self.sources, self.run, self._make_trm = cfg, sources, run, trm
        self._trm: Any = None  # the TRM solver, built on first use

    def start_trm(self) -> Any:
        """The TRM solver, built now if not yet (the joint scope calls it before the lane's first task, so its
        fine-tuning runs first)."""
        if self._trm is None:
            assert self._make_trm is not None, "a lane with the trm source needs a TRM solver factory"
            self._trm = self._make_trm()
        return self._trm

    def __call__(self, task: Task, budget: Budget, seed: int) -> dict[str, Any]:
        t0 = time.time()
        rec: dict[str, Any] = {"task_id": task.task_id, "lane": "+".join(self.sources), "seed": seed,
                               "share_s": round(max(0.0, budget.left()), 2), "sources": {}}
        for name in self.sources:
            if self.run.over():
                break
            try:
                rec["sources"][name] = self._one(name, task, budget, seed)
            except Exception as exc:  # one source failing on one task never ends the run
                reason = f"{type(exc).__name__}: {exc}"
                rec["sources"][name] = SourceRecord.failed(reason).to_json()
                print(f"trm-submit: task {task.task_id}: source {name} failed: {reason}", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
        ok = [s for s in rec["sources"].values() if s.get("status") == "ok"]
        rec["status"] = "model" if ok else "error"
        if not ok:
            reasons = [s.get("reason") for s in rec["sources"].values()]
            rec["reason"] = "; ".join(r for r in reasons if r) or "stopped before any source ran"
        # with fixed work only the run's deadline stops a source: one it stopped short (a fine-tuning step that
        # would not fit before it) leaves the task cut, redone on resume
        stopped = self.cfg.fixed_work and any(s.get("ttft_stopped_by") == "deadline" for s in rec["sources"].values())
        rec["cut"] = self.run.over() or stopped or len(rec["sources"]) < len(self.sources)
        rec["seconds"] = round(time.time() - t0, 3)
        return rec

    def _one(self, name: str, task: Task, budget: Budget, seed: int) -> dict[str, Any]:
        cfg = self.cfg
        if name == "search":
            if cfg.fixed_work:
                return search_record(task, self.run, cfg.search_depth, fixed_work=True)
            share = cfg.search_share if "trm" in self.sources else 1.0
            return search_record(task, budget.fraction(share), cfg.search_depth)
        return self.start_trm().solve(task, budget, seed)


def task_attempts(task_inputs: tuple[np.ndarray, ...], sources: dict[str, Any], cfg: RunConfig
                  ) -> tuple[list[list[Any]], list[list[str]], bool]:
    """(attempts per test input, the source of each attempt, whether any source gave a candidate) from the
    source records known for a task, under the run's merge rule."""
    attempts, origin, any_candidate = [], [], False
    for i, x in enumerate(task_inputs):
        per: dict[str, list[vote.Candidate]] = {}
        for name, src in sources.items():
            cands = src.get("candidates") if isinstance(src, dict) and src.get("status") == "ok" else None
            if isinstance(cands, list) and i < len(cands) and isinstance(cands[i], list):
                per[name] = vote.candidates_from_records(cands[i], name)
        if cfg.infer.input_copy_last and "trm" in per:
            per["trm"] = vote.demote_copies(per["trm"], x)
        merged = vote.merge(per, cfg.merge_rule)
        any_candidate = any_candidate or bool(merged)
        a1, a2 = vote.pick_attempts(merged, fallback_attempts(x))
        attempts.append([grid_to_list(np.asarray(a1)), grid_to_list(np.asarray(a2))])
        origin.append([merged[k].source if k < len(merged) else "fallback" for k in (0, 1)])
    return attempts, origin, any_candidate
