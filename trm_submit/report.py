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
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import submission as subio
from . import tasks
from .records import Journal, side_paths

PALETTE = ("#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
           "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25")
GRID_PX, MIN_CELL_PX, MAX_CELL_PX = 150, 4, 16  # a grid's longest side is drawn about GRID_PX pixels
LOSS_W, LOSS_H = 180, 44
FILTERS = ("all", "solved", "partial", "unsolved", "unscored", "model", "fallback", "missing")
CSS = "".join(f".c{i}{{fill:{c}}}" for i, c in enumerate(PALETTE)) + """
body{font:13px/1.35 system-ui,sans-serif;margin:12px;background:#fafafa;color:#222}h1{font-size:18px}
h2{font-size:14px;margin:0 0 6px}table{border-collapse:collapse;margin:4px 0 8px}
td,th{padding:1px 8px;border-bottom:1px solid #ddd;text-align:left}.f{display:none}
nav label{display:inline-block;padding:2px 8px;margin:2px;border:1px solid #999;border-radius:10px;cursor:pointer}
.task{background:#fff;border:1px solid #ccc;border-radius:6px;padding:8px;margin:8px 0;
content-visibility:auto;contain-intrinsic-size:auto 420px}
.row{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start;margin:4px 0}
figure{margin:0;display:inline-flex;flex-direction:column;align-items:center;font-size:11px;color:#555}
.pair{display:flex;gap:3px;align-items:center;border:1px dashed #ddd;padding:3px}
svg.g{border:1px solid #888;display:block}svg.g path,svg.g rect{shape-rendering:crispEdges}
svg.g .gl{fill:url(#gl);shape-rendering:auto}.ok{outline:3px solid #2ECC40}.no{outline:3px solid #FF4136}
.b{display:inline-block;padding:0 6px;border-radius:8px;font-size:11px;margin-left:4px;color:#fff;background:#777}
.b.solved{background:#2a9d3a}.b.partial{background:#d08c00}.b.unsolved{background:#c0392b}.b.model{background:#0074D9}
.b.fallback{background:#555}.b.missing{background:#000}.muted{color:#888}.bad{color:#c0392b}
svg.loss{background:#f4f4f4;border:1px solid #ccc}svg.loss polyline{fill:none;stroke:#0074D9;stroke-width:1.5}
"""
GRIDLINES = ('<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs><pattern id="gl" '
             'width="1" height="1" patternUnits="userSpaceOnUse"><path d="M1 0V1H0" fill="none" stroke="#555" '
             'stroke-width="0.06"/></pattern></defs></svg>')


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
        return tasks.read_json_object(path) if path.exists() else None
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


def cell_rectangles(g: np.ndarray) -> list[list[int]]:
    """Cells of a grid merged into [colour, row, col, width, height] rectangles: the runs of one colour in a
    row, each stacked with the identical runs directly below it. They tile the grid exactly."""
    h, w = g.shape
    change = np.ones((h, w), dtype=bool)
    change[:, 1:] = g[:, 1:] != g[:, :-1]
    rows, cols = np.nonzero(change)
    ends = np.where(np.append(rows[1:], -1) == rows, np.append(cols[1:], w), w)
    latest: dict[tuple[int, int, int], list[int]] = {}
    rects: list[list[int]] = []
    for r, c, n, colour in zip(rows.tolist(), cols.tolist(), (ends - cols).tolist(), g[rows, cols].tolist()):
        rect = latest.get((c, n, colour))
        if rect is not None and rect[1] + rect[4] == r:
            rect[4] += 1
        else:
            latest[(c, n, colour)] = rect = [colour, r, c, n, 1]
            rects.append(rect)
    return rects


