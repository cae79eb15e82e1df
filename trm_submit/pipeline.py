"""The recipe of a `submit` run, top to bottom: load the tasks, write the skeleton, solve tasks within the
budget (one process or several workers), fill and rewrite the file after each task, then validate, score and
summarise. The submission on disk is complete and valid at every moment."""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson

from . import flags, outpath, records, schedule, submission, tasks
from .config import RunConfig


@dataclass
class RunSummary:
    """What a run did: counts, fallbacks and why, time per stage, score when solutions were given."""

    tasks_total: int = 0
    tasks_model: int = 0
    tasks_resumed: int = 0
    rejected: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    not_reached: int = 0
    model_ran: bool = False
    interrupted: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    score: dict[str, float] | None = None
    valid: bool = False
    problems: list[str] = field(default_factory=list)
    no_views: list[str] = field(default_factory=list)  # the model ran no view in time: fallbacks stand
    incidents: list[str] = field(default_factory=list)  # worker deaths, unusable journal records, failed writes
    lacking_on_disk: int = 0  # tasks answered in memory that a failed rewrite kept out of the file on disk


def side_paths(out: Path) -> dict[str, Path]:
    """Files written beside the submission."""
    stem = out.with_suffix("")
    return {"journal": Path(f"{stem}.journal.jsonl"), "config": Path(f"{stem}.config.json"),
            "summary": Path(f"{stem}.summary.json")}


def check_outputs(cfg: RunConfig) -> Path:
    """The real submission path, after refusing folders, device files, inputs and unwritable folders."""
    inputs = {"--challenges": cfg.challenges, "--solutions": cfg.solutions, "--weights": cfg.weights,
              "--weights checksum": f"{cfg.weights}.sha256" if cfg.weights else None}
    return outpath.prepare_outputs(cfg.out, lambda t: side_paths(t).values(), inputs)


def resolve_device(name: str, rank: int = 0) -> Any:
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        return torch.device("cuda", rank % max(1, torch.cuda.device_count()))
    return torch.device("cpu")


