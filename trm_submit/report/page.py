"""Self-contained HTML report of a `submit` run: a summary (score, task counts, fallbacks, time, config,
weights), then per task its demonstration pairs, test inputs, both attempts, the true output when known,
every source's top candidates (the search's with their program text, TRM's with their votes), which source each
attempt came from, the fine-tuning loss curve and the time spent. No external assets, no script.

Each grid is a tiny inline SVG (a background rect, one path per other colour with the cells merged into
rectangles) carrying `data-grid="<task>:<kind>:<index>"` and `data-cells="<row>/<row>/..."` (one digit per
cell) so the drawing can be read back. Kinds: train_in, train_out, test_in, attempt_1, attempt_2, truth
(index = pair or test input), cand (index = "<test input>.<rank>"). Filters are pure CSS (radio buttons).
"""

from __future__ import annotations

import argparse
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..io import outpath, tasks
from ..io import submission as subio
from ..io.jsonfile import read_json_object
from ..io.records import Journal, side_paths
from .svg import CSS, GRIDLINES, figure, loss_svg

FILTERS = ("all", "solved", "partial", "unsolved", "unscored", "model", "fallback", "missing")


@dataclass
class RunRecords:
    """What a run left beside its submission; each part may be absent."""

    journal: dict[str, dict[str, Any]] = field(default_factory=dict)
    journal_found: bool = False
    config: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class TaskView:
    """One task as the report shows it."""

    task_id: str
    train: list[tuple[np.ndarray, np.ndarray]]
    test_inputs: list[np.ndarray | None]
    entries: list[Any]
    truths: list[np.ndarray] | None
    result: subio.TaskResult | None  # None when the task has no solution
    record: dict[str, Any] | None
    source: str  # "model", "fallback" or "missing" (no entries in the submission)
    reason: str

    @property
    def outcome(self) -> str:
        if self.result is None or not self.result.pass2:
            return "unscored"
        solved = self.result.pass2
        return "solved" if all(solved) else "partial" if any(solved) else "unsolved"

    def entry(self, i: int) -> dict[str, Any]:
        return self.entries[i] if i < len(self.entries) and type(self.entries[i]) is dict else {}


def _optional_json(path: Path, notes: list[str]) -> dict[str, Any] | None:
    try:
        return read_json_object(path) if path.exists() else None
    except tasks.InputFileError as e:
        notes.append(f"ignored: {e}")
        return None


def read_run_records(submission_path: str | Path, journal_path: str | Path | None = None) -> RunRecords:
    """Journal (given, or the one beside the submission), config and summary beside the submission."""
    side = side_paths(Path(submission_path))
    if journal_path is not None and not Path(journal_path).is_file():
        raise tasks.InputFileError(f"{journal_path}: journal file not found")
    jpath = Path(journal_path) if journal_path is not None else side["journal"]
    run = RunRecords(journal_found=jpath.is_file())
    run.journal = Journal(jpath).read() if run.journal_found else {}
    run.config = _optional_json(side["config"], run.notes)
    run.summary = _optional_json(side["summary"], run.notes)
    return run


def _source(task_id: str, ch: tasks.Challenges, rec: dict | None, entries: list, inputs: list) -> tuple[str, str]:
    """(source, why) of a task's attempts, from the challenges, its journal record and the attempts."""
    if not entries:
        return "missing", "no entries for this task in the submission"
    if task_id in ch.rejected:
        return "fallback", f"rejected: {ch.rejected[task_id].reason}"
    if rec is not None:
        return ("model", "") if rec.get("status") == "model" else ("fallback", f"error: {rec.get('reason')}")
    if entries == [dict(zip(subio.ATTEMPTS, subio.fallback_attempts(x))) for x in inputs]:
        return "fallback", "no model result for this task"
    return "model", "no journal record; the attempts differ from the fallbacks"


def task_views(ch: tasks.Challenges, sub: dict[str, Any], solutions: dict[str, list[np.ndarray]] | None,
               score: subio.Score | None, run: RunRecords) -> list[TaskView]:
    """Every task of the challenges in file order, joined with its entries, truth, result and journal record."""
    results = {r.task_id: r for r in score.results} if score else {}
    views = []
    for tid in ch.order:
        train: list[tuple[np.ndarray, np.ndarray]]
        inputs: list[np.ndarray | None]
        if tid in ch.tasks:
            train, inputs = list(ch.tasks[tid].train), list(ch.tasks[tid].test_inputs)
        else:
            rej = ch.rejected[tid]
            train, inputs = [], list(rej.test_inputs[: rej.n_test]) + [None] * (rej.n_test - len(rej.test_inputs))
        entries = sub[tid] if type(sub.get(tid)) is list else []
        rec = run.journal.get(tid)
        views.append(TaskView(tid, train, inputs, entries, (solutions or {}).get(tid), results.get(tid), rec,
                              *_source(tid, ch, rec, entries, inputs)))
    return views


