"""Run records: the files a `submit` run writes beside its submission (journal, config, summary), the journal
record format and how records of one task from several candidate sources combine. Read by the recipe
(pipeline), the report and the benchmarks alike; imports no model code.

A journal line is one result of one lane (a worker group running some candidate sources on a task):
`{"task_id", "lane", "status", "seed", "share_s", "seconds", "cut", "sources": {name: source record},
"attempts", "attempt_sources"}`; `attempts` are the merged attempts of the task over every source known when
the line was written. Each source record holds `candidates`: per test input a list of
`{"grid", "count", "conf"[, "program"][, "partial"]}`, best first (`SourceRecord`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import orjson

from .tasks import Challenges, GridError, grid_to_list, parse_grid, shorten

MAX_SHOWN = 200  # characters of a reason shown in a message
TOP_CANDIDATES = 5  # candidates kept per test input and source in the journal
MAX_LOSS_POINTS = 100  # loss-curve points a TRM record keeps per task


@dataclass
class SourceRecord:
    """One candidate source's result on one task: the value under `sources[name]` of a journal line.

    JSON (`to_json`): `{"status": "ok", "candidates": [...], <details>}` or `{"status": "error", "reason": str,
    <details>}`; `candidates` holds per test input a list of `{"grid", "count", "conf"[, "program"][, "partial"]}`,
    best first (at most TOP_CANDIDATES); `details` are the source's own fields (seconds, views, programs, ...),
    flat beside them so journals of every version read the same."""

    status: str = "ok"  # "ok" | "error"
    candidates: list[list[dict[str, Any]]] = field(default_factory=list)
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(cls, reason: str, **details: Any) -> SourceRecord:
        return cls("error", [], reason, details)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.status == "error":
            out["reason"] = self.reason or "unknown error"
        else:
            out["candidates"] = self.candidates
        out.update(self.details)
        return out

    @classmethod
    def from_json(cls, rec: dict[str, Any]) -> SourceRecord:
        details = {k: v for k, v in rec.items() if k not in ("status", "candidates", "reason")}
        return cls(str(rec.get("status")), list(rec.get("candidates") or []), rec.get("reason"), details)


def candidate(grid: Any, count: int, conf: float, program: str | None = None, partial: bool = False
              ) -> dict[str, Any]:
    """One candidate of a source record (`grid` as nested lists of ints; "partial": true for a search program
    or stack that reproduces only some demonstrations, or a stack of more than 4 pieces)."""
    out: dict[str, Any] = {"grid": grid_to_list(grid), "count": int(count), "conf": conf}
    if program is not None:
        out["program"] = program
    if partial:
        out["partial"] = True
    return out


def downsample(values: list[float], n: int = MAX_LOSS_POINTS) -> list[float]:
    """At most `n` evenly spaced points of a curve, first and last kept."""
    if len(values) <= n:
        return [float(v) for v in values]
    idx = np.linspace(0, len(values) - 1, n).round().astype(int)
    return [float(values[i]) for i in idx]


@dataclass
class InputOutcome:
    """What a TRM-style source produced for one test input: candidates (best first) and how many predictions
    (views or official rows) voted, all of them and the decodable ones."""

    candidates: list[dict[str, Any]]
    views: int
    valid_views: int


def trm_record(per_test: list[InputOutcome], views_planned: int, **details: Any) -> SourceRecord:
    """The record of a TRM-style source (per-task, joint and official solvers alike) from its per-test outcomes."""
    fields: dict[str, Any] = {"views_planned": views_planned, "views": [p.views for p in per_test],
                              "valid_views": [p.valid_views for p in per_test]}
    fields.update(details)
    return SourceRecord("ok", [p.candidates[:TOP_CANDIDATES] for p in per_test], None, fields)


def side_paths(out: Path) -> dict[str, Path]:
    """Files written beside the submission."""
    stem = Path(out).with_suffix("")
    return {"journal": Path(f"{stem}.journal.jsonl"), "config": Path(f"{stem}.config.json"),
            "summary": Path(f"{stem}.summary.json")}


GROUP_FORMED = "group-formed"  # marker in the joint folder: every process joined the fine-tuning group


def joint_folder(out: Path) -> Path:
    """Checkpoints of the joint fine-tuning of a run (`--ttft-scope joint`), beside the submission."""
    return Path(f"{Path(out).with_suffix('')}.joint")


def combine(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """One task's view over its journal lines, oldest first: every source's latest record; attempts, status
    and cut from the latest line (a later line merged every source known before it). A line of the earlier
    one-source layout (TRM's fields at the top level) counts as the trm source's record."""
    view: dict[str, Any] = dict(recs[-1])
    sources: dict[str, Any] = {}
    for rec in recs:
        if isinstance(rec.get("sources"), dict):
            sources.update(rec["sources"])
        elif "candidates" in rec:
            sources["trm"] = {**rec, "status": "ok" if rec.get("status") == "model" else "error"}
    view["sources"] = sources
    view["lanes"] = sorted({str(r.get("lane", "")) for r in recs})
    if any(r.get("status") == "model" for r in recs):
        view["status"] = "model"
        last_ok = [r for r in recs if r.get("status") == "model" and r.get("attempts")]
        if last_ok:
            view["attempts"] = last_ok[-1]["attempts"]
            view["attempt_sources"] = last_ok[-1].get("attempt_sources")
    return view


class Journal:
    """Append-only JSONL record of finished lane results beside the submission; read back by `--resume`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def lines(self) -> list[dict[str, Any]]:
        """Every well-formed record in file order; a torn line (crash mid-write) is skipped."""
        out: list[dict[str, Any]] = []
        if not self.path.exists():
            return out
        for line in self.path.read_bytes().splitlines():
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("task_id"), str):
                out.append(rec)
        return out

    def by_task(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for rec in self.lines():
            grouped.setdefault(rec["task_id"], []).append(rec)
        return grouped

    def read(self) -> dict[str, dict[str, Any]]:
        """Each task's combined view (`combine`) by task id."""
        return {tid: combine(recs) for tid, recs in self.by_task().items()}

    def reset(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(b"")

    def append(self, record: dict[str, Any]) -> None:
        """One line, flushed and fsynced, on a line of its own even after a torn last line; an OSError (disk
        full) reaches the caller."""
        line = orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n"
        with open(self.path, "a+b") as f:
            if f.seek(0, os.SEEK_END) > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    line = b"\n" + line
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def drop_torn_tail(self) -> int:
        """Cut off a last line without its newline (a crash mid-write), so it is named once and the next line
        starts afresh; returns the bytes dropped (0: none). A last line that is a whole record only gets its
        newline."""
        try:
            with open(self.path, "r+b") as f:
                size = f.seek(0, os.SEEK_END)
                start = size
                while start > 0:  # the start of the last line, read backwards in blocks
                    f.seek(max(0, start - 65536))
                    block = f.read(start - max(0, start - 65536))
                    cut = block.rfind(b"\n")
                    if cut >= 0:
                        start = start - len(block) + cut + 1
                        break
                    start -= len(block)
                if start == size:
                    return 0
                f.seek(start)
                tail = f.read()
                if _is_record(tail):
                    f.write(b"\n")
                    dropped = 0
                else:
                    f.truncate(start)
                    dropped = size - start
                f.flush()
                os.fsync(f.fileno())
                return dropped
        except FileNotFoundError:
            return 0


def _is_record(line: bytes) -> bool:
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(rec, dict) and isinstance(rec.get("task_id"), str)


def _short(text: str) -> str:
    return shorten(text, MAX_SHOWN)


def candidates_problem(cands: Any, n_test: int) -> str | None:
    """Why a source's `candidates` is not [[{"grid": valid grid, ...}, ...] per test input], or None."""
    if type(cands) is not list or len(cands) != n_test:
        return f"candidates for {len(cands) if type(cands) is list else 'no'} test inputs, the task has {n_test}"
    for i, per_test in enumerate(cands):
        if type(per_test) is not list:
            return f"test {i}: candidates are not a list"
        for r, c in enumerate(per_test):
            if type(c) is not dict:
                return f"test {i} candidate {r}: not a record"
            try:
                parse_grid(c.get("grid"))
            except GridError as exc:
                return f"test {i} candidate {r}: {_short(str(exc))}"
    return None


def views_run(src: dict[str, Any]) -> int:
    """Views TRM ran for the task (0 when none ran in time: its candidates are empty)."""
    views = src.get("views")
    if type(views) is list and all(type(v) is int and v >= 0 for v in views):
        return sum(views)
    return 0


def record_problem(rec: Any, n_test: int) -> str | None:
    """Why a lane record (fresh from a worker or from the journal) cannot be used, or None when it can."""
    if type(rec) is not dict or type(rec.get("task_id")) is not str:
        return "not a task record"
    sources = rec.get("sources", {})
    if type(sources) is not dict:
        return "sources is not a record"
    for name, src in sources.items():
        if type(src) is not dict:
            return f"source {_short(repr(name))}: not a record"
        if src.get("status") == "error":
            if type(src.get("reason")) is not str:
                return f"source {name}: error without a reason"
        elif src.get("status") == "ok":
            problem = candidates_problem(src.get("candidates"), n_test)
            if problem is not None:
                return f"source {name}: {problem}"
        else:
            return f"source {name}: unknown status {_short(repr(src.get('status')))}"
    return None


def resumable(grouped: dict[str, list[dict[str, Any]]], ch: Challenges,
              log: Callable[[str], None]) -> dict[str, list[dict[str, Any]]]:
    """Lines of an earlier run that `--resume` may keep, by task: valid for the task as it is now (in the
    one-source or the per-source layout). A bad line is logged and dropped: its sources run again."""
    keep: dict[str, list[dict[str, Any]]] = {}
    for task_id, recs in grouped.items():
        if task_id not in ch.tasks:
            continue
        for rec in recs:
            view = combine([rec])
            problem = record_problem({**rec, "sources": view["sources"]}, ch.tasks[task_id].n_test)
            if problem is not None:
                log(f"journal record of task {task_id} is unusable ({problem}); the task runs again")
            else:
                keep.setdefault(task_id, []).append(rec)
    return keep


def sources_done(recs: list[dict[str, Any]]) -> set[str]:
    """Sources whose result for the task is final: from a line not cut by the deadline or a signal, and for TRM
    with at least one view run (a TRM that ran no view in time is tried again on resume)."""
    done: set[str] = set()
    for rec in recs:
        if not rec.get("cut"):
            done.update(name for name, src in combine([rec])["sources"].items()
                        if name != "trm" or src.get("status") == "error" or views_run(src) > 0)
    return done


@dataclass
class RunSummary:
    """What a run did: counts, fallbacks and why, time per stage, score when solutions were given.

    tasks_model counts tasks answered by at least one candidate source this run; `sources` counts, per source,
    the tasks where it gave a candidate; `attempts_from` counts attempts by the source that gave them."""

    tasks_total: int = 0
    tasks_model: int = 0
    tasks_resumed: int = 0
    rejected: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    not_reached: int = 0  # tasks some lane never returned (their attempts are what the other lanes gave)
    lanes_not_reached: dict[str, int] = field(default_factory=dict)
    model_ran: bool = False
    sources_run: list[str] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)
    attempts_from: dict[str, int] = field(default_factory=dict)
    interrupted: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    score: dict[str, Any] | None = None
    valid: bool = False
    problems: list[str] = field(default_factory=list)
    no_views: list[str] = field(default_factory=list)  # TRM ran no view in time: its candidates are empty
    incidents: list[str] = field(default_factory=list)  # worker deaths, unusable journal records, failed writes
    lacking_on_disk: int = 0  # tasks answered in memory that a failed rewrite kept out of the file on disk
    joint: dict[str, Any] | None = None  # joint scope: how its one fine-tuning ended (steps, stopped_by, world, ...)

    def encode(self) -> bytes:
        return orjson.dumps(self.__dict__, option=orjson.OPT_INDENT_2)
