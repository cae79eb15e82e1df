"""The recipe of a `submit` run, top to bottom: load the tasks, write the skeleton, solve tasks within the
budget (one process or several workers), fill and rewrite the file after each task, then validate, score and
summarise. The submission on disk is complete and valid at every moment."""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson

from ..budget import Budget
from ..config import ConfigError, RunConfig
from ..io import outpath, records, submission, tasks
from ..io.records import RunSummary, side_paths
from . import flags, schedule
from .sources import LaneSolver, run_sources, task_attempts

MAX_IDS_SHOWN = 10  # task ids listed in one line of the printed summary


def resolve_device(name: str, rank: int = 0) -> Any:
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        return torch.device("cuda", rank % max(1, torch.cuda.device_count()))
    return torch.device("cpu")


def _cpu_threads(cfg: RunConfig, n_workers: int) -> int:
    return cfg.threads or max(1, (os.cpu_count() or 1) // n_workers)


@dataclass(frozen=True)
class JointSetup:
    """What the TRM workers of a joint-scope run share: every task of the run, the checkpoint folder and the
    rendezvous of their process group."""

    tasks: list[tasks.Task]
    folder: Path
    group_dir: Path  # a fresh temporary folder holding the rendezvous file

    @property
    def rendezvous(self) -> str:
        return f"file://{self.group_dir / 'rendezvous'}"


def _make_solver(cfg: RunConfig, run_end_wall: float, sources: tuple[str, ...], joint: JointSetup | None,
                 rank: int, n_workers: int, stop: Callable[[], bool] | None = None,
                 bundle: Any = None) -> schedule.Solver:
    """Built inside each worker: pins threads (and the device when TRM runs), loads the weights once; in the
    joint scope the TRM workers fine-tune together here, before their first task."""
    from ..grids.kernels import set_threads

    run_budget = Budget.from_wall(run_end_wall, stop) if stop is not None else Budget.from_wall(run_end_wall)
    threads = _cpu_threads(cfg, n_workers)
    set_threads(threads)  # numba threads: this worker's share of the cores

    def make_trm() -> Any:
        import torch

        from .solve import TaskSolver

        device = resolve_device(cfg.device, rank)
        if device.type == "cpu":
            torch.set_num_threads(threads)
        if cfg.protocol == "official":
            from ..official.protocol import OfficialSolver

            return OfficialSolver(cfg, device, run_budget, loaded=bundle)
        progress = n_workers == 1 and not cfg.quiet and sys.stderr.isatty()
        if joint is not None:
            from ..learn.joint import JointSolver
            from ..trm import checkpoint

            weights = bundle if bundle is not None else checkpoint.load_bundled(str(cfg.weights))
            return JointSolver(cfg, device, run_budget, weights, joint.tasks, joint.folder, rank, n_workers,
                               joint.rendezvous, progress=rank == 0 and not cfg.quiet and sys.stderr.isatty())
        return TaskSolver(cfg, device, run_budget, progress=progress, bundle=bundle)

    if "search" in sources:
        from ..search import warm_up

        warm_up()  # numba kernels compiled or loaded once per worker, before the first task's share starts
    lane = LaneSolver(cfg, sources, run_budget, make_trm if "trm" in sources else None)
    if joint is not None and "trm" in sources:
        lane.start_trm()
    return lane


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
             bundle: Any, joint: JointSetup | None, notify: Any = None) -> Iterator[dict]:
    end_wall = run_budget.to_wall()
    if len(lanes) == 1 and lanes[0][3] <= 1:
        _, sources, items, _ = lanes[0]
        solver = _make_solver(cfg, end_wall, sources, joint, 0, 1, run_budget.stop, bundle)
        yield from schedule.run_serial(items, solver, run_budget, cfg.seed)
    else:
        plan = [schedule.Lane(name, items, functools.partial(_make_solver, cfg, end_wall, sources, joint), workers)
                for name, sources, items, workers in lanes]
        yield from schedule.run_lanes(plan, run_budget, cfg.seed, notify=notify)


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