def _attempt_mark(v: TaskView, i: int, key: str) -> str:
    """'ok' / 'no' outline for an attempt, from the scorer's flags; '' when the output is not known."""
    if v.result is None or i >= len(v.result.pass1):
        return ""
    p1, p2 = v.result.pass1[i], v.result.pass2[i]
    if key == "attempt_1":
        return "ok" if p1 else "no"
    same = v.entry(i).get("attempt_1") == v.entry(i).get("attempt_2")
    return "ok" if (p2 and not p1) or (p1 and same) else "no"


def _candidate_caption(rank: int, c: dict[str, Any], source: str = "trm") -> str:
    if source == "search":
        fit = ", partial fit: not every demonstration, or a long stack" if c.get("partial") else ""
        return f"#{rank + 1} search ({c.get('count', '?')} programs{fit}): {c.get('program') or '?'}"
    conf = c.get("conf")
    conf_text = f"{conf:.3f}" if type(conf) in (int, float) else "?"
    return f"#{rank + 1} {source}: {c.get('count', '?')} votes, conf {conf_text}"


def record_sources(rec: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """A combined journal view's source records by name (records.combine)."""
    sources = rec.get("sources") if rec else None
    return {k: v for k, v in sources.items() if isinstance(v, dict)} if isinstance(sources, dict) else {}


def _test_row(v: TaskView, i: int, x: np.ndarray | None) -> str:
    tid, entry = v.task_id, v.entry(i)
    parts = [figure(x, f"{tid}:test_in:{i}", f"test {i} input")]
    origin = (v.record or {}).get("attempt_sources")
    pair = origin[i] if isinstance(origin, list) and i < len(origin) and isinstance(origin[i], list) else []
    parts += [figure(entry.get(key), f"{tid}:{key}:{i}",
                      f"attempt {k}" + (f" ({pair[k - 1]})" if len(pair) >= k else ""), _attempt_mark(v, i, key))
              for k, key in enumerate(subio.ATTEMPTS, 1)]
    if v.truths is not None and i < len(v.truths):
        parts.append(figure(v.truths[i], f"{tid}:truth:{i}", "true output"))
    shown = []
    for name, src in record_sources(v.record).items():
        cands = src.get("candidates") or []
        per_test = cands[i] if i < len(cands) and isinstance(cands[i], list) else []
        shown += [(name, r, c) for r, c in enumerate(per_test) if isinstance(c, dict)]
    parts += [figure(c.get("grid"), f"{tid}:cand:{i}.{k}", _candidate_caption(r, c, name))
              for k, (name, r, c) in enumerate(shown)]
    return f'<div class="row">{"".join(parts)}</div>'


def _details_line(rec: dict[str, Any], shown: list[tuple[str, Any, str]]) -> str:
    text = lambda v: ", ".join(map(str, v)) if isinstance(v, list) else str(v)  # noqa: E731 - one per test input
    return " | ".join(f"{k} {text(rec.get(key))}{unit}" for k, key, unit in shown if rec.get(key) is not None)


def _record_details(rec: dict[str, Any] | None) -> str:
    """Time and seed of a task's journal record, then per source: the search's programs and depth; TRM's views,
    fine-tuning steps and loss curve (fields a record lacks are skipped)."""
    if not rec:
        return ""
    lines = [_details_line(rec, [("time", "seconds", " s"), ("share", "share_s", " s"), ("seed", "seed", "")])]
    sources = record_sources(rec)
    search = sources.get("search")
    if search:
        lines.append("search: " + _details_line(search, [
            ("programs", "programs", ""), ("states", "states", ""), ("depth", "depth", ""),
            ("stopped by", "stopped_by", ""), ("time", "seconds", " s"), ("error", "reason", "")]))
        runs = search.get("runs")
        if isinstance(runs, dict) and runs:  # the engine runs that spent the search's share (search.runs)
            lines.append("search runs: " + ", ".join(
                f"{name} {r.get('seconds', '?')} s, {r.get('programs', '?')} programs, {r.get('stopped_by', '?')}"
                for name, r in runs.items() if isinstance(r, dict)))
    trm = sources.get("trm")
    loss = ""
    if trm:
        timings = trm.get("timings")
        t = timings if isinstance(timings, dict) else {}
        lines.append("trm: " + _details_line({**trm, **{f"t_{k}": v for k, v in t.items()}}, [
            ("TTFT", "t_ttft", " s"), ("infer+vote", "t_infer_vote", " s"), ("views", "views", ""),
            ("valid views", "valid_views", ""), ("planned views", "views_planned", ""), ("canvas", "side", ""),
            ("TTFT steps", "ttft_steps", ""), ("stopped by", "ttft_stopped_by", ""), ("error", "reason", "")]))
        loss = loss_svg(trm.get("losses"))
        joint = trm.get("joint")
        if isinstance(joint, dict):  # the joint scope: one fine-tuning shared by every task
            lines.append("joint fine-tuning (all tasks): " + _details_line(joint, [
                ("steps", "steps", ""), ("stopped by", "stopped_by", ""), ("batch", "batch", ""),
                ("processes", "world", ""), ("puzzle rows", "rows", ""), ("loop", "seconds", " s")]))
            loss = loss_svg(joint.get("losses"))
    body = "".join(f'<div class="muted">{html.escape(line)}</div>' for line in lines if line.strip(": "))
    return f"{body}<div>{loss}</div>"


def task_section(v: TaskView) -> str:
    """One task: header with badges, demonstration pairs, one row per test input, run details."""
    tid = v.task_id
    solved = f" {sum(v.result.pass2)}/{len(v.result.pass2)}" if v.result is not None and v.outcome != "unscored" else ""
    head = (f'<h2>{html.escape(tid)}<span class="b {v.outcome}">{v.outcome}{solved}</span>'
            f'<span class="b {v.source}">{v.source}</span></h2>')
    why = f'<div class="muted">{html.escape(v.reason)}</div>' if v.reason else ""
    pairs = "".join(f'<div class="pair">{figure(a, f"{tid}:train_in:{j}", f"demo {j} in")}&rarr;'
                    f'{figure(b, f"{tid}:train_out:{j}", "out")}</div>' for j, (a, b) in enumerate(v.train))
    tests = "".join(_test_row(v, i, x) for i, x in enumerate(v.test_inputs))
    return (f'<section class="task {v.outcome} {v.source}" id="t-{html.escape(tid)}">{head}{why}'
            f'<div class="row">{pairs}</div>{tests}{_record_details(v.record)}</section>')


def _table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        out += _flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else [(f"{prefix}{k}", v)]
    return out


def _score_rows(score: subio.Score | None, run: RunRecords) -> list[tuple[str, Any]]:
    """pass@2 / pass@1 per task (Kaggle) and per test output: from the solutions, else from the run summary."""
    if score is not None:
        sc, src = dict(score.__dict__), "scored against the solutions"
    elif run.summary and isinstance(run.summary.get("score"), dict):
        sc, src = run.summary["score"], "from the run summary"
    else:
        return [("score", "not scored (no solutions given)")]
    rows = [("score", src)]
    for label, key, n in (("per task (Kaggle)", "task", "n_tasks"), ("per test output", "output", "n_outputs")):
        for k in ("2", "1"):
            value: Any = sc.get(f"{key}_pass{k}")  # JSON: checked below
            total = sc.get(n)
            if type(value) in (int, float) and type(total) is int:
                rows.append((f"{label} pass@{k}", f"{value:.2%} ({value * total:.4g}/{total})"))
    shape, cells = sc.get("output_shape"), sc.get("output_cells")
    if type(shape) in (int, float) and type(cells) in (int, float):
        rows.append(("near misses per test output", f"{shape:.1%} right shape, {cells:.1%} of cells right"))
    return rows


def _count_rows(views: list[TaskView], counts: dict[str, int], run: RunRecords) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [("tasks", len(views))]
    rows += [(f"tasks {k}", counts[k]) for k in FILTERS[1:] if counts[k]]
    rows.append(("test inputs", sum(len(v.test_inputs) for v in views)))
    s = run.summary or {}
    rows += [(f"run {key.replace('_', ' ')}", s[key]) for key in ("not_reached", "interrupted", "model_ran", "valid")
             if s.get(key) is not None]
    for key, label in (("sources", "tasks with a candidate, by source"), ("attempts_from", "attempts by source")):
        if isinstance(s.get(key), dict) and s[key]:
            rows.append((label, ", ".join(f"{k} {n}" for k, n in sorted(s[key].items()))))
    secs = [v.record["seconds"] for v in views if v.record and type(v.record.get("seconds")) in (int, float)]
    if secs:
        total = sum(secs)
        rows.append(("task time (s)", f"{total:.1f} total over {len(secs)} tasks, {total / len(secs):.1f} mean"))
    if isinstance(s.get("stage_seconds"), dict):
        rows.append(("stage time (s)", ", ".join(f"{k} {v}" for k, v in s["stage_seconds"].items())))
    return rows


def _notes(ch: tasks.Challenges, sub: dict, views: list[TaskView], run: RunRecords) -> list[str]:
    notes = list(run.notes)
    if not run.journal_found:
        notes.append("no journal found: a task counts as fallback when its attempts equal the fallback guesses")
    problems = subio.validate(sub, ch)
    notes.append("submission valid" if not problems else
                 f"submission INVALID ({len(problems)} problems): " + "; ".join(problems[:5]))
    fallbacks = [f"{v.source} {v.task_id}: {v.reason}" for v in views if v.source != "model" and v.reason and
                 (v.record or v.task_id in ch.rejected or v.source == "missing")]
    return notes + fallbacks[:50] + ([f"... and {len(fallbacks) - 50} more"] if len(fallbacks) > 50 else [])


def summary_section(ch: tasks.Challenges, sub: dict, score: subio.Score | None, views: list[TaskView],
                    run: RunRecords, counts: dict[str, int]) -> str:
    """Score, task counts, time, notes, config and weights."""
    cfg = run.config or {}
    weights = cfg.get("weights") or "none: no model ran, fallbacks only"
    rows = _score_rows(score, run) + _count_rows(views, counts, run)
    rows.append(("weights", weights if run.config is not None else "unknown (no config beside the submission)"))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in _notes(ch, sub, views, run))
    config = _table(_flatten(cfg)) if cfg else '<p class="muted">no config beside the submission</p>'
    return (f'<section id="summary">{_table(rows)}<ul>{notes}</ul>'
            f"<details><summary>run config</summary>{config}</details></section>")


