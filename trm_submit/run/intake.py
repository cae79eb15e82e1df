"""Record intake of a `submit` run: the run state (the submission in memory, its writer, the journal, the
summary, every record known per task) and what happens to each lane record: checked, merged with the task's
other sources into its attempts, filled in, written, journaled and counted."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from ..config import RunConfig
from ..io import outpath, records, submission, tasks
from ..io.records import RunSummary
from .sources import task_attempts


@dataclass
class RunState:
    """What the recipe carries from task to task."""

    cfg: RunConfig
    ch: tasks.Challenges
    sub: dict
    writer: outpath.SubmissionWriter
    journal: records.Journal
    summary: RunSummary
    known: dict[str, list[dict]] = field(default_factory=dict)  # every usable record, by task, oldest first
    views: dict[str, dict] = field(default_factory=dict)  # each answered task's combined view

    def note(self, line: str) -> None:
        """An incident of the run: one stderr line, kept in the summary."""
        print(f"trm-submit: {line}", file=sys.stderr)
        self.summary.incidents.append(line)

    def resume(self) -> None:
        """Take the usable lines of an earlier run's journal (`--resume`), else start a fresh journal; fill what
        they answer and write the file."""
        if self.cfg.resume:
            torn = self._drop_torn_tail()
            self.known = dict(records.resumable(self.journal.by_task(), self.ch, self.note))
            if torn:
                self.note(f"the journal {self.journal.path} ended in a torn line ({torn} bytes, a crash mid-write); "
                          f"it is dropped and its task runs again")
        else:
            self.journal.reset()
        for tid, recs in self.known.items():
            view = self.apply(recs)
            if view is not None:
                self.views[tid] = view
                self.summary.tasks_resumed += 1
                self.writer.answer(tid)
        self.writer.write(self.sub)

    def _drop_torn_tail(self) -> int:
        try:
            return self.journal.drop_torn_tail()
        except OSError as exc:  # a read-only journal: its torn line is skipped on reading, appends start afresh
            self.note(f"cannot repair the journal {self.journal.path} ({outpath.describe_os_error(exc)})")
            return 0

    def apply(self, recs: list[dict]) -> dict | None:
        """Merge every source known for a task into its attempts and fill them in; returns the combined view
        with `attempts` and `attempt_sources`, or None when no source gave the task a candidate."""
        tid = recs[-1]["task_id"]
        if tid not in self.ch.tasks:
            return None
        view = records.combine(recs)
        ok = {n: s for n, s in view["sources"].items() if isinstance(s, dict) and s.get("status") == "ok"}
        attempts, origin, any_candidate = task_attempts(self.ch.tasks[tid].test_inputs, ok, self.cfg)
        if not any_candidate:
            return None
        for i, (a1, a2) in enumerate(attempts):
            submission.fill(self.sub, tid, i, a1, a2)
        view["attempts"], view["attempt_sources"] = attempts, origin
        return view

    def take(self, rec: dict) -> None:
        """A fresh lane record: checked, merged with the task's other sources, filled in and written (the write
        is retried after each task when it fails), then journaled."""
        self._merge(rec)
        self._append_journal(rec)

    def _merge(self, rec: dict) -> None:
        tid, summary = rec["task_id"], self.summary
        problem = records.record_problem(rec, self.ch.tasks[tid].n_test) if tid in self.ch.tasks else "unknown task"
        failed = [f"{n}: {src.get('reason')}" for n, src in (rec.get("sources") or {}).items()
                  if isinstance(src, dict) and src.get("status") == "error"]
        if problem is not None or failed or rec.get("status") != "model":
            summary.errors[tid] = "; ".join(failed) or problem or rec.get("reason", "no attempts")
        if problem is not None:
            return
        trm = (rec.get("sources") or {}).get("trm")
        if isinstance(trm, dict) and trm.get("status") == "ok" and records.views_run(trm) == 0:
            summary.no_views.append(tid)
        if isinstance(trm, dict) and isinstance(trm.get("joint"), dict) and summary.joint is None:
            summary.joint = {k: v for k, v in trm["joint"].items() if k != "losses"}
        self.known.setdefault(tid, []).append(rec)
        view = self.apply(self.known[tid])
        if view is not None:
            rec["attempts"], rec["attempt_sources"] = view["attempts"], view["attempt_sources"]
            self.views[tid] = view
            self.writer.answer(tid)
            self.writer.write(self.sub)

    def _append_journal(self, rec: dict) -> None:
        """Journal a record; a failed append (disk full) is reported once and the run goes on."""
        try:
            self.journal.append(rec)
        except OSError as exc:
            if not any(line.startswith("cannot append to the journal") for line in self.summary.incidents):
                self.note(f"cannot append to the journal {self.journal.path} ({outpath.describe_os_error(exc)}); "
                          f"the run goes on, --resume will redo the tasks it lacks")

    def count(self) -> None:
        """Per source, the tasks it gave a candidate; per source, the attempts it gave."""
        summary = self.summary
        for view in self.views.values():
            for name, src in view["sources"].items():
                if isinstance(src, dict) and any(c for c in src.get("candidates") or []):
                    summary.sources[name] = summary.sources.get(name, 0) + 1
            for pair in view.get("attempt_sources") or []:
                for name in pair:
                    summary.attempts_from[name] = summary.attempts_from.get(name, 0) + 1


def progress_bar(total: int, quiet: bool) -> Any:
    """The tasks bar (only on a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc="tasks", unit="task", disable=quiet or not sys.stderr.isatty())