def _make_solver(cfg: RunConfig, run_end: float, rank: int, n_workers: int,
                 stop: schedule.StopFlag | None = None, bundle: Any = None) -> schedule.Solver:
    """Built inside each worker: pins threads/device, loads the weights once."""
    import torch

    from .kernels import set_threads
    from .solve import TaskSolver

    device = resolve_device(cfg.device, rank)
    threads = cfg.threads or max(1, (os.cpu_count() or 1) // n_workers)
    set_threads(threads)  # numba decode threads: this worker's share of the cores
    if device.type == "cpu":
        torch.set_num_threads(threads)
    progress = n_workers == 1 and not cfg.quiet and sys.stderr.isatty()
    return TaskSolver(cfg, device, run_end, progress=progress,
                      stop=(lambda: bool(stop)) if stop is not None else (lambda: False), bundle=bundle)


def _results(cfg: RunConfig, pending: list[tasks.Task], deadline: schedule.Deadline,
             stop: schedule.StopFlag, bundle: Any, notify: Any = None) -> Iterator[dict]:
    run_end = time.time() + deadline.left()
    if cfg.workers <= 1:
        solver = _make_solver(cfg, run_end, 0, 1, stop, bundle)
        yield from schedule.run_serial(pending, solver, deadline, cfg.seed, stop)
    else:
        make = functools.partial(_make_solver, cfg, run_end)
        yield from schedule.run_parallel(pending, make, cfg.workers, deadline, cfg.seed, stop, notify=notify)


def _apply(sub: dict, rec: dict) -> bool:
    """Put a journal record's attempts into the submission; False if it holds none."""
    attempts = rec.get("attempts")
    if rec.get("status") != "model" or not attempts or len(attempts) != len(sub.get(rec["task_id"], [])):
        return False
    for i, (a1, a2) in enumerate(attempts):
        submission.fill(sub, rec["task_id"], i, a1, a2)
    return True


def _progress(total: int, quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="tasks", unit="task", disable=quiet or not sys.stderr.isatty())


def _note(summary: RunSummary, line: str) -> None:
    """An incident of the run: one stderr line, kept in the summary."""
    print(f"trm-submit: {line}", file=sys.stderr)
    summary.incidents.append(line)


def _take_result(sub: dict, rec: dict, summary: RunSummary, writer: outpath.SubmissionWriter) -> None:
    """Apply a fresh task record when it holds valid attempts, then rewrite the file (retried on failure)."""
    task_id = rec["task_id"]
    problem = records.record_problem(rec, len(sub.get(task_id, [])))
    if rec.get("status") != "model" or problem is not None or not _apply(sub, rec):
        summary.errors[task_id] = rec.get("reason") or problem or "no attempts"
        return
    if records.views_run(rec) > 0:
        summary.tasks_model += 1
    else:
        summary.no_views.append(task_id)
    writer.answer(task_id)
    writer.write(sub)


def _append_journal(journal: schedule.Journal, rec: dict, summary: RunSummary) -> None:
    """Journal a record; a failed append (disk full) is reported once and the run goes on."""
    try:
        journal.append(rec)
    except OSError as exc:
        if not any(line.startswith("cannot append to the journal") for line in summary.incidents):
            _note(summary, f"cannot append to the journal {journal.path} ({outpath.describe_os_error(exc)}); "
                           f"the run goes on, --resume will redo the tasks it lacks")


def _workers_capped(cfg: RunConfig, n_pending: int) -> RunConfig:
    workers, why = flags.cap_workers(cfg.workers, n_pending, cfg.device)
    if why:
        print(why, file=sys.stderr)
    return dataclasses.replace(cfg, workers=workers)


def solve_all(cfg: RunConfig, ch: tasks.Challenges, sub: dict, writer: outpath.SubmissionWriter,
              journal: schedule.Journal, deadline: schedule.Deadline, summary: RunSummary,
              stop: schedule.StopFlag, bundle: Any = None) -> None:
    """Run every pending task; after each, fill, rewrite the file atomically and journal the result."""
    done = records.resumable(journal.read(), ch, lambda line: _note(summary, line.removeprefix("trm-submit: "))) \
        if cfg.resume else {}
    if not cfg.resume:
        journal.reset()
    for rec in done.values():
        if _apply(sub, rec):
            summary.tasks_resumed += 1
            writer.answer(rec["task_id"])
    writer.write(sub)
    pending = [ch.tasks[t] for t in ch.order if t in ch.tasks and t not in done]
    if not cfg.weights:
        print("trm-submit: no model ran (no --weights given): the submission holds fallback attempts only",
              file=sys.stderr)
        summary.not_reached = len(pending)
        return
    cfg = _workers_capped(cfg, len(pending))
    summary.model_ran = True
    finished = set()
    with _progress(len(pending), cfg.quiet) as bar:
        for rec in _results(cfg, pending, deadline, stop, bundle, lambda line: _note(summary, line)):
            finished.add(rec["task_id"])
            _take_result(sub, rec, summary, writer)
            _append_journal(journal, rec, summary)
            bar.update(1)
    summary.not_reached = len(pending) - len(finished)
    if stop:
        summary.interrupted = f"signal {stop.signum}"


def run(cfg: RunConfig) -> RunSummary:
    """A whole `submit` run. Raises tasks.InputFileError / checkpoint.CheckpointError on whole-file problems."""
    t_start = time.monotonic()
    flags.check_run_config(cfg)  # a bad flag value stops the run before any work (one line, exit 2)
    out = check_outputs(cfg)
    deadline = schedule.Deadline(cfg.time_budget, cfg.safety_margin)
    stop = schedule.StopFlag().install()
    paths = side_paths(out)
    summary = RunSummary()
    try:
        ch = tasks.load_challenges(cfg.challenges)
        solutions = tasks.load_solutions(cfg.solutions) if cfg.solutions else None
        bundle = None
        if cfg.weights:
            from . import checkpoint

            bundle = checkpoint.load_bundled(cfg.weights)  # a broken weights file stops the run before any work
        summary.tasks_total = len(ch.order)
        summary.rejected = {t: r.reason for t, r in ch.rejected.items()}
        sub = submission.skeleton(ch)
        outpath.write_or_refuse(out, submission.encode(sub))  # a file that cannot be written stops the run here
        writer = outpath.SubmissionWriter(out, submission.encode)
        outpath.write_or_refuse(paths["config"], orjson.dumps(cfg.to_dict(), option=orjson.OPT_INDENT_2))
        summary.stage_seconds["load"] = round(time.monotonic() - t_start, 3)
        solve_all(cfg, ch, sub, writer, schedule.Journal(paths["journal"]), deadline, summary, stop, bundle)
        summary.stage_seconds["solve"] = round(time.monotonic() - t_start - summary.stage_seconds["load"], 3)
        writer.write(sub)
        summary.lacking_on_disk = writer.lacking
        if writer.lacking:
            summary.incidents.append(writer.final_line() or "")
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
    write_summary(paths["summary"], summary)
    return summary


def write_summary(path: Path, summary: RunSummary) -> None:
    """The summary JSON beside the submission; a failed write is one stderr line (the run's work stands)."""
    try:
        outpath.write_atomic(path, orjson.dumps(summary.__dict__, option=orjson.OPT_INDENT_2))
    except OSError as exc:
        print(f"trm-submit: cannot write the summary {path} ({outpath.describe_os_error(exc)})", file=sys.stderr)


def format_summary(s: RunSummary, out: str) -> str:
    lines = [f"submission: {out} ({'valid' if s.valid else 'INVALID: ' + '; '.join(s.problems[:3])})",
             f"tasks: {s.tasks_total} total, {s.tasks_model} solved by the model this run, "
             f"{s.tasks_resumed} from the journal, {len(s.rejected)} rejected, {len(s.errors)} failed, "
             f"{s.not_reached} not reached (fallbacks)"]
    if not s.model_ran:
        lines.append("NO MODEL RAN: every attempt is a fallback guess")
    for tid, why in list(s.rejected.items()) + list(s.errors.items()):
        lines.append(f"  fallback {tid}: {why}")
    if s.no_views:
        lines.append(f"{len(s.no_views)} tasks ran out of time before any view (fallbacks): {', '.join(s.no_views)}")
    lines += [f"  {line}" for line in s.incidents]
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