def _filters(counts: dict[str, int]) -> tuple[str, str, str]:
    """(radio inputs, labels, CSS rules) of the pure-CSS task filters."""
    radios = "".join(f'<input type="radio" class="f" name="f" id="f-{k}"{" checked" if k == "all" else ""}>'
                     for k in FILTERS)
    labels = "".join(f'<label for="f-{k}">{k} ({counts[k]})</label>' for k in FILTERS if counts[k] or k == "all")
    rules = "".join(f"#f-{k}:checked~main .task:not(.{k}){{display:none}}" for k in FILTERS[1:])
    rules += ",".join(f"#f-{k}:checked~nav label[for=f-{k}]" for k in FILTERS) + "{background:#dde}"
    return radios, f"<nav>show: {labels}</nav>", rules


def render_report(ch: tasks.Challenges, sub: dict[str, Any], solutions: dict[str, list[np.ndarray]] | None,
                  run: RunRecords, title: str = "trm-submit report") -> str:
    """The whole HTML document as one string."""
    score = subio.score(sub, solutions) if solutions else None
    views = task_views(ch, sub, solutions, score, run)
    counts = dict.fromkeys(FILTERS, 0)
    counts["all"] = len(views)
    for v in views:
        counts[v.outcome] += 1
        counts[v.source] += 1
    radios, nav, rules = _filters(counts)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}{rules}</style></head><body>{GRIDLINES}<h1>{html.escape(title)}</h1>"
            f"{summary_section(ch, sub, score, views, run, counts)}{radios}{nav}"
            f'<main>{"".join(task_section(v) for v in views)}</main></body></html>\n')