def _note(summary: RunSummary, line: str) -> None:
    """An incident of the run: one stderr line, kept in the summary."""
    print(f"trm-submit: {line}", file=sys.stderr)
    summary.incidents.append(line)


def _append_journal(journal: records.Journal, rec: dict, summary: RunSummary) -> None:
    """Journal a record; a failed append (disk full) is reported once and the run goes on."""
    try:
        journal.append(rec)
    except OSError as exc:
        if not any(line.startswith("cannot append to the journal") for line in summary.incidents):
            _note(summary, f"cannot append to the journal {journal.path} ({outpath.describe_os_error(exc)}); "
                           f"the run goes on, --resume will redo the tasks it lacks")


def _lanes(cfg: RunConfig, ch: tasks.Challenges, sources: tuple[str, ...], known: dict[str, list[dict]]
           ) -> list[tuple[str, tuple[str, ...], list[tasks.Task], int]]:
    """(name, sources, pending tasks, workers) of each lane; workers capped at what can help (one line when a
    request is reduced)."""
    lanes = []
    for name, lane_sources, workers in plan_lanes(cfg, sources, _gpus_for_trm(cfg, sources)):
        items = [ch.tasks[t] for t in ch.order if t in ch.tasks
                 and not set(lane_sources) <= records.sources_done(known.get(t, []))]
        device = cfg.device if "trm" in lane_sources else "cpu"
        capped, why = flags.cap_workers(workers, len(items), device)
        if why:
            print(why, file=sys.stderr)
        lanes.append((name, lane_sources, items, capped))
    return lanes


def _take(rec: dict, ch: tasks.Challenges, sub: dict, known: dict[str, list[dict]], cfg: RunConfig,
          summary: RunSummary, writer: outpath.SubmissionWriter) -> dict | None:
    """A fresh lane record: checked, merged with the task's other sources, filled in and written (the write is
    retried after each task when it fails). Returns the task's view, None when it holds no candidate."""
    tid = rec["task_id"]
    problem = records.record_problem(rec, ch.tasks[tid].n_test) if tid in ch.tasks else "unknown task"
    failed = [f"{n}: {src.get('reason')}" for n, src in (rec.get("sources") or {}).items()
              if isinstance(src, dict) and src.get("status") == "error"]
    if problem is not None or failed or rec.get("status") != "model":
        summary.errors[tid] = "; ".join(failed) or problem or rec.get("reason", "no attempts")
    if problem is not None:
        return None
    trm = (rec.get("sources") or {}).get("trm")
    if isinstance(trm, dict) and trm.get("status") == "ok" and records.views_run(trm) == 0:
        summary.no_views.append(tid)
    if isinstance(trm, dict) and isinstance(trm.get("joint"), dict) and summary.joint is None:
        summary.joint = {k: v for k, v in trm["joint"].items() if k != "losses"}
    known.setdefault(tid, []).append(rec)
    view = _apply(sub, ch, known[tid], cfg)
    if view is not None:
        rec["attempts"], rec["attempt_sources"] = view["attempts"], view["attempt_sources"]
        writer.answer(tid)
        writer.write(sub)
    return view


def joint_setup(cfg: RunConfig, ch: tasks.Challenges, out: Path) -> JointSetup | None:
    """The joint scope's shared setup (None in the per-task scope): a fresh run clears the checkpoint folder
    of an earlier run; every run forms its process group anew at a fresh rendezvous file."""
    if cfg.ttft_scope != "joint" or cfg.protocol != "ttft":
        return None
    folder = records.joint_folder(out)
    if not cfg.resume:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / records.GROUP_FORMED).unlink(missing_ok=True)
    group_dir = Path(tempfile.mkdtemp(prefix="trm-submit-group-"))
    return JointSetup([ch.tasks[t] for t in ch.order if t in ch.tasks], folder, group_dir)


