"""The recipe of a `submit` run, top to bottom: load the tasks, write the skeleton, solve tasks within the
budget (one process or several workers), fill and rewrite the file after each task, then validate, score and
summarise. The submission on disk is complete and valid at every moment."""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import orjson

from . import records, schedule, submission, tasks
from .budget import Budget
from .config import ConfigError, RunConfig
from .records import RunSummary, side_paths
from .sources import LaneSolver, run_sources, task_attempts


def resolve_device(name: str, rank: int = 0) -> Any:
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        return torch.device("cuda", rank % max(1, torch.cuda.device_count()))
    return torch.device("cpu")


def _cpu_threads(cfg: RunConfig, n_workers: int) -> int:
    return cfg.threads or max(1, (os.cpu_count() or 1) // n_workers)


def _make_solver(cfg: RunConfig, run_end_wall: float, sources: tuple[str, ...], rank: int, n_workers: int,
                 stop: schedule.StopFlag | None = None, bundle: Any = None) -> schedule.Solver:
    """Built inside each worker: pins threads (and the device when TRM runs), loads the weights once."""
    from .kernels import set_threads

    stop_fn = (lambda: bool(stop)) if stop is not None else (lambda: False)
    run_budget = Budget.from_wall(run_end_wall, stop_fn)
    threads = _cpu_threads(cfg, n_workers)
    set_threads(threads)  # numba threads: this worker's share of the cores

    def make_trm() -> Any:
        import torch

        from .solve import TaskSolver

        device = resolve_device(cfg.device, rank)
        if device.type == "cpu":
            torch.set_num_threads(threads)
        progress = n_workers == 1 and not cfg.quiet and sys.stderr.isatty()
        return TaskSolver(cfg, device, run_budget, progress=progress, bundle=bundle)

    return LaneSolver(cfg, sources, run_budget, make_trm if "trm" in sources else None)


def plan_lanes(cfg: RunConfig, sources: tuple[str, ...], gpus: int) -> list[tuple[str, tuple[str, ...], int]]:
    """(name, sources, workers) of each lane. The search gets a lane of its own beside the TRM workers when
    TRM runs on CUDA (the CPU cores the GPU workers leave) or when --search-workers asks for it; otherwise one
    lane runs every source of a task in turn (search first)."""
    if "search" in sources and "trm" in sources and (cfg.search_workers > 0 or gpus > 0):
        n_search = cfg.search_workers or max(1, min((os.cpu_count() or 1) - cfg.workers, _memory_gib() // 4))
        return [("trm", ("trm",), cfg.workers), ("search", ("search",), n_search)]
    return [("+".join(sources), sources, cfg.workers)]


def _memory_gib() -> int:
    """Physical memory in GiB (a search worker stays under 2 GiB; auto lanes leave as much again spare)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**30)
    except (ValueError, OSError, AttributeError):
        return 8


def _gpus_for_trm(cfg: RunConfig, sources: tuple[str, ...]) -> int:
    if "trm" not in sources or cfg.device == "cpu":
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _results(cfg: RunConfig, lanes: list[tuple[str, tuple[str, ...], list[tasks.Task], int]], run_budget: Budget,
             stop: schedule.StopFlag, bundle: Any) -> Iterator[dict]:
    end_wall = run_budget.to_wall()
    if len(lanes) == 1 and lanes[0][3] <= 1:
        _, sources, items, _ = lanes[0]
        solver = _make_solver(cfg, end_wall, sources, 0, 1, stop, bundle)
        yield from schedule.run_serial(items, solver, run_budget, cfg.seed)
    else:
        plan = [schedule.Lane(name, items, functools.partial(_make_solver, cfg, end_wall, sources), workers)
                for name, sources, items, workers in lanes]
        yield from schedule.run_lanes(plan, run_budget, cfg.seed, stop)


def _apply(sub: dict, ch: tasks.Challenges, recs: list[dict], cfg: RunConfig) -> dict | None:
    """Merge every source known for a task into its attempts and fill them in; returns the combined view
    with `attempts` and `attempt_sources`, or None when no source gave the task a candidate."""
    tid = recs[-1]["task_id"]
    if tid not in ch.tasks:
        return None
    view = records.combine(recs)
    ok = {n: s for n, s in view["sources"].items() if isinstance(s, dict) and s.get("status") == "ok"}
    attempts, origin, any_candidate = task_attempts(ch.tasks[tid].test_inputs, ok, cfg)
    if not any_candidate:
        return None
    for i, (a1, a2) in enumerate(attempts):
        submission.fill(sub, tid, i, a1, a2)
    view["attempts"], view["attempt_sources"] = attempts, origin
    return view


def _count(summary: RunSummary, views: dict[str, dict]) -> None:
    """Per source, the tasks it gave a candidate; per source, the attempts it gave."""
    for view in views.values():
        for name, src in view["sources"].items():
            if isinstance(src, dict) and any(c for c in src.get("candidates") or []):
                summary.sources[name] = summary.sources.get(name, 0) + 1
        for pair in view.get("attempt_sources") or []:
            for name in pair:
                summary.attempts_from[name] = summary.attempts_from.get(name, 0) + 1


def _progress(total: int, quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="tasks", unit="task", disable=quiet or not sys.stderr.isatty())


def solve_all(cfg: RunConfig, ch: tasks.Challenges, sub: dict, out: Path, journal: records.Journal,
              run_budget: Budget, summary: RunSummary, stop: schedule.StopFlag, bundle: Any = None) -> None:
    """Run every pending (task, lane); after each result, merge the task's sources, fill, rewrite the file
    atomically and journal the result."""
    sources = run_sources(cfg)
    summary.sources_run = list(sources)
    past = journal.by_task() if cfg.resume else {}
    if not cfg.resume:
        journal.reset()
    known: dict[str, list[dict]] = {t: recs for t, recs in past.items() if t in ch.tasks}
    views: dict[str, dict] = {}
    for tid, recs in known.items():
        view = _apply(sub, ch, recs, cfg)
        if view is not None:
            views[tid] = view
            summary.tasks_resumed += 1
    submission.write_atomic(out, sub)
    lanes = []
    for name, lane_sources, workers in plan_lanes(cfg, sources, _gpus_for_trm(cfg, sources)):
        items = [ch.tasks[t] for t in ch.order if t in ch.tasks
                 and not set(lane_sources) <= records.sources_done(known.get(t, []))]
        lanes.append((name, lane_sources, items, workers))
    pending = {(name, t.task_id) for name, _, items, _ in lanes for t in items}
    summary.model_ran = True
    finished: set[tuple[str, str]] = set()
    with _progress(sum(len(items) for *_, items, _ in lanes), cfg.quiet) as bar:
        for rec in _results(cfg, [lane for lane in lanes if lane[2]], run_budget, stop, bundle):
            tid = rec["task_id"]
            finished.add((str(rec.get("lane")), tid))
            known.setdefault(tid, []).append(rec)
            view = _apply(sub, ch, known[tid], cfg)
            if view is not None:
                views[tid] = view
                rec["attempts"], rec["attempt_sources"] = view["attempts"], view["attempt_sources"]
                submission.write_atomic(out, sub)
            failed = [f"{n}: {src.get('reason')}" for n, src in (rec.get("sources") or {}).items()
                      if isinstance(src, dict) and src.get("status") == "error"]
            if failed or rec.get("status") != "model":
                summary.errors[tid] = "; ".join(failed) or rec.get("reason", "no attempts")
            journal.append(rec)
            bar.update(1)
    ran = {tid for _, tid in finished}
    summary.tasks_model = len([t for t in views if t in ran])
    missed = pending - finished
    summary.not_reached = len({tid for _, tid in missed})
    if missed:
        summary.lanes_not_reached = {lane: len([1 for n, _ in missed if n == lane]) for lane, _ in missed}
    _count(summary, views)
    if stop:
        summary.interrupted = f"signal {stop.signum}"


def run(cfg: RunConfig) -> RunSummary:
    """A whole `submit` run. Raises tasks.InputFileError / checkpoint.CheckpointError on whole-file problems."""
    t_start = time.monotonic()
    if "trm" in run_sources(cfg) and not cfg.weights:
        raise ConfigError("--sources trm needs --weights")
    stop = schedule.StopFlag().install()
    run_budget = Budget(t_start + max(0.0, cfg.time_budget - cfg.safety_margin), lambda: bool(stop))
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = side_paths(out)
    summary = RunSummary()
    try:
        ch = tasks.load_challenges(cfg.challenges)
        solutions = tasks.load_solutions(cfg.solutions) if cfg.solutions else None
        bundle = None
        if cfg.weights and "trm" in run_sources(cfg):
            from . import checkpoint

            bundle = checkpoint.load_bundled(cfg.weights)  # a broken weights file stops the run before any work
        summary.tasks_total = len(ch.order)
        summary.rejected = {t: r.reason for t, r in ch.rejected.items()}
        sub = submission.skeleton(ch)
        submission.write_atomic(out, sub)
        paths["config"].write_bytes(orjson.dumps(cfg.to_dict(), option=orjson.OPT_INDENT_2))
        summary.stage_seconds["load"] = round(time.monotonic() - t_start, 3)
        solve_all(cfg, ch, sub, out, records.Journal(paths["journal"]), run_budget, summary, stop, bundle)
        summary.stage_seconds["solve"] = round(time.monotonic() - t_start - summary.stage_seconds["load"], 3)
        submission.write_atomic(out, sub)
        summary.problems = submission.validate(sub, ch)
        summary.valid = not summary.problems
        if solutions is not None:
            s = submission.score(sub, solutions)
            summary.score = submission.score_record(s)
            copies = submission.score(submission.skeleton(ch), solutions)  # the fallbacks: the input itself first
            summary.score["input_copies"] = submission.score_record(copies)
            print(submission.format_score_table(s))
            print(f"for comparison, the fallbacks alone (each test input as attempt 1): pass@2 {copies.task_pass2:.2%} "
                  f"per task; near misses {copies.output_shape:.1%} right shape, {copies.output_cells:.1%} of cells")
    finally:
        stop.restore()
    summary.stage_seconds["total"] = round(time.monotonic() - t_start, 3)
    summary.write(paths["summary"])
    return summary


def format_summary(s: RunSummary, out: str) -> str:
    lines = [f"submission: {out} ({'valid' if s.valid else 'INVALID: ' + '; '.join(s.problems[:3])})",
             f"tasks: {s.tasks_total} total, {s.tasks_model} answered by a candidate source this run, "
             f"{s.tasks_resumed} from the journal, {len(s.rejected)} rejected, {len(s.errors)} failed, "
             f"{s.not_reached} not reached (fallbacks)"]
    if not s.model_ran:
        lines.append("NO SOURCE RAN: every attempt is a fallback guess")
    else:
        given = ", ".join(f"{n} {s.sources.get(n, 0)}" for n in s.sources_run)
        origin = ", ".join(f"{n} {k}" for n, k in sorted(s.attempts_from.items()))
        lines.append(f"sources: {'+'.join(s.sources_run)}; tasks with a candidate: {given}; attempts from: {origin}")
    for tid, why in list(s.rejected.items()) + list(s.errors.items()):
        lines.append(f"  fallback {tid}: {why}")
    if s.lanes_not_reached:
        lines.append("not reached by lane: " + ", ".join(f"{k} {n}" for k, n in sorted(s.lanes_not_reached.items())))
    if s.interrupted:
        lines.append(f"interrupted by {s.interrupted}; the file holds every task finished before it")
    lines.append("time (s): " + ", ".join(f"{k} {v:.1f}" for k, v in s.stage_seconds.items()))
    return "\n".join(lines)


def main(cfg: RunConfig) -> int:
    s = run(cfg)
    print(format_summary(s, cfg.out))
    return 0 if s.valid else 1