def write_report(submission_path: str | Path, challenges_path: str | Path, out_path: str | Path,
                 solutions_path: str | Path | None = None, journal_path: str | Path | None = None) -> Path:
    """Read a run's files and write its HTML report to `out_path` (InputFileError on unreadable inputs)."""
    quiet = lambda line: None  # noqa: E731 - problems of the inputs are shown in the report itself
    ch = tasks.load_challenges(challenges_path, log=quiet)
    sub = subio.load_submission(submission_path)
    solutions = tasks.load_solutions(solutions_path, log=quiet) if solutions_path else None
    run = read_run_records(submission_path, journal_path)
    extra = [t for t in sub if t not in ch.tasks and t not in ch.rejected]
    if extra:
        run.notes.append(f"{len(extra)} submission tasks not in the challenges: {', '.join(extra[:10])}")
    doc = render_report(ch, sub, solutions, run, f"trm-submit report: {Path(submission_path).name}")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    outpath.write_atomic(out, doc.encode("utf-8"))
    return out


def cmd_report(args: argparse.Namespace) -> int:
    """`trm-submit report --submission S --challenges C [--solutions SOL] [--journal J] --out report.html`."""
    out = write_report(args.submission, args.challenges, args.out, solutions_path=getattr(args, "solutions", None),
                       journal_path=getattr(args, "journal", None))
    print(f"wrote {out}")
    return 0