def solve_all(cfg: RunConfig, ch: tasks.Challenges, sub: dict, writer: outpath.SubmissionWriter,
              journal: records.Journal, run_budget: Budget, summary: RunSummary, stop: schedule.StopFlag,
              bundle: Any = None, joint: JointSetup | None = None) -> None:
    """Run every pending (task, lane); after each result, merge the task's sources, fill, rewrite the file
    atomically and journal the result."""
    sources = run_sources(cfg)
    summary.sources_run = list(sources)
    past = records.resumable(journal.by_task(), ch, lambda line: _note(summary, line)) if cfg.resume else {}
    if not cfg.resume:
        journal.reset()
    known: dict[str, list[dict]] = dict(past)
    views: dict[str, dict] = {}
    for tid, recs in known.items():
        view = _apply(sub, ch, recs, cfg)
        if view is not None:
            views[tid] = view
            summary.tasks_resumed += 1
            writer.answer(tid)
    writer.write(sub)
    lanes = _lanes(cfg, ch, sources, known)
    pending = {(name, t.task_id) for name, _, items, _ in lanes for t in items}
    summary.model_ran = True
    finished: set[tuple[str, str]] = set()
    with _progress(len(pending), cfg.quiet) as bar:
        for rec in _results(cfg, [lane for lane in lanes if lane[2]], run_budget, bundle, joint,
                            lambda line: _note(summary, line)):
            finished.add((str(rec.get("lane")), rec["task_id"]))
            view = _take(rec, ch, sub, known, cfg, summary, writer)
            if view is not None:
                views[rec["task_id"]] = view
            _append_journal(journal, rec, summary)
            bar.update(1)
    if joint is not None:
        shutil.rmtree(joint.group_dir, ignore_errors=True)
    ran = {tid for _, tid in finished}
    summary.tasks_model = len([t for t in views if t in ran])
    missed = pending - finished
    summary.not_reached = len({tid for _, tid in missed})
    if missed:
        summary.lanes_not_reached = {lane: len([1 for n, _ in missed if n == lane]) for lane, _ in missed}
    _count(summary, views)
    if stop:
        summary.interrupted = f"signal {stop.signum}"


def check_outputs(cfg: RunConfig) -> Path:
    """The real submission path, after refusing folders, device files, inputs and unwritable folders."""
    inputs = {"--challenges": cfg.challenges, "--solutions": cfg.solutions, "--weights": cfg.weights,
              "--weights checksum": f"{cfg.weights}.sha256" if cfg.weights else None}
    return outpath.prepare_outputs(cfg.out, lambda t: side_paths(t).values(), inputs)


def write_summary(path: Path, summary: RunSummary) -> None:
    """The summary JSON beside the submission; a failed write is one stderr line (the run's work stands)."""
    try:
        outpath.write_atomic(path, summary.encode())
    except OSError as exc:
        print(f"trm-submit: cannot write the summary {path} ({outpath.describe_os_error(exc)})", file=sys.stderr)


