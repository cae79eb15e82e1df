"""The recipe of a `submit` run, top to bottom: load the tasks, write the skeleton, solve tasks within the
budget (one process or several workers), fill and rewrite the file after each task, then validate, score and
summarise. The submission on disk is complete and valid at every moment."""

from __future__ import annotations

import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from ..budget import Budget
from ..config import ConfigError, RunConfig
from ..io import outpath, records, submission, tasks
from ..io.records import RunSummary, side_paths
from . import flags, schedule
from .intake import RunState, progress_bar
from .lanes import JointSetup, build_lanes, joint_setup, results
from .sources import run_sources

MAX_IDS_SHOWN = 10  # task ids listed in one line of the printed summary


def solve_all(state: RunState, run_budget: Budget, stop: schedule.StopFlag, bundle: Any = None,
              joint: JointSetup | None = None) -> None:
    """Run every pending (task, lane); after each result, merge the task's sources, fill, rewrite the file
    atomically and journal the result."""
    cfg, summary = state.cfg, state.summary
    sources = run_sources(cfg)
    summary.sources_run = list(sources)
    state.resume()
    plan = build_lanes(cfg, state.ch, sources, state.known)
    pending = {(lane.name, t.task_id) for lane in plan for t in lane.tasks}
    summary.model_ran = True
    finished: set[tuple[str, str]] = set()
    with progress_bar(len(pending), cfg.quiet) as bar:
        for rec in results(cfg, [lane for lane in plan if lane.tasks], run_budget, bundle, joint, state.note):
            finished.add((str(rec.get("lane")), rec["task_id"]))
            state.take(rec)
            bar.update(1)
    if joint is not None:
        shutil.rmtree(joint.group_dir, ignore_errors=True)
    ran = {tid for _, tid in finished}
    summary.tasks_model = len([t for t in state.views if t in ran])
    missed = pending - finished
    summary.not_reached = len({tid for _, tid in missed})
    if missed:
        summary.lanes_not_reached = dict(Counter(lane for lane, _ in missed))
    state.count()
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
        state = RunState(cfg, ch, sub, writer, records.Journal(paths["journal"]), summary)
        solve_all(state, run_budget, stop, bundle, joint)
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
    state = "valid" if s.valid else "INVALID: " + "; ".join(s.problems[:3])
    if s.lacking_on_disk:
        state += f" in memory; the file on disk lacks {s.lacking_on_disk} tasks, see below"
    lines = [f"submission: {out} ({state})",
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