def grid_svg(grid: np.ndarray, key: str) -> str:
    """One grid as an inline SVG: a background rect of the commonest colour, one path per other colour."""
    g = np.ascontiguousarray(grid, dtype=np.uint8)
    h, w = g.shape
    px = max(MIN_CELL_PX, min(MAX_CELL_PX, GRID_PX // max(h, w)))
    bg = int(np.bincount(g.ravel(), minlength=10).argmax())
    paths: dict[int, list[str]] = {}
    for colour, r, c, n, m in cell_rectangles(g):
        if colour != bg:
            paths.setdefault(colour, []).append(f"M{c} {r}h{n}v{m}h-{n}z")
    shapes = "".join(f'<path class="c{k}" d="{"".join(d)}"/>' for k, d in sorted(paths.items()))
    cells = "/".join(bytes(row).decode() for row in g + 48)
    return (f'<svg class="g" data-grid="{html.escape(key)}" data-cells="{cells}" viewBox="0 0 {w} {h}" '
            f'width="{w * px}" height="{h * px}"><rect class="c{bg}" width="{w}" height="{h}"/>'
            f'{shapes}<rect class="gl" width="{w}" height="{h}"/></svg>')


def _figure(value: Any, key: str, caption: str, mark: str = "") -> str:
    """A captioned grid; a value that is not a valid grid is shown as a note saying why."""
    try:
        body = grid_svg(value if isinstance(value, np.ndarray) else tasks.parse_grid(value), key)
    except tasks.GridError as e:
        body = f'<span class="bad">not a grid: {html.escape(str(e))}</span>'
    cls = f' class="{mark}"' if mark else ""
    return f"<figure><div{cls}>{body}</div><figcaption>{html.escape(caption)}</figcaption></figure>"


def loss_svg(losses: Any) -> str:
    """The fine-tuning loss curve as a small polyline (non-finite points left out), with first/last values."""
    losses = losses if isinstance(losses, list) else []
    pts = [(i, float(v)) for i, v in enumerate(losses)
           if type(v) in (int, float) and math.isfinite(v)]
    if len(pts) < 2:
        return '<span class="muted">no loss curve</span>'
    lo = min(v for _, v in pts)
    span = (max(v for _, v in pts) - lo) or 1.0
    coords = " ".join(f"{i * LOSS_W / (len(losses) - 1):.1f},{LOSS_H - 2 - (v - lo) / span * (LOSS_H - 4):.1f}"
                      for i, v in pts)
    return (f'<svg class="loss" data-points="{len(pts)}" viewBox="0 0 {LOSS_W} {LOSS_H}" width="{LOSS_W}" '
            f'height="{LOSS_H}"><polyline points="{coords}"/></svg>'
            f'<span class="muted"> loss {pts[0][1]:.4g} &rarr; {pts[-1][1]:.4g} (min {lo:.4g})</span>')


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
        return f"#{rank + 1} search ({c.get('count', '?')} programs): {c.get('program') or '?'}"
    conf = c.get("conf")
    conf_text = f"{conf:.3f}" if type(conf) in (int, float) else "?"
    return f"#{rank + 1} {source}: {c.get('count', '?')} votes, conf {conf_text}"


def record_sources(rec: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """A combined journal view's source records by name (records.combine)."""
    sources = rec.get("sources") if rec else None
    return {k: v for k, v in sources.items() if isinstance(v, dict)} if isinstance(sources, dict) else {}


def _test_row(v: TaskView, i: int, x: np.ndarray | None) -> str:
    tid, entry = v.task_id, v.entry(i)
    parts = [_figure(x, f"{tid}:test_in:{i}", f"test {i} input")]
    origin = (v.record or {}).get("attempt_sources")
    pair = origin[i] if isinstance(origin, list) and i < len(origin) and isinstance(origin[i], list) else []
    parts += [_figure(entry.get(key), f"{tid}:{key}:{i}",
                      f"attempt {k}" + (f" ({pair[k - 1]})" if len(pair) >= k else ""), _attempt_mark(v, i, key))
              for k, key in enumerate(subio.ATTEMPTS, 1)]
    if v.truths is not None and i < len(v.truths):
        parts.append(_figure(v.truths[i], f"{tid}:truth:{i}", "true output"))
    shown = []
    for name, src in record_sources(v.record).items():
        cands = src.get("candidates") or []
        per_test = cands[i] if i < len(cands) and isinstance(cands[i], list) else []
        shown += [(name, r, c) for r, c in enumerate(per_test) if isinstance(c, dict)]
    parts += [_figure(c.get("grid"), f"{tid}:cand:{i}.{k}", _candidate_caption(r, c, name))
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
    trm = sources.get("trm")
    loss = ""
    if trm:
        t = trm.get("timings") if isinstance(trm.get("timings"), dict) else {}
        lines.append("trm: " + _details_line({**trm, **{f"t_{k}": v for k, v in t.items()}}, [
            ("TTFT", "t_ttft", " s"), ("infer+vote", "t_infer_vote", " s"), ("views", "views", ""),
            ("valid views", "valid_views", ""), ("planned views", "views_planned", ""), ("canvas", "side", ""),
            ("TTFT steps", "ttft_steps", ""), ("stopped by", "ttft_stopped_by", ""), ("error", "reason", "")]))
        loss = loss_svg(trm.get("losses"))
    body = "".join(f'<div class="muted">{html.escape(line)}</div>' for line in lines if line.strip(": "))
    return f"{body}<div>{loss}</div>"


def task_section(v: TaskView) -> str:
    """One task: header with badges, demonstration pairs, one row per test input, run details."""
    tid = v.task_id
    solved = f" {sum(v.result.pass2)}/{len(v.result.pass2)}" if v.outcome != "unscored" else ""
    head = (f'<h2>{html.escape(tid)}<span class="b {v.outcome}">{v.outcome}{solved}</span>'
            f'<span class="b {v.source}">{v.source}</span></h2>')
    why = f'<div class="muted">{html.escape(v.reason)}</div>' if v.reason else ""
    pairs = "".join(f'<div class="pair">{_figure(a, f"{tid}:train_in:{j}", f"demo {j} in")}&rarr;'
                    f'{_figure(b, f"{tid}:train_out:{j}", "out")}</div>' for j, (a, b) in enumerate(v.train))
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
            value, total = sc.get(f"{key}_pass{k}"), sc.get(n)
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
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(doc, encoding="utf-8")
    tmp.replace(out)
    return out


def cmd_report(args: argparse.Namespace) -> int:
    """`trm-submit report --submission S --challenges C [--solutions SOL] [--journal J] --out report.html`."""
    out = write_report(args.submission, args.challenges, args.out, solutions_path=getattr(args, "solutions", None),
                       journal_path=getattr(args, "journal", None))
    print(f"wrote {out}")
    return 0