def run(cfg: RunConfig) -> RunSummary:
    """A whole `submit` run. Raises tasks.InputFileError / checkpoint.CheckpointError on whole-file problems."""
    t_start = time.monotonic()
    flags.check_run_config(cfg)  # a bad flag value stops the run before any work (one line, exit 2)
    if "trm" in run_sources(cfg) and not cfg.weights:
        raise ConfigError("--sources trm needs --weights")
    out = check_outputs(cfg)
    if cfg.time_budget <= cfg.safety_margin:
        print(f"trm-submit: --time-budget {cfg.time_budget:g} is within the safety margin ({cfg.safety_margin:g} s): "
              f"no source runs, the file holds fallbacks", file=sys.stderr)
    stop = schedule.StopFlag().install()
    run_budget = Budget(t_start + max(0.0, cfg.time_budget - cfg.safety_margin), lambda: bool(stop))
    paths = side_paths(out)
    summary = RunSummary()
    try:
        ch = tasks.load_challenges(cfg.challenges)
        solutions = tasks.load_solutions(cfg.solutions) if cfg.solutions else None
        bundle: Any = None  # a checkpoint.Bundle, or the official protocol's official_protocol.Loaded
        if cfg.weights and "trm" in run_sources(cfg):
            from ..trm import checkpoint

            if cfg.protocol == "official":  # the build and the weights' rows for it, checked before any work
                from ..official import protocol as official_protocol

                bundle = official_protocol.load(cfg, ch.tasks)
            else:
                bundle = checkpoint.load_bundled(cfg.weights)  # a broken weights file stops the run before any work
        summary.tasks_total = len(ch.order)
        summary.rejected = {t: r.reason for t, r in ch.rejected.items()}
        sub = submission.skeleton(ch)
        outpath.write_or_refuse(out, submission.encode(sub))  # a file that cannot be written stops the run here
        writer = outpath.SubmissionWriter(out, submission.encode)
        outpath.write_or_refuse(paths["config"], orjson.dumps(cfg.to_dict(), option=orjson.OPT_INDENT_2))
        summary.stage_seconds["load"] = round(time.monotonic() - t_start, 3)
        joint = joint_setup(cfg, ch, out) if "trm" in run_sources(cfg) else None
        solve_all(cfg, ch, sub, writer, records.Journal(paths["journal"]), run_budget, summary, stop, bundle, joint)
        summary.stage_seconds["solve"] = round(time.monotonic() - t_start - summary.stage_seconds["load"], 3)
        writer.write(sub)
        summary.lacking_on_disk = writer.lacking
        if writer.lacking:
            summary.incidents.append(writer.final_line() or "")
        summary.problems = submission.validate(sub, ch)
        summary.valid = not summary.problems
        if solutions is not None:
            s = submission.score(sub, solutions)
            record: dict[str, Any] = submission.score_record(s)
            copies = submission.score(submission.skeleton(ch), solutions)  # the fallbacks: the input itself first
            record["input_copies"] = submission.score_record(copies)
            summary.score = record
            print(submission.format_score_table(s))
            print(f"for comparison, the fallbacks alone (each test input as attempt 1): pass@2 {copies.task_pass2:.2%} "
                  f"per task; near misses {copies.output_shape:.1%} right shape, {copies.output_cells:.1%} of cells")
    finally:
        stop.restore()
    summary.stage_seconds["total"] = round(time.monotonic() - t_start, 3)
    write_summary(paths["summary"], summary)
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
    if s.joint:
        j = s.joint
        resumed = f", resumed from step {j.get('resumed_from')}" if j.get("resumed_from") is not None else ""
        lines.append(f"joint fine-tuning: {j.get('steps')} steps ({j.get('stopped_by')}) of batch {j.get('batch')} "
                     f"over {j.get('world')} process(es), {j.get('rows')} puzzle rows{resumed}")
    if s.no_views:
        more = len(s.no_views) - MAX_IDS_SHOWN
        shown = ", ".join(s.no_views[:MAX_IDS_SHOWN]) + (f", ... ({more} more in the summary file)" if more > 0 else "")
        lines.append(f"{len(s.no_views)} tasks where TRM ran out of time before any view: {shown}")
    lines += [f"  {line}" for line in s.incidents]
    if s.lanes_not_reached:
        lines.append("not reached by lane: " + ", ".join(f"{k} {n}" for k, n in sorted(s.lanes_not_reached.items())))
    if s.interrupted:
        lines.append(f"interrupted by {s.interrupted}; the file holds every task finished before it")
    lines.append("time (s): " + ", ".join(f"{k} {v:.1f}" for k, v in s.stage_seconds.items()))
    return "\n".join(lines)


def main(cfg: RunConfig) -> int:
    s = run(cfg)
    print(format_summary(s, cfg.out))
    if s.lacking_on_disk:
        print(f"trm-submit: error: {s.incidents[-1]}", file=sys.stderr)
        return outpath.EXIT_WRITE
    return 0 if s.valid else 1
